/**
 * Guarantee 2 on the simulator: no job RUNNING in two AZs at once. In an emergency the
 * source copies of jobs started while az-a is down are fenced in absentia (pending fences);
 * when az-a answers again — mid-evacuation or after it — the fencing follow-up workflow
 * suspends them. A fence counts only when the copy is seen stopped: one whose suspend the
 * source operator never acts on is reported "fence requested, not observed". After an
 * emergency, failback is refused while az-a is down and, once it answers, brings every job
 * home after the fences are done (fenced copies restored from the fresh savepoint, never
 * resumed). Real Temporal dev server, worker and simulator. The failback cases cap state
 * (SMALL_STATE_BYTES): each job stops with a savepoint in az-b, whose time grows with state.
 */
import { describe, expect, it } from 'vitest';
import { azHoldWorkflowId } from '../../domain/az-hold.js';
import { failbackWorkflowId, fenceWorkflowId, recordsKey, type FencePassResult } from '../../domain/evacuation.js';
import type { FailbackResult } from '../../workflows/failback.js';
import { ACTION_ANNOTATIONS } from '../../domain/fence.js';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, SMALL_STATE_BYTES, SOURCE_AZ, TARGET_AZ, reportKey, workflowBundle } from '../setup/evacuation-harness.js';
import { messageOf } from '../../domain/error-message.js';
import { SMALL_FLEET, reached, runScenario } from '../setup/fault-scenarios.js';
import { failbackProblems, guaranteeProblems } from '../setup/guarantees.js';
import { historiesOfAllRuns, historyMarks } from '../setup/history-events.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes.js';

/** Moved jobs' source copies RUNNING in az-a now (keys). */
async function runningInSource(h: Parameters<typeof guaranteeProblems>[0], keys: string[]): Promise<string[]> {
  const source = await h.sim.client.listDeployments(SOURCE_AZ);
  const running = new Set(source.filter((d) => d.status.jobStatus?.state === 'RUNNING').map((d) => `${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`));
  return keys.filter((k) => running.has(k));
}

describe('fencing (guarantee 2)', { timeout: 300_000 }, () => {
  it('the source AZ coming back mid-evacuation ends with no job RUNNING in both AZs', async () => {
    await workflowBundle();
    await runScenario(SMALL_FLEET, { fault: 'source AZ back mid-evacuation (fencing)', when: 'at 40 %' }, {
      sourceUp: true,
      inject: async (h, id, _workers, signal) => {
        await reached(h, id, 0.4, signal);
        await h.sim.client.setAzDown(SOURCE_AZ, false);
      },
      check: async ({ h, id, report }) => {
        // Jobs started while az-a was down were fenced in absentia (pending fences) and seen
        // stopped after it came back: their lines say so, with what was seen.
        const unreachable = report.fencing!.fencedLater;
        expect(unreachable.length).toBeGreaterThan(3);
        for (const key of unreachable) expect(report.jobs.find((j) => reportKey(j) === key)).toMatchObject({ fence: 'stopped', fenceSeen: { seen: expect.stringContaining('SUSPENDED') } });
        const follow = await h.handle(fenceWorkflowId(recordsKey(report))).result() as FencePassResult;
        expect(follow).toMatchObject({ pending: [], notObserved: [] });
        expect(follow.fencedLater).toEqual(expect.arrayContaining(unreachable));
        expect(await runningInSource(h, unreachable)).toEqual([]);
        expect(report.fencing).toMatchObject({ pending: [], notObserved: [] });
        // Jobs started after it came back were seen stopped by their own fence step.
        expect(report.jobs.filter((j) => j.fence === 'stopped' && !unreachable.includes(reportKey(j))).length).toBeGreaterThan(0);
        expect(await guaranteeProblems(h, id, report, true)).toEqual([]);
      },
    });
  });

  it('a source AZ still down at the end: the report lists the pending fences; the follow-up suspends them when it answers', async () => {
    await runScenario({ ...SMALL_FLEET, jobs: 30 }, { fault: 'source AZ back after the evacuation (fencing)', when: 'after the end' }, {
      check: async ({ h, id, report }) => {
        const moved = report.jobs.filter((j) => j.outcome === 'running' && j.fence === 'unreachable').map(reportKey).sort();
        expect(moved.length).toBeGreaterThan(3);
        expect(report.fencing?.pending).toEqual(expect.arrayContaining(moved));
        expect(report.fencing?.followUpWorkflowId).toBe(fenceWorkflowId(recordsKey(report)));
        const handle = h.handle(fenceWorkflowId(recordsKey(report)));
        expect((await handle.describe()).status.name).toBe('RUNNING');

        await h.sim.client.setAzDown(SOURCE_AZ, false);
        const follow = await handle.result() as FencePassResult;
        expect(follow.pending).toEqual([]);
        expect(follow.fencedLater).toEqual(expect.arrayContaining(moved));
        expect(await runningInSource(h, moved)).toEqual([]);
        expect(await guaranteeProblems(h, id, report, true)).toEqual([]);
        // Its passes while fences were open recorded counts, not every open fence's key; the key lists once, at the end.
        const passes = (await historiesOfAllRuns(h.temporal, fenceWorkflowId(recordsKey(report)))).flatMap(historyMarks)
          .flatMap((m) => (m.kind === 'activity-scheduled' ? [m.name] : []));
        expect(passes.filter((n) => n === 'fencePassCounts').length, passes.join(', ')).toBeGreaterThan(1);
        expect(passes.filter((n) => n === 'fencePending'), passes.join(', ')).toEqual(['fencePending']);
        expect(passes.at(-1)).toBe('fencePending');
      },
    });
  });

  it('a drill failback started the moment the source AZ answers does the pending fences first: every moved job RUNNING in az-a again', async () => {
    await runScenario({ ...SMALL_FLEET, jobs: 30, maxStateBytes: SMALL_STATE_BYTES }, { fault: 'failback as the source AZ answers (fencing)', when: 'after the end' }, {
      check: async ({ h, id, report }) => {
        const moved = report.jobs.filter((j) => j.outcome === 'running' && j.fence === 'unreachable').map(reportKey).sort();
        expect(moved.length).toBeGreaterThan(3);
        expect(report.fencing?.pending).toEqual(expect.arrayContaining(moved));

        await h.sim.client.setAzDown(SOURCE_AZ, false);
        // The emergency evacuation stands in for a drill's (drillOwned), as the drill workflow's failback step runs it.
        await h.temporal.workflow.start('failbackDrill', {
          taskQueue: h.settings.taskQueue, workflowId: failbackWorkflowId(id), args: [{ drillId: id, drillOwned: true, window: 20 }],
        });
        const fb = await h.resultWithin<FailbackResult>(failbackWorkflowId(id), 90_000);
        expect(fb.failed).toEqual([]);
        expect(fb.restoredFromTarget).toBeGreaterThanOrEqual(moved.length);
        // A fencing pass after a restore would have suspended the source copy for good.
        expect(await runningInSource(h, moved)).toEqual(moved);
        const follow = await h.handle(fenceWorkflowId(recordsKey(report))).describe();
        expect(follow.status.name).toBe('COMPLETED');
        // Jobs are restored by the failback's shards (workflows/failback-shard.ts): none starts before the follow-up closed.
        const firstShard = historyMarks(await h.history(failbackWorkflowId(id))).find((m) => m.kind === 'child-initiated' && m.workflowId.startsWith(`${failbackWorkflowId(id)}/`));
        expect(follow.closeTime!.getTime()).toBeLessThanOrEqual(firstShard!.atMs);
      },
    });
  });
  it('after an emergency, failback is refused while az-a is down, then re-protects and moves every job back tier by tier: nothing lost, nothing twice, each job RUNNING once, in az-a', async () => {
    await runScenario({ ...SMALL_FLEET, jobs: 30, maxStateBytes: SMALL_STATE_BYTES }, { fault: 'failback of an emergency (fencing)', when: 'after the end' }, {
      check: async ({ h, id, report }) => {
        const moved = report.jobs.filter((j) => j.outcome === 'running');
        expect(moved.length).toBeGreaterThan(5);
        // Refused, with the reason, while the source AZ does not answer; nothing is touched.
        const refused = await h.client.failback({ drillId: id, requestedBy: 'vitest' }).then(() => 'ran', messageOf);
        expect(refused).toMatch(new RegExp(`failback of ${id} into ${SOURCE_AZ} refused: the API server of ${SOURCE_AZ} does not answer \\(.*\\)\\. Fix: wait until ${SOURCE_AZ} is healthy again`));

        await h.sim.client.setAzDown(SOURCE_AZ, false);
        const before = (await h.sim.client.stats({ az: SOURCE_AZ })).counters[SOURCE_AZ] ?? {};
        const fb = await h.client.failback({ drillId: id, requestedBy: 'vitest' });
        expect(fb.failed).toEqual([]);
        expect(fb).toMatchObject({ mode: 'emergency', sourceAz: SOURCE_AZ, targetAz: TARGET_AZ, restoredFromTarget: moved.length });
        expect(await failbackProblems(h, report, fb, before)).toEqual([]);
        // It held both AZs while it ran (one at a time per AZ): the newest hold of each names it.
        for (const az of [SOURCE_AZ, TARGET_AZ]) {
          const hold = await h.handle(azHoldWorkflowId(h.settings.taskQueue, az)).describe();
          expect(hold.memo?.holder, az).toMatchObject({ kind: 'failback', workflowId: failbackWorkflowId(id), sourceAz: TARGET_AZ, targetAz: SOURCE_AZ });
        }
        // The fencing follow-up closed before any source copy was restored: fenced copies are restored from the fresh savepoint, never resumed.
        expect((await h.handle(fenceWorkflowId(recordsKey(report))).describe()).status.name).toBe('COMPLETED');

        // Tier by tier: no shard of a tier starts before every shard of the tier before it has
        // ended (a shard ends once each of its jobs has; workflows/failback-shard.ts).
        const lastEnd = new Map<string, number>();
        const firstStart = new Map<string, number>();
        for (const m of historyMarks(await h.history(failbackWorkflowId(id)))) {
          const tier = m.kind === 'child-initiated' || m.kind === 'child-closed' ? new RegExp(`^${failbackWorkflowId(id)}/(P[0-3])/shard/`).exec(m.workflowId)?.[1] : undefined;
          if (!tier) continue;
          if (m.kind === 'child-initiated' && !firstStart.has(tier)) firstStart.set(tier, m.eventId);
          if (m.kind === 'child-closed') lastEnd.set(tier, m.eventId);
        }
        expect(fb.tiers!.map((t) => t.tier)).toEqual([...firstStart.keys()]);
        for (let i = 1; i < fb.tiers!.length; i++) expect(firstStart.get(fb.tiers![i]!.tier)!).toBeGreaterThan(lastEnd.get(fb.tiers![i - 1]!.tier)!);
        expect(fb.tiers!.reduce((n, t) => n + t.back, 0)).toBe(moved.length);
        // The Temporal UI finds the failback, its shards and the fencing follow-up by their typed
        // search attributes (workflows/search-attributes.ts): kind, run and the AZs of the move.
        const k = SEARCH_ATTRIBUTE_KEYS;
        const tags = async (workflowId: string) => {
          const d = await h.handle(workflowId).describe();
          return [k.kind, k.run, k.mode, k.sourceAz, k.targetAz].map((x) => d.typedSearchAttributes.get(x));
        };
        expect(await tags(failbackWorkflowId(id))).toEqual(['failback', id, undefined, TARGET_AZ, SOURCE_AZ]);
        const shards = [...new Set(historyMarks(await h.history(failbackWorkflowId(id))).flatMap((m) => (m.kind === 'child-initiated' && /\/P[0-3]\/shard\//.test(m.workflowId) ? [m.workflowId] : [])))];
        expect(shards.length).toBeGreaterThan(0);
        for (const s of shards) expect(await tags(s), s).toEqual(['failback-shard', id, undefined, TARGET_AZ, SOURCE_AZ]);
        expect(await tags(fenceWorkflowId(recordsKey(report)))).toEqual(['fencing', id, 'emergency', SOURCE_AZ, undefined]);
        // In the Temporal UI each of the failback's own activities says what it does (a summary).
        const scheduled = (await h.history(failbackWorkflowId(id))).events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
        expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual(expect.arrayContaining(['failbackScope', 'failbackReadiness', 'settleFences', 'resumePreempted']));
        for (const e of scheduled) expect(e.userMetadata?.summary?.data, String(e.activityTaskScheduledEventAttributes?.activityType?.name)).toBeDefined();

        // What kubectl describe shows on a restored source copy: the failback's annotations and its Event.
        const events2 = await h.sim.client.events(SOURCE_AZ);
        const source = new Map((await h.sim.client.listDeployments(SOURCE_AZ)).map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, d]));
        for (const j of moved) {
          expect(source.get(reportKey(j))!.manifest.metadata.annotations).toMatchObject({ [ACTION_ANNOTATIONS.failedBackBy]: recordsKey(report) });
          expect(events2.filter((e) => `${e.namespace}/${e.name}` === reportKey(j) && e.reason === 'AzEvacFailedBack')).toHaveLength(1);
        }
      },
    });
  });

  it('a source copy whose suspend is accepted but whose job keeps running is reported "fence requested, not observed", never fenced; the follow-up sees it stop once its operator acts', async () => {
    const h = await EvacuationHarness.start({ jobs: SMALL_FLEET.jobs, seed: SMALL_FLEET.seed, timeScale: SMALL_FLEET.timeScale, tiers: SMALL_FLEET.tiers });
    const id = `fence-unobserved-${Date.now() % 1e9}`;
    try {
      const running = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ && j.deployment.spec.job?.state !== 'suspended');
      const stuck = [
        ...running.filter((j) => j.tier === 'P2' && !j.standby).slice(0, 2),
        ...running.filter((j) => j.tier === 'P0' && j.standby?.kind === 'hot' && j.standby.az === TARGET_AZ).slice(0, 1),
      ].map(jobKey).sort();
      expect(stuck).toHaveLength(3);
      // The source AZ's operator never acts on these suspends (down, or cannot reach the JobManager).
      await h.sim.client.setFaults({ ignoreSuspend: stuck });
      await h.client.syncCatalog();
      // An emergency with the source AZ answering: its start step fences and moves on. A drill
      // stops each job with a savepoint first and does not move one whose stop is never acted on.
      await h.start(id, { mode: 'emergency' });
      const { report } = await h.finish(id);

      const line = (key: string) => report.jobs.find((j) => reportKey(j) === key)!;
      for (const key of stuck) {
        expect(line(key)).toMatchObject({
          outcome: 'running', fence: 'requested', fenceText: expect.stringMatching(/^fence requested, not observed/),
          fenceSeen: { seen: expect.stringContaining('the operator has not acted on the suspend') },
        });
      }
      // Every other moved job's source copy was seen stopped, never just requested.
      const moved = report.jobs.filter((j) => j.outcome === 'running' && j.fence !== undefined);
      expect(moved.filter((j) => j.fence === 'requested').map(reportKey).sort()).toEqual(stuck);
      expect(moved.filter((j) => j.fence === 'stopped').length).toBeGreaterThan(5);
      expect(report.fencing).toMatchObject({ pending: [], notObserved: stuck, followUpWorkflowId: fenceWorkflowId(recordsKey(report)) });
      // The stuck copies do run in both AZs: the report says so instead of calling them fenced.
      expect(await runningInSource(h, stuck)).toEqual(stuck);
      expect(await guaranteeProblems(h, id, report, true)).toEqual([]);

      // Every fenced copy says who fenced it, when and why, and carries the Event.
      const source = new Map((await h.sim.client.listDeployments(SOURCE_AZ)).map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, d]));
      const events = await h.sim.client.events(SOURCE_AZ);
      for (const j of moved) {
        expect(source.get(reportKey(j))!.manifest.metadata.annotations).toMatchObject({
          [ACTION_ANNOTATIONS.fencedBy]: recordsKey(report), [ACTION_ANNOTATIONS.reason]: expect.stringContaining('triggered by vitest'),
        });
        expect(events.filter((e) => `${e.namespace}/${e.name}` === reportKey(j) && e.reason === 'AzEvacFenced')).toHaveLength(1);
      }

      // The operator acts again: the follow-up sees the copies stop and ends.
      const handle = h.handle(fenceWorkflowId(recordsKey(report)));
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await h.sim.client.setFaults({ ignoreSuspend: [] });
      const follow = await h.resultWithin<FencePassResult>(fenceWorkflowId(recordsKey(report)), 60_000);
      expect(follow).toMatchObject({ pending: [], notObserved: [] });
      expect(follow.fencedLater).toEqual(expect.arrayContaining(stuck));
      expect(await runningInSource(h, stuck)).toEqual([]);
    } finally {
      await h.close([id]);
    }
  });
});

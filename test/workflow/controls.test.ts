/**
 * Controls of a running evacuation on the real Temporal dev server and simulator: the
 * idempotent trigger (two presses, one run), pause / resume and abort Updates with their
 * validators, through the client facade the CLI uses. Small tier windows keep P2 busy long
 * enough to act on it mid-flight.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { messageOf } from '../../domain/error-message.js';
import { tierWorkflowId, type EvacuationProgress } from '../../domain/evacuation.js';
import { EvacuationHarness, TARGET_AZ, reportKey, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { jobMarks, maxJobsInFlight } from '../setup/history-events.js';

const OPTIONS = { jobs: 80, seed: 5, timeScale: 100, tiers: { P1: { maxConcurrency: 3 }, P2: { maxConcurrency: 4 } } } as const;
/** Wall seconds during which a paused evacuation must dispatch nothing (≈ 5 model minutes: several job start-ups). */
const PAUSE_HOLD_MS = 3_000;

/** P2 is under way: its tier workflow runs and at least one of its jobs is RUNNING. */
function p2UnderWay(p: EvacuationProgress): EvacuationProgress | undefined {
  const t = p.tiers.find((x) => x.tier === 'P2');
  return t && t.state === 'running' && t.succeeded >= 1 && t.succeeded + t.failed < t.planned - 2 * OPTIONS.tiers.P2.maxConcurrency ? p : undefined;
}

describe('evacuation controls', () => {
  let h: EvacuationHarness | undefined;
  let ids: string[] = [];

  beforeAll(async () => {
    await workflowBundle();
  });

  afterEach(async () => {
    await h?.close(ids);
    h = undefined;
    ids = [];
  });

  it('starts one workflow run for two concurrent presses of the button', async () => {
    h = await EvacuationHarness.start({ ...OPTIONS, tiers: {} });
    await h.prepareEmergency();
    const id = `evac-double-${Date.now()}`;
    ids.push(id);
    const [a, b] = await Promise.all([h.start(id), h.start(id)]);
    expect([a.evacuationId, b.evacuationId]).toEqual([id, id]);
    expect([a.joined, b.joined].sort()).toEqual([false, true]);

    const { result } = await h.finish(id);
    expect(result.phase).toBe('done');
    const runs: string[] = [];
    for await (const w of h.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.runId);
    expect(runs).toHaveLength(1);
    expect((await h.handle(id).describe()).runId).toBe(runs[0]);
    // One evacuation's worth of jobs: the P2 tier's shards dispatched each job once.
    const { dispatched } = maxJobsInFlight(await jobMarks(h.temporal, tierWorkflowId(id, 'P2')));
    expect(dispatched).toBe((await h.plan(id)).plan.admitted.filter((p) => p.tier === 'P2').length);
  });

  it('pauses (nothing more is dispatched, jobs in flight finish) and resumes to the end', async () => {
    h = await EvacuationHarness.start(OPTIONS);
    await h.prepareEmergency();
    const id = `evac-pause-${Date.now()}`;
    ids.push(id);
    await h.start(id);
    await waitFor('P2 under way', async () => p2UnderWay(await h!.client.progress(id)));

    const paused = await h.client.pause(id, 'vitest', 'checking the target AZ');
    expect(paused.paused).toBe(true);
    await expect(h.client.pause(id, 'vitest')).rejects.toThrow(/already paused/);

    const p2 = (p: EvacuationProgress) => p.tiers.find((t) => t.tier === 'P2')!;
    const dispatchedP2 = async (): Promise<number> =>
      maxJobsInFlight(await jobMarks(h!.temporal, tierWorkflowId(id, 'P2'))).dispatched;
    // Jobs in flight finish while paused…
    const drained = await waitFor('P2 jobs in flight to finish', async () => {
      const p = await h!.client.progress(id);
      return p.paused && p2(p).running === 0 ? p2(p) : undefined;
    }, 30_000);
    const dispatched = await dispatchedP2();
    expect(drained.succeeded + drained.failed + drained.skipped).toBe(dispatched);
    expect(dispatched).toBeLessThan(drained.planned);
    // …and nothing new is dispatched for a while.
    await new Promise((r) => setTimeout(r, PAUSE_HOLD_MS));
    expect(await dispatchedP2()).toBe(dispatched);
    const later = await h.client.progress(id);
    expect(later.paused).toBe(true);
    expect(p2(later)).toMatchObject({ running: 0, succeeded: drained.succeeded });

    const resumed = await h.client.resume(id, 'vitest');
    expect(resumed.paused).toBe(false);
    await expect(h.client.resume(id, 'vitest')).rejects.toThrow(/not paused/);
    const { result, report } = await h.finish(id);
    expect(result.phase).toBe('done');
    // Every job the plan admitted ran (jobs the plan could not fit are skipped before anything starts).
    const admitted = new Set((await h.plan(id)).plan.admitted.map((p) => p.key));
    expect(report.jobs.filter((j) => admitted.has(reportKey(j)) && j.outcome !== 'running')).toEqual([]);
    expect(report.jobs.filter((j) => !admitted.has(reportKey(j)) && !j.reason?.startsWith('not admitted'))).toEqual([]);
  });

  it('rejects an abort without a reason and aborts with one, leaving no job half done', async () => {
    h = await EvacuationHarness.start(OPTIONS);
    await h.prepareEmergency();
    const id = `evac-abort-${Date.now()}`;
    ids.push(id);
    await h.start(id);
    await waitFor('P2 under way', async () => p2UnderWay(await h!.client.progress(id)));

    // A failback of a running evacuation would move jobs back while it moves them out: refused, nothing moves.
    const failback = await h.client.failback({ drillId: id }).then(() => 'started', messageOf);
    expect(failback).toMatch(new RegExp(`${id} is still running: .*Fix: wait for it to end, or abort it \\(az-evac abort ${id}`));
    await expect(h.client.abort(id, 'vitest', '')).rejects.toThrow(/abort needs a reason/);
    await expect(h.client.abort(id, 'vitest', '   ')).rejects.toThrow(/abort needs a reason/);
    expect((await h.client.progress(id)).phase).toBe('evacuating');

    const reason = 'source AZ recovered';
    const aborted = await h.client.abort(id, 'vitest', reason);
    expect(aborted.phase).toBe('aborted');
    await expect(h.client.abort(id, 'vitest', reason)).rejects.toThrow(/already aborted/);

    const { result, report } = await h.finish(id);
    expect(result.phase).toBe('aborted');
    expect(result.success).toBe(false);
    expect(report.abortedBy).toContain(reason);

    const source = h.sourceJobs();
    const keys = report.jobs.map(reportKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...source.keys()].sort());

    const stored = await h.plan(id);
    const admitted = new Set(stored.plan.admitted.map((p) => p.key));
    const target = await h.targetDeployments();
    const counters = (await h.sim.client.stats({ az: TARGET_AZ })).counters[TARGET_AZ] ?? {};
    const halfDone: string[] = [];
    let notStarted = 0;
    let ran = 0;
    for (const j of report.jobs.filter((x) => admitted.has(reportKey(x)))) {
      const where = h.targetOf(source.get(reportKey(j))!, j.strategy).key;
      const d = target.get(where);
      const c = counters[where];
      if (j.outcome === 'running') {
        ran++;
        if (d?.status.jobStatus?.state !== 'RUNNING') halfDone.push(`${where}: reported running, simulator ${d?.status.jobStatus?.state ?? 'absent'}`);
      } else if (j.outcome === 'skipped' && j.startSeconds !== undefined && j.reason?.includes(reason) && j.reason.includes('not started')) {
        notStarted++;
        // Never touched: no resource created, no spec changed (a cold standby stays suspended).
        if ((c?.created ?? 0) + (c?.specChanges ?? 0) > 0) halfDone.push(`${where}: skipped, yet created ${c?.created} / spec changes ${c?.specChanges}`);
        if (j.strategy === 'redeploy' && d) halfDone.push(`${where}: skipped, yet exists in ${TARGET_AZ}`);
      } else {
        halfDone.push(`${reportKey(j)}: ${j.outcome} (${j.reason ?? ''})`);
      }
    }
    expect(halfDone).toEqual([]);
    expect(ran).toBeGreaterThan(0);
    expect(notStarted).toBeGreaterThan(0);
    expect(ran + notStarted).toBe(admitted.size);
    // P3 starts only once P2 has dispatched everything, i.e. after this abort: its jobs too
    // name the abort (the tier learns it from its input, not from a signal).
    const p3 = stored.plan.admitted.filter((p) => p.tier === 'P3').map((p) => p.key);
    expect(p3.length, 'the fleet must admit a P3 job, so that a tier starts after the abort').toBeGreaterThan(0);
    for (const key of p3) expect(report.jobs.find((j) => reportKey(j) === key)?.reason).toContain(`vitest: ${reason}; job not started`);
  });
});

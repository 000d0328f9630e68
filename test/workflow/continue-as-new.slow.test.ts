/**
 * Bounded histories (issue 12), slow lane (AZ_EVAC_SLOW=1; two fleets, ~2–3 min on 2 busy
 * cores): with a continue-as-new budget of 20 events, a drill-mode evacuation and its failback
 * at N and at 2N jobs: the evacuation's and the failback's histories and every run of every
 * tier and failback shard stay under fixed event counts; more jobs make more runs, not longer
 * ones. Then the same move as a drill workflow: the drill's history stays under a fixed count.
 * And the tier's watch on the shards it adopted from an earlier run (a wait on its 30 s timer,
 * hence here): over two watch intervals of an idle, paused tier it writes nothing to the shard's
 * history (it re-sent the control as a signal every 30 s, which livelocked shards at 20,000 jobs);
 * a shard terminated by hand after its tier continued as new still fails the tier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failbackShardWorkflowId, failbackWorkflowId, shardWorkflowId, tierWorkflowId } from '../../domain/evacuation.js';
import type { Tier } from '../../domain/types.js';
import { DrillClient } from '../../client/drill-client.js';
import { parseRunbook } from '../../domain/runbook.js';
import { EvacuationHarness, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { historiesOfAllRuns, historyMarks, runsOf } from '../setup/history-events.js';
import { tierControlSignal, tierCountsQuery } from '../../workflows/messages.js';

/** The budget of continue-as-new.test.ts. */
const BUDGET = 20;

describe('bounded histories: event counts stay fixed while the job count doubles', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    await workflowBundle();
  });

  /** Largest histories of the evacuation, its failback and any run of any tier or failback shard, for a fleet of `jobs` primary jobs. */
  async function largestHistories(jobs: number): Promise<{ evacuation: number; tierRun: number; tierRuns: number; failback: number; shardRun: number; shardRuns: number; drill: number; admitted: number }> {
    const h = await EvacuationHarness.start({ jobs, seed: 22, timeScale: 100, tiers: { P1: { maxConcurrency: 2 }, P2: { maxConcurrency: 2 } } });
    const id = `can-size-${jobs}-${Date.now()}`;
    try {
      await h.client.syncCatalog();
      await h.start(id, { mode: 'drill', continueAsNewAfterEvents: BUDGET });
      const { result } = await h.finish(id);
      expect(result.phase).toBe('done');
      let tierRun = 0;
      let tierRuns = 0;
      for (const t of ['P0', 'P1', 'P2', 'P3'] satisfies Tier[]) {
        for (const r of await runsOf(h.temporal, tierWorkflowId(id, t))) {
          tierRun = Math.max(tierRun, r.events);
          tierRuns++;
        }
      }
      const fb = await h.client.failback({ drillId: id, window: 2, startupTimeoutSeconds: 6, continueAsNewAfterEvents: BUDGET });
      expect(fb.failed).toEqual([]);
      const shards = await runsOf(h.temporal, failbackShardWorkflowId(id, 'all', 0));
      // Then the same move as a drill workflow (evacuate, fail back; the default budgets): its own history.
      const drills = await DrillClient.connect(h.settings);
      const drillId = `can-drill-${jobs}-${Date.now()}`;
      try {
        const runbook = parseRunbook(['name: sized', 'sourceAz: az-a', 'targetAz: az-b', 'steps:', '  - evacuate: { mode: drill }', '  - failback: {}'].join('\n'), 'sized.yaml');
        await drills.start(DrillClient.input(runbook, 'sized.yaml', { requestedBy: 'vitest' }), drillId);
        expect((await drills.result(drillId)).passed).toBe(true);
      } finally {
        await drills.close();
      }
      return {
        evacuation: (await h.handle(id).describe()).historyLength, tierRun, tierRuns,
        failback: (await h.handle(failbackWorkflowId(id)).describe()).historyLength,
        shardRun: Math.max(...shards.map((r) => r.events)), shardRuns: shards.length,
        drill: (await h.handle(drillId).describe()).historyLength,
        admitted: (await h.plan(id)).plan.admitted.length,
      };
    } finally {
      await h.close([id, failbackWorkflowId(id)]);
    }
  }

  it('the evacuation stays under 200 events, the failback under 60, the drill under 80, every tier and failback shard run under its budget + 40, at N and 2N jobs', async () => {
    const small = await largestHistories(30);
    const large = await largestHistories(60);
    expect(large.admitted, 'the fleet doubled').toBeGreaterThanOrEqual(small.admitted * 1.6);
    for (const s of [small, large]) {
      expect(s.evacuation, JSON.stringify(s)).toBeLessThan(200);
      expect(s.tierRun, JSON.stringify(s)).toBeLessThan(BUDGET + 40);
      expect(s.failback, JSON.stringify(s)).toBeLessThan(60);
      expect(s.drill, JSON.stringify(s)).toBeLessThan(80);
      expect(s.shardRun, JSON.stringify(s)).toBeLessThan(BUDGET + 40);
    }
    // More jobs: more runs (tiers and failback shards continue as new), not longer ones.
    expect(large.tierRuns, JSON.stringify({ small, large })).toBeGreaterThan(small.tierRuns);
    expect(large.shardRuns, JSON.stringify({ small, large })).toBeGreaterThan(small.shardRuns);
  });
});

describe('bounded histories: a shard lost after its tier continued as new', { timeout: 300_000 }, () => {
  let h: EvacuationHarness;
  const ids: string[] = [];
  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 40, seed: 21, timeScale: 100, tiers: { P2: { maxConcurrency: 1 } } });
  });
  afterAll(async () => {
    await h?.close(ids);
  });

  it('the watch of an idle tier writes nothing into its adopted shard over two watch intervals; a shard terminated by hand after its tier continued as new fails the tier (ShardLost) instead of leaving it waiting: the evacuation reports it and ends', async () => {
    const id = `can-lost-${Date.now()}`;
    ids.push(id);
    await h.prepareEmergency();
    await h.start(id, { continueAsNewAfterEvents: BUDGET });
    const tier = tierWorkflowId(id, 'P2');
    const shard = shardWorkflowId(id, 'P2', 0);
    await waitFor('the P2 tier to continue as new once', async () => ((await runsOf(h.temporal, tier)).length >= 2 ? true : undefined), 90_000);

    // Paused, the shard dispatches nothing: the tier has nothing to do but watch it.
    const pausedAtMs = Date.now();
    expect((await h.client.pause(id, 'vitest')).paused).toBe(true);
    await waitFor('the adopted shard to be paused', async () => ((await h.handle(shard).query(tierCountsQuery)).paused ? true : undefined), 30_000);
    const timersFired = async (): Promise<number> => (await historiesOfAllRuns(h.temporal, tier))
      .flatMap((hist) => hist.events ?? [])
      .filter((e) => e.timerFiredEventAttributes && Number(e.eventTime?.seconds ?? 0) * 1000 > pausedAtMs).length;
    // Two of the tier's watch timers fired after the pause: a watch that writes to its shards has written twice.
    await waitFor('two watch intervals of the tier after the pause', async () => ((await timersFired()) >= 2 ? true : undefined), 120_000);
    expect((await h.handle(shard).describe()).status.name, 'the shard stayed open, adopted, all along').toBe('RUNNING');
    const controls = (await historiesOfAllRuns(h.temporal, shard))
      .flatMap((hist) => historyMarks(hist))
      .filter((m) => m.kind === 'signal' && m.name === tierControlSignal.name && m.atMs >= pausedAtMs - 1000);
    // The observer sees the tier's signals: the pause itself is one. The watch added none.
    expect(controls.map((m) => (m.kind === 'signal' ? m.input : undefined)), 'control signals in the shard since the pause').toEqual([expect.objectContaining({ action: 'pause' })]);
    expect((await h.client.resume(id, 'vitest')).paused).toBe(false);

    // The shard is no child of the tier's current run: only the tier's watch (every 30 s) can see it go.
    await h.handle(shard).terminate('vitest: terminated by hand');
    const result = await h.resultWithin<Awaited<ReturnType<typeof h.client.result>>>(id, 120_000);
    expect(result.phase).toBe('failed');
    const { report } = await h.finish(id);
    expect(report.tierFailures?.P2).toMatch(/shard 1\/1 of tier P2 closed without reporting its counters/);
  });
});

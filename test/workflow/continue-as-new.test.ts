/**
 * Bounded histories (issue 12) on the real Temporal dev server and simulator: with a small
 * continue-as-new budget (`continueAsNewAfterEvents`, a workflow input) the P2 tier workflow
 * continues as new several times during one evacuation. Its shards (ABANDON children found by
 * workflow id) survive every handover; a pause accepted by one run holds in the next; an abort
 * with its reason accepted after the handover skips the jobs not started; every job is
 * reported once. Terminating the evacuation still cancels the shards of a tier that has
 * continued as new and lets the AZ holds go. A failback moves its jobs in shards that continue
 * as new, each job failed back once. (Tier runs recorded while the tier's watch on adopted
 * shards still signalled them replay in replay.test.ts.) (A shard terminated by hand failing its tier, the watch writing nothing into
 * its shards, and event counts while the job count doubles: continue-as-new.slow.test.ts,
 * AZ_EVAC_SLOW=1.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azHoldWorkflowId } from '../../domain/az-hold.js';
import { failbackShardWorkflowId, failbackWorkflowId, shardWorkflowId, tierWorkflowId } from '../../domain/evacuation.js';
import { tierCountsQuery } from '../../workflows/messages.js';
import { EvacuationHarness, SMALL_STATE_BYTES, SOURCE_AZ, TARGET_AZ, reportKey, waitFor, workflowBundle, type HarnessOptions } from '../setup/evacuation-harness.js';
import { runsOf } from '../setup/history-events.js';

/** Budget small enough that a P2 tier of ~10 jobs in one slot hands over several times. */
const BUDGET = 20;
/** One P2 slot keeps P2 under way long enough to act on; RPOs of 6,000 model s let a second case start right after the first (az-a down stops replication). */
const TIERS: HarnessOptions['tiers'] = { P0: { rpoSeconds: 6000 }, P1: { rpoSeconds: 6000 }, P2: { maxConcurrency: 1, rpoSeconds: 6000 } };

describe('bounded histories: continue-as-new with controls across the boundary', { timeout: 300_000 }, () => {
  let h: EvacuationHarness;
  const ids: string[] = [];
  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 40, seed: 21, timeScale: 100, tiers: TIERS });
  });
  afterAll(async () => {
    await h?.close(ids);
  });

  it('a tier that continued as new several times reports every job once; a pause accepted before a handover holds after it; an abort with its reason after it skips the rest', async () => {
    const id = `can-controls-${Date.now()}`;
    ids.push(id);
    await h.prepareEmergency();
    await h.start(id, { continueAsNewAfterEvents: BUDGET });
    const tier = tierWorkflowId(id, 'P2');
    await waitFor('the P2 tier to continue as new once', async () => ((await runsOf(h.temporal, tier)).length >= 2 ? true : undefined), 90_000);

    const pausedAtMs = Date.now();
    expect((await h.client.pause(id, 'vitest')).paused).toBe(true);
    // A run that started after the pause knows of it only from what the run before handed over.
    await waitFor('a P2 tier run started after the pause', async () => ((await runsOf(h.temporal, tier)).some((r) => r.startMs > pausedAtMs) ? true : undefined), 120_000);
    expect((await h.handle(tier).query(tierCountsQuery)).paused).toBe(true);
    expect((await h.handle(shardWorkflowId(id, 'P2', 0)).query(tierCountsQuery)).paused).toBe(true);

    const reason = 'source AZ is back (vitest)';
    const aborted = await h.client.abort(id, 'vitest', reason);
    expect(aborted.phase).toBe('aborted');
    const { result, report } = await h.finish(id);
    expect(result.phase).toBe('aborted');
    expect(report.abortedBy).toContain(reason);

    const runs = await runsOf(h.temporal, tier);
    expect(runs.length, 'P2 tier runs').toBeGreaterThanOrEqual(3);
    // Every job once: each admitted job has exactly one outcome.
    const keys = report.jobs.map(reportKey);
    expect(new Set(keys).size).toBe(keys.length);
    const admitted = (await h.plan(id)).plan.admitted;
    for (const p of admitted) expect(keys, p.key).toContain(p.key);
    const p2 = report.jobs.filter((j) => j.tier === 'P2' && admitted.some((a) => a.key === reportKey(j)));
    const ran = p2.filter((j) => j.outcome === 'running');
    const skipped = p2.filter((j) => j.outcome === 'skipped');
    expect(ran.length, 'P2 jobs RUNNING before the pause').toBeGreaterThan(0);
    expect(skipped.length, 'P2 jobs skipped by the abort').toBeGreaterThan(0);
    for (const j of skipped) expect(j.reason, reportKey(j)).toContain(`vitest: ${reason}`);
    expect(ran.length + skipped.length + p2.filter((j) => j.outcome === 'failed').length).toBe(p2.length);
    const tierResult = result.tiers.find((t) => t.tier === 'P2')!;
    expect(tierResult.succeeded + tierResult.failed + tierResult.skipped).toBe(tierResult.planned);
    expect(tierResult.skipped).toBe(skipped.length);
  });

  it('terminating the evacuation cancels the shards of a tier that continued as new and lets its AZ holds go', async () => {
    const id = `can-terminate-${Date.now()}`;
    ids.push(id);
    await h.prepareEmergency();
    await h.start(id, { continueAsNewAfterEvents: BUDGET });
    const tier = tierWorkflowId(id, 'P2');
    await waitFor('the P2 tier to continue as new once', async () => ((await runsOf(h.temporal, tier)).length >= 2 ? true : undefined), 90_000);
    const shard = shardWorkflowId(id, 'P2', 0);
    expect((await h.handle(shard).describe()).status.name, 'the shard survived the handover').toBe('RUNNING');

    await h.handle(id).terminate('vitest: the chain really ends');
    const closed = async (wid: string): Promise<string | undefined> => {
      const s = (await h.handle(wid).describe()).status.name;
      return s === 'RUNNING' ? undefined : s;
    };
    expect(await waitFor('the P2 tier to close', () => closed(tier), 30_000)).toBe('CANCELLED');
    expect(await waitFor('its shard to close', () => closed(shard), 30_000)).toBe('CANCELLED');
    for (const az of [SOURCE_AZ, TARGET_AZ]) {
      expect(await waitFor(`the hold of ${az} to close`, () => closed(azHoldWorkflowId(h.settings.taskQueue, az)), 30_000)).not.toBe('RUNNING');
    }
  });
});


describe('bounded histories: a failback moves its jobs in shards that continue as new', { timeout: 300_000 }, () => {
  let h: EvacuationHarness;
  const ids: string[] = [];
  beforeAll(async () => {
    await workflowBundle();
    // State capped: the drill and the failback stop each job with a savepoint (its time is not what is tested).
    h = await EvacuationHarness.start({ jobs: 24, seed: 23, timeScale: 100, maxStateBytes: SMALL_STATE_BYTES });
  });
  afterAll(async () => {
    await h?.close(ids);
  });

  it('every drilled job is failed back once, by a shard that continued as new several times; the failback itself stays small', async () => {
    const id = `can-failback-${Date.now()}`;
    ids.push(id, failbackWorkflowId(id));
    await h.client.syncCatalog();
    await h.start(id, { mode: 'drill' });
    const { result } = await h.finish(id);
    expect(result.phase).toBe('done');
    const jobs = (await h.plan(id)).plan.admitted.length;

    const fb = await h.client.failback({ drillId: id, window: 2, startupTimeoutSeconds: 6, continueAsNewAfterEvents: BUDGET });
    expect(fb.jobs).toBe(jobs);
    expect(fb.failed).toEqual([]);
    expect(fb.restoredFromTarget + fb.restoredOwn + fb.untouched).toBe(jobs);
    // One shard (≤ 50 jobs), two slots: its runs hand over the keys left and the tally so far.
    const shardRuns = await runsOf(h.temporal, failbackShardWorkflowId(id, 'all', 0));
    expect(shardRuns.length, 'failback shard runs').toBeGreaterThanOrEqual(3);
    for (const r of shardRuns) expect(r.events, 'events of a shard run').toBeLessThan(BUDGET + 20);
    // The failback's own history does not hold an activity per job.
    expect((await h.handle(failbackWorkflowId(id)).describe()).historyLength).toBeLessThan(60);
  });
});

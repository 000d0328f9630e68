/**
 * The lower bound (bench/lower-bound.ts) against schedules run on the simulator itself
 * (bench/perfect-schedule.ts: in-process, manual clock, 1 s steps): a perfect orchestrator that
 * dispatches each tier's jobs in a given order as soon as its window and the tier rules allow,
 * with zero cost, and counts a job done when it is RUNNING, restored and has completed a
 * checkpoint after the restore. Every dispatch order of small fleets is enumerated: the bound
 * must not exceed the best of them, and must meet a single job's time and a window-1 chain's
 * within the step size.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lowerBound } from '../../bench/lower-bound.js';
import { perfectSchedule } from '../../bench/perfect-schedule.js';
import { parseTiersPolicy } from '../../domain/tiers-policy.js';
import type { FleetJob, Tier, TiersPolicy } from '../../domain/types.js';
import { DEFAULT_MODEL, savepointSeconds, type PlatformModel } from '../../simulator/latency-model.js';
import { catalog, tiersPolicy } from './fixtures/fleet.js';
import { fleetJob, generatedPlan, permutations, planAdmitting, scheduleInOrder, tieredJob, TIGHT } from './fixtures/sim-platform.js';

function bound(jobs: FleetJob[], policy: TiersPolicy, model: PlatformModel): number {
  return lowerBound({ plan: planAdmitting(jobs), catalog: catalog(jobs), policy, preload: false, seed: 7, model }).seconds;
}

describe('lowerBound', () => {
  it('is tight for one job alone: the simulator takes the bound, up to its jar download and the 1 s step', async () => {
    const jobs = [tieredJob('solo', 'P2', 10)];
    const policy = tiersPolicy();
    const b = bound(jobs, policy, DEFAULT_MODEL);
    const simulated = (await scheduleInOrder(jobs, { P2: ['solo'] }, policy, DEFAULT_MODEL)).seconds;
    expect(simulated - b).toBeGreaterThanOrEqual(0);
    // The bound reads the 100 MiB jar from the cache (0.5 s); without preload the simulator downloads
    // it from the repository (4 s alone), which the operator's progress check rounds up to one more round.
    expect(simulated - b).toBeLessThan(DEFAULT_MODEL.progressCheckIntervalSeconds + 1);
  });

  it('waits for the first checkpoint after the restore: a checkpoint interval floor of 120 s instead of the job\'s 60 s adds 60 s to a short restore', () => {
    const jobs = [tieredJob('solo', 'P2', 10)];
    const at = (floor: number): number => lowerBound({ plan: planAdmitting(jobs), catalog: catalog(jobs), policy: tiersPolicy(), preload: false, seed: 7, minCheckpointIntervalSeconds: floor }).seconds;
    expect(at(120) - at(0)).toBeCloseTo(60, 6);
  });

  it('is tight for a window of one: jobs one after another take the sum of their paths', async () => {
    const jobs = [tieredJob('a', 'P2', 1), tieredJob('b', 'P2', 8), tieredJob('c', 'P2', 30)];
    const policy = tiersPolicy({ tiers: { P2: { maxConcurrency: 1 } } });
    const b = bound(jobs, policy, DEFAULT_MODEL);
    const simulated = (await scheduleInOrder(jobs, { P2: ['a', 'b', 'c'] }, policy, DEFAULT_MODEL)).seconds;
    expect(simulated - b).toBeGreaterThanOrEqual(0);
    expect(simulated - b).toBeLessThan(jobs.length);
  });

  it('never exceeds the best of every dispatch order on small fleets with shared resources, windows and tiers (brute force)', async () => {
    const jobs = [tieredJob('p1-a', 'P1', 40), tieredJob('p1-b', 'P1', 5), tieredJob('p2-a', 'P2', 2), tieredJob('p2-b', 'P2', 25), tieredJob('p2-c', 'P2', 12)];
    for (const borrowIdleSlots of [true, false]) {
      const policy = tiersPolicy({ borrowIdleSlots, tiers: { P1: { maxConcurrency: 1 }, P2: { maxConcurrency: 2 } } });
      const b = bound(jobs, policy, TIGHT);
      let best = Infinity;
      for (const p1 of permutations(['p1-a', 'p1-b'])) {
        for (const p2 of permutations(['p2-a', 'p2-b', 'p2-c'])) best = Math.min(best, (await scheduleInOrder(jobs, { P1: p1, P2: p2 }, policy, TIGHT)).seconds);
      }
      expect(b, `borrowIdleSlots ${borrowIdleSlots}`).toBeLessThanOrEqual(best);
      // Not a trivial bound: within a third of the best schedule here.
      expect(b, `borrowIdleSlots ${borrowIdleSlots}`).toBeGreaterThan(best * 0.66);
    }
  });

  it('charges the shared object store: many big restores at once are bound by its bandwidth, not by one restore', async () => {
    const jobs = Array.from({ length: 6 }, (_, i) => tieredJob(`big-${i}`, 'P2', 60));
    const policy = tiersPolicy();
    const b = bound(jobs, policy, TIGHT);
    const alone = bound(jobs.slice(0, 1), policy, TIGHT);
    // 360 GiB through 1 GiB/s: at least 360 s of reading after the first job is RUNNING,
    // where one job alone reads 60 GiB in 123 s and checkpoints at the next 60 s trigger (180 s).
    expect(b).toBeGreaterThan(alone + 150);
    expect(b).toBeLessThanOrEqual((await scheduleInOrder(jobs, { P2: jobs.map((j) => j.name) }, policy, TIGHT)).seconds);
  });

  it('treats the target\'s capacity as fungible: on a generated plan with preemptions the bound stays at or below the perfect schedule per tier, with and without preload (it charged each preemption\'s savepoint to the job it was made for, and came out above)', async () => {
    // The bench's 100-job fleet (200 jobs, 6 preemptions), where the earlier term (savepoint end + that job's path) put P2 at 356.2 s, above the perfect schedule's 347 s.
    const seed = 11;
    const policy = parseTiersPolicy(readFileSync(new URL('../../tiers.yaml', import.meta.url), 'utf8'), 'tiers.yaml');
    const { plan, catalog: cat, fleet } = generatedPlan(200, seed, policy);
    expect(plan.preemptions.length, 'preemptions in the plan').toBeGreaterThan(0);
    for (const preload of [true, false]) {
      const input = { plan, catalog: cat, policy, preload, seed, fleet };
      const [bound, perfect] = [lowerBound(input), await perfectSchedule(input)];
      expect(bound.seconds, `preload ${preload}`).toBeLessThanOrEqual(perfect.seconds);
      for (const [tier, b] of Object.entries(bound.tiers)) expect(b, `${tier}, preload ${preload}`).toBeLessThanOrEqual(perfect.tiers[tier]!);
    }
  });

  it('reads every job\'s jars from the target\'s cache, with or without preload (the simulator reads cached jars from the cache either way)', async () => {
    // The bench's 50-job fleet: without preload the repository-read bound put P0 at 172 s, above the perfect schedule's 162 s.
    const seed = 11;
    const policy = parseTiersPolicy(readFileSync(new URL('../../tiers.yaml', import.meta.url), 'utf8'), 'tiers.yaml');
    const { plan, catalog: cat, fleet } = generatedPlan(100, seed, policy);
    const without = { plan, catalog: cat, policy, preload: false, seed, fleet };
    const [bound, perfect] = [lowerBound(without), await perfectSchedule(without)];
    for (const [tier, b] of Object.entries(bound.tiers)) expect(b, tier).toBeLessThanOrEqual(perfect.tiers[tier]!);
    expect(bound).toEqual(lowerBound({ ...without, preload: true }));
  });

  it('charges the capacity that only preemptions free: jobs that do not fit at the trigger end no sooner than the stop that frees enough, plus their path', () => {
    const jobs = [tieredJob('a', 'P2', 1), tieredJob('b', 'P2', 1)];
    const plan = planAdmitting(jobs);
    // Room for one job (5 cores) at the trigger; a P3 stop frees room for the second at 100 s.
    plan.capacityBefore = { cores: 5, memoryMiB: 10240 };
    const victim: FleetJob = { ...fleetJob('az-b', 'victim', 20 * 1024 ** 3), tier: 'P3' as Tier };
    plan.preemptions = [{ key: 'ns/victim', name: 'victim', namespace: 'ns', cores: 5, memoryMiB: 10240, forJob: 'ns/a' }];
    const policy = tiersPolicy();
    // Each job's path alone (its own per-job draws): the one that gets the freed pods has at least the shorter to go.
    const [aloneA, aloneB] = jobs.map((j) => bound([j], policy, DEFAULT_MODEL));
    const stop = savepointSeconds(DEFAULT_MODEL, victim.stateSizeBytes);
    expect(stop).toBeGreaterThan(0);
    const b = lowerBound({ plan, catalog: catalog([...jobs, victim]), policy, preload: false, seed: 7 });
    expect(b.seconds).toBeCloseTo(stop + Math.min(aloneA!, aloneB!), 6);
    // Enough room at the trigger: no capacity wait (the bound then is the two paths sharing the platform, within a second of the longer alone).
    plan.capacityBefore = { cores: 10, memoryMiB: 20480 };
    const roomy = lowerBound({ plan, catalog: catalog([...jobs, victim]), policy, preload: false, seed: 7 }).seconds;
    expect(roomy).toBeGreaterThanOrEqual(Math.max(aloneA!, aloneB!));
    expect(roomy).toBeLessThan(Math.max(aloneA!, aloneB!) + 1);
  });

  it('hot-standby promotions cost nothing; a plan of promotions only is bound by 0', () => {
    const jobs = [tieredJob('hot', 'P0', 10)];
    const plan = planAdmitting(jobs);
    plan.admitted[0] = { ...plan.admitted[0]!, strategy: 'promote-standby' };
    expect(lowerBound({ plan, catalog: catalog(jobs), policy: tiersPolicy(), preload: true, seed: 7 })).toEqual({ seconds: 0, p0Seconds: 0, tiers: { P0: 0 } });
  });

  it('names an admitted job missing from the catalog', () => {
    const plan = planAdmitting([tieredJob('ghost', 'P2', 1)]);
    expect(() => lowerBound({ plan, catalog: catalog([]), policy: tiersPolicy(), preload: true, seed: 7 })).toThrow(/admitted job ns\/ghost is not in the catalog's az-a/);
  });
});

/**
 * The perfect schedule (bench/perfect-schedule.ts), the achievable side of the lower bound: on
 * small fleets it never beats the bound, overall or per tier; it dispatches in the plan's
 * order under the tier rules; and on a bench-like generated fleet (preemptions, a hot-standby
 * promotion, a cold-standby resume, jar preload) it brings every admitted job up.
 */
import { describe, expect, it } from 'vitest';
import { lowerBound } from '../../bench/lower-bound.js';
import { comparePerfect, perfectSchedule } from '../../bench/perfect-schedule.js';
import type { FleetJob, TiersPolicy } from '../../domain/types.js';
import { DEFAULT_MODEL } from '../../simulator/latency-model.js';
import { catalog, tiersPolicy } from './fixtures/fleet.js';
import { generatedPlan, permutations, planAdmitting, scheduleInOrder, tieredJob, TIGHT } from './fixtures/sim-platform.js';

describe('perfectSchedule', () => {
  it('never beats the lower bound on small fleets, overall and per tier, with either tier rule', async () => {
    const fleets: FleetJob[][] = [
      [tieredJob('p0', 'P0', 3), tieredJob('p1', 'P1', 20), tieredJob('p2-a', 'P2', 1), tieredJob('p2-b', 'P2', 60)],
      [tieredJob('p1-a', 'P1', 40), tieredJob('p1-b', 'P1', 5), tieredJob('p2-a', 'P2', 2), tieredJob('p2-b', 'P2', 25), tieredJob('p2-c', 'P2', 12), tieredJob('p3', 'P3', 8)],
    ];
    for (const jobs of fleets) {
      for (const borrowIdleSlots of [true, false]) {
        const policy = tiersPolicy({ borrowIdleSlots, tiers: { P1: { maxConcurrency: 1 }, P2: { maxConcurrency: 2 } } });
        const order = Object.fromEntries(policy.admissionOrder.map((t) => [t, jobs.filter((j) => j.tier === t).map((j) => j.name)]));
        const perfect = await scheduleInOrder(jobs, order, policy, TIGHT);
        const bound = lowerBound({ plan: planAdmitting(jobs), catalog: catalog(jobs), policy, preload: false, seed: 7, model: TIGHT });
        const what = `${jobs.length} jobs, borrowIdleSlots ${borrowIdleSlots}`;
        expect(bound.seconds, what).toBeLessThanOrEqual(perfect.seconds);
        for (const [tier, b] of Object.entries(bound.tiers)) expect(b, `${what}, ${tier}`).toBeLessThanOrEqual(perfect.tiers[tier]!);
        expect(perfect.seconds).toBe(Math.max(...Object.values(perfect.tiers).map((s) => s!)));
      }
    }
  });

  it('dispatches in the plan\'s order: the best order of a brute force is what the plan in that order takes, and a bad order takes longer', async () => {
    // Window 2 on a tight object store: the big restore first overlaps the small ones; last, it runs alone.
    const jobs = [tieredJob('big', 'P2', 80), tieredJob('small-a', 'P2', 2), tieredJob('small-b', 'P2', 4)];
    const policy = tiersPolicy({ tiers: { P2: { maxConcurrency: 2 } } });
    const times = new Map<string, number>();
    for (const order of permutations(jobs.map((j) => j.name))) times.set(order.join(','), (await scheduleInOrder(jobs, { P2: order }, policy, TIGHT)).seconds);
    const [bestOrder, best] = [...times].reduce((a, b) => (b[1] < a[1] ? b : a));
    expect((await scheduleInOrder(jobs, { P2: bestOrder.split(',') }, policy, TIGHT)).seconds).toBe(best);
    expect(bestOrder.startsWith('big')).toBe(true);
    expect(times.get('small-a,small-b,big')).toBeGreaterThan(best + 30);
  });

  it('names the job that ended each tier: in a window of one, the plan\'s last job, dispatched when the one before it ended', async () => {
    const jobs = [tieredJob('a', 'P2', 1), tieredJob('b', 'P2', 8), tieredJob('c', 'P2', 30)];
    const policy = tiersPolicy({ tiers: { P2: { maxConcurrency: 1 } } });
    const before = (await scheduleInOrder(jobs.slice(0, 2), { P2: ['a', 'b'] }, policy, DEFAULT_MODEL)).seconds;
    const perfect = await scheduleInOrder(jobs, { P2: ['a', 'b', 'c'] }, policy, DEFAULT_MODEL);
    expect(perfect.lastJobs.P2).toMatchObject({ key: 'ns/c', dispatchedSeconds: before, appliedSeconds: before, endSeconds: perfect.seconds });
    // Its deploy's phases as the simulator recorded them: no capacity wait, 30 GiB restored.
    expect(perfect.lastJobs.P2!.startup!.phases.capacity).toBe(0);
    expect(perfect.lastJobs.P2!.startup!.phases.stateRestore).toBeCloseTo((30 * 1024) / 500, 1);
  });

  it('starts a lower tier in the slots a higher one leaves idle only under borrowIdleSlots', async () => {
    // P1 has one long job in a window of 2: with borrowing, P2 starts at once beside it.
    const jobs = [tieredJob('p1', 'P1', 60), tieredJob('p2', 'P2', 60)];
    const at = async (borrowIdleSlots: boolean): Promise<number> => (await scheduleInOrder(jobs, { P1: ['p1'], P2: ['p2'] }, tiersPolicy({ borrowIdleSlots, tiers: { P1: { maxConcurrency: 2 } } }), DEFAULT_MODEL)).seconds;
    const [borrowing, strict] = [await at(true), await at(false)];
    expect(strict).toBeGreaterThan(borrowing + 100);
  });

  it('carries out a bench-like plan (preemptions, a hot-standby promotion, a cold-standby resume, preload): every admitted job up, not sooner than the bound', async () => {
    // The bench's way: a generated fleet loaded into the simulator, the catalog as a sync reads
    // it (job ids, jars), the planner's plan for the target's free capacity.
    const seed = 2;
    const policy: TiersPolicy = tiersPolicy();
    const { plan, catalog: cat, fleet } = generatedPlan(40, seed, policy);
    expect(plan.preemptions.length).toBeGreaterThan(0);
    expect(plan.admitted.filter((p) => p.strategy === 'promote-standby')).toHaveLength(1);
    expect(plan.admitted.filter((p) => p.strategy === 'resume-standby')).toHaveLength(1);
    const input = { plan, catalog: cat, policy, preload: true, seed, minCheckpointIntervalSeconds: 120, fleet, warmupSeconds: 30 };
    const perfect = await perfectSchedule(input);
    expect(perfect.notRunning).toEqual([]);
    expect(perfect.running).toBe(plan.admitted.length);
    expect(perfect.promoted).toBe(1);
    const bound = lowerBound(input);
    expect(bound.seconds).toBeLessThanOrEqual(perfect.seconds);
    for (const [tier, b] of Object.entries(bound.tiers)) expect(b, tier).toBeLessThanOrEqual(perfect.tiers[tier]!);
    // P0 here is the promotion alone: done at the trigger.
    expect(plan.admitted.filter((p) => p.tier === 'P0').map((p) => p.strategy)).toEqual(['promote-standby']);
    expect(perfect.p0Seconds).toBe(0);
  });

  it('names an admitted job missing from the catalog', async () => {
    const jobs = [tieredJob('ghost', 'P2', 1)];
    await expect(perfectSchedule({ plan: planAdmitting(jobs), catalog: catalog([]), policy: tiersPolicy(), preload: false, seed: 7, fleet: { platform: catalog([]).platform, jobs: [], standbys: [], capacities: {} } }))
      .rejects.toThrow(/admitted job ns\/ghost is not in the catalog's az-a/);
  });
});

describe('comparePerfect', () => {
  it('puts the perfect schedule on the run\'s wall clock beside the engine and the bound', () => {
    const c = comparePerfect({ seconds: 1000, tiers: { P0: 0, P2: 1000 } }, { seconds: 800 }, 10, { wallSeconds: 130, tiers: [{ tier: 'P0', rtoSeconds: 2.5 }, { tier: 'P2', rtoSeconds: 125 }] });
    expect(c).toEqual({
      perfectSeconds: 100, enginePerPerfect: 1.3, perfectPerBound: 1.25,
      // A tier of promotions only ends at the trigger: no ratio to 0 s.
      tiers: [{ tier: 'P0', perfectSeconds: 0, enginePerPerfect: null }, { tier: 'P2', perfectSeconds: 100, enginePerPerfect: 1.25 }],
    });
  });

  it('has no engine ratios without a run, and no bound ratio for a bound of 0', () => {
    const c = comparePerfect({ seconds: 0, tiers: { P0: 0 } }, { seconds: 0 }, 1);
    expect(c).toEqual({ perfectSeconds: 0, enginePerPerfect: null, perfectPerBound: null, tiers: [{ tier: 'P0', perfectSeconds: 0, enginePerPerfect: null }] });
  });
});

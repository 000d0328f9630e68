import { describe, expect, it } from 'vitest';
import { lowerBound } from '../../bench/lower-bound.js';
import type { Plan, PlannedJob } from '../../domain/types.js';
import { jobKey } from '../../domain/types.js';
import { readSpec } from '../../domain/flink-spec.js';
import { LATENCY, startupSeconds } from '../../simulator/latency-model.js';
import { catalog, job, tiersPolicy } from './fixtures/fleet.js';

const jobs = [job('one'), job('two'), job('three', { stateSizeBytes: 50 * 1024 ** 3 }), job('hot', { tier: 'P0' })];
const cat = catalog(jobs);

function plan(admitted: Array<[string, PlannedJob['tier'], PlannedJob['strategy']]>): Plan {
  return {
    sourceAz: 'az-a', targetAz: 'az-b', catalogVersion: 1, notAdmitted: [], preemptions: [], findings: [], jars: [],
    capacityBefore: { cores: 0, memoryMiB: 0 }, capacityAfter: { cores: 0, memoryMiB: 0 },
    admitted: admitted.map(([name, tier, strategy]) => ({ key: `streaming/${name}`, name, namespace: 'streaming', tier, catalogTier: tier, strategy, cores: 2, memoryMiB: 4096, jarDigests: [] })),
  };
}

const duration = (name: string, window: number, preload = true): number => {
  const j = jobs.find((x) => x.name === name)!;
  return startupSeconds({
    key: jobKey(j), stateSizeBytes: j.stateSizeBytes, jarBytes: j.jars.reduce((n, x) => n + x.sizeBytes, 0), preloaded: preload,
    concurrentRepoDownloads: window, replicas: readSpec(j.deployment).taskManagerReplicas, restored: true, seed: 5, deployCount: 1,
  }).total;
};

describe('lowerBound', () => {
  const p = plan([['hot', 'P0', 'promote-standby'], ['one', 'P2', 'redeploy'], ['two', 'P2', 'redeploy'], ['three', 'P2', 'redeploy']]);

  it('with a window wide enough, the bound is the longest start-up after the promotions were dispatched', () => {
    const b = lowerBound({ plan: p, catalog: cat, policy: tiersPolicy(), preload: true, seed: 5 });
    expect(b.p0Seconds).toBe(LATENCY.promoteStandbySeconds);
    expect(b.seconds).toBeCloseTo(Math.max(duration('one', 3), duration('two', 3), duration('three', 3)), 6);
  });

  it('with a window of one, the jobs of a tier run one after another', () => {
    const policy = tiersPolicy({ tiers: { P2: { maxConcurrency: 1 } } });
    const b = lowerBound({ plan: p, catalog: cat, policy, preload: true, seed: 5 });
    expect(b.seconds).toBeCloseTo(duration('one', 1) + duration('two', 1) + duration('three', 1), 6);
  });

  it('without borrowing, a tier starts only after the previous one has finished', () => {
    const mixed = plan([['one', 'P1', 'redeploy'], ['two', 'P2', 'redeploy']]);
    const strict = lowerBound({ plan: mixed, catalog: cat, policy: tiersPolicy({ borrowIdleSlots: false }), preload: true, seed: 5 });
    const borrow = lowerBound({ plan: mixed, catalog: cat, policy: tiersPolicy({ borrowIdleSlots: true }), preload: true, seed: 5 });
    expect(strict.seconds).toBeCloseTo(duration('one', 1) + duration('two', 1), 6);
    expect(borrow.seconds).toBeCloseTo(Math.max(duration('one', 1), duration('two', 1)), 6);
  });

  it('without preloading, jar fetch from the busy repository makes the bound longer', () => {
    const on = lowerBound({ plan: p, catalog: cat, policy: tiersPolicy(), preload: true, seed: 5 });
    const off = lowerBound({ plan: p, catalog: cat, policy: tiersPolicy(), preload: false, seed: 5 });
    expect(off.seconds).toBeGreaterThan(on.seconds);
  });
});

/**
 * The steady-state load of continuous protection (domain/protection-load.ts), on hand-computed
 * fleets: which jobs need protection savepoints (layout, replication), savepoints per minute,
 * bytes written and shipped per cycle, and whether an AZ's savepoints-at-once keep up.
 */
import { describe, expect, it } from 'vitest';
import { protectionLoad, type LoadJob } from '../../domain/protection-load.js';
import type { PlatformProfile, Tier } from '../../domain/types.js';
import { PLATFORM } from './fixtures/sim-platform.js';

const GiB = 1024 ** 3;
const azs: PlatformProfile['azs'] = PLATFORM.azs; // az-a, az-b
const tiers = { P0: { rpoSeconds: 300 }, P1: { rpoSeconds: 900 }, P2: { rpoSeconds: 1800 }, P3: { rpoSeconds: 3600 } } as Record<Tier, { rpoSeconds: number }>;
const policy = { tiers: ['P1', 'P2'] as Tier[], refreshAtRpoFraction: 0.5, savepointsAtOncePerAz: 2 };
const rate = { baseSeconds: 5, bytesPerSecond: GiB / 10 }; // 10 s per GiB
const jobs: LoadJob[] = [
  { tier: 'P1', az: 'az-a', stateBytes: 10 * GiB },
  { tier: 'P2', az: 'az-a', stateBytes: 4 * GiB },
  { tier: 'P2', az: 'az-b', stateBytes: 2 * GiB },
  { tier: 'P3', az: 'az-a', stateBytes: 100 * GiB },
];

describe('protection load', () => {
  it('symmetric layout, every pair replicating: checkpoints keep every job fresh, protection takes no savepoint', () => {
    const load = protectionLoad(jobs, tiers, policy, { layout: 'symmetric', azs }, rate);
    expect(load.savepointsPerMinute).toBe(0);
    expect(load.tiers.map((t) => [t.tier, t.jobs, t.protectedJobs])).toEqual([['P1', 1, 0], ['P2', 2, 0]]);
  });

  it('per-az-buckets: one savepoint per job per refresh interval (half the RPO), state written, nothing shipped', () => {
    const load = protectionLoad(jobs, tiers, policy, { layout: 'per-az-buckets', azs }, rate);
    const [p1, p2] = load.tiers;
    expect(p1).toEqual({ tier: 'P1', jobs: 1, protectedJobs: 1, refreshSeconds: 450, savepointsPerMinute: 60 / 450, savepointBytesPerCycle: 10 * GiB, shippedBytesPerCycle: 0 });
    expect(p2).toMatchObject({ protectedJobs: 2, refreshSeconds: 900, savepointsPerMinute: 2 * (60 / 900), savepointBytesPerCycle: 6 * GiB });
    expect(load.savepointsPerMinute).toBeCloseTo(60 / 450 + 120 / 900, 10);
    expect(load.savepointBytesPerHour).toBeCloseTo(10 * GiB * 8 + 6 * GiB * 4, 0);
    expect(load.shippedBytesPerHour).toBe(0);
    // az-a: P1 takes 105 s every 450 s, its P2 45 s every 900 s: 0.2833 in flight on average.
    const a = load.azs.find((x) => x.az === 'az-a')!;
    expect(a.meanSavepointsInFlight).toBeCloseTo(105 / 450 + 45 / 900, 10);
    expect(a.keepsUp).toBe(true);
  });

  it('a pair that does not replicate: its jobs ship each savepoint there; an AZ whose savepoints outrun savepointsAtOnce does not keep up', () => {
    const load = protectionLoad(jobs, tiers, { ...policy, savepointsAtOncePerAz: 1 }, { layout: 'symmetric', azs, notReplicated: [{ from: 'az-a', to: 'az-b' }] }, { baseSeconds: 5, bytesPerSecond: GiB / 100 });
    expect(load.tiers.map((t) => [t.tier, t.protectedJobs, t.shippedBytesPerCycle])).toEqual([['P1', 1, 10 * GiB], ['P2', 1, 4 * GiB]]);
    expect(load.shippedBytesPerHour).toBeCloseTo(10 * GiB * 8 + 4 * GiB * 4, 0);
    // az-a: 1005 s every 450 s (P1) + 405 s every 900 s: about 2.7 in flight against 1 at once.
    expect(load.azs.find((x) => x.az === 'az-a')).toMatchObject({ keepsUp: false, savepointsAtOnce: 1 });
    expect(load.azs.find((x) => x.az === 'az-b')).toMatchObject({ savepointsPerMinute: 0, keepsUp: true });
  });

  it('refuses a job in an unknown AZ, bad state bytes and a zero rate, naming the value', () => {
    const p = { layout: 'symmetric' as const, azs };
    expect(() => protectionLoad([{ tier: 'P1', az: 'az-z', stateBytes: 1 }], tiers, policy, p, rate)).toThrow(/az-z/);
    expect(() => protectionLoad([{ tier: 'P1', az: 'az-a', stateBytes: -1 }], tiers, policy, p, rate)).toThrow(/-1/);
    expect(() => protectionLoad(jobs, tiers, policy, p, { baseSeconds: 0, bytesPerSecond: 0 })).toThrow(/bytesPerSecond > 0/);
  });
});

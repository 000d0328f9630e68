import { describe, expect, it } from 'vitest';
import { assessProtection, newestOwnSavepoint, protectionLanes, protectionShards, savepointFormatFor, savepointOrder, expiredShipments, overdueSeconds, replicates, type NewestSnapshot, type ProtectionInput } from '../../domain/protection.js';
import type { SnapshotCandidate } from '../../domain/types.js';

const NOW = 1_000_000;
const POLICY = { tiers: ['P1' as const, 'P2' as const], refreshAtRpoFraction: 0.5 };
const OFF = { notReplicated: [{ from: 'az-a', to: 'az-b' }] };
const ON = {};

function snap(ageSeconds: number, snapshotKind: 'checkpoint' | 'savepoint' = 'savepoint', path = `s3://state-b/sp/savepoint-aaaaaa-${ageSeconds.toString(16).padStart(12, '0')}`): NewestSnapshot {
  return { kind: 'snapshot', path, snapshotKind, completedAtEpochSeconds: NOW - ageSeconds };
}

function input(over: Partial<ProtectionInput> = {}): ProtectionInput {
  return { job: 'team/job-1', tier: 'P1', az: 'az-a', rpoSeconds: 900, otherAzs: { 'az-b': snap(100) }, ...over };
}

describe('assessProtection', () => {
  it('a job with a fresh restorable snapshot in the other AZ is protected, pays its age as RPO and needs nothing', () => {
    const p = assessProtection(input(), POLICY, OFF, NOW);
    expect(p).toMatchObject({ state: 'protected', rpoNowSeconds: 100, action: { kind: 'none' } });
    expect(p.azs).toEqual([{ az: 'az-b', newestPath: expect.stringContaining('savepoint-'), ageSeconds: 100, withinRpo: true }]);
    expect(p.reason).toBeUndefined();
  });

  it('past the refresh point but inside the RPO: still protected, and a savepoint is taken when the own AZ has none fresh', () => {
    const p = assessProtection(input({ otherAzs: { 'az-b': snap(600) } }), POLICY, OFF, NOW);
    expect(p.state).toBe('protected');
    expect(p.action).toEqual({ kind: 'savepoint', reason: expect.stringContaining('it has no savepoint in az-a') });
  });

  it('beyond the RPO: unprotected with the age, the RPO and the path in the reason', () => {
    const p = assessProtection(input({ otherAzs: { 'az-b': snap(1000) } }), POLICY, OFF, NOW);
    expect(p.state).toBe('unprotected');
    expect(p.rpoNowSeconds).toBe(1000);
    expect(p.reason).toMatch(/^az-b: newest restorable savepoint s3:\/\/state-b\/.* is 1000 s old, beyond the RPO of 900 s$/);
  });

  it('nothing restorable in the other AZ: unprotected, no RPO now, reason carried, and the last savepoint failure named with the operator reason', () => {
    const p = assessProtection(
      input({ otherAzs: { 'az-b': { kind: 'none', reason: 'no checkpoint or savepoint found' } }, lastFailure: { reason: 'SavepointError: timed out', atEpochSeconds: NOW - 42 } }),
      POLICY, OFF, NOW,
    );
    expect(p.state).toBe('unprotected');
    expect(p.rpoNowSeconds).toBeUndefined();
    expect(p.reason).toBe('az-b: no restorable snapshot: no checkpoint or savepoint found; last savepoint failed 42 s ago: SavepointError: timed out');
    expect(overdueSeconds(p, 0.5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a fresh savepoint in the own AZ is shipped to an AZ that does not replicate, and awaited where the store replicates', () => {
    const source = { path: 's3://state-a/sp/savepoint-aaaaaa-000000000001', completedAtEpochSeconds: NOW - 30 };
    const off = assessProtection(input({ otherAzs: { 'az-b': snap(700) }, sourceSavepoint: source }), POLICY, OFF, NOW);
    expect(off.action).toEqual({ kind: 'ship', path: source.path, toAzs: ['az-b'], reason: expect.stringContaining('do') });
    const on = assessProtection(input({ otherAzs: { 'az-b': snap(700) }, sourceSavepoint: source }), POLICY, ON, NOW);
    expect(on.action).toEqual({ kind: 'none' });
  });

  it('an own savepoint past the refresh point is not shipped: a new one is taken', () => {
    const source = { path: 's3://state-a/sp/savepoint-aaaaaa-000000000001', completedAtEpochSeconds: NOW - 500 };
    const p = assessProtection(input({ otherAzs: { 'az-b': snap(700) }, sourceSavepoint: source }), POLICY, OFF, NOW);
    expect(p.action).toMatchObject({ kind: 'savepoint', reason: expect.stringContaining('its newest savepoint in az-a is 500 s old') });
  });

  it('with several other AZs the RPO now is the worst one, and only the due unreplicated AZs get the copy', () => {
    const source = { path: 's3://state-a/sp/savepoint-aaaaaa-000000000001', completedAtEpochSeconds: NOW - 10 };
    const p = assessProtection(
      input({ otherAzs: { 'az-c': snap(800), 'az-b': snap(50) }, sourceSavepoint: source }),
      POLICY, { notReplicated: [{ from: 'az-a', to: 'az-b' }, { from: 'az-a', to: 'az-c' }] }, NOW,
    );
    expect(p.azs.map((a) => a.az)).toEqual(['az-b', 'az-c']);
    expect(p.rpoNowSeconds).toBe(800);
    expect(p.action).toMatchObject({ kind: 'ship', toAzs: ['az-c'] });
  });

  it('a store that did not answer makes the job unprotected with why, and is never a ship target', () => {
    const source = { path: 's3://state-a/sp/savepoint-aaaaaa-000000000001', completedAtEpochSeconds: NOW - 10 };
    const p = assessProtection(input({ otherAzs: { 'az-b': { kind: 'unknown', reason: 'connect ECONNREFUSED' } }, sourceSavepoint: source }), POLICY, OFF, NOW);
    expect(p).toMatchObject({ state: 'unprotected', reason: 'az-b: store did not answer: connect ECONNREFUSED', action: { kind: 'none' } });
  });

  it('a tier outside the policy is not-required and never acted on, yet its RPO now is reported', () => {
    const p = assessProtection(input({ tier: 'P3', otherAzs: { 'az-b': snap(5000) } }), POLICY, OFF, NOW);
    expect(p).toMatchObject({ state: 'not-required', rpoNowSeconds: 5000, action: { kind: 'none' } });
  });

  it('rejects bad input naming the value and the fix', () => {
    expect(() => assessProtection(input({ rpoSeconds: 0 }), POLICY, OFF, NOW)).toThrow(/rpoSeconds must be > 0, got 0\. Fix: set tiers\.P1\.rpoSeconds/);
    expect(() => assessProtection(input({ otherAzs: {} }), POLICY, OFF, NOW)).toThrow(/otherAzs must name at least one AZ other than its own \(az-a\), got \[\]/);
    expect(() => assessProtection(input({ otherAzs: { 'az-a': snap(1) } }), POLICY, OFF, NOW)).toThrow(/got \[az-a\]/);
  });
});

describe('replicates', () => {
  it('is directed: a pair listed from a to b says nothing about b to a', () => {
    expect(replicates(OFF, 'az-a', 'az-b')).toBe(false);
    expect(replicates(OFF, 'az-b', 'az-a')).toBe(true);
    expect(replicates({}, 'az-a', 'az-b')).toBe(true);
  });
});

describe('savepointOrder', () => {
  it('takes the most overdue first, the higher tier on a tie, then by job key', () => {
    const due = [
      { job: 'n/a1', az: 'az-a', tier: 'P2' as const, overdueSeconds: 10 },
      { job: 'n/a2', az: 'az-a', tier: 'P1' as const, overdueSeconds: 10 },
      { job: 'n/a3', az: 'az-a', tier: 'P2' as const, overdueSeconds: Number.POSITIVE_INFINITY },
      { job: 'n/b0', az: 'az-b', tier: 'P2' as const, overdueSeconds: 10 },
      { job: 'n/b2', az: 'az-b', tier: 'P2' as const, overdueSeconds: 2 },
    ];
    expect(savepointOrder(due).map((d) => d.job)).toEqual(['n/a3', 'n/a2', 'n/a1', 'n/b0', 'n/b2']);
  });
});

describe('savepointFormatFor', () => {
  it('gives native from Flink 1.15 on, canonical before, for an unknown version, or when canonical is asked', () => {
    expect(savepointFormatFor('v1_15', 'native')).toBe('native');
    expect(savepointFormatFor('v2_1', 'native')).toBe('native');
    expect(savepointFormatFor('v1_14', 'native')).toBe('canonical');
    expect(savepointFormatFor(undefined, 'native')).toBe('canonical');
    expect(savepointFormatFor('v1_20', 'canonical')).toBe('canonical');
  });
});

describe('expiredShipments', () => {
  const s = (age: number): { path: string; completedAtEpochSeconds: number } => ({ path: `s3://b/sp/savepoint-aaaaaa-${String(age).padStart(12, '0')}`, completedAtEpochSeconds: NOW - age });

  it('expires all but the newest keepPerJob, never the newest restorable one nor one still needed', () => {
    const shipped = [s(300), s(100), s(200), s(400), s(500)];
    expect(expiredShipments(shipped, 2, undefined, new Set()).map((x) => x.completedAtEpochSeconds)).toEqual([NOW - 300, NOW - 400, NOW - 500]);
    expect(expiredShipments(shipped, 2, s(400).path, new Set([s(500).path])).map((x) => x.path)).toEqual([s(300).path]);
    expect(() => expiredShipments(shipped, 0, undefined, new Set())).toThrow(/keepPerJob must be an integer ≥ 1, got 0/);
  });
});

describe('refused copies in the unprotected reason', () => {
  it("a copy the store refused in the last pass is named with the store's reason, as a failed savepoint is", () => {
    const refused = 'team/job-1: ship s3://state-a/sp/savepoint-aaaaaa-000000000001 to az-b: forbidden: AccessDenied on PutObject';
    const p = assessProtection(input({ otherAzs: { 'az-b': { kind: 'none', reason: 'no checkpoint or savepoint found' } }, lastFailure: { step: 'ship', reason: refused, atEpochSeconds: NOW - 30 } }), POLICY, OFF, NOW);
    expect(p.reason).toBe(`az-b: no restorable snapshot: no checkpoint or savepoint found; last copy failed 30 s ago: ${refused}`);
    const sp = assessProtection(input({ otherAzs: { 'az-b': snap(1000) }, lastFailure: { step: 'savepoint', reason: 'disk full', atEpochSeconds: NOW - 5 } }), POLICY, OFF, NOW);
    expect(sp.reason).toMatch(/; last savepoint failed 5 s ago: disk full$/);
  });
});

describe('newestOwnSavepoint', () => {
  const c = (path: string, at: number, over: Partial<SnapshotCandidate> = {}): SnapshotCandidate => ({ kind: 'savepoint', path, completedAtEpochSeconds: at, hasMetadata: true, ...over });
  it("the job's newest complete savepoint of its own, whatever the listing order: not a checkpoint, not an incomplete one, not a copy shipped in", () => {
    const listed = [
      c('s3://a/sp/savepoint-aaaaaa-000000000001', 100),
      c('s3://a/sp/savepoint-aaaaaa-000000000004', 400, { hasMetadata: false }),
      c('s3://a/chk/chk-9', 500, { kind: 'checkpoint' }),
      c('s3://a/sp/savepoint-aaaaaa-000000000003', 450, { shippedFrom: 's3://b/sp/savepoint-aaaaaa-000000000003' }),
      c('s3://a/sp/savepoint-aaaaaa-000000000002', 200),
    ];
    expect(newestOwnSavepoint(listed)).toEqual({ path: 's3://a/sp/savepoint-aaaaaa-000000000002', completedAtEpochSeconds: 200 });
    // Retention replaced the savepoint a pass saw with a newer one: the newer one is chosen.
    expect(newestOwnSavepoint([c('s3://a/sp/savepoint-aaaaaa-000000000009', 900), ...listed.slice(1)])).toEqual({ path: 's3://a/sp/savepoint-aaaaaa-000000000009', completedAtEpochSeconds: 900 });
    expect(newestOwnSavepoint(listed.slice(1, 4))).toBeUndefined();
  });
});

describe('protection shards and lanes', () => {
  it('shards hold at most 50 jobs of one AZ and one tier, every job exactly once, AZ by AZ in platform order, P0 first', () => {
    const tiers = ['P2', 'P1', 'P3', 'P0'] as const;
    const jobs = Array.from({ length: 1234 }, (_, i) => ({ az: i % 3 === 0 ? 'az-b' : 'az-a', tier: tiers[i % 7 % 4]! }));
    const shards = protectionShards(jobs, ['az-a', 'az-b']);
    expect(shards.every((s) => s.indices.length >= 1 && s.indices.length <= 50)).toBe(true);
    expect(shards.flatMap((s) => s.indices).sort((a, b) => a - b)).toEqual(jobs.map((_, i) => i));
    for (const s of shards) for (const i of s.indices) expect(jobs[i]).toEqual({ az: s.az, tier: s.tier });
    expect(shards.map((s) => `${s.az} ${s.tier}`).filter((x, i, all) => all[i - 1] !== x)).toEqual(['az-a', 'az-b'].flatMap((az) => ['P0', 'P1', 'P2', 'P3'].map((t) => `${az} ${t}`)));
    // Fewer shards than 50 per shard would need, none more: ceil(jobs of the group / 50) per group.
    const group = jobs.filter((j) => j.az === 'az-a' && j.tier === 'P2').length;
    expect(shards.filter((s) => s.az === 'az-a' && s.tier === 'P2')).toHaveLength(Math.ceil(group / 50));
    // A job in an AZ the platform does not list is still sharded, after the listed ones.
    expect(protectionShards([{ az: 'az-z', tier: 'P1' }, { az: 'az-a', tier: 'P1' }], ['az-a']).map((s) => s.az)).toEqual(['az-a', 'az-z']);
  });

  it("lanes share an AZ's savepointsAtOncePerAz exactly, each at least one savepoint, never more lanes than shards", () => {
    expect(protectionLanes(2, 50)).toEqual([1, 1]);
    expect(protectionLanes(7, 3)).toEqual([3, 2, 2]);
    expect(protectionLanes(5, 1)).toEqual([5]);
    expect(protectionLanes(3, 0)).toEqual([]);
    for (const [n, s] of [[1, 9], [10, 4], [100, 100]] as const) {
      const lanes = protectionLanes(n, s);
      expect(lanes.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.min(...lanes)).toBeGreaterThanOrEqual(1);
    }
    expect(() => protectionLanes(0, 4)).toThrow(/savepointsAtOncePerAz must be an integer ≥ 1, got 0\. Fix: set protection\.savepointsAtOncePerAz/);
  });
});

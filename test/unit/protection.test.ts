import { describe, expect, it } from 'vitest';
import { assessProtection, savepointFormatFor, savepointOrder, expiredShipments, overdueSeconds, replicates, type NewestSnapshot, type ProtectionInput } from '../../domain/protection.js';

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

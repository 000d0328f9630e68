import { describe, expect, it } from 'vitest';
import { chooseSnapshot, newestComplete } from '../../domain/snapshot-choice.js';
import { snapshot } from './fixtures/fleet.js';

const now = 1_800_000_000;
const symmetric = { layout: 'symmetric' as const, rpoSeconds: 600, nowEpochSeconds: now };
const perAz = { ...symmetric, layout: 'per-az-buckets' as const };

describe('chooseSnapshot', () => {
  it('skips the newest snapshot without _metadata and chooses the older complete one', () => {
    const incomplete = snapshot('checkpoint', now - 30, { hasMetadata: false });
    const older = snapshot('checkpoint', now - 90);
    const choice = chooseSnapshot([older, incomplete], symmetric);
    expect(choice.kind).toBe('snapshot');
    if (choice.kind !== 'snapshot') return;
    expect(choice.snapshot).toBe(older);
    expect(choice.ageSeconds).toBe(90);
    expect(choice.skipped).toEqual([{ path: incomplete.path, reason: expect.stringContaining('_metadata') }]);
  });

  it('skips a snapshot whose _metadata arrived before its referenced files (replication lag)', () => {
    const lagging = snapshot('savepoint', now - 10, { referencedFilesPresent: false });
    const older = snapshot('savepoint', now - 200);
    const choice = chooseSnapshot([lagging, older], symmetric);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(older);
    expect(choice.skipped.map((s) => s.path)).toEqual([lagging.path]);
    expect(choice.skipped[0]!.reason).toMatch(/replication lag/);
  });

  it('passes over a snapshot whose _metadata has a problem (unreadable or not relocatable), with that reason', () => {
    const problem = 's3://b/chk-9/_metadata: Flink _metadata format version 9 is not supported';
    const bad = snapshot('checkpoint', now - 10, { problem });
    const older = snapshot('checkpoint', now - 100);
    const choice = chooseSnapshot([bad, older], symmetric);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(older);
    expect(choice.skipped).toEqual([{ path: bad.path, reason: problem }]);
    expect(newestComplete([bad, older], () => true)).toBe(older);
  });

  it('chooses nothing when the newest restorable snapshot is older than the RPO, naming its age', () => {
    const old = snapshot('checkpoint', now - 1200);
    const older = snapshot('savepoint', now - 5000);
    const choice = chooseSnapshot([older, old], symmetric);
    expect(choice.kind).toBe('none');
    if (choice.kind !== 'none') return;
    expect(choice.reason).toContain('1200 s');
    expect(choice.reason).toContain('600 s');
    expect(choice.reason).toContain(old.path);
    expect(choice.skipped.map((s) => s.path)).toEqual([old.path, older.path]);
  });

  it('accepts a snapshot exactly at the RPO boundary', () => {
    const edge = snapshot('savepoint', now - 600);
    expect(chooseSnapshot([edge], symmetric).kind).toBe('snapshot');
  });

  it('refuses checkpoints under per-az-buckets and takes an older savepoint', () => {
    const chk = snapshot('checkpoint', now - 20);
    const sp = snapshot('savepoint', now - 300);
    const choice = chooseSnapshot([chk, sp], perAz);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(sp);
    expect(choice.skipped).toEqual([{ path: chk.path, reason: expect.stringMatching(/per-az-buckets/) }]);
  });

  it('accepts the newest checkpoint under the symmetric layout even when a savepoint exists (least data loss)', () => {
    const chk = snapshot('checkpoint', now - 20);
    const sp = snapshot('savepoint', now - 300);
    const choice = chooseSnapshot([sp, chk], symmetric);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(chk);
    expect(choice.skipped).toEqual([]);
  });

  it('prefers the savepoint on a tie', () => {
    const chk = snapshot('checkpoint', now - 60);
    const sp = snapshot('savepoint', now - 60);
    expect(chooseSnapshot([chk, sp], symmetric)).toMatchObject({ kind: 'snapshot', snapshot: sp });
  });

  it('says none exist when the replica is empty, and explains when none is restorable', () => {
    const empty = chooseSnapshot([], symmetric);
    expect(empty).toMatchObject({ kind: 'none', skipped: [] });
    expect(empty.kind === 'none' && empty.reason).toMatch(/no checkpoint or savepoint/);
    const onlyCheckpoints = chooseSnapshot([snapshot('checkpoint', now - 5), snapshot('checkpoint', now - 50)], perAz);
    expect(onlyCheckpoints.kind).toBe('none');
    expect(onlyCheckpoints.skipped).toHaveLength(2);
  });

  it('rejects a bad RPO with the option name', () => {
    expect(() => chooseSnapshot([], { ...symmetric, rpoSeconds: -1 })).toThrow(/rpoSeconds/);
  });
});

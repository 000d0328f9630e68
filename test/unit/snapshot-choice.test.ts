import { describe, expect, it } from 'vitest';
import { chooseSnapshot, type SnapshotQuery } from '../../domain/snapshot-choice.js';
import { MAX_JOB_IDS, mergeJobIds, ownerListingPrefixes, ownerProblem, snapshotOwner } from '../../domain/snapshot-owner.js';
import type { SnapshotCandidate, SnapshotEntry } from '../../domain/types.js';
import { job as fleetJob, snapshot } from './fixtures/fleet.js';

const now = 1_800_000_000;
const symmetric: SnapshotQuery = { layout: 'symmetric', rpoSeconds: 600, nowEpochSeconds: now };
const perAz: SnapshotQuery = { ...symmetric, layout: 'per-az-buckets' };

/**
 * Choose over `entries` as an adapter would: candidates are what listing knows (no file
 * checked), `check` hands out the full entry and records which paths were checked.
 */
async function choose(entries: SnapshotEntry[], query: SnapshotQuery) {
  const checked: string[] = [];
  const candidates: SnapshotCandidate[] = entries.map(({ kind, path, completedAtEpochSeconds, hasMetadata }) => ({ kind, path, completedAtEpochSeconds, hasMetadata }));
  const choice = await chooseSnapshot(candidates, query, async (c) => {
    checked.push(c.path);
    return entries.find((e) => e.path === c.path)!;
  });
  return { choice, checked };
}

describe('chooseSnapshot: newest first, stopping at the first complete one', () => {
  it('skips the newest snapshot without _metadata unchecked and chooses the older complete one, checking nothing older', async () => {
    const incomplete = snapshot('checkpoint', now - 30, { hasMetadata: false });
    const older = snapshot('checkpoint', now - 90);
    const oldest = snapshot('savepoint', now - 300);
    const { choice, checked } = await choose([oldest, older, incomplete], symmetric);
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: older, ageSeconds: 90 });
    expect(choice.skipped).toEqual([{ path: incomplete.path, reason: expect.stringContaining('_metadata') }]);
    expect(checked).toEqual([older.path]);
  });

  it('skips a snapshot whose _metadata arrived before one of its files, naming the missing file', async () => {
    const first = 's3://flink-state/checkpoints/streaming/job/0f1e2d3c/shared/5c39f865';
    const lagging = snapshot('checkpoint', now - 10, { referencedFilesPresent: false, missing: { count: 1, first } });
    const older = snapshot('savepoint', now - 200);
    const { choice, checked } = await choose([lagging, older], symmetric);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(older);
    expect(choice.skipped).toEqual([{ path: lagging.path, reason: `replication lag: _metadata is present but 1 file(s) it references is not in this replica, first ${first}` }]);
    expect(checked).toEqual([lagging.path, older.path]);
  });

  it('fails with the newest one\'s reason, naming the missing file, when none is complete', async () => {
    const first = 's3://flink-state/checkpoints/streaming/job/0f1e2d3c/shared/a7b80fa5';
    const a = snapshot('checkpoint', now - 10, { referencedFilesPresent: false, missing: { count: 2, first } });
    const b = snapshot('checkpoint', now - 70, { referencedFilesPresent: false, missing: { count: 1, first: `${first}-b` } });
    const { choice } = await choose([a, b], symmetric);
    expect(choice.kind).toBe('none');
    expect(choice.kind === 'none' && choice.reason).toBe(
      `none of the 2 snapshot(s) in the target AZ replica is complete and restorable; newest ${a.path}: ` +
        `replication lag: _metadata is present but 2 file(s) it references are not in this replica, first ${first}`,
    );
    expect(choice.skipped.map((s) => s.path)).toEqual([a.path, b.path]);
  });

  it('passes over a snapshot whose _metadata has a problem (unknown format version), with that reason, never retried', async () => {
    const problem = 's3://b/chk-9/_metadata: Flink _metadata format version 9 is not supported';
    const bad = snapshot('checkpoint', now - 10, { problem, referencedFilesPresent: false });
    const older = snapshot('checkpoint', now - 100);
    const { choice, checked } = await choose([bad, older], symmetric);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(older);
    expect(choice.skipped).toEqual([{ path: bad.path, reason: problem }]);
    expect(checked).toEqual([bad.path, older.path]);
  });

  it('chooses nothing when the newest restorable snapshot is older than the RPO, naming its age, and checks nothing beyond the RPO', async () => {
    const old = snapshot('checkpoint', now - 1200);
    const older = snapshot('savepoint', now - 5000);
    const { choice, checked } = await choose([older, old], symmetric);
    expect(choice.kind).toBe('none');
    if (choice.kind !== 'none') return;
    expect(choice.reason).toContain('1200 s');
    expect(choice.reason).toContain('600 s');
    expect(choice.reason).toContain(old.path);
    expect(choice.skipped.map((s) => s.path)).toEqual([old.path, older.path]);
    expect(checked).toEqual([]);
  });

  it('accepts a snapshot exactly at the RPO boundary, and any age without an RPO', async () => {
    const edge = snapshot('savepoint', now - 600);
    expect((await choose([edge], symmetric)).choice.kind).toBe('snapshot');
    const ancient = snapshot('savepoint', now - 10 * 86_400);
    expect((await choose([ancient], { nowEpochSeconds: now })).choice).toMatchObject({ kind: 'snapshot', snapshot: ancient });
  });

  it('refuses checkpoints under per-az-buckets without reading them and takes an older savepoint', async () => {
    const chk = snapshot('checkpoint', now - 20);
    const sp = snapshot('savepoint', now - 300);
    const { choice, checked } = await choose([chk, sp], perAz);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(sp);
    expect(choice.skipped).toEqual([{ path: chk.path, reason: expect.stringMatching(/per-az-buckets/) }]);
    expect(checked).toEqual([sp.path]);
  });

  it('without a layout (a restore in the AZ that wrote it) takes the checkpoint', async () => {
    const chk = snapshot('checkpoint', now - 20);
    expect((await choose([chk], { nowEpochSeconds: now })).choice).toMatchObject({ kind: 'snapshot', snapshot: chk });
  });

  it('accepts the newest checkpoint under the symmetric layout even when a savepoint exists (least data loss)', async () => {
    const chk = snapshot('checkpoint', now - 20);
    const sp = snapshot('savepoint', now - 300);
    const { choice, checked } = await choose([sp, chk], symmetric);
    expect(choice.kind === 'snapshot' && choice.snapshot).toBe(chk);
    expect(choice.skipped).toEqual([]);
    expect(checked).toEqual([chk.path]);
  });

  it('prefers the savepoint on a tie, and the higher checkpoint number between checkpoints of one second', async () => {
    const chk = snapshot('checkpoint', now - 60);
    const sp = snapshot('savepoint', now - 60);
    expect((await choose([chk, sp], symmetric)).choice).toMatchObject({ kind: 'snapshot', snapshot: sp });
    const chk9 = { ...chk, path: chk.path.replace(/chk-\d+$/, 'chk-9') };
    const chk10 = { ...chk, path: chk.path.replace(/chk-\d+$/, 'chk-10') };
    expect((await choose([chk9, chk10], symmetric)).choice).toMatchObject({ kind: 'snapshot', snapshot: chk10 });
  });

  it('keeps to the kind and the directories asked for, compared by key across bucket names', async () => {
    const chk = snapshot('checkpoint', now - 20);
    const sp = snapshot('savepoint', now - 300);
    expect((await choose([chk, sp], { ...symmetric, kind: 'savepoint' })).choice).toMatchObject({ kind: 'snapshot', snapshot: sp });
    const inOtherBucket = sp.path.replace('s3://flink-state/', 's3://flink-state-az-a/');
    const { choice, checked } = await choose([chk, sp], { ...symmetric, dirKeys: [inOtherBucket] });
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: sp });
    expect(checked).toEqual([sp.path]);
    const none = (await choose([chk], { ...symmetric, kind: 'savepoint' })).choice;
    expect(none.kind === 'none' && none.reason).toBe('no savepoint found in the target AZ replica');
  });

  it('says none exist when the replica is empty, and explains when none is restorable', async () => {
    const empty = (await choose([], symmetric)).choice;
    expect(empty).toMatchObject({ kind: 'none', skipped: [] });
    expect(empty.kind === 'none' && empty.reason).toMatch(/no checkpoint or savepoint/);
    const onlyCheckpoints = (await choose([snapshot('checkpoint', now - 5), snapshot('checkpoint', now - 50)], perAz)).choice;
    expect(onlyCheckpoints.kind).toBe('none');
    expect(onlyCheckpoints.skipped).toHaveLength(2);
  });

  it('rejects a bad RPO with the option name', async () => {
    await expect(choose([], { ...symmetric, rpoSeconds: -1 })).rejects.toThrow(/rpoSeconds/);
  });
});

describe('snapshot owner: only the job ids the job has had', () => {
  const a = 'a'.repeat(32);
  const b = 'b'.repeat(32);

  it('merges job ids newest first, without duplicates, bounded', () => {
    expect(mergeJobIds([b, undefined], [a, b])).toEqual([b, a]);
    const many = Array.from({ length: MAX_JOB_IDS + 3 }, (_, i) => i.toString(16).padStart(32, '0'));
    expect(mergeJobIds([many[0]], many.slice(1))).toEqual(many.slice(0, MAX_JOB_IDS));
    expect(() => mergeJobIds(['not-a-job-id'])).toThrow(/"not-a-job-id" is not a Flink JobID/);
  });

  it("lists one checkpoint prefix per job id and one savepoint prefix per 6-hex tag, never the bare prefix", () => {
    const owner = { checkpointPrefix: 'checkpoints/ns/job', savepointPrefix: 'savepoints/ns/job', jobIds: [a, `${'a'.repeat(6)}${'c'.repeat(26)}`, b] };
    expect(ownerListingPrefixes(owner)).toEqual({
      checkpoints: [`checkpoints/ns/job/${a}/chk-`, `checkpoints/ns/job/${'a'.repeat(6)}${'c'.repeat(26)}/chk-`, `checkpoints/ns/job/${b}/chk-`],
      savepoints: ['savepoints/ns/job/savepoint-aaaaaa-', 'savepoints/ns/job/savepoint-bbbbbb-'],
    });
  });

  it('an owner without a job id, or with its entropy key in its snapshot path, is refused with the fix', () => {
    const job = { ...fleetJob('enricher'), checkpointPrefix: 'checkpoints/ns/job', savepointPrefix: 'savepoints/ns/job' };
    expect(ownerProblem(snapshotOwner({ ...job, jobIds: [] }))).toMatch(/no Flink job id known.*Fix: sync the catalog while the job runs/);
    const owner = snapshotOwner({ ...job, jobIds: [a] }, b);
    expect(owner.jobIds).toEqual([b, a]);
    expect(ownerProblem(owner)).toBeUndefined();
    const entropy = snapshotOwner({
      ...job, jobIds: [a], checkpointPrefix: '_entropy_/checkpoints/ns/job',
      deployment: { ...job.deployment, spec: { ...job.deployment.spec, flinkConfiguration: { 's3.entropy.key': '_entropy_' } } },
    });
    expect(ownerProblem(entropy)).toMatch(/not relocatable: .*_entropy_\/checkpoints\/ns\/job contains its entropy key s3.entropy.key="_entropy_".*drop s3.entropy.key/);
  });
});

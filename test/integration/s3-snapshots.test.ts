/**
 * Snapshot lookups against real S3 servers (versitygw, one per AZ) holding buckets laid out
 * as Flink lays them out (domain/snapshot-layout.ts): the S3 adapter lists only the job's own
 * job ids' directories and domain/snapshot-choice.ts checks them newest first, stopping at the
 * first complete one. The snapshots made by real Flink (test/fixtures/flink/, and a fresh run
 * of scripts/flink-fixtures.sh when AZ_EVAC_FLINK_FIXTURES_DIR names it) are put into the
 * bucket with their `_metadata` relocated to it; the rest are written with the simulator's
 * Flink-format writer. A snapshot's time is its `_metadata` object's last-modified time
 * (whole seconds here), so snapshots whose order matters are written in different seconds.
 * Runs with the SDK's WHEN_REQUIRED checksums (the preload suite runs with the SDK defaults).
 * Under 503 SlowDown throttling (a fault proxy in front of versitygw) the lookup retries and
 * chooses the same snapshot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotQuery } from '../../domain/snapshot-choice.js';
import { checkpointDirKey, savepointDirKey } from '../../domain/snapshot-layout.js';
import type { SnapshotOwner } from '../../domain/snapshot-owner.js';
import type { SnapshotChoice } from '../../domain/types.js';
import { writeFlinkMetadata } from '../../simulator/flink-metadata.js';
import { seededUniform } from '../../simulator/random.js';
import { allFixtures, filesUnder, fixtureSnapshots, relocateMetadata, writtenPrefix, type Fixture, type FixtureSnapshot } from '../unit/fixtures/flink.js';
import { createBuckets, putObject, testClients, testProfile, testStore, uniqueBucket, S3_SLOW_DOWN, type LoggedRequest } from '../setup/s3.js';
import { startFaultProxy } from '../setup/fault-proxy.js';

const JOB_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
/** A hot standby's job id: same prefixes as its primary, its own job id. */
const STANDBY_ID = '5eadbeef00112233445566778899aabb';
const OPERATOR = '0123456789abcdef0123456789abcdef';
const job: SnapshotOwner = { checkpointPrefix: 'checkpoints/payments/enricher', savepointPrefix: 'savepoints/payments/enricher', jobIds: [JOB_ID] };

/**
 * Resolves once the wall clock is 50 ms into a later second than when called: S3 times have
 * whole seconds, and the server's file times come from the kernel's coarse clock, which may
 * trail the wall clock by a few milliseconds.
 */
async function nextSecond(): Promise<void> {
  const next = (Math.floor(Date.now() / 1000) + 1) * 1000 + 50;
  while (Date.now() < next) await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, next - Date.now()))));
}

/** Writes Flink's layout (the simulator's Flink-format `_metadata`) for `owner`'s first job id into one bucket. */
function layout(client: S3Client, bucket: string, owner: SnapshotOwner = job) {
  const jobId = owner.jobIds[0]!;
  return {
    /** chk-<n>: private file, shared file, then `_metadata` (absolute shared ref) unless `metadata: false`; `dropShared` leaves the shared file out (replication lag). */
    async checkpoint(n: number, o: { metadata?: boolean; dropShared?: boolean; refBucket?: string } = {}): Promise<string> {
      const dir = checkpointDirKey(owner.checkpointPrefix, jobId, n);
      const shared = `${owner.checkpointPrefix}/${jobId}/shared/shared-${n}`;
      await putObject(client, bucket, `${dir}/private-${n}`, 'p');
      if (!o.dropShared) await putObject(client, bucket, shared, 's');
      if (o.metadata !== false) {
        const files = [{ ref: `private-${n}`, sizeBytes: 1 }, { ref: `s3://${o.refBucket ?? bucket}/${shared}`, sizeBytes: 1, shared: true }];
        await putObject(client, bucket, `${dir}/_metadata`, writeFlinkMetadata({ kind: 'checkpoint', checkpointId: n, operatorId: OPERATOR, files }));
      }
      return `s3://${bucket}/${dir}`;
    },
    /** A savepoint with one relative data file. */
    async savepoint(suffix12hex: string): Promise<string> {
      const dir = savepointDirKey(owner.savepointPrefix, jobId, suffix12hex);
      await putObject(client, bucket, `${dir}/data-1`, 'd');
      await putObject(client, bucket, `${dir}/_metadata`, writeFlinkMetadata({ kind: 'savepoint', checkpointId: 1, operatorId: OPERATOR, files: [{ ref: 'data-1', sizeBytes: 1 }] }));
      return `s3://${bucket}/${dir}`;
    },
  };
}

/** The keys a logged request touched: its Key or Prefix. */
function touched(log: LoggedRequest[]): string[] {
  return log.map((r) => String(r.input.Key ?? r.input.Prefix ?? ''));
}

describe('snapshot lookup over S3 (versitygw)', () => {
  const clients = testClients({ checksums: 'when-required' });
  afterAll(() => clients.destroy());

  describe('symmetric layout: same bucket name in both AZs, replica in az-b', () => {
    const bucket = uniqueBucket('flink-state');
    const store = testStore(clients, [testProfile('az-b', bucket, 'unused-artifacts')]);
    const paths: Record<string, string> = {};
    let now = 0;
    const query = (rpoSeconds = 3600): SnapshotQuery => ({ layout: 'symmetric', rpoSeconds, nowEpochSeconds: now });

    beforeAll(async () => {
      const b = clients.client(testProfile('az-b', bucket, '').s3Endpoint);
      await createBuckets(b, bucket);
      const l = layout(b, bucket);
      paths.old = await l.savepoint('00000000000a');
      await nextSecond();
      paths.sp = await l.savepoint('00000000000b');
      await nextSecond();
      paths.chk10 = await l.checkpoint(10);
      await nextSecond();
      paths.chk11 = await l.checkpoint(11);
      await nextSecond();
      paths.chk12 = await l.checkpoint(12, { dropShared: true });
      await nextSecond();
      paths.chk13 = await l.checkpoint(13, { metadata: false });
      now = Math.floor(Date.now() / 1000) + 1;
    });

    it('lists every snapshot directory of the job id newest first, none checked', async () => {
      const candidates = await store.listSnapshots('az-b', job);
      expect(candidates.map((e) => e.path)).toEqual([paths.chk13, paths.chk12, paths.chk11, paths.chk10, paths.sp, paths.old]);
      expect(candidates[0]).toMatchObject({ kind: 'checkpoint', hasMetadata: false });
      expect(candidates[1]).toEqual({ kind: 'checkpoint', path: paths.chk12, hasMetadata: true, completedAtEpochSeconds: expect.any(Number) });
    });

    it('skips the incomplete newest checkpoint and the one missing its shared file (named), accepts the older checkpoint, reads nothing older', async () => {
      const log: LoggedRequest[] = [];
      const logged = testClients({ checksums: 'when-required', log });
      const choice = await testStore(logged, [testProfile('az-b', bucket, '')]).findSnapshot('az-b', job, query());
      logged.destroy();
      expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.chk11, kind: 'checkpoint', referencedFilesPresent: true } });
      expect(choice.skipped).toEqual([
        { path: paths.chk13, reason: expect.stringMatching(/^incomplete: no _metadata/) },
        { path: paths.chk12, reason: `replication lag: _metadata is present but 1 file(s) it references is not in this replica, first s3://${bucket}/${job.checkpointPrefix}/${JOB_ID}/shared/shared-12` },
      ]);
      // Newest first: chk-12 and chk-11 read, chk-10 and the savepoints never.
      const reads = log.filter((r) => r.command === 'GetObjectCommand').map((r) => r.input.Key);
      expect(reads.sort()).toEqual([`${checkpointDirKey(job.checkpointPrefix, JOB_ID, 11)}/_metadata`, `${checkpointDirKey(job.checkpointPrefix, JOB_ID, 12)}/_metadata`]);
      expect(touched(log).filter((k) => k.includes('chk-10/') && !k.endsWith('_metadata'))).toEqual([]);
    });

    it('RPO exceeded: nothing chosen, nothing read, and the reason names the age against the RPO (the tier policy decides)', async () => {
      const chk12 = (await store.listSnapshots('az-b', job)).find((c) => c.path === paths.chk12)!;
      now = chk12.completedAtEpochSeconds + 90;
      const log: LoggedRequest[] = [];
      const logged = testClients({ checksums: 'when-required', log });
      const choice = await testStore(logged, [testProfile('az-b', bucket, '')]).findSnapshot('az-b', job, query(60));
      logged.destroy();
      expect(choice.kind).toBe('none');
      if (choice.kind === 'none') expect(choice.reason).toBe(`newest checkpoint with _metadata ${paths.chk12} is 90 s old, beyond the RPO of 60 s`);
      expect(log.filter((r) => r.command === 'GetObjectCommand')).toEqual([]);
      now = Math.floor(Date.now() / 1000) + 1;
    });

    it('a job with no snapshots, a bucket that does not exist, or no known job id lists nothing', async () => {
      expect(await store.listSnapshots('az-b', { ...job, checkpointPrefix: 'checkpoints/none/x', savepointPrefix: 'savepoints/none/x' })).toEqual([]);
      const missing = testStore(clients, [testProfile('az-b', uniqueBucket('no-such'), 'x')]);
      expect(await missing.listSnapshots('az-b', job)).toEqual([]);
      expect(await missing.findSnapshot('az-b', job, query())).toEqual({ kind: 'none', reason: 'no checkpoint or savepoint found in the target AZ replica', skipped: [] });
      expect(await store.listSnapshots('az-b', { ...job, jobIds: [] })).toEqual([]);
      expect(await store.findSnapshot('az-b', { ...job, jobIds: [] }, query())).toMatchObject({ kind: 'none', reason: expect.stringMatching(/^no Flink job id known/) });
    });
  });

  describe('per-az-buckets layout: one server with per-AZ buckets, az-a replicated into az-b', () => {
    const source = uniqueBucket('flink-state-az-a');
    const replica = uniqueBucket('flink-state-az-b');
    const store = testStore(clients, [testProfile('az-b', replica, 'unused')]);
    const paths: Record<string, string> = {};
    const query = (layoutKind: 'symmetric' | 'per-az-buckets'): SnapshotQuery => ({ layout: layoutKind, rpoSeconds: 3600, nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 });

    beforeAll(async () => {
      const b = clients.client(testProfile('az-b', replica, '').s3Endpoint);
      await createBuckets(b, source, replica);
      // Source files where the absolute paths point (what a replicated _metadata references).
      await layout(b, source).checkpoint(7);
      const l = layout(b, replica);
      paths.old = await l.savepoint('0000000000aa');
      await nextSecond();
      paths.sp = await l.savepoint('0000000000bb');
      await nextSecond();
      paths.chk = await l.checkpoint(7, { refBucket: source });
    });

    it('refuses the newer checkpoint (absolute paths) without reading it and chooses the newest complete savepoint', async () => {
      const choice = await store.findSnapshot('az-b', job, query('per-az-buckets'));
      expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.sp, kind: 'savepoint' } });
      expect(choice.skipped).toEqual([{ path: paths.chk, reason: expect.stringMatching(/per-az-buckets/) }]);
    });

    it('the same replica under the symmetric layout would take the checkpoint', async () => {
      expect(await store.findSnapshot('az-b', job, query('symmetric'))).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.chk } });
    });
  });

  it('shared/ is listed once per lookup, for every checkpoint checked, instead of a HEAD per file', async () => {
    const bucket = uniqueBucket('flink-state-shared');
    const raw = clients.client(testProfile('az-a', bucket, '').s3Endpoint);
    await createBuckets(raw, bucket);
    const shared = (n: number, i: number): string => `${job.checkpointPrefix}/${JOB_ID}/shared/s-${n}-${i}`;
    const put = async (n: number, files: string[]): Promise<string> => {
      const dir = checkpointDirKey(job.checkpointPrefix, JOB_ID, n);
      await putObject(raw, bucket, `${dir}/private`, 'p');
      const refs = [{ ref: 'private', sizeBytes: 1 }, ...files.map((k) => ({ ref: `s3://${bucket}/${k}`, sizeBytes: 1, shared: true }))];
      await putObject(raw, bucket, `${dir}/_metadata`, writeFlinkMetadata({ kind: 'checkpoint', checkpointId: n, operatorId: OPERATOR, files: refs }));
      return `s3://${bucket}/${dir}`;
    };
    const older = Array.from({ length: 60 }, (_, i) => shared(1, i));
    const newer = [...older.slice(0, 30), ...Array.from({ length: 30 }, (_, i) => shared(2, i))];
    // The newer checkpoint's last shared file has not been replicated yet.
    for (const k of new Set([...older, ...newer.slice(0, -1)])) await putObject(raw, bucket, k, 's');
    const chk1 = await put(1, older);
    await nextSecond();
    const chk2 = await put(2, newer);
    const log: LoggedRequest[] = [];
    const logged = testClients({ checksums: 'when-required', log });
    const choice = await testStore(logged, [testProfile('az-a', bucket, 'unused')]).findSnapshot('az-a', job, { layout: 'symmetric', nowEpochSeconds: Date.now() / 1000 + 1 });
    logged.destroy();
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: chk1 }, skipped: [{ path: chk2, reason: expect.stringContaining(`first s3://${bucket}/${shared(2, 29)}`) }] });
    // HEADs: the two `_metadata` (listing) and each checkpoint's one private file; never a shared file.
    expect(log.filter((r) => r.command === 'HeadObjectCommand').map((r) => String(r.input.Key).replace(/^.*\/(chk-\d+\/[^/]+)$/, '$1')).sort())
      .toEqual(['chk-1/_metadata', 'chk-1/private', 'chk-2/_metadata', 'chk-2/private']);
    const sharedLists = log.filter((r) => r.command === 'ListObjectsV2Command' && String(r.input.Prefix).endsWith('/shared/'));
    expect(sharedLists).toHaveLength(1);
    expect(sharedLists[0]!.input).toMatchObject({ Delimiter: '/' });
    console.info(`snapshot lookup over a 90-file shared/: ${log.length} requests (${log.map((r) => r.command.replace('Command', '')).join(', ')})`);
  });

  describe.each(allFixtures)('real Flink snapshots ($label): relocated into S3, chosen newest first', (fx: Fixture) => {
    const bucket = uniqueBucket(`flink-real-${fx.info.flinkVersion.replace(/\./g, '')}`);
    const store = testStore(clients, [testProfile('az-b', bucket, 'unused')]);
    const snapshots = fixtureSnapshots(fx); // oldest first
    const newestFirst = [...snapshots].reverse();
    const newest = newestFirst[0]!;
    const standbyTag = STANDBY_ID.slice(0, 6);
    const owner = (base: string, jobId = fx.info.jobId): SnapshotOwner => ({ checkpointPrefix: `${base}/checkpoints`, savepointPrefix: `${base}/savepoints`, jobIds: [jobId] });
    const pathOf = (base: string, s: FixtureSnapshot): string => `s3://${bucket}/${base}/${s.dir}`;
    const keyOf = (base: string, written: string): string => `${base}/${written.slice(writtenPrefix(fx).length)}`;
    const query = (): SnapshotQuery => ({ layout: 'symmetric', rpoSeconds: 3600, nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 });
    // One shared file of the newest snapshot (a checkpoint in every fixture) has not been replicated.
    const dropped = newest.referenced.find((p) => p.includes('/shared/'))!;
    const expectedFallback = newestFirst.slice(1).find((s) => !s.referenced.includes(dropped))!;

    /** Upload one snapshot's own files, `_metadata` last and relocated to `base` (the standby's: its job id and savepoint tag). */
    async function putSnapshot(client: S3Client, base: string, s: FixtureSnapshot, as: 'own' | 'standby' = 'own'): Promise<void> {
      const dir = as === 'own' ? s.dir : s.dir.replace(fx.info.jobId, STANDBY_ID).replace(/savepoint-[0-9a-f]{6}-/, `savepoint-${standbyTag}-`);
      for (const f of filesUnder(fx, s.dir).filter((f) => !f.endsWith('/_metadata'))) await putObject(client, bucket, `${base}/${dir}/${f.slice(s.dir.length + 1)}`, readFileSync(join(fx.dir, f)));
      const from = as === 'own' ? writtenPrefix(fx) : `${writtenPrefix(fx)}checkpoints/${fx.info.jobId}/`;
      const to = as === 'own' ? `s3://${bucket}/${base}/` : `s3://${bucket}/${base}/checkpoints/${STANDBY_ID}/`;
      await putObject(client, bucket, `${base}/${dir}/_metadata`, relocateMetadata(readFileSync(join(fx.dir, s.dir, '_metadata')), from, to));
    }

    /** The job's shared/ files under `base` (as `as`), but `except`. */
    async function putShared(client: S3Client, base: string, except?: string, as: 'own' | 'standby' = 'own'): Promise<void> {
      const id = as === 'own' ? fx.info.jobId : STANDBY_ID;
      for (const f of filesUnder(fx, `checkpoints/${fx.info.jobId}/shared`)) {
        const key = `${base}/checkpoints/${id}/shared/${f.slice(f.lastIndexOf('/') + 1)}`;
        if (except === undefined || keyOf(base, except) !== key) await putObject(client, bucket, key, readFileSync(join(fx.dir, f)));
      }
    }

    beforeAll(async () => {
      const b = clients.client(testProfile('az-b', bucket, '').s3Endpoint);
      await createBuckets(b, bucket);
      await Promise.all([putShared(b, 'own'), putShared(b, 'lag', dropped), putShared(b, 'none', dropped)]);
      // Oldest first, one second apart, as Flink completed them (the checkpoint counter orders them).
      for (const s of snapshots) {
        await Promise.all([putSnapshot(b, 'own', s), putSnapshot(b, 'lag', s)]);
        await nextSecond();
      }
      await putSnapshot(b, 'none', newest);
      // The hot standby writes under the same prefixes, with its own job id, and newer.
      await putShared(b, 'own', undefined, 'standby');
      for (const s of snapshots) await putSnapshot(b, 'own', s, 'standby');
    });

    it('lists its snapshots newest first in the order Flink completed them', async () => {
      expect((await store.listSnapshots('az-b', owner('own'))).map((c) => c.path)).toEqual(newestFirst.map((s) => pathOf('own', s)));
    });

    it('chooses the newest complete snapshot, reading only its _metadata, never listing or reading the standby\'s', async () => {
      const log: LoggedRequest[] = [];
      const logged = testClients({ checksums: 'when-required', log });
      const choice = await testStore(logged, [testProfile('az-b', bucket, '')]).findSnapshot('az-b', owner('own'), query());
      logged.destroy();
      expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: pathOf('own', newest), kind: newest.kind, referencedFilesPresent: true }, skipped: [] });
      expect(log.filter((r) => r.command === 'GetObjectCommand').map((r) => r.input.Key)).toEqual([`own/${newest.dir}/_metadata`]);
      expect(touched(log).filter((k) => k.includes(STANDBY_ID) || k.includes(`savepoint-${standbyTag}-`))).toEqual([]);
      console.info(`Flink ${fx.info.flinkVersion}: newest complete ${newest.dir} found with ${log.length} S3 requests`);
    });

    it('the standby\'s newer snapshots are there: its own lookup takes them', async () => {
      const standby = await store.findSnapshot('az-b', owner('own', STANDBY_ID), query());
      // Written within one second: which of them wins is the tie-break; any of them shows they are newer and there.
      expect(standby.kind === 'snapshot' && standby.snapshot.path).toMatch(new RegExp(`/(checkpoints/${STANDBY_ID}/chk-\\d+|savepoints/savepoint-${standbyTag}-[0-9a-f]{12})$`));
    });

    it('refuses the copy missing one shared/ file, naming it, and falls back to the next older complete snapshot', async () => {
      const choice = await store.findSnapshot('az-b', owner('lag'), query());
      const missing = `s3://${bucket}/${keyOf('lag', dropped)}`;
      expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: pathOf('lag', expectedFallback) } });
      expect(choice.skipped[0]).toEqual({ path: pathOf('lag', newest), reason: expect.stringContaining(`is not in this replica, first ${missing}`) });
    });

    it('fails with a reason naming the missing file when no snapshot is complete', async () => {
      const choice: SnapshotChoice = await store.findSnapshot('az-b', owner('none'), query());
      expect(choice.kind).toBe('none');
      expect(choice.kind === 'none' && choice.reason).toContain(`first s3://${bucket}/${keyOf('none', dropped)}`);
    });
  });

  it('a _metadata of an unknown format version is passed over with the reason naming the version, not retried', async () => {
    const bucket = uniqueBucket('flink-state-version');
    const b = clients.client(testProfile('az-b', bucket, '').s3Endpoint);
    await createBuckets(b, bucket);
    const older = await layout(b, bucket).savepoint('0000000000f8');
    await nextSecond();
    const bytes = writeFlinkMetadata({ kind: 'savepoint', checkpointId: 2, operatorId: OPERATOR, files: [{ ref: 'data-1', sizeBytes: 1 }] });
    new DataView(bytes.buffer, bytes.byteOffset).setInt32(4, 99);
    const dir = savepointDirKey(job.savepointPrefix, JOB_ID, '0000000000f9');
    await putObject(b, bucket, `${dir}/_metadata`, bytes);
    const choice = await testStore(clients, [testProfile('az-b', bucket, '')]).findSnapshot('az-b', job, { layout: 'symmetric', nowEpochSeconds: Date.now() / 1000 + 1 });
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: older } });
    expect(choice.skipped).toEqual([{ path: `s3://${bucket}/${dir}`, reason: expect.stringContaining('format version 99 is not supported') }]);
  });

  it('lookups for 120 jobs at once stay under the adapter-wide request bound', async () => {
    const bucket = uniqueBucket('flink-state-fleet');
    const raw = clients.client(testProfile('az-a', bucket, '').s3Endpoint);
    await createBuckets(raw, bucket);
    const jobs = Array.from({ length: 120 }, (_, i): SnapshotOwner => ({ checkpointPrefix: `checkpoints/ns/job-${i}`, savepointPrefix: `savepoints/ns/job-${i}`, jobIds: [JOB_ID] }));
    await Promise.all(jobs.map((j, i) => layout(raw, bucket, j).savepoint(i.toString(16).padStart(12, '0'))));
    const bounded = testClients({ checksums: 'when-required' });
    let inFlight = 0;
    let peak = 0;
    const c = bounded.client(testProfile('az-a', bucket, '').s3Endpoint);
    c.middlewareStack.add((next) => async (args) => {
      peak = Math.max(peak, ++inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    }, { step: 'initialize', name: 'inFlightCounter' });
    const store = testStore(bounded, [testProfile('az-a', bucket, 'unused')], { maxConcurrentRequests: 8 });
    const all = await Promise.all(jobs.map((j) => store.findSnapshot('az-a', j, { layout: 'per-az-buckets', nowEpochSeconds: Date.now() / 1000 + 1 })));
    bounded.destroy();
    expect(all.map((e) => e.kind)).toEqual(jobs.map(() => 'snapshot'));
    expect(all[7]).toMatchObject({ snapshot: { path: `s3://${bucket}/${savepointDirKey('savepoints/ns/job-7', JOB_ID, '000000000007')}` } });
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
  });

  it('paginates beyond 1,000 directories: the newest savepoint sits on the second page of the listing', async () => {
    const bucket = uniqueBucket('flink-state-many');
    const log: LoggedRequest[] = [];
    const logged = testClients({ checksums: 'when-required', log });
    const store = testStore(logged, [testProfile('az-a', bucket, 'unused')], { maxConcurrentRequests: 32 });
    const raw = clients.client(testProfile('az-a', bucket, '').s3Endpoint);
    await createBuckets(raw, bucket);
    const count = 1005;
    const suffix = (i: number): string => i.toString(16).padStart(12, '0');
    const metadata = writeFlinkMetadata({ kind: 'savepoint', checkpointId: 1, operatorId: OPERATOR, files: [{ ref: 'data-1', sizeBytes: 1 }] });
    for (let i = 0; i < count - 1; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, count - 1 - i) }, (_, k) => putObject(raw, bucket, `${savepointDirKey(job.savepointPrefix, JOB_ID, suffix(i + k))}/_metadata`, metadata)));
    }
    await nextSecond();
    // Only the last one (on page 2) is complete: the others lack their data file.
    const last = await layout(raw, bucket).savepoint(suffix(count - 1));
    const choice = await store.findSnapshot('az-a', job, { layout: 'per-az-buckets', rpoSeconds: 600, nowEpochSeconds: Date.now() / 1000 + 1 });
    logged.destroy();
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: last }, skipped: [] });
    const lists = log.filter((r) => r.command === 'ListObjectsV2Command');
    expect(lists.filter((r) => r.input.ContinuationToken !== undefined).length).toBeGreaterThanOrEqual(1);
    // Every listing is scoped to the job id's directories with the '/' delimiter: never the whole bucket or prefix.
    for (const r of lists) {
      expect(r.input).toMatchObject({ Delimiter: '/' });
      expect(String(r.input.Prefix)).toMatch(new RegExp(`^(checkpoints/payments/enricher/${JOB_ID}/chk-|savepoints/payments/enricher/savepoint-${JOB_ID.slice(0, 6)}-)`));
    }
    // Only the newest `_metadata` is read.
    expect(log.filter((r) => r.command === 'GetObjectCommand')).toHaveLength(1);
  });

  describe('throttled snapshot lookup: 503 SlowDown from a fault proxy in front of versitygw (process-boundary mock)', () => {
    const bucket = uniqueBucket('flink-state-throttled');
    const profile = testProfile('az-b', bucket, 'unused');
    const paths: Record<string, string> = {};
    /** ListObjectsV2 is `GET /<bucket>?list-type=2…` (path-style). */
    const isList = (method = '', url = ''): boolean => method === 'GET' && /[?&]list-type=2(&|$)/.test(url);
    const LOOKUPS = 20;
    const query = (): SnapshotQuery => ({ layout: 'symmetric', rpoSeconds: 3600, nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 });

    beforeAll(async () => {
      const b = clients.client(profile.s3Endpoint);
      await createBuckets(b, bucket);
      const l = layout(b, bucket);
      paths.sp = await l.savepoint('0000000000cc');
      await nextSecond();
      paths.chk20 = await l.checkpoint(20);
      await nextSecond();
      paths.chk21 = await l.checkpoint(21, { dropShared: true });
      paths.chk22 = await l.checkpoint(22, { metadata: false });
    });

    it.each([{ what: 'ListObjectsV2 requests', listsOnly: true }, { what: 'every request (lists, metadata reads, heads)', listsOnly: false }])('30 percent of $what throttled: 20 lookups choose the same snapshot as without faults', async ({ what, listsOnly }) => {
      const fault = testStore(clients, [profile]);
      const expected = await fault.findSnapshot('az-b', job, query());
      expect(expected).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.chk20 } });

      const u = seededUniform('s3-snapshot-throttling', String(listsOnly));
      let lists = 0;
      let throttledLists = 0;
      const proxy = await startFaultProxy({ target: profile.s3Endpoint, fault: (req) => {
        const list = isList(req.method, req.url);
        if (list) lists++;
        const throttle = (list || !listsOnly) && u() < 0.3;
        if (throttle && list) throttledLists++;
        return throttle ? S3_SLOW_DOWN : undefined;
      } });
      const viaProxy = testClients({ checksums: 'when-required', maxAttempts: 10 });
      try {
        const throttled = testStore(viaProxy, [{ ...profile, s3Endpoint: proxy.endpoint }], { maxConcurrentRequests: 4 });
        const started = Date.now();
        for (let i = 0; i < LOOKUPS; i++) {
          const choice = await throttled.findSnapshot('az-b', job, query());
          expect(choice).toEqual({ ...expected, ...(choice.kind === 'snapshot' && expected.kind === 'snapshot' ? { ageSeconds: choice.ageSeconds } : {}) });
        }
        console.info(`snapshot lookup, 30 % of ${what} throttled: ${LOOKUPS} lookups in ${Date.now() - started} ms, ${throttledLists} of ${lists} ListObjectsV2 answered 503 SlowDown, ${proxy.faulted} requests throttled in all, ${proxy.forwarded} forwarded`);
        expect(throttledLists / lists).toBeGreaterThan(0.15);
        expect(throttledLists / lists).toBeLessThan(0.45);
        if (listsOnly) expect(proxy.faulted).toBe(throttledLists);
        else expect(proxy.faulted).toBeGreaterThan(throttledLists);

        // Without retries the same proxy fails lookups, named as throttling (HEAD answers carry no error code): the fault bites.
        const once = testStore(testClients({ checksums: 'when-required', maxAttempts: 1 }), [{ ...profile, s3Endpoint: proxy.endpoint }]);
        const single = await Promise.allSettled(Array.from({ length: 10 }, () => once.findSnapshot('az-b', job, query())));
        const refused = single.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(refused.length).toBeGreaterThan(0);
        for (const r of refused) expect(r.reason).toMatchObject({ code: 'throttled', retryable: true, message: expect.stringMatching(/s3:\/\/flink-state-throttled-.*\(HTTP 503\).*throttling, retry with backoff/) });
      } finally {
        viaProxy.destroy();
        await proxy.close();
      }
    });
  });
});

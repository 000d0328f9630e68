/**
 * Snapshot choice against real S3 servers (versitygw, one per AZ) holding buckets laid out
 * as Flink lays them out (domain/snapshot-layout.ts): the S3 adapter lists the target AZ's
 * replica, domain/snapshot-choice.ts chooses. Runs with the SDK's WHEN_REQUIRED checksums
 * (the preload suite runs with the SDK defaults). Under 503 SlowDown throttling (a fault
 * proxy in front of versitygw) the lookup retries and chooses the same snapshot.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFlinkMetadata } from '../../domain/flink-metadata.js';
import { HEAD_LIMIT_PER_DIR } from '../../platform/s3/snapshot-listing.js';
import { checkpointDirKey, savepointDirKey } from '../../domain/snapshot-layout.js';
import { chooseSnapshot } from '../../domain/snapshot-choice.js';
import type { SnapshotEntry, StorageLayout } from '../../domain/types.js';
import { seededUniform } from '../../simulator/random.js';
import { createBuckets, putObject, testClients, testProfile, testStore, uniqueBucket, S3_SLOW_DOWN, type LoggedRequest } from '../setup/s3.js';
import { startFaultProxy } from '../setup/fault-proxy.js';

const JOB_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const NOW = Math.floor(Date.now() / 1000);
const job = { checkpointPrefix: 'checkpoints/payments/enricher', savepointPrefix: 'savepoints/payments/enricher' };

/** Writes Flink's layout into one bucket of one server. */
function layout(client: ReturnType<ReturnType<typeof testClients>['client']>, bucket: string) {
  return {
    /** chk-<n>: private file, shared file, then `_metadata` (absolute refs) unless `metadata: false`; `dropShared` leaves the shared file out (replication lag). */
    async checkpoint(n: number, ageSeconds: number, o: { metadata?: boolean; dropShared?: boolean; refBucket?: string } = {}): Promise<string> {
      const dir = checkpointDirKey(job.checkpointPrefix, JOB_ID, n);
      const priv = `${dir}/0f1e2d3c-private`;
      const shared = `${job.checkpointPrefix}/${JOB_ID}/shared/shared-${n}`;
      await putObject(client, bucket, priv, 'p');
      if (!o.dropShared) await putObject(client, bucket, shared, 's');
      if (o.metadata !== false) {
        const refBucket = o.refBucket ?? bucket;
        await putObject(client, bucket, `${dir}/_metadata`, JSON.stringify({ files: [`s3://${refBucket}/${priv}`, `s3://${refBucket}/${shared}`], completedAtEpochSeconds: NOW - ageSeconds }));
      }
      return `s3://${bucket}/${dir}`;
    },
    /** A savepoint with one relative data file. */
    async savepoint(suffix12hex: string, ageSeconds: number): Promise<string> {
      const dir = savepointDirKey(job.savepointPrefix, JOB_ID, suffix12hex);
      await putObject(client, bucket, `${dir}/data-1`, 'd');
      await putObject(client, bucket, `${dir}/_metadata`, JSON.stringify({ files: ['data-1'], completedAtEpochSeconds: NOW - ageSeconds }));
      return `s3://${bucket}/${dir}`;
    },
  };
}

function choose(entries: SnapshotEntry[], layoutKind: StorageLayout, rpoSeconds = 3600) {
  return chooseSnapshot(entries, { layout: layoutKind, rpoSeconds, nowEpochSeconds: NOW });
}

describe('snapshot choice over S3 (versitygw)', () => {
  const clients = testClients({ checksums: 'when-required' });
  afterAll(() => clients.destroy());

  describe('symmetric layout: same bucket name in both AZs, replica in az-b', () => {
    const bucket = uniqueBucket('flink-state');
    const store = testStore(clients, [testProfile('az-b', bucket, 'unused-artifacts')]);
    const paths: Record<string, string> = {};

    beforeAll(async () => {
      const b = clients.client(testProfile('az-b', bucket, '').s3Endpoint);
      await createBuckets(b, bucket);
      const l = layout(b, bucket);
      paths.old = await l.savepoint('00000000000a', 40 * 60);
      paths.sp = await l.savepoint('00000000000b', 10 * 60);
      paths.chk10 = await l.checkpoint(10, 150);
      paths.chk11 = await l.checkpoint(11, 90);
      paths.chk12 = await l.checkpoint(12, 60, { dropShared: true });
      paths.chk13 = await l.checkpoint(13, 30, { metadata: false });
    });

    it('lists every snapshot dir with completeness, newest first', async () => {
      const entries = await store.listSnapshots('az-b', job);
      expect(entries.map((e) => e.path)).toEqual([paths.chk13, paths.chk12, paths.chk11, paths.chk10, paths.sp, paths.old]);
      expect(entries[0]).toMatchObject({ kind: 'checkpoint', hasMetadata: false });
      expect(entries[1]).toMatchObject({ hasMetadata: true, referencedFilesPresent: false });
      expect(entries[2]).toMatchObject({ hasMetadata: true, referencedFilesPresent: true, completedAtEpochSeconds: NOW - 90 });
    });

    it('skips the incomplete newest checkpoint and the one under replication lag, accepts the older checkpoint', async () => {
      const choice = choose(await store.listSnapshots('az-b', job), 'symmetric');
      expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.chk11, kind: 'checkpoint' }, ageSeconds: 90 });
      expect(choice.skipped.map((s) => [s.path, s.reason.split(':')[0]])).toEqual([[paths.chk13, 'incomplete'], [paths.chk12, 'replication lag']]);
    });

    it('RPO exceeded: nothing chosen and the reason names the age against the RPO (the tier policy decides)', async () => {
      const choice = choose(await store.listSnapshots('az-b', job), 'symmetric', 60);
      expect(choice.kind).toBe('none');
      if (choice.kind === 'none') expect(choice.reason).toMatch(new RegExp(`${paths.chk11} is 90 s old, beyond the RPO of 60 s`));
    });

    it('a job with no snapshots, or a bucket that does not exist, lists nothing', async () => {
      expect(await store.listSnapshots('az-b', { checkpointPrefix: 'checkpoints/none/x', savepointPrefix: 'savepoints/none/x' })).toEqual([]);
      const missing = testStore(clients, [testProfile('az-b', uniqueBucket('no-such'), 'x')]);
      expect(await missing.listSnapshots('az-b', job)).toEqual([]);
    });
  });

  describe('per-az-buckets layout: one server with per-AZ buckets, az-a replicated into az-b', () => {
    const source = uniqueBucket('flink-state-az-a');
    const replica = uniqueBucket('flink-state-az-b');
    const store = testStore(clients, [testProfile('az-b', replica, 'unused')]);
    const paths: Record<string, string> = {};

    beforeAll(async () => {
      const b = clients.client(testProfile('az-b', replica, '').s3Endpoint);
      await createBuckets(b, source, replica);
      // Source files where the absolute paths point (what a replicated _metadata references).
      await layout(b, source).checkpoint(7, 20);
      const l = layout(b, replica);
      paths.old = await l.savepoint('0000000000aa', 40 * 60);
      paths.sp = await l.savepoint('0000000000bb', 5 * 60);
      paths.chk = await l.checkpoint(7, 20, { refBucket: source });
    });

    it('refuses the newer checkpoint (absolute paths) and chooses the newest complete savepoint', async () => {
      const choice = choose(await store.listSnapshots('az-b', job), 'per-az-buckets');
      expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.sp, kind: 'savepoint' } });
      expect(choice.skipped).toEqual([{ path: paths.chk, reason: expect.stringMatching(/per-az-buckets/) }]);
    });

    it('the same replica under the symmetric layout would take the checkpoint', async () => {
      expect(choose(await store.listSnapshots('az-b', job), 'symmetric')).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.chk } });
    });
  });

  it(`a checkpoint with more than ${HEAD_LIMIT_PER_DIR} shared files: shared/ is listed once per lookup instead of a HEAD per file`, async () => {
    const bucket = uniqueBucket('flink-state-shared');
    const raw = clients.client(testProfile('az-a', bucket, '').s3Endpoint);
    await createBuckets(raw, bucket);
    const shared = (n: number, i: number): string => `${job.checkpointPrefix}/${JOB_ID}/shared/s-${n}-${i}`;
    const put = async (n: number, files: string[], ageSeconds: number): Promise<string> => {
      const dir = checkpointDirKey(job.checkpointPrefix, JOB_ID, n);
      await putObject(raw, bucket, `${dir}/_metadata`, JSON.stringify({ files: files.map((k) => `s3://${bucket}/${k}`), completedAtEpochSeconds: NOW - ageSeconds }));
      return `s3://${bucket}/${dir}`;
    };
    const older = Array.from({ length: 60 }, (_, i) => shared(1, i));
    const newer = [...older.slice(0, 30), ...Array.from({ length: 30 }, (_, i) => shared(2, i))];
    // The newer checkpoint's last shared file has not been replicated yet.
    for (const k of new Set([...older, ...newer.slice(0, -1)])) await putObject(raw, bucket, k, 's');
    const chk1 = await put(1, older, 90);
    const chk2 = await put(2, newer, 30);
    const log: LoggedRequest[] = [];
    const logged = testClients({ checksums: 'when-required', log });
    const entries = await testStore(logged, [testProfile('az-a', bucket, 'unused')]).listSnapshots('az-a', job);
    logged.destroy();
    expect(entries.map((e) => [e.path, e.referencedFilesPresent])).toEqual([[chk2, false], [chk1, true]]);
    expect(log.filter((r) => r.command === 'HeadObjectCommand')).toEqual([]);
    const sharedLists = log.filter((r) => r.command === 'ListObjectsV2Command' && String(r.input.Prefix).endsWith('/shared/'));
    expect(sharedLists).toHaveLength(1);
    expect(sharedLists[0]!.input).toMatchObject({ Delimiter: '/' });
  });

  describe("real Flink 2.1.1 savepoints (test/fixtures/flink/2.1.1): the binary _metadata read over S3", () => {
    const bucket = uniqueBucket('flink-state-real');
    const store = testStore(clients, [testProfile('az-b', bucket, 'unused')]);
    const fixture = resolve(fileURLToPath(import.meta.url), '../../fixtures/flink/2.1.1');
    const info = JSON.parse(readFileSync(join(fixture, 'fixture.json'), 'utf8')) as { canonicalSavepoint: string; nativeSavepoint: string };
    const paths: Record<string, string> = {};
    // Replication lag in the native savepoint: one of its shared (sst) files has not arrived.
    const nativeMeta = readFlinkMetadata(readFileSync(join(fixture, 'savepoints', info.nativeSavepoint, '_metadata')), { snapshotDir: '.' });
    const dropped = nativeMeta.files.find((x) => x.scope === 'shared')!.path.slice(2);

    beforeAll(async () => {
      const b = clients.client(testProfile('az-b', bucket, '').s3Endpoint);
      await createBuckets(b, bucket);
      for (const name of [info.canonicalSavepoint, info.nativeSavepoint]) {
        const dir = `${job.savepointPrefix}/${name}`;
        const files = readdirSync(join(fixture, 'savepoints', name)).sort((x, y) => (x === '_metadata' ? 1 : y === '_metadata' ? -1 : 0));
        for (const f of files) {
          if (name === info.nativeSavepoint && f === dropped) continue;
          await putObject(b, bucket, `${dir}/${f}`, readFileSync(join(fixture, 'savepoints', name, f)));
        }
        paths[name] = `s3://${bucket}/${dir}`;
      }
    });

    it('the canonical savepoint is complete; the native one missing one shared file is under replication lag', async () => {
      const entries = await store.listSnapshots('az-b', job);
      expect(entries.map((e) => [e.path, e.kind, e.hasMetadata, e.referencedFilesPresent, e.problem]).sort()).toEqual([
        [paths[info.canonicalSavepoint], 'savepoint', true, true, undefined],
        [paths[info.nativeSavepoint], 'savepoint', true, false, undefined],
      ].sort());
      expect(choose(entries, 'per-az-buckets')).toMatchObject({ kind: 'snapshot', snapshot: { path: paths[info.canonicalSavepoint] } });
    });

    it('a _metadata of an unknown format version is passed over with the reason, not retried', async () => {
      const b = clients.client(testProfile('az-b', bucket, '').s3Endpoint);
      const bytes = Uint8Array.from(readFileSync(join(fixture, 'savepoints', info.canonicalSavepoint, '_metadata')));
      new DataView(bytes.buffer).setInt32(4, 99);
      const dir = savepointDirKey(job.savepointPrefix, JOB_ID, '0000000000f9');
      await putObject(b, bucket, `${dir}/_metadata`, bytes);
      const entries = await store.listSnapshots('az-b', job);
      expect(entries.find((e) => e.path === `s3://${bucket}/${dir}`)).toMatchObject({
        hasMetadata: true, referencedFilesPresent: false, problem: expect.stringContaining('format version 99 is not supported'),
      });
    });
  });

  it('lookups for 120 jobs at once stay under the adapter-wide request bound', async () => {
    const bucket = uniqueBucket('flink-state-fleet');
    const raw = clients.client(testProfile('az-a', bucket, '').s3Endpoint);
    await createBuckets(raw, bucket);
    const jobs = Array.from({ length: 120 }, (_, i) => ({ checkpointPrefix: `checkpoints/ns/job-${i}`, savepointPrefix: `savepoints/ns/job-${i}` }));
    await Promise.all(jobs.map((j, i) => putObject(raw, bucket, `${savepointDirKey(j.savepointPrefix, JOB_ID, i.toString(16).padStart(12, '0'))}/_metadata`, JSON.stringify({ files: [], completedAtEpochSeconds: NOW - i }))));
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
    const all = await Promise.all(jobs.map((j) => store.listSnapshots('az-a', j)));
    bounded.destroy();
    expect(all.map((e) => e.length)).toEqual(jobs.map(() => 1));
    expect(all[7]![0]!.path).toBe(`s3://${bucket}/${savepointDirKey('savepoints/ns/job-7', JOB_ID, '000000000007')}`);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
  });

  it('paginates beyond 1,000 keys: the newest savepoint sits on the second page of the listing', async () => {
    const bucket = uniqueBucket('flink-state-many');
    const log: LoggedRequest[] = [];
    const logged = testClients({ checksums: 'when-required', log });
    const store = testStore(logged, [testProfile('az-a', bucket, 'unused')], { maxConcurrentRequests: 32 });
    const raw = clients.client(testProfile('az-a', bucket, '').s3Endpoint);
    await createBuckets(raw, bucket);
    const count = 1005;
    const suffix = (i: number): string => i.toString(16).padStart(12, '0');
    for (let i = 0; i < count; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => {
        const n = i + k;
        const dir = savepointDirKey(job.savepointPrefix, JOB_ID, suffix(n));
        // Only the last one (on page 2) is young enough for the RPO.
        return putObject(raw, bucket, `${dir}/_metadata`, JSON.stringify({ files: [], completedAtEpochSeconds: NOW - (n === count - 1 ? 30 : 7200 + n) }));
      }));
    }
    const entries = await store.listSnapshots('az-a', job);
    logged.destroy();
    expect(entries).toHaveLength(count);
    const choice = choose(entries, 'per-az-buckets', 600);
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: `s3://${bucket}/${savepointDirKey(job.savepointPrefix, JOB_ID, suffix(count - 1))}` } });
    const lists = log.filter((r) => r.command === 'ListObjectsV2Command');
    expect(lists.filter((r) => r.input.ContinuationToken !== undefined).length).toBeGreaterThanOrEqual(1);
    // Every listing is scoped to the job's prefixes with the '/' delimiter: never the whole bucket.
    for (const r of lists) {
      expect(r.input).toMatchObject({ Delimiter: '/' });
      expect(String(r.input.Prefix)).toMatch(/^(checkpoints|savepoints)\/payments\/enricher\//);
    }
  });

  describe('throttled snapshot lookup: 503 SlowDown from a fault proxy in front of versitygw (process-boundary mock)', () => {
    const bucket = uniqueBucket('flink-state-throttled');
    const profile = testProfile('az-b', bucket, 'unused');
    const paths: Record<string, string> = {};
    /** ListObjectsV2 is `GET /<bucket>?list-type=2…` (path-style). */
    const isList = (method = '', url = ''): boolean => method === 'GET' && /[?&]list-type=2(&|$)/.test(url);
    const LOOKUPS = 20;

    beforeAll(async () => {
      const b = clients.client(profile.s3Endpoint);
      await createBuckets(b, bucket);
      const l = layout(b, bucket);
      paths.sp = await l.savepoint('0000000000cc', 10 * 60);
      paths.chk20 = await l.checkpoint(20, 120);
      paths.chk21 = await l.checkpoint(21, 60, { dropShared: true });
      paths.chk22 = await l.checkpoint(22, 30, { metadata: false });
    });

    it.each([{ what: 'ListObjectsV2 requests', listsOnly: true }, { what: 'every request (lists, metadata reads, heads)', listsOnly: false }])('30 percent of $what throttled: 20 lookups list the same snapshots and choose the same one as without faults', async ({ what, listsOnly }) => {
      const fault = testStore(clients, [profile]);
      const expected = await fault.listSnapshots('az-b', job);
      const expectedChoice = choose(expected, 'symmetric');
      expect(expectedChoice).toMatchObject({ kind: 'snapshot', snapshot: { path: paths.chk20 } });

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
          const entries = await throttled.listSnapshots('az-b', job);
          expect(entries).toEqual(expected);
          expect(choose(entries, 'symmetric')).toEqual(expectedChoice);
        }
        console.info(`snapshot lookup, 30 % of ${what} throttled: ${LOOKUPS} lookups in ${Date.now() - started} ms, ${throttledLists} of ${lists} ListObjectsV2 answered 503 SlowDown, ${proxy.faulted} requests throttled in all, ${proxy.forwarded} forwarded`);
        expect(throttledLists / lists).toBeGreaterThan(0.15);
        expect(throttledLists / lists).toBeLessThan(0.45);
        if (listsOnly) expect(proxy.faulted).toBe(throttledLists);
        else expect(proxy.faulted).toBeGreaterThan(throttledLists);

        // Without retries the same proxy fails lookups, named as throttling (HEAD answers carry no error code): the fault bites.
        const once = testStore(testClients({ checksums: 'when-required', maxAttempts: 1 }), [{ ...profile, s3Endpoint: proxy.endpoint }]);
        const single = await Promise.allSettled(Array.from({ length: 10 }, () => once.listSnapshots('az-b', job)));
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

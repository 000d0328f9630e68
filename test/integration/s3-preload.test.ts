/**
 * Jar preloading over real S3 servers (versitygw), with the AWS SDK's DEFAULT checksum
 * settings (WHEN_SUPPORTED, what production uses): the S3 adapter copies from the target
 * AZ's jar repository bucket into its artifact bucket; JarStager shares copies per jar.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, describe, expect, it } from 'vitest';
import { JarStager } from '../../activities/jar-stager.js';
import { jarRepositoryBucket, type JarArtifact } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import { startS3Server } from '../../launchers/local-processes.js';
import { createBuckets, putObject, testClients, testProfile, testS3, testStore, uniqueBucket, S3_SLOW_DOWN, type LoggedRequest } from '../setup/s3.js';
import { startFaultProxy } from '../setup/fault-proxy.js';

const MiB = 1024 * 1024;

/** A jar of `bytes` random bytes, its artifact entry (digest of the content) and its body. */
function makeJar(name: string, bytes: number): { jar: JarArtifact; body: Buffer } {
  const body = randomBytes(bytes);
  return { jar: { key: `jars/team/${name}.jar`, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, sizeBytes: bytes }, body };
}

/** Publish jars into the repository bucket as CI would (with the digest as x-amz-meta-sha256). */
async function publish(client: S3Client, artifactBucket: string, jars: Array<{ jar: JarArtifact; body: Buffer }>, withDigest = true): Promise<void> {
  await Promise.all(jars.map(({ jar, body }) => putObject(client, jarRepositoryBucket(artifactBucket), jar.key, body, withDigest ? { sha256: jar.digest.slice(7) } : undefined)));
}

const copies = (log: LoggedRequest[]): number => log.filter((r) => r.command === 'CopyObjectCommand' || r.command === 'UploadPartCopyCommand').length;

describe('jar preload over S3 (versitygw, AWS SDK default checksums)', () => {
  const log: LoggedRequest[] = [];
  const clients = testClients({ log, checksums: 'sdk-default' });
  const artifacts = uniqueBucket('flink-artifacts');
  const profile = testProfile('az-b', 'unused-state', artifacts);
  const raw = clients.client(profile.s3Endpoint);
  const store = testStore(clients, [profile]);
  afterAll(() => clients.destroy());

  it('copies a jar, verifies it, and skips it when present with the same digest', async () => {
    await createBuckets(raw, artifacts, jarRepositoryBucket(artifacts));
    const a = makeJar('skip', 300 * 1024);
    await publish(raw, artifacts, [a]);
    expect(await store.hasArtifact('az-b', a.jar, 'cache')).toBe(false);
    expect(await store.hasArtifact('az-b', a.jar, 'repository')).toBe(true);
    log.length = 0;
    expect(await store.preloadArtifact('az-b', a.jar)).toEqual({ copiedBytes: a.body.length });
    expect(copies(log)).toBe(1);
    expect(await store.hasArtifact('az-b', a.jar, 'cache')).toBe(true);
    log.length = 0;
    expect(await store.preloadArtifact('az-b', a.jar)).toEqual({ copiedBytes: 0 });
    expect(copies(log)).toBe(0);
    expect(log.map((r) => r.command)).toEqual(['HeadObjectCommand']);
  });

  it('dedup: concurrent preloads of one jar (bulk preload and jobs) make one copy', async () => {
    const j = makeJar('dedup', 200 * 1024);
    await publish(raw, artifacts, [j]);
    const stager = new JarStager(store);
    log.length = 0;
    const results = await Promise.all([stager.copy('az-b', j.jar), stager.ensure('az-b', j.jar, 'ns/job-1'), stager.ensure('az-b', j.jar, 'ns/job-2')]);
    expect(results.map((r) => r.copiedBytes)).toEqual([j.body.length, j.body.length, j.body.length]);
    expect(copies(log)).toBe(1);
  });

  it('multipart UploadPartCopy above the threshold (small threshold and parts here), progress per part', async () => {
    const big = makeJar('multipart', 12 * MiB + 123);
    await publish(raw, artifacts, [big]);
    const multipart = testStore(clients, [profile], { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, partConcurrency: 2 });
    const progress: number[] = [];
    log.length = 0;
    expect(await multipart.preloadArtifact('az-b', big.jar, (b) => progress.push(b))).toEqual({ copiedBytes: big.body.length });
    expect(log.filter((r) => r.command === 'UploadPartCopyCommand')).toHaveLength(3);
    expect(log.filter((r) => r.command === 'CopyObjectCommand')).toHaveLength(0);
    expect(progress.reduce((a, b) => a + b, 0)).toBe(big.body.length);
    expect(await store.hasArtifact('az-b', big.jar, 'cache')).toBe(true);
  });

  it('digest mismatch: a published digest that differs is refused before copying; content that does not hash to the digest is detected after copy and the copy deleted', async () => {
    const wrongMeta = makeJar('wrong-meta', 1024);
    await putObject(raw, jarRepositoryBucket(artifacts), wrongMeta.jar.key, wrongMeta.body, { sha256: 'f'.repeat(64) });
    await expect(store.preloadArtifact('az-b', wrongMeta.jar)).rejects.toMatchObject({ code: 'invalid', retryable: false, message: expect.stringMatching(/jars\/team\/wrong-meta\.jar.*published with digest sha256:f{64}/) });

    const corrupt = makeJar('corrupt', 2048);
    await putObject(raw, jarRepositoryBucket(artifacts), corrupt.jar.key, randomBytes(2048));
    await expect(store.preloadArtifact('az-b', corrupt.jar)).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/jars\/team\/corrupt\.jar: the copy .* hashes to sha256:[0-9a-f]{64}, the catalog expects/) });
    await expect(raw.send(new HeadObjectCommand({ Bucket: artifacts, Key: corrupt.jar.key }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('missing source: the jobs needing the jar fail with it named, the others start', async () => {
    const present = makeJar('present', 1024);
    const absent = makeJar('absent', 1024);
    await publish(raw, artifacts, [present]);
    const stager = new JarStager(store);
    const [ok, bad] = await Promise.allSettled([stager.ensure('az-b', present.jar, 'ns/ok-job'), stager.ensure('az-b', absent.jar, 'ns/bad-job')]);
    expect(ok).toMatchObject({ status: 'fulfilled', value: { copiedBytes: 1024 } });
    expect(bad).toMatchObject({ status: 'rejected', reason: { type: 'JarMissing', nonRetryable: true, message: expect.stringMatching(/jar jars\/team\/absent\.jar \(sha256:[0-9a-f]{64}\) of ns\/bad-job is missing from az-b's jar repository/) } });
  });

  it('object deleted while its multipart copy runs → a clear per-jar error, no partial copy left', async () => {
    const j = makeJar('vanishing', 11 * MiB);
    await publish(raw, artifacts, [j]);
    // The delete lands between part 1 and part 2, deterministically: an SDK middleware on the
    // store's own client awaits it before part 2's UploadPartCopy goes out.
    const own = testClients({ checksums: 'sdk-default' });
    let deleted = false;
    own.client(profile.s3Endpoint, 'az-b').middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'UploadPartCopyCommand' && (args.input as { PartNumber?: number }).PartNumber === 2 && !deleted) {
        deleted = true;
        await raw.send(new DeleteObjectCommand({ Bucket: jarRepositoryBucket(artifacts), Key: j.jar.key }));
      }
      return next(args);
    }, { step: 'initialize', name: 'deleteBeforePart2' });
    const slow = testStore(own, [profile], { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, partConcurrency: 1 });
    const attempt = slow.preloadArtifact('az-b', j.jar);
    const err = await attempt.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'not-found', retryable: false, message: expect.stringMatching(/jar jars\/team\/vanishing\.jar \(sha256:[0-9a-f]{64}\) was deleted from s3:\/\/.*during the copy/) });
    expect(deleted).toBe(true);
    expect(await store.hasArtifact('az-b', j.jar, 'cache')).toBe(false);
    own.destroy();
  });

  it('503 SlowDown from a fault proxy in front of versitygw (process-boundary mock) is retried with backoff', async () => {
    const j = makeJar('throttled', 64 * 1024);
    await publish(raw, artifacts, [j]);
    let n = 0;
    const proxy = await startFaultProxy({ target: profile.s3Endpoint, fault: () => (n++ % 2 === 0 ? S3_SLOW_DOWN : undefined) }); // every other request throttled
    const viaProxy = testClients({ checksums: 'sdk-default', maxAttempts: 5 });
    try {
      const throttledStore = testStore(viaProxy, [{ ...profile, s3Endpoint: proxy.endpoint }]);
      expect(await throttledStore.preloadArtifact('az-b', j.jar)).toEqual({ copiedBytes: j.body.length });
      expect(proxy.faulted).toBeGreaterThanOrEqual(3);
      const once = testStore(testClients({ maxAttempts: 1 }), [{ ...profile, s3Endpoint: proxy.endpoint }]);
      await expect(once.hasArtifact('az-b', j.jar, 'cache').then(() => once.hasArtifact('az-b', j.jar, 'cache')))
        .rejects.toMatchObject({ code: 'throttled', retryable: true, message: expect.stringMatching(/\(HTTP 503\).*throttling, retry with backoff/) });
    } finally {
      viaProxy.destroy();
      await proxy.close();
    }
  });
});

describe('preload resumes after the S3 server restarts (versitygw, own server)', () => {
  it('stopped mid-preload and restarted: the re-run copies only what was not done', async () => {
    const root = mkdtempSync(join(tmpdir(), 'az-evac-s3-restart-'));
    const s3 = testS3();
    const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    let server = await startS3Server({ rootDir: root, credentials });
    const log: LoggedRequest[] = [];
    const clients = testClients({ log, maxAttempts: 1 });
    try {
      const artifacts = uniqueBucket('flink-artifacts');
      const profile = { ...testProfile('az-b', 'unused', artifacts), s3Endpoint: server.endpoint };
      const raw = clients.client(server.endpoint);
      await createBuckets(raw, artifacts, jarRepositoryBucket(artifacts));
      const jars = Array.from({ length: 12 }, (_, i) => makeJar(`restart-${i}`, 512 * 1024));
      await publish(raw, artifacts, jars);
      const store = testStore(clients, [profile]);
      const stager = new JarStager(store);

      const done: string[] = [];
      let stopping: Promise<void> | undefined;
      const bound = pLimit(2); // jars at once, as the preload activity bounds them
      const first = await Promise.allSettled(jars.map(({ jar }) => bound(async () => {
        const r = await stager.copy('az-b', jar);
        done.push(jar.key);
        if (done.length === 4) stopping ??= server.stop();
        return r;
      })));
      await stopping;
      const failed = first.filter((r) => r.status === 'rejected');
      expect(done.length).toBeGreaterThanOrEqual(4);
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) expect((f as PromiseRejectedResult).reason).toMatchObject({ retryable: true });

      server = await startS3Server({ rootDir: root, credentials, port: server.port });
      // What the server holds now: every copy that completed before the stop (some of them
      // were still being verified when it stopped, so `done` may count fewer).
      const present = (await Promise.all(jars.map(({ jar }) => store.hasArtifact('az-b', jar, 'cache')))).filter(Boolean).length;
      expect(present).toBeGreaterThanOrEqual(done.length);
      expect(present).toBeLessThan(jars.length);
      const copiesBefore = copies(log);
      const second = await Promise.all(jars.map(({ jar }) => stager.copy('az-b', jar)));
      expect(second.filter((r) => r.copiedBytes > 0)).toHaveLength(jars.length - present);
      expect(copies(log) - copiesBefore).toBe(jars.length - present);
      for (const { jar } of jars) expect(await store.hasArtifact('az-b', jar, 'cache')).toBe(true);
    } finally {
      clients.destroy();
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});


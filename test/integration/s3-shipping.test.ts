/**
 * Shipping savepoints made by real Flink (test/fixtures/flink/, their native-format savepoint:
 * what protection takes) between AZ object stores that do not replicate: two real S3 servers
 * (versitygw, one per AZ), and two buckets of one server for the server-side copy. The copy
 * must restore: the target's snapshot lookup chooses it, with the source's completion time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotOwner } from '../../domain/snapshot-owner.js';
import { PlatformError } from '../../platform/errors.js';
import { committedFixtures, filesUnder, type Fixture } from '../unit/fixtures/flink.js';
import { createBuckets, putObject, testClients, testProfile, testStore, uniqueBucket, type LoggedRequest } from '../setup/s3.js';

const PREFIX = 'savepoints/payments/enricher';

/** Put the fixture's native savepoint under PREFIX in `bucket`, `_metadata` last. @returns its s3:// path */
async function putSavepoint(client: ReturnType<ReturnType<typeof testClients>['client']>, bucket: string, fx: Fixture): Promise<string> {
  const name = fx.info.nativeSavepoint;
  const files = filesUnder(fx, `savepoints/${name}`);
  const meta = files.find((f) => f.endsWith('/_metadata'))!;
  for (const f of [...files.filter((f) => f !== meta), meta]) await putObject(client, bucket, `${PREFIX}/${f.slice('savepoints/'.length)}`, readFileSync(join(fx.dir, f)));
  return `s3://${bucket}/${PREFIX}/${name}`;
}

function ownerOf(fx: Fixture): SnapshotOwner {
  return { checkpointPrefix: 'checkpoints/payments/enricher', savepointPrefix: PREFIX, jobIds: [fx.info.jobId] };
}

/** Resolves once the wall clock is in a later second than when called (S3 times have whole seconds). */
async function nextSecond(): Promise<void> {
  const next = (Math.floor(Date.now() / 1000) + 1) * 1000 + 50;
  while (Date.now() < next) await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, next - Date.now()))));
}

describe('savepoint shipping over S3 (versitygw)', () => {
  const log: LoggedRequest[] = [];
  const clients = testClients({ checksums: 'when-required', log });
  afterAll(() => clients.destroy());
  const a = uniqueBucket('state-az-a');
  const b = uniqueBucket('state-az-b');
  const bSame = uniqueBucket('state-az-b-same');
  const twoServers = [testProfile('az-a', a, 'jars'), testProfile('az-b', b, 'jars')];
  const store = testStore(clients, twoServers);
  const sources = new Map<string, string>();

  beforeAll(async () => {
    const ca = clients.client(twoServers[0]!.s3Endpoint);
    await createBuckets(ca, a, bSame);
    await createBuckets(clients.client(twoServers[1]!.s3Endpoint), b);
    for (const fx of committedFixtures) sources.set(fx.label, await putSavepoint(ca, a, fx));
    await nextSecond();
  });

  it.each(committedFixtures.map((fx) => [fx.label, fx] as const))('%s: ships the native savepoint between two stores, verified, restorable in the target with the source completion time', async (_label, fx) => {
    const src = sources.get(fx.label)!;
    const shipped = await store.shipSavepoint('az-a', 'az-b', src);
    const dir = src.slice(`s3://${a}/`.length);
    expect(shipped.path).toBe(`s3://${b}/${dir}`);
    const dataFiles = filesUnder(fx, `savepoints/${fx.info.nativeSavepoint}`).length - 1;
    expect(shipped.files).toBe(dataFiles);
    expect(shipped.copiedBytes).toBeGreaterThan(0);
    const [source] = (await store.listSnapshots('az-a', ownerOf(fx)));
    expect(shipped.completedAtEpochSeconds).toBe(Math.floor(source!.completedAtEpochSeconds));
    // The target lookup restores from the copy; its time is the source's, not the (later) copy's.
    const choice = await store.findSnapshot('az-b', ownerOf(fx), { layout: 'per-az-buckets', nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 });
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: shipped.path, kind: 'savepoint', referencedFilesPresent: true, shippedFrom: src, completedAtEpochSeconds: shipped.completedAtEpochSeconds } });
    // Streamed through the worker: two servers cannot copy server-side.
    expect(log.some((r) => r.command === 'CopyObjectCommand')).toBe(false);
    // A retried ship copies nothing and verifies again.
    expect(await store.shipSavepoint('az-a', 'az-b', src)).toMatchObject({ path: shipped.path, copiedBytes: 0 });
  });

  it('copies server-side (CopyObject) when both AZs are one S3 service', async () => {
    const fx = committedFixtures[0]!;
    const same = testStore(clients, [twoServers[0]!, { ...testProfile('az-b', bSame, 'jars'), s3Endpoint: twoServers[0]!.s3Endpoint }]);
    log.length = 0;
    const shipped = await same.shipSavepoint('az-a', 'az-b', sources.get(fx.label)!);
    const copies = log.filter((r) => r.command === 'CopyObjectCommand');
    expect(copies).toHaveLength(shipped.files);
    expect(log.filter((r) => r.command === 'PutObjectCommand').map((r) => String(r.input.Key))).toEqual([`${shipped.path.slice(`s3://${bSame}/`.length)}/_metadata`]);
    expect(await same.findSnapshot('az-b', ownerOf(fx), { layout: 'per-az-buckets', nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 })).toMatchObject({ kind: 'snapshot', snapshot: { path: shipped.path } });
  });

  it('ships a file above the multipart threshold in parts (UploadPart between two stores, UploadPartCopy within one), byte-equal and restorable', async () => {
    const fx = committedFixtures[0]!;
    // One data file padded to 11 MiB (shipping never reads data files, only `_metadata`): with
    // 5 MiB parts (S3's and versitygw's smallest) and a 5 MiB threshold it goes in 3 parts, as a
    // file above 5 GiB goes with the default settings; the other files in one request each.
    const MiB = 1024 ** 2;
    const limits = { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, partConcurrency: 2 };
    const ca = clients.client(twoServers[0]!.s3Endpoint);
    const large = uniqueBucket('state-az-a-large');
    await createBuckets(ca, large);
    const files = filesUnder(fx, `savepoints/${fx.info.nativeSavepoint}`);
    const meta = files.find((f) => f.endsWith('/_metadata'))!;
    const bodies = new Map(files.filter((f) => f !== meta).map((f) => [`${PREFIX}/${f.slice('savepoints/'.length)}`, readFileSync(join(fx.dir, f))]));
    const [bigKey, small] = [...bodies][0]!;
    bodies.set(bigKey, Buffer.concat([small, Buffer.alloc(11 * MiB - small.length, 7)]));
    for (const [k, body] of bodies) await putObject(ca, large, k, body);
    await putObject(ca, large, `${PREFIX}/${meta.slice('savepoints/'.length)}`, readFileSync(join(fx.dir, meta)));
    const src = `s3://${large}/${PREFIX}/${fx.info.nativeSavepoint}`;
    const streamedB = uniqueBucket('state-az-b-parts');
    const sameB = uniqueBucket('state-az-b-parts-same');
    await createBuckets(clients.client(twoServers[1]!.s3Endpoint), streamedB);
    await createBuckets(ca, sameB);
    for (const [label, profile, partCommand] of [
      ['two stores', testProfile('az-b', streamedB, 'jars'), 'UploadPartCommand'],
      ['one store', { ...testProfile('az-b', sameB, 'jars'), s3Endpoint: twoServers[0]!.s3Endpoint }, 'UploadPartCopyCommand'],
    ] as const) {
      const parted = testStore(clients, [testProfile('az-a', large, 'jars'), profile], limits);
      log.length = 0;
      const shipped = await parted.shipSavepoint('az-a', 'az-b', src);
      expect(log.filter((r) => r.command === partCommand).map((r) => [r.input.Key, r.input.PartNumber]), label).toEqual(expect.arrayContaining([[bigKey, 1], [bigKey, 2], [bigKey, 3]]));
      expect(log.filter((r) => r.command === partCommand), label).toHaveLength(3);
      expect(log.filter((r) => r.command === 'CompleteMultipartUploadCommand').map((r) => r.input.Key), label).toEqual([bigKey]);
      const whole = log.filter((r) => r.command === 'PutObjectCommand' || r.command === 'CopyObjectCommand').map((r) => String(r.input.Key));
      expect(whole, label).not.toContain(bigKey);
      expect(shipped.copiedBytes, label).toBe([...bodies.values()].reduce((n, b) => n + b.length, 0));
      // The copy is the source, byte for byte, and the target's lookup restores from it.
      const target = clients.client(profile.s3Endpoint);
      for (const [k, body] of bodies) {
        const got = await target.send(new GetObjectCommand({ Bucket: profile.stateBucket, Key: k }));
        expect(Buffer.compare(Buffer.from(await got.Body!.transformToByteArray()), body), `${label}: ${k}`).toBe(0);
      }
      expect(await parted.findSnapshot('az-b', ownerOf(fx), { layout: 'per-az-buckets', nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 }), label)
        .toMatchObject({ kind: 'snapshot', snapshot: { path: shipped.path, referencedFilesPresent: true, shippedFrom: src } });
    }
  });

  it('a source missing a referenced file is refused naming it, and leaves no restorable copy', async () => {
    const fx = committedFixtures[1]!;
    const ca = clients.client(twoServers[0]!.s3Endpoint);
    const damaged = uniqueBucket('state-az-a-damaged');
    await createBuckets(ca, damaged);
    const src = await putSavepoint(ca, damaged, fx);
    const dir = src.slice(`s3://${damaged}/`.length);
    const victim = filesUnder(fx, `savepoints/${fx.info.nativeSavepoint}`).find((f) => !f.endsWith('_metadata'))!.slice('savepoints/'.length);
    await ca.send(new DeleteObjectCommand({ Bucket: damaged, Key: `${PREFIX}/${victim}` }));
    const fresh = uniqueBucket('state-az-b-fresh');
    await createBuckets(clients.client(twoServers[1]!.s3Endpoint), fresh);
    const damagedStore = testStore(clients, [testProfile('az-a', damaged, 'jars'), testProfile('az-b', fresh, 'jars')]);
    const err = await damagedStore.shipSavepoint('az-a', 'az-b', src).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'not-found', message: expect.stringContaining(`s3://${damaged}/${PREFIX}/${victim}`) });
    const head = await clients.client(twoServers[1]!.s3Endpoint).send(new HeadObjectCommand({ Bucket: fresh, Key: `${dir}/_metadata` })).catch(() => undefined);
    expect(head).toBeUndefined();
  });

  it('a target store that refuses the write is reported, naming the bucket', async () => {
    const fx = committedFixtures[0]!;
    const refusing = testStore(clients, [twoServers[0]!, testProfile('az-b', uniqueBucket('no-such-bucket'), 'jars')]);
    const err = await refusing.shipSavepoint('az-a', 'az-b', sources.get(fx.label)!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as Error).message).toMatch(/no-such-bucket/);
  });

  it('refuses a checkpoint and a path outside the source AZ bucket, naming them', async () => {
    await expect(store.shipSavepoint('az-a', 'az-b', `s3://${a}/checkpoints/payments/enricher/${committedFixtures[0]!.info.jobId}/chk-8`)).rejects.toThrow(/not a savepoint directory.*only savepoints are relocatable/);
    await expect(store.shipSavepoint('az-a', 'az-b', `s3://elsewhere/${PREFIX}/savepoint-aaaaaa-000000000000`)).rejects.toThrow(/is not a directory of az-a's state bucket/);
  });

  it('deletes a shipped copy (_metadata first, so it is never half-restorable) and refuses to delete a job\'s own savepoint', async () => {
    const fx = committedFixtures[2] ?? committedFixtures[0]!;
    const src = sources.get(fx.label)!;
    const shipped = await store.shipSavepoint('az-a', 'az-b', src);
    log.length = 0;
    const deleted = await store.deleteShipped('az-b', shipped.path);
    expect(deleted).toBe(shipped.files + 1);
    const deletes = log.filter((r) => r.command === 'DeleteObjectCommand').map((r) => String(r.input.Key));
    expect(deletes[0]).toMatch(/\/_metadata$/);
    expect((await store.listSnapshots('az-b', ownerOf(fx))).map((c) => c.path)).not.toContain(shipped.path);
    expect(await store.deleteShipped('az-b', shipped.path)).toBe(0);
    await expect(store.deleteShipped('az-a', src)).rejects.toThrow(/was not shipped by az-evac.*retention never deletes it/);
    expect((await store.listSnapshots('az-a', ownerOf(fx))).map((c) => c.path)).toContain(src);
  });
});

/**
 * Shipping a savepoint from one AZ's state bucket into another's, where the platform profile
 * declares that the pair does not replicate (PlatformProfile.notReplicated), and expiring
 * what was shipped (docs/protection.md, docs/flink-snapshots.md "Shipping a savepoint").
 *
 * Only savepoints are shipped: their `_metadata` names their files relative to their own
 * directory (Flink ≥ 1.11, FLINK-5763), so the copy restores from the other bucket unchanged;
 * a checkpoint's `_metadata` holds absolute paths into the source bucket (domain/snapshot-layout.ts).
 *
 * Ship (`shipSavepoint`), per savepoint directory:
 * 1. GetObject of the source `_metadata`; its bytes are read as Flink's format
 *    (readSnapshotFiles), which lists every file it references and refuses one that is not
 *    relocatable. A file already in the target with the source's size is not copied again (a
 *    retried ship resumes).
 * 2. Each referenced file is copied with object-copy.ts copyS3Object, conditional on the ETag
 *    its HeadObject saw and keeping its user metadata: server-side (CopyObject, no byte through
 *    the worker) when both AZs are served by the same S3 endpoint (e.g. two buckets of one AWS
 *    region), otherwise (two object stores) streamed from GetObject into PutObject. A file above
 *    `multipartThresholdBytes`, and always one above S3's 5 GiB single-copy limit, is copied in
 *    parts (UploadPartCopy, or ranged GetObjects into UploadPart), at most 10,000 of them.
 * 3. `_metadata` is written LAST (Flink's own rule: without it a snapshot is incomplete, so an
 *    evacuation never restores a half-shipped copy), carrying two user-metadata keys:
 *    SHIPPED_FROM_METADATA (the source directory, `s3://…`) and COMPLETED_AT_METADATA (the
 *    source `_metadata`'s last-modified time, epoch seconds): the copy's own last-modified
 *    time is when it was shipped, and the RPO an evacuation pays is the age of the state, so
 *    the listing (snapshot-listing.ts) takes the completion time from this key.
 * 4. Verify: the target `_metadata` is read back and must be byte-equal to the source's, read
 *    as Flink's format again, and every file it references must be in the target with the
 *    source's size. A copy that fails verification has its `_metadata` deleted (never
 *    restorable) and PlatformError('invalid') names the first difference.
 *
 * Every request goes through the caller's concurrency bound and S3 retry policy.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { METADATA, readSnapshotFiles, resolveReference, SAVEPOINT_DIR } from '../../domain/snapshot-layout.js';
import { PlatformError } from '../errors.js';
import { s3Call, unlessMissing, type S3CallContext } from './errors.js';
import { copiesInParts, copyS3Object, type CopyLimits } from './object-copy.js';

/** User-metadata key (x-amz-meta-…) on a shipped `_metadata`: the source directory it was shipped from, `s3://bucket/key`. */
export const SHIPPED_FROM_METADATA = 'az-evac-shipped-from';
/** User-metadata key on a shipped `_metadata`: the source `_metadata`'s last-modified time, epoch seconds (the snapshot's completion time). */
export const COMPLETED_AT_METADATA = 'az-evac-completed-at';

/** Files of one savepoint copied at once. */
const FILE_CONCURRENCY = 4;

/** One AZ's side of a ship: its client, endpoint (to tell whether both sides are one service) and state bucket. */
export interface ShipSide {
  client: S3Client;
  endpoint: string;
  bucket: string;
}

/** What a ship needs: both sides, the request bound and retry policy, and how large files are copied. */
export interface ShipContext extends S3CallContext, CopyLimits {
  source: ShipSide;
  target: ShipSide;
}

/** Outcome of a ship. */
export interface ShipResult {
  /** The copy, `s3://<target bucket>/<dir>`. */
  path: string;
  /** Files `_metadata` references (the copy also holds `_metadata`). */
  files: number;
  /** Bytes copied by this call (files already present are not counted). */
  copiedBytes: number;
  /** The source snapshot's completion time, epoch seconds. */
  completedAtEpochSeconds: number;
  /** true: copied with CopyObject (server-side); false: streamed through the worker. */
  serverSide: boolean;
  /** Files copied in parts (a multipart upload: larger than `multipartThresholdBytes`). */
  multipartFiles: number;
}

/**
 * Ship the savepoint directory `dirKey` (no trailing `/`) from `ctx.source.bucket` to the same
 * key in `ctx.target.bucket`, `_metadata` last, then verify the copy (see the file comment).
 * Idempotent: a retried ship copies only what is missing and verifies again.
 * @throws PlatformError('not-found') when the source has no `_metadata` (incomplete or expired)
 *   or lacks a file it references; PlatformError('invalid', non-retryable) when `dirKey` is not
 *   a savepoint directory, `_metadata` is not Flink's format or not
 *   relocatable, or the copy fails verification; 'conflict' when a source file changed during the copy;
 *   other PlatformErrors as classified (a store that refuses the write: 'forbidden', …)
 */
export async function shipSavepoint(ctx: ShipContext, dirKey: string): Promise<ShipResult> {
  const { source, target } = ctx;
  if (!SAVEPOINT_DIR.test(dirKey.slice(dirKey.lastIndexOf('/') + 1)))
    throw new PlatformError('invalid', `s3://${source.bucket}/${dirKey} is not a savepoint directory (savepoint-<6 hex>-<12 hex>): only savepoints are relocatable, a checkpoint's _metadata points into its own bucket`, false);
  const metaKey = `${dirKey}/${METADATA}`;
  const src = await readObject(ctx, source, metaKey);
  if (!src) throw new PlatformError('not-found', `s3://${source.bucket}/${metaKey} does not exist: the savepoint is incomplete or was expired; take a new one`, false);
  const completedAtEpochSeconds = Math.floor((src.lastModified?.getTime() ?? 0) / 1000);
  const refs = filesOf(src.bytes, source.bucket, dirKey, 'source');
  const serverSide = source.endpoint === target.endpoint;
  const limit = pLimit(FILE_CONCURRENCY);
  const sizes = new Map<string, number>();
  let multipartFiles = 0;
  const copied = await Promise.all(refs.map((key) => limit(async () => {
    const head = await headObject(ctx, source, key);
    if (!head) throw new PlatformError('not-found', `s3://${source.bucket}/${key}, referenced by s3://${source.bucket}/${metaKey}, does not exist: the savepoint is damaged; take a new one`, false);
    sizes.set(key, head.size);
    if ((await headObject(ctx, target, key))?.size === head.size) return 0;
    if (copiesInParts(head.size, ctx)) multipartFiles++;
    await copyS3Object(ctx, {
      source: { client: source.client, bucket: source.bucket, key }, target: { client: target.client, bucket: target.bucket, key },
      size: head.size, serverSide, ...(head.etag ? { ifMatch: head.etag } : {}), metadata: head.metadata,
    });
    return head.size;
  })));
  await s3Call(ctx, `write s3://${target.bucket}/${metaKey}`, () => target.client.send(new PutObjectCommand({
    Bucket: target.bucket, Key: metaKey, Body: src.bytes, ContentLength: src.bytes.length,
    Metadata: { [SHIPPED_FROM_METADATA]: `s3://${source.bucket}/${dirKey}`, [COMPLETED_AT_METADATA]: String(completedAtEpochSeconds) },
  })));
  await verifyCopy(ctx, dirKey, src.bytes, sizes);
  return { path: `s3://${target.bucket}/${dirKey}`, files: refs.length, copiedBytes: copied.reduce((a, b) => a + b, 0), completedAtEpochSeconds, serverSide, multipartFiles };
}

/**
 * Delete a shipped copy from `side.bucket`: `_metadata` first (from then on the copy is
 * incomplete and no lookup restores from it), then every other object under the directory.
 * Only a directory whose `_metadata` carries SHIPPED_FROM_METADATA is deleted: a savepoint
 * the AZ's own jobs wrote is never touched. Idempotent (an absent copy is nothing to do).
 * @returns objects deleted
 * @throws PlatformError('invalid') when the directory holds a `_metadata` az-evac did not ship
 */
export async function deleteShippedCopy(ctx: S3CallContext, side: Omit<ShipSide, 'endpoint'>, dirKey: string): Promise<number> {
  const metaKey = `${dirKey}/${METADATA}`;
  const head = await unlessMissing(s3Call(ctx, `head s3://${side.bucket}/${metaKey}`, () => side.client.send(new HeadObjectCommand({ Bucket: side.bucket, Key: metaKey }))));
  if (head && head.Metadata?.[SHIPPED_FROM_METADATA] === undefined)
    throw new PlatformError('invalid', `s3://${side.bucket}/${dirKey} was not shipped by az-evac (its _metadata has no x-amz-meta-${SHIPPED_FROM_METADATA}); retention never deletes it`, false);
  let deleted = 0;
  if (head) {
    await s3Call(ctx, `delete s3://${side.bucket}/${metaKey}`, () => side.client.send(new DeleteObjectCommand({ Bucket: side.bucket, Key: metaKey })));
    deleted++;
  }
  let token: string | undefined;
  do {
    const page = await s3Call(ctx, `list s3://${side.bucket}/${dirKey}/`, () => side.client.send(new ListObjectsV2Command({ Bucket: side.bucket, Prefix: `${dirKey}/`, ContinuationToken: token })));
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key === metaKey) continue;
      await s3Call(ctx, `delete s3://${side.bucket}/${o.Key}`, () => side.client.send(new DeleteObjectCommand({ Bucket: side.bucket, Key: o.Key })));
      deleted++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return deleted;
}

/** Keys of the files `_metadata` references; they all lie in `dirKey` (readSnapshotFiles refuses others). */
function filesOf(bytes: Uint8Array, bucket: string, dirKey: string, side: string): string[] {
  try {
    return readSnapshotFiles(bytes, { bucket, dirKey }).files.map((ref) => resolveReference(bucket, dirKey, ref).key);
  } catch (err) {
    throw new PlatformError('invalid', `${side} s3://${bucket}/${dirKey}/${METADATA} cannot be shipped: ${(err as Error).message}`, false);
  }
}

/** The target copy equals the source: `_metadata` bytes, and every referenced file present with the source's size. */
async function verifyCopy(ctx: ShipContext, dirKey: string, sourceBytes: Uint8Array, sizes: ReadonlyMap<string, number>): Promise<void> {
  const { target } = ctx;
  const metaKey = `${dirKey}/${METADATA}`;
  const fail = async (why: string): Promise<never> => {
    await s3Call(ctx, `delete s3://${target.bucket}/${metaKey}`, () => target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: metaKey })));
    throw new PlatformError('invalid', `the copy s3://${target.bucket}/${dirKey} failed verification and was made incomplete (its _metadata deleted): ${why}`, false);
  };
  const copy = await readObject(ctx, target, metaKey);
  if (!copy) return fail(`${METADATA} is missing after it was written`);
  if (Buffer.compare(Buffer.from(copy.bytes), Buffer.from(sourceBytes)) !== 0) return fail(`${METADATA} differs from the source's (${copy.bytes.length} vs ${sourceBytes.length} bytes)`);
  for (const key of filesOf(copy.bytes, target.bucket, dirKey, 'target')) {
    const head = await headObject(ctx, target, key);
    if (!head) return fail(`s3://${target.bucket}/${key}, referenced by ${METADATA}, is missing`);
    if (head.size !== sizes.get(key)) return fail(`s3://${target.bucket}/${key} is ${head.size} bytes, the source's ${sizes.get(key)}`);
  }
}

async function readObject(ctx: S3CallContext, side: Omit<ShipSide, 'endpoint'>, key: string): Promise<{ bytes: Uint8Array; lastModified?: Date } | undefined> {
  return unlessMissing(s3Call(ctx, `read s3://${side.bucket}/${key}`, async () => {
    const got = await side.client.send(new GetObjectCommand({ Bucket: side.bucket, Key: key }));
    return { bytes: await got.Body!.transformToByteArray(), ...(got.LastModified ? { lastModified: got.LastModified } : {}) };
  }));
}

async function headObject(ctx: S3CallContext, side: Omit<ShipSide, 'endpoint'>, key: string): Promise<{ size: number; etag?: string; metadata: Record<string, string> } | undefined> {
  const head = await unlessMissing(s3Call(ctx, `head s3://${side.bucket}/${key}`, () => side.client.send(new HeadObjectCommand({ Bucket: side.bucket, Key: key }))));
  return head ? { size: head.ContentLength ?? 0, ...(head.ETag ? { etag: head.ETag } : {}), metadata: head.Metadata ?? {} } : undefined;
}

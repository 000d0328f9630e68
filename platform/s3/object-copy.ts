/**
 * Copying one S3 object, whatever its size: the one copy routine of the S3 adapter, used by the
 * jar preload (jar-copy.ts: repository bucket → artifact bucket of one AZ) and by savepoint
 * shipping (snapshot-shipping.ts: one AZ's state bucket → another's).
 *
 * S3 limits it rests on (docs/object-stores.md "Copying large objects"):
 * - one CopyObject, like one PutObject, takes a source of at most 5 GiB (AWS S3 API Reference,
 *   "CopyObject": "You can store individual objects of up to 5 TB in Amazon S3. You create a
 *   copy of your object up to 5 GB in size in a single atomic action using this API. However, to
 *   copy an object greater than 5 GB, you must use the multipart upload Upload Part - Copy
 *   (UploadPartCopy) API");
 * - a multipart upload has at most 10,000 parts of 5 MiB to 5 GiB each, the last part may be
 *   smaller, and an object at most 5 TiB (AWS S3 User Guide, "Amazon S3 multipart upload limits").
 *
 * Two ways, chosen by `serverSide`:
 * - server-side (both buckets served by one S3 service): CopyObject up to the threshold, above it
 *   CreateMultipartUpload + UploadPartCopy of byte ranges + CompleteMultipartUpload; no byte
 *   passes through the worker;
 * - streamed (two services, e.g. two AZs' own object stores, which cannot copy between each
 *   other): GetObject → PutObject up to the threshold, above it ranged GetObjects each streamed
 *   into one UploadPart of a multipart upload.
 * The threshold (`multipartThresholdBytes`) is capped at 5 GiB, so a larger object always goes
 * multipart; the part size (`partSizeBytes`) is raised where needed so that no object needs more
 * than 10,000 parts. Every read of the source is conditional on `ifMatch` (its ETag) when given:
 * an object replaced or deleted during the copy fails with 'conflict' (S3 412) or 'not-found',
 * never a mixed copy. A multipart copy that fails is aborted (no orphaned parts left billed).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { PlatformError } from '../errors.js';
import { s3Call, type S3CallContext } from './errors.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** S3's size limits for copies and multipart uploads (see the file comment for the sources). */
export const S3_LIMITS = {
  /** Largest source one CopyObject (or PutObject) takes: 5 GiB. */
  maxSingleCopyBytes: 5 * GiB,
  /** Most parts in one multipart upload: 10,000. */
  maxParts: 10_000,
  /** Smallest part but the last on AWS: 5 MiB. */
  minPartBytes: 5 * MiB,
  /** Largest part: 5 GiB. */
  maxPartBytes: 5 * GiB,
  /** Largest object: 5 TiB. */
  maxObjectBytes: 5 * 1024 * GiB,
} as const;

/**
 * How objects are copied, bytes (settings AZ_EVAC_S3_MULTIPART_THRESHOLD_BYTES, AZ_EVAC_S3_PART_BYTES,
 * AZ_EVAC_S3_PART_CONCURRENCY; defaults 5 GiB, 256 MiB, 4).
 */
export interface CopyLimits {
  /** Largest object copied in one request (CopyObject / PutObject); above it multipart. Capped at S3_LIMITS.maxSingleCopyBytes. */
  multipartThresholdBytes: number;
  /** Part size of a multipart copy (≥ S3_LIMITS.minPartBytes on AWS; any size on versitygw), raised so no object needs more than 10,000 parts. */
  partSizeBytes: number;
  /** Parts of one object copied at once, ≥ 1. */
  partConcurrency: number;
}

/** One object. */
export interface ObjectRef {
  client: S3Client;
  bucket: string;
  key: string;
}

/** One copy. */
export interface ObjectCopy {
  source: ObjectRef;
  target: ObjectRef;
  /** The source's size, bytes (from its HeadObject). */
  size: number;
  /** true: both buckets are one S3 service (CopyObject / UploadPartCopy); false: streamed through the worker. */
  serverSide: boolean;
  /** The source's ETag: every read of it is conditional on it. */
  ifMatch?: string;
  /** User metadata of the copy (x-amz-meta-…), replacing the source's. */
  metadata?: Record<string, string>;
  contentType?: string;
}

/**
 * The byte ranges (inclusive) a multipart copy of `size` bytes uses: parts of `partSizeBytes`,
 * raised to ⌈size / 10,000⌉ when that is larger.
 * @throws PlatformError('invalid') when `size` exceeds S3's 5 TiB object limit or partSizeBytes is not ≥ 1
 */
export function partRanges(size: number, partSizeBytes: number): Array<[first: number, last: number]> {
  if (!(partSizeBytes >= 1)) throw new PlatformError('invalid', `part size ${partSizeBytes} bytes is not ≥ 1; set AZ_EVAC_S3_PART_BYTES (e.g. 268435456)`, false);
  if (size > S3_LIMITS.maxObjectBytes) throw new PlatformError('invalid', `an object of ${size} bytes is above S3's ${S3_LIMITS.maxObjectBytes}-byte (5 TiB) limit: it cannot be copied`, false);
  const part = Math.max(Math.floor(partSizeBytes), Math.ceil(size / S3_LIMITS.maxParts));
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < size; start += part) ranges.push([start, Math.min(size, start + part) - 1]);
  return ranges;
}

/** Whether an object of `size` bytes is copied with a multipart upload under `limits`. */
export function copiesInParts(size: number, limits: Pick<CopyLimits, 'multipartThresholdBytes'>): boolean {
  return size > Math.min(limits.multipartThresholdBytes, S3_LIMITS.maxSingleCopyBytes);
}

/**
 * Copy one object (see the file comment): one request up to the threshold, a multipart upload
 * above it. `onBytes` is called with the bytes of each finished request (the whole object, or a part).
 * @throws PlatformError classified from S3 (s3Call): 'conflict' when the source changed during the
 *   copy (ifMatch), 'not-found' when it vanished, 'forbidden' when a bucket refuses, …
 */
export async function copyS3Object(ctx: S3CallContext & CopyLimits, c: ObjectCopy, onBytes: (bytes: number) => void = () => {}): Promise<{ parts: number }> {
  if (!copiesInParts(c.size, ctx)) {
    await singleCopy(ctx, c);
    onBytes(c.size);
    return { parts: 1 };
  }
  return multipartCopy(ctx, c, onBytes);
}

function what(c: ObjectCopy): string {
  return `copy s3://${c.source.bucket}/${c.source.key} to s3://${c.target.bucket}/${c.target.key}`;
}

async function singleCopy(ctx: S3CallContext, c: ObjectCopy): Promise<void> {
  const { source, target } = c;
  if (c.serverSide) {
    await s3Call(ctx, what(c), () => target.client.send(new CopyObjectCommand({
      Bucket: target.bucket, Key: target.key, CopySource: copySource(source.bucket, source.key),
      ...(c.ifMatch ? { CopySourceIfMatch: c.ifMatch } : {}),
      ...(c.metadata ? { MetadataDirective: 'REPLACE' as const, Metadata: c.metadata } : {}),
      ...(c.contentType ? { ContentType: c.contentType } : {}),
    })));
    return;
  }
  await s3Call(ctx, what(c), async () => {
    const got = await source.client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...(c.ifMatch ? { IfMatch: c.ifMatch } : {}) }));
    const metadata = c.metadata ?? got.Metadata;
    await target.client.send(new PutObjectCommand({
      Bucket: target.bucket, Key: target.key, Body: got.Body, ContentLength: c.size,
      ...(metadata ? { Metadata: metadata } : {}), ...(c.contentType ? { ContentType: c.contentType } : {}),
    }));
  });
}

async function multipartCopy(ctx: S3CallContext & CopyLimits, c: ObjectCopy, onBytes: (bytes: number) => void): Promise<{ parts: number }> {
  const { source, target } = c;
  const ranges = partRanges(c.size, ctx.partSizeBytes);
  const created = await s3Call(ctx, `start multipart ${what(c)}`, () => target.client.send(new CreateMultipartUploadCommand({
    Bucket: target.bucket, Key: target.key, ...(c.metadata ? { Metadata: c.metadata } : {}), ...(c.contentType ? { ContentType: c.contentType } : {}),
  })));
  const uploadId = created.UploadId!;
  try {
    const limit = pLimit(Math.max(1, ctx.partConcurrency));
    const etags = await Promise.all(ranges.map(([first, last], i) => limit(async () => {
      const part = { Bucket: target.bucket, Key: target.key, UploadId: uploadId, PartNumber: i + 1 };
      const range = `bytes=${first}-${last}`;
      const etag = await s3Call(ctx, `part ${i + 1}/${ranges.length} of ${what(c)}`, async () => {
        if (c.serverSide) {
          const copied = await target.client.send(new UploadPartCopyCommand({
            ...part, CopySource: copySource(source.bucket, source.key), CopySourceRange: range, ...(c.ifMatch ? { CopySourceIfMatch: c.ifMatch } : {}),
          }));
          return copied.CopyPartResult!.ETag!;
        }
        const got = await source.client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, Range: range, ...(c.ifMatch ? { IfMatch: c.ifMatch } : {}) }));
        return (await target.client.send(new UploadPartCommand({ ...part, Body: got.Body, ContentLength: last - first + 1 }))).ETag!;
      });
      onBytes(last - first + 1);
      return etag;
    })));
    await s3Call(ctx, `complete multipart ${what(c)}`, () => target.client.send(new CompleteMultipartUploadCommand({
      Bucket: target.bucket, Key: target.key, UploadId: uploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    })));
    return { parts: ranges.length };
  } catch (err) {
    await target.client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}

/** `bucket/key` URL-encoded per segment, as CopySource wants it. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

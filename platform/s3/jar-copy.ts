/**
 * Server-side copy of one jar from an AZ's jar repository bucket into its artifact bucket
 * (the jar cache the clusters read), with the digest checked before and verified after.
 *
 * - Skip: HeadObject of the target; present with `x-amz-meta-sha256` equal to the jar's
 *   digest → nothing copied (a re-run, or a resumed preload, never recopies).
 * - Source: HeadObject; absent → PlatformError('not-found') naming the jar; its
 *   `x-amz-meta-sha256` (set by the publisher) differing from the catalog → 'invalid'.
 * - Copy: server-side, object-copy.ts copyS3Object (CopyObject up to `multipartThresholdBytes`,
 *   above it, and always above S3's 5 GiB CopyObject limit, a multipart UploadPartCopy, aborted
 *   when it fails). Every read of the source is conditional on the ETag seen by
 *   HeadObject: an object deleted during the copy → 'not-found' "deleted during the copy";
 *   replaced → 'conflict' (retryable: the next attempt re-checks the digest).
 * - Verify: GetObject of the copy, SHA-256 of its bytes against the digest; a mismatch
 *   deletes the copy and throws 'invalid' (the repository object or the catalog is wrong).
 *
 * The target carries `x-amz-meta-sha256` from the copy on; a crash between copy and
 * verification leaves a copy whose marker was taken from the verified-digest source.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JarArtifact } from '../../domain/types.js';
import { PlatformError } from '../errors.js';
import { s3Call, unlessMissing, type S3CallContext } from './errors.js';
import { copyS3Object, type CopyLimits } from './object-copy.js';

export type { CopyLimits } from './object-copy.js';

/** User-metadata key holding a jar's SHA-256 (hex), set by the publisher and kept by copies. */
export const DIGEST_METADATA = 'sha256';

/** Where and how to copy. */
export interface JarCopyContext extends CopyLimits, S3CallContext {
  az: string;
  client: S3Client;
  repositoryBucket: string;
  artifactBucket: string;
}

/** `sha256:<hex>` → `<hex>`. @throws PlatformError('invalid') for another form. */
export function digestHex(jar: JarArtifact): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(jar.digest);
  if (!m) throw new PlatformError('invalid', `jar ${jar.key}: digest ${JSON.stringify(jar.digest)} is not sha256:<64 hex>; fix the catalog entry`, false);
  return m[1]!;
}

/**
 * Whether `bucket` holds `jar` with its digest (HeadObject, `x-amz-meta-sha256`).
 * @throws PlatformError for failures other than a missing object
 */
export async function hasJar(ctx: JarCopyContext, bucket: string, jar: JarArtifact): Promise<boolean> {
  const head = await headOrUndefined(ctx, bucket, jar.key);
  return head?.Metadata?.[DIGEST_METADATA] === digestHex(jar);
}

/**
 * Copy `jar` into the artifact bucket unless it is there with its digest (see module doc).
 * `onBytes` is called with the bytes of each finished copy request (whole object or part).
 * @returns bytes copied (0 when skipped)
 * @throws PlatformError 'not-found' (absent, or deleted during the copy), 'invalid' (digest
 *   mismatch), 'conflict' (source replaced), or a classified S3 failure
 */
export async function copyJar(ctx: JarCopyContext, jar: JarArtifact, onBytes: (bytes: number) => void = () => {}): Promise<{ copiedBytes: number }> {
  const hex = digestHex(jar);
  if (await hasJar(ctx, ctx.artifactBucket, jar)) return { copiedBytes: 0 };
  const where = `s3://${ctx.repositoryBucket}/${jar.key}`;
  const src = await headOrUndefined(ctx, ctx.repositoryBucket, jar.key);
  if (!src) {
    throw new PlatformError('not-found', `jar ${jar.key} (${jar.digest}) is not in ${ctx.az}'s jar repository (${where}); publish it there first`, false);
  }
  const published = src.Metadata?.[DIGEST_METADATA];
  if (published !== undefined && published !== hex) {
    throw new PlatformError('invalid', `jar ${jar.key}: ${where} is published with digest sha256:${published}, the catalog expects ${jar.digest}; republish the jar or re-sync the catalog`, false);
  }
  const size = src.ContentLength ?? 0;
  try {
    await copyS3Object(ctx, {
      source: { client: ctx.client, bucket: ctx.repositoryBucket, key: jar.key }, target: { client: ctx.client, bucket: ctx.artifactBucket, key: jar.key },
      size, serverSide: true, ifMatch: src.ETag!, metadata: { [DIGEST_METADATA]: hex }, contentType: 'application/java-archive',
    }, onBytes);
  } catch (err) {
    throw duringCopy(err, jar, where);
  }
  await verify(ctx, jar, hex);
  return { copiedBytes: size };
}

/** Hash the copy; on mismatch delete it and throw 'invalid'. */
async function verify(ctx: JarCopyContext, jar: JarArtifact, hex: string): Promise<void> {
  const actual = await s3Call(ctx, `verify ${jar.key} in ${ctx.az}`, async () => {
    const got = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.artifactBucket, Key: jar.key }));
    const hash = createHash('sha256');
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    return hash.digest('hex');
  });
  if (actual === hex) return;
  await s3Call(ctx, `delete bad copy of ${jar.key} in ${ctx.az}`, () => ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.artifactBucket, Key: jar.key })));
  throw new PlatformError('invalid', `jar ${jar.key}: the copy in ${ctx.az}'s artifact bucket hashes to sha256:${actual}, the catalog expects ${jar.digest}; the repository object is corrupt or the catalog is stale (copy deleted)`, false);
}

/** A copy-time failure with the jar named: the source vanished or changed under the copy. */
function duringCopy(err: unknown, jar: JarArtifact, where: string): unknown {
  if (!(err instanceof PlatformError)) return err;
  if (err.code === 'not-found') return new PlatformError('not-found', `jar ${jar.key} (${jar.digest}) was deleted from ${where} during the copy: ${err.message}`, false);
  if (err.code === 'conflict') return new PlatformError('conflict', `jar ${jar.key}: ${where} changed during the copy (ETag no longer matches); retrying re-checks its digest`, true);
  return err;
}

function headOrUndefined(ctx: JarCopyContext, bucket: string, key: string) {
  return unlessMissing(s3Call(ctx, `head s3://${bucket}/${key}`, () => ctx.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))));
}


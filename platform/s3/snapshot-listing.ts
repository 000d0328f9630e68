/**
 * A job's checkpoints and savepoints in one AZ's replica of the state bucket, read over S3.
 *
 * Snapshot directories are found with ListObjectsV2 + prefix + `/` delimiter (paginated),
 * one level at a time, so neither `shared/` (incremental state, tens of thousands of files
 * on real platforms) nor other jobs' keys are ever listed:
 *   `<checkpointPrefix>/` → `<jobId>/` → `<jobId>/chk-<n>/`; `<savepointPrefix>/savepoint-` → dirs.
 * Each directory then costs one GetObject of `_metadata` (absent → list the directory for
 * its newest file time) and a presence check of every referenced file (replication lag):
 * a HeadObject per file, except in a directory holding more than HEAD_LIMIT_PER_DIR of a
 * snapshot's files (a real incremental checkpoint's `shared/`: thousands), which is listed
 * instead (one ListObjectsV2, `/` delimiter, per 1,000 keys), once per lookup for all the
 * job's snapshots that reference it.
 * `_metadata` is Flink's binary format (or the simulator's JSON stand-in), read by
 * domain/snapshot-layout.ts `readMetadataBody`; one that cannot be read or is not relocatable
 * becomes an entry with a `problem`, passed over by the choice, never retried.
 * Every request goes through the caller's concurrency bound.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { FlinkMetadataError } from '../../domain/flink-metadata.js';
import { CHECKPOINT_DIR, METADATA, readMetadataBody, resolveReference, SAVEPOINT_DIR, type MetadataBody } from '../../domain/snapshot-layout.js';
import type { FleetJob, SnapshotEntry } from '../../domain/types.js';
import { PlatformError } from '../errors.js';
import { s3Call, unlessMissing, type S3CallContext } from './errors.js';

/** What a listing needs: the AZ's client, its state bucket, a request bound and the retry policy. */
export interface ListingContext extends S3CallContext {
  client: S3Client;
  bucket: string;
}

/**
 * Every checkpoint and savepoint of `job` in `ctx.bucket`, newest first, complete or not.
 * Paths are `s3://<bucket>/<dir>` without a trailing slash. A missing bucket → [].
 * @throws PlatformError (classified, see errors.ts) when S3 fails after retries
 */
export async function listSnapshotsOverS3(ctx: ListingContext, job: Pick<FleetJob, 'checkpointPrefix' | 'savepointPrefix'>): Promise<SnapshotEntry[]> {
  try {
    const dirs: Array<{ kind: SnapshotEntry['kind']; dir: string }> = [];
    for (const jobDir of await commonPrefixes(ctx, `${job.checkpointPrefix}/`)) {
      for (const chk of await commonPrefixes(ctx, `${jobDir}chk-`)) {
        if (CHECKPOINT_DIR.test(lastSegment(chk))) dirs.push({ kind: 'checkpoint', dir: chk.slice(0, -1) });
      }
    }
    for (const sp of await commonPrefixes(ctx, `${job.savepointPrefix}/savepoint-`)) {
      if (SAVEPOINT_DIR.test(lastSegment(sp))) dirs.push({ kind: 'savepoint', dir: sp.slice(0, -1) });
    }
    const listed: DirListings = new Map();
    const entries = await Promise.all(dirs.map((d) => resolveDir(ctx, d.kind, d.dir, listed)));
    return entries.filter((e): e is SnapshotEntry => e !== undefined).sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds);
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found' && /NoSuchBucket/.test(err.message)) return [];
    throw err;
  }
}

/** Common prefixes directly under `prefix` (ListObjectsV2, `/` delimiter, every page). */
async function commonPrefixes(ctx: ListingContext, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Call(ctx, `list s3://${ctx.bucket}/${prefix}`, () => ctx.client.send(new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })));
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/**
 * More referenced files than this in one directory → list the directory instead of one
 * HeadObject per file (a listing page answers 1,000 keys).
 */
export const HEAD_LIMIT_PER_DIR = 32;

/** Keys directly under `s3://<bucket>/<dir>/`, per `<bucket>/<dir>`, listed at most once per lookup. */
type DirListings = Map<string, Promise<Set<string>>>;

/** One snapshot directory as a SnapshotEntry; undefined when nothing is under it any more. */
async function resolveDir(ctx: ListingContext, kind: SnapshotEntry['kind'], dir: string, listed: DirListings): Promise<SnapshotEntry | undefined> {
  const path = `s3://${ctx.bucket}/${dir}`;
  const meta = await readMetadataObject(ctx, `${dir}/${METADATA}`);
  if (!meta) {
    const newest = await newestFileTime(ctx, `${dir}/`);
    if (newest === undefined) return undefined;
    return { kind, path, completedAtEpochSeconds: newest, hasMetadata: false, referencedFilesPresent: false };
  }
  let body: MetadataBody;
  try {
    body = readMetadataBody(meta.body, { bucket: ctx.bucket, dirKey: dir });
  } catch (err) {
    // The same bytes fail the same way: the snapshot is passed over (with the reason), never retried.
    if (!(err instanceof FlinkMetadataError)) throw err;
    return { kind, path, completedAtEpochSeconds: meta.lastModifiedEpochSeconds, hasMetadata: true, referencedFilesPresent: false, problem: err.message };
  }
  return {
    kind,
    path,
    completedAtEpochSeconds: body.completedAtEpochSeconds ?? meta.lastModifiedEpochSeconds,
    hasMetadata: true,
    referencedFilesPresent: await allPresent(ctx, body.files.map((ref) => resolveReference(ctx.bucket, dir, ref)), listed),
  };
}

/** Whether every object exists: HeadObject each, or one listing of a directory holding more than HEAD_LIMIT_PER_DIR of them. */
async function allPresent(ctx: ListingContext, files: Array<{ bucket: string; key: string }>, listed: DirListings): Promise<boolean> {
  const byDir = new Map<string, Array<{ bucket: string; key: string }>>();
  for (const f of files) {
    const at = `${f.bucket}/${f.key.slice(0, f.key.lastIndexOf('/'))}`;
    byDir.set(at, [...(byDir.get(at) ?? []), f]);
  }
  const checks = [...byDir].map(async ([at, group]) => {
    if (group.length <= HEAD_LIMIT_PER_DIR) return (await Promise.all(group.map((f) => exists(ctx, f)))).every(Boolean);
    let keys = listed.get(at);
    if (!keys) {
      // A bucket missing from this replica (absolute paths into another AZ's bucket) holds nothing.
      keys = unlessMissing(keysUnder(ctx, group[0]!.bucket, `${at.slice(group[0]!.bucket.length + 1)}/`)).then((k) => k ?? new Set<string>());
      listed.set(at, keys);
    }
    const present = await keys;
    return group.every((f) => present.has(f.key));
  });
  return (await Promise.all(checks)).every(Boolean);
}

/** Every key directly under `prefix` in `bucket` (ListObjectsV2, `/` delimiter, every page). */
async function keysUnder(ctx: ListingContext, bucket: string, prefix: string): Promise<Set<string>> {
  const out = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3Call(ctx, `list s3://${bucket}/${prefix}`, () => ctx.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })));
    for (const o of page.Contents ?? []) if (o.Key) out.add(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

function readMetadataObject(ctx: ListingContext, key: string): Promise<{ body: Uint8Array; lastModifiedEpochSeconds: number } | undefined> {
  return unlessMissing(s3Call(ctx, `read s3://${ctx.bucket}/${key}`, async () => {
    const got = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return { body: await got.Body!.transformToByteArray(), lastModifiedEpochSeconds: (got.LastModified?.getTime() ?? 0) / 1000 };
  }));
}

async function exists(ctx: ListingContext, at: { bucket: string; key: string }): Promise<boolean> {
  const head = await unlessMissing(s3Call(ctx, `head s3://${at.bucket}/${at.key}`, () => ctx.client.send(new HeadObjectCommand({ Bucket: at.bucket, Key: at.key }))));
  return head !== undefined;
}

/** Newest last-modified time under `prefix` (first page, ≤ 1,000 keys), epoch seconds; undefined when empty. */
async function newestFileTime(ctx: ListingContext, prefix: string): Promise<number | undefined> {
  const page = await s3Call(ctx, `list s3://${ctx.bucket}/${prefix}`, () => ctx.client.send(new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix })));
  const times = (page.Contents ?? []).map((o) => (o.LastModified?.getTime() ?? 0) / 1000);
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** `a/b/chk-3/` → `chk-3`. */
function lastSegment(prefix: string): string {
  const trimmed = prefix.slice(0, -1);
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

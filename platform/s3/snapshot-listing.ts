/**
 * A job's checkpoints and savepoints in one AZ's replica of the state bucket, read over S3,
 * and the snapshot choice over them (domain/snapshot-choice.ts), newest first.
 *
 * Listing (`listSnapshotCandidates`): only the owner's own directories (domain/snapshot-owner.ts),
 * ListObjectsV2 + prefix + `/` delimiter, paginated, so neither `shared/` nor another job id's
 * keys (a hot standby's under the same prefixes) are ever listed:
 *   `<checkpointPrefix>/<jobId>/chk-` per job id, `<savepointPrefix>/savepoint-<6 hex>-` per tag;
 * then one HeadObject of each directory's `_metadata` for its time (absent: one listing page
 * of the directory for its newest file's time, the directory is incomplete). A savepoint
 * protection shipped (snapshot-shipping.ts) carries its source's completion time and
 * directory in user metadata: that time is its completion time, not the copy's.
 *
 * Choice (`findSnapshotOverS3`): candidates newest first; each checked one costs one GetObject
 * of `_metadata` (Flink's binary format, domain/snapshot-layout.ts `readSnapshotFiles`) and a
 * presence check of every file it references: a job's `shared/` and `taskowned/` directories,
 * and any directory holding more than HEAD_LIMIT_PER_DIR of the snapshot's files, are listed
 * (one ListObjectsV2 per 1,000 keys, once per lookup, shared by every candidate checked);
 * other files get one HeadObject each. The first complete one ends the lookup.
 *
 * Requests per lookup, with J ≤ MAX_JOB_IDS job ids, D candidate directories (what retention
 * keeps of those job ids) and K checked candidates (newest first up to the first complete one,
 * none beyond the RPO): ≤ 2J listings + D HEADs (+ 1 listing page per directory without
 * `_metadata`) + K GETs + ≤ HEAD_LIMIT_PER_DIR HEADs per exclusive directory of each checked
 * snapshot + one listing page per 1,000 keys of each `shared/`/`taskowned/` checked (once per
 * lookup) + one page per 1,000 directories under a listing prefix. The real Flink fixtures
 * (2 checkpoints, 2 savepoints, the newest complete) take 10 requests (docs/flink-snapshots.md):
 * the count does not grow with older snapshots or with `.sst` files beyond the pages of `shared/`.
 * A `_metadata` that cannot be read or is not relocatable makes an entry with a `problem`,
 * passed over by the choice, never retried. Every request goes through the caller's concurrency bound.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { FlinkMetadataError } from '../../domain/flink-metadata.js';
import { chooseSnapshot, type SnapshotQuery } from '../../domain/snapshot-choice.js';
import { CHECKPOINT_DIR, METADATA, readSnapshotFiles, resolveReference, SAVEPOINT_DIR } from '../../domain/snapshot-layout.js';
import { ownerListingPrefixes, ownerProblem, type SnapshotOwner } from '../../domain/snapshot-owner.js';
import type { SnapshotCandidate, SnapshotChoice, SnapshotEntry } from '../../domain/types.js';
import { PlatformError } from '../errors.js';
import { s3Call, unlessMissing, type S3CallContext } from './errors.js';
import { COMPLETED_AT_METADATA, SHIPPED_FROM_METADATA } from './snapshot-shipping.js';

/** What a listing needs: the AZ's client, its state bucket, a request bound and the retry policy. */
export interface ListingContext extends S3CallContext {
  client: S3Client;
  bucket: string;
}

/**
 * More referenced files than this in one directory → list the directory instead of one
 * HeadObject per file (a listing page answers 1,000 keys).
 */
export const HEAD_LIMIT_PER_DIR = 32;

/**
 * The snapshot directories of `owner`'s job ids in `ctx.bucket`, newest first, complete or
 * not, no file checked. Paths are `s3://<bucket>/<dir>` without a trailing slash. A missing
 * bucket, or an owner with no job id or an entropy-injected path (ownerProblem) → [].
 * @throws PlatformError (classified, see errors.ts) when S3 fails after retries
 */
export async function listSnapshotCandidates(ctx: ListingContext, owner: SnapshotOwner): Promise<SnapshotCandidate[]> {
  if (ownerProblem(owner) !== undefined) return [];
  try {
    const prefixes = ownerListingPrefixes(owner);
    const dirs: Array<{ kind: SnapshotCandidate['kind']; dir: string }> = [];
    const listed = await Promise.all([
      ...prefixes.checkpoints.map(async (p) => (await commonPrefixes(ctx, p)).map((d) => ({ kind: 'checkpoint' as const, d }))),
      ...prefixes.savepoints.map(async (p) => (await commonPrefixes(ctx, p)).map((d) => ({ kind: 'savepoint' as const, d }))),
    ]);
    for (const { kind, d } of listed.flat()) {
      if ((kind === 'checkpoint' ? CHECKPOINT_DIR : SAVEPOINT_DIR).test(lastSegment(d))) dirs.push({ kind, dir: d.slice(0, -1) });
    }
    const candidates = await Promise.all(dirs.map((d) => candidateOf(ctx, d.kind, d.dir)));
    return candidates.filter((c): c is SnapshotCandidate => c !== undefined).sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds);
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found' && /NoSuchBucket/.test(err.message)) return [];
    throw err;
  }
}

/**
 * Choose `owner`'s snapshot in `ctx.bucket` (domain/snapshot-choice.ts chooseSnapshot over
 * listSnapshotCandidates), checking candidates newest first and stopping at the first
 * complete one `query` accepts. An owner with no job id or an entropy-injected path → `none`
 * with that reason and no request.
 * @throws PlatformError (classified) when S3 fails after retries
 */
export async function findSnapshotOverS3(ctx: ListingContext, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice> {
  const problem = ownerProblem(owner);
  if (problem !== undefined) return { kind: 'none', reason: problem, skipped: [] };
  const candidates = await listSnapshotCandidates(ctx, owner);
  const listed: DirListings = new Map();
  return chooseSnapshot(candidates, query, (c) => checkCandidate(ctx, c, listed));
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

/** One snapshot directory as a candidate: HEAD of `_metadata`, else its newest file; undefined when nothing is under it any more. */
async function candidateOf(ctx: ListingContext, kind: SnapshotCandidate['kind'], dir: string): Promise<SnapshotCandidate | undefined> {
  const path = `s3://${ctx.bucket}/${dir}`;
  const key = `${dir}/${METADATA}`;
  const head = await unlessMissing(s3Call(ctx, `head s3://${ctx.bucket}/${key}`, () => ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }))));
  if (head) {
    // A savepoint protection shipped here (snapshot-shipping.ts) completed when its source did, not when it was copied.
    const shippedFrom = head.Metadata?.[SHIPPED_FROM_METADATA];
    const completedAt = Number(head.Metadata?.[COMPLETED_AT_METADATA]);
    return {
      kind, path, hasMetadata: true,
      completedAtEpochSeconds: shippedFrom !== undefined && Number.isFinite(completedAt) && completedAt > 0 ? completedAt : epochSeconds(head.LastModified),
      ...(shippedFrom !== undefined ? { shippedFrom } : {}),
    };
  }
  const newest = await newestFileTime(ctx, `${dir}/`);
  return newest === undefined ? undefined : { kind, path, completedAtEpochSeconds: newest, hasMetadata: false };
}

/** Keys directly under `s3://<bucket>/<dir>/`, per `<bucket>/<dir>`, listed at most once per lookup. */
type DirListings = Map<string, Promise<Set<string>>>;

/** Read one candidate's `_metadata` and look up every file it references. */
async function checkCandidate(ctx: ListingContext, c: SnapshotCandidate, listed: DirListings): Promise<SnapshotEntry> {
  const dir = c.path.slice(`s3://${ctx.bucket}/`.length);
  const key = `${dir}/${METADATA}`;
  const bytes = await unlessMissing(s3Call(ctx, `read s3://${ctx.bucket}/${key}`, async () => {
    const got = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return got.Body!.transformToByteArray();
  }));
  if (!bytes) return { ...c, hasMetadata: false, referencedFilesPresent: false };
  let read: { files: string[]; stateBytes: number };
  try {
    read = readSnapshotFiles(bytes, { bucket: ctx.bucket, dirKey: dir });
  } catch (err) {
    // The same bytes fail the same way: the snapshot is passed over (with the reason), never retried.
    if (!(err instanceof FlinkMetadataError)) throw err;
    return { ...c, referencedFilesPresent: false, problem: err.message };
  }
  const missing = await missingFiles(ctx, read.files.map((ref) => resolveReference(ctx.bucket, dir, ref)), listed);
  return {
    ...c,
    stateBytes: read.stateBytes,
    referencedFilesPresent: missing.length === 0,
    ...(missing.length > 0 ? { missing: { count: missing.length, first: missing[0]! } } : {}),
  };
}

/**
 * The files that do not exist (`s3://bucket/key`, sorted): a job's `shared/` and `taskowned/`
 * directories and any directory holding more than HEAD_LIMIT_PER_DIR of them are listed once
 * per lookup; other files get a HeadObject each.
 */
async function missingFiles(ctx: ListingContext, files: Array<{ bucket: string; key: string }>, listed: DirListings): Promise<string[]> {
  const byDir = new Map<string, Array<{ bucket: string; key: string }>>();
  for (const f of files) {
    const at = `${f.bucket}/${f.key.slice(0, f.key.lastIndexOf('/'))}`;
    byDir.set(at, [...(byDir.get(at) ?? []), f]);
  }
  const checks = [...byDir].map(async ([at, group]): Promise<string[]> => {
    if (group.length <= HEAD_LIMIT_PER_DIR && !/\/(shared|taskowned)$/.test(at)) {
      const present = await Promise.all(group.map((f) => exists(ctx, f)));
      return group.filter((_, i) => !present[i]).map((f) => `s3://${f.bucket}/${f.key}`);
    }
    let keys = listed.get(at);
    if (!keys) {
      // A bucket missing from this replica (absolute paths into another AZ's bucket) holds nothing.
      keys = unlessMissing(keysUnder(ctx, group[0]!.bucket, `${at.slice(group[0]!.bucket.length + 1)}/`)).then((k) => k ?? new Set<string>());
      listed.set(at, keys);
    }
    const present = await keys;
    return group.filter((f) => !present.has(f.key)).map((f) => `s3://${f.bucket}/${f.key}`);
  });
  return (await Promise.all(checks)).flat().sort();
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

async function exists(ctx: ListingContext, at: { bucket: string; key: string }): Promise<boolean> {
  const head = await unlessMissing(s3Call(ctx, `head s3://${at.bucket}/${at.key}`, () => ctx.client.send(new HeadObjectCommand({ Bucket: at.bucket, Key: at.key }))));
  return head !== undefined;
}

/** Newest last-modified time under `prefix` (first page, ≤ 1,000 keys), epoch seconds; undefined when empty. */
async function newestFileTime(ctx: ListingContext, prefix: string): Promise<number | undefined> {
  const page = await s3Call(ctx, `list s3://${ctx.bucket}/${prefix}`, () => ctx.client.send(new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix })));
  const times = (page.Contents ?? []).map((o) => epochSeconds(o.LastModified));
  return times.length > 0 ? Math.max(...times) : undefined;
}

function epochSeconds(at: Date | undefined): number {
  return (at?.getTime() ?? 0) / 1000;
}

/** `a/b/chk-3/` → `chk-3`. */
function lastSegment(prefix: string): string {
  const trimmed = prefix.slice(0, -1);
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

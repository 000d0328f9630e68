/**
 * How one AZ's in-memory replica resolves Flink's snapshot layout (domain/snapshot-layout.ts),
 * and the snapshot lookups of ObjectStorePort over it with the production path's semantics
 * (platform/s3/snapshot-listing.ts): only the owner's job ids' directories are listed
 * (domain/snapshot-owner.ts), and domain/snapshot-choice.ts checks them newest first, stopping
 * at the first complete one.
 */
import type { SnapshotCandidate, SnapshotChoice, SnapshotEntry } from '../domain/types.js';
import { FlinkMetadataError } from '../domain/flink-metadata.js';
import { chooseSnapshot, type SnapshotQuery } from '../domain/snapshot-choice.js';
import { CHECKPOINT_DIR, METADATA, readSnapshotFiles, resolveReference, SAVEPOINT_DIR } from '../domain/snapshot-layout.js';
import { ownerListingPrefixes, ownerProblem, type SnapshotOwner } from '../domain/snapshot-owner.js';
import type { ObjectStore, StoredObject } from './object-store.js';
import { COMPLETED_AT_METADATA, SHIPPED_FROM_METADATA } from '../platform/s3/snapshot-shipping.js';

/**
 * Where a `_metadata` was shipped from and when its snapshot completed, as the S3 listing reads
 * them (platform/s3/snapshot-listing.ts): a copy protection shipped carries its source directory
 * and the source's completion time in user metadata; any other `_metadata`'s completion time is
 * its last-modified time.
 */
export function metadataTimes(meta: StoredObject): { completedAtEpochSeconds: number; shippedFrom?: string } {
  const shippedFrom = meta.userMetadata?.[SHIPPED_FROM_METADATA];
  const completedAt = Number(meta.userMetadata?.[COMPLETED_AT_METADATA]);
  if (shippedFrom === undefined) return { completedAtEpochSeconds: meta.lastModifiedEpochSeconds };
  return { completedAtEpochSeconds: Number.isFinite(completedAt) && completedAt > 0 ? completedAt : meta.lastModifiedEpochSeconds, shippedFrom };
}

/** What one AZ's replica holds of a snapshot directory. */
export interface ResolvedSnapshot {
  /** Any object exists under the directory. */
  exists: boolean;
  hasMetadata: boolean;
  /** Every file `_metadata` references resolves in this replica (false without `_metadata`). */
  referencedFilesPresent: boolean;
  /** `_metadata` time, else the newest file's, wall epoch seconds (fractional). */
  completedAtEpochSeconds: number;
  /** Bytes of the referenced files present (the state a restore reads). */
  stateBytes: number;
  /** The state size `_metadata` records (readSnapshotFiles), as the S3 adapter reports it; absent without a readable `_metadata`. */
  metadataStateBytes?: number;
  /** `_metadata` unreadable or not relocatable (FlinkMetadataError's message), as the S3 adapter reports it. */
  problem?: string;
  /** Referenced files absent from this replica, `s3://bucket/key`, sorted. */
  missing: string[];
}

/**
 * Resolve the snapshot directory `dirKey` in `bucket` of `store` (one AZ's replica).
 * Absolute references resolve only when their bucket exists in this store — why a
 * checkpoint replicated under `per-az-buckets` is not restorable.
 */
export function resolveSnapshot(store: ObjectStore, bucket: string, dirKey: string): ResolvedSnapshot {
  const out: ResolvedSnapshot = { exists: false, hasMetadata: false, referencedFilesPresent: false, completedAtEpochSeconds: 0, stateBytes: 0, missing: [] };
  if (!store.hasBucket(bucket)) return out;
  let token: string | undefined;
  do {
    const page = store.list(bucket, { prefix: `${dirKey}/`, continuationToken: token });
    for (const o of page.contents) {
      out.exists = true;
      out.completedAtEpochSeconds = Math.max(out.completedAtEpochSeconds, o.lastModifiedEpochSeconds);
    }
    token = page.nextContinuationToken;
  } while (token !== undefined);
  const meta = store.get(bucket, `${dirKey}/${METADATA}`);
  if (!meta) return out;
  out.hasMetadata = true;
  out.completedAtEpochSeconds = metadataTimes(meta).completedAtEpochSeconds;
  let files: string[];
  try {
    const bytes = typeof meta.body === 'string' ? new TextEncoder().encode(meta.body) : meta.body ?? new Uint8Array();
    const read = readSnapshotFiles(bytes, { bucket, dirKey });
    files = read.files;
    out.metadataStateBytes = read.stateBytes;
  } catch (err) {
    if (!(err instanceof FlinkMetadataError)) throw err;
    out.problem = err.message;
    return out;
  }
  for (const ref of files) {
    const at = resolveReference(bucket, dirKey, ref);
    const file = store.get(at.bucket, at.key);
    if (file) out.stateBytes += file.sizeBytes;
    else out.missing.push(`s3://${at.bucket}/${at.key}`);
  }
  out.missing.sort();
  out.referencedFilesPresent = out.missing.length === 0;
  return out;
}

/** Every common prefix under `prefix/` (one level, `/` delimiter), all pages. */
function subdirs(store: ObjectStore, bucket: string, prefix: string): string[] {
  return subdirsWith(store, bucket, `${prefix}/`);
}

/**
 * Every checkpoint and savepoint under a job's prefixes in `bucket` of one AZ's replica, of
 * every job id, newest first, complete or not, each fully resolved: the simulator's inspection
 * view for its tests and its control API, not a lookup (those are listSnapshotCandidates and
 * findSnapshot, which see only the owner's job ids).
 */
export function listSnapshots(
  store: ObjectStore,
  bucket: string,
  job: { checkpointPrefix: string; savepointPrefix: string },
): SnapshotEntry[] {
  if (!store.hasBucket(bucket)) return [];
  const dirs: Array<{ kind: SnapshotEntry['kind']; dir: string }> = [];
  for (const jobDir of subdirs(store, bucket, job.checkpointPrefix)) {
    for (const dir of subdirs(store, bucket, jobDir)) if (CHECKPOINT_DIR.test(lastSegment(dir))) dirs.push({ kind: 'checkpoint', dir });
  }
  for (const dir of subdirs(store, bucket, job.savepointPrefix)) if (SAVEPOINT_DIR.test(lastSegment(dir))) dirs.push({ kind: 'savepoint', dir });
  return dirs.flatMap((d) => {
    const r = resolveSnapshot(store, bucket, d.dir);
    return r.exists ? [entryOf(d.kind, bucket, d.dir, r)] : [];
  }).sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds);
}

/**
 * The snapshot directories of `owner`'s job ids in `bucket`, newest first, as the S3 adapter's
 * listSnapshotCandidates finds them (same prefixes, same times). [] when the bucket is missing
 * or the owner has no job id or an entropy-injected path.
 */
export function listSnapshotCandidates(store: ObjectStore, bucket: string, owner: SnapshotOwner): SnapshotCandidate[] {
  if (!store.hasBucket(bucket) || ownerProblem(owner) !== undefined) return [];
  const prefixes = ownerListingPrefixes(owner);
  const out: SnapshotCandidate[] = [];
  const add = (kind: SnapshotCandidate['kind'], prefix: string, dirPattern: RegExp): void => {
    for (const dir of subdirsWith(store, bucket, prefix)) {
      if (!dirPattern.test(lastSegment(dir))) continue;
      const r = resolveSnapshot(store, bucket, dir);
      if (!r.exists) continue;
      const meta = r.hasMetadata ? store.get(bucket, `${dir}/${METADATA}`) : undefined;
      const shippedFrom = meta ? metadataTimes(meta).shippedFrom : undefined;
      out.push({ kind, path: `s3://${bucket}/${dir}`, completedAtEpochSeconds: r.completedAtEpochSeconds, hasMetadata: r.hasMetadata, ...(shippedFrom !== undefined ? { shippedFrom } : {}) });
    }
  };
  for (const p of prefixes.checkpoints) add('checkpoint', p, CHECKPOINT_DIR);
  for (const p of prefixes.savepoints) add('savepoint', p, SAVEPOINT_DIR);
  return out.sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds);
}

/**
 * Choose `owner`'s snapshot in `bucket` with the S3 adapter's semantics: domain/snapshot-choice.ts
 * over listSnapshotCandidates, each candidate resolved only when the choice reaches it.
 */
export function findSnapshot(store: ObjectStore, bucket: string, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice> {
  const problem = ownerProblem(owner);
  if (problem !== undefined) return Promise.resolve({ kind: 'none', reason: problem, skipped: [] });
  return chooseSnapshot(listSnapshotCandidates(store, bucket, owner), query, async (c) => {
    const dir = c.path.slice(`s3://${bucket}/`.length);
    const r = resolveSnapshot(store, bucket, dir);
    return { ...entryOf(c.kind, bucket, dir, r), completedAtEpochSeconds: c.completedAtEpochSeconds };
  });
}

function entryOf(kind: SnapshotEntry['kind'], bucket: string, dir: string, r: ResolvedSnapshot): SnapshotEntry {
  return {
    kind,
    path: `s3://${bucket}/${dir}`,
    completedAtEpochSeconds: r.completedAtEpochSeconds,
    hasMetadata: r.hasMetadata,
    referencedFilesPresent: r.referencedFilesPresent,
    ...(r.metadataStateBytes !== undefined ? { stateBytes: r.metadataStateBytes } : {}),
    ...(r.missing.length > 0 ? { missing: { count: r.missing.length, first: r.missing[0]! } } : {}),
    ...(r.problem !== undefined ? { problem: r.problem } : {}),
  };
}

/** Common prefixes (without the trailing `/`) directly under the raw key prefix `prefix` (`/` delimiter), all pages. */
function subdirsWith(store: ObjectStore, bucket: string, prefix: string): string[] {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = store.list(bucket, { prefix, delimiter: '/', continuationToken: token });
    out.push(...page.commonPrefixes.map((p) => p.slice(0, -1)));
    token = page.nextContinuationToken;
  } while (token !== undefined);
  return out;
}

function lastSegment(dir: string): string {
  return dir.slice(dir.lastIndexOf('/') + 1);
}

/**
 * Flink's snapshot layout in an object store, and how one AZ's replica resolves it.
 *
 * Layout (DESIGN.md §3, Flink docs "Checkpoints" → "Directory Structure"):
 * - checkpoint: `<checkpointPrefix>/<jobId>/chk-<n>/_metadata` plus `chk-<n>/<uuid>` data,
 *   `<checkpointPrefix>/<jobId>/shared/<uuid>` (incremental state) and `taskowned/`;
 *   `_metadata` holds ABSOLUTE `s3://<bucket>/<key>` paths (checkpoints are not relocatable);
 * - savepoint: `<savepointPrefix>/savepoint-<6 hex of jobId>-<12 hex>/_metadata` plus data
 *   files; `_metadata` holds paths RELATIVE to the savepoint directory (Flink ≥ 1.11, FLINK-5763).
 * `_metadata` is written last: without it the snapshot is incomplete.
 *
 * In the simulator `_metadata` is JSON `{ "files": [...] }` instead of Flink's binary format.
 */
import type { SnapshotEntry } from '../../domain/types.js';
import type { ObjectStore } from './object-store.js';

/** Name of the file Flink writes last. */
export const METADATA = '_metadata';

/** Body of a simulated `_metadata`. */
export interface MetadataBody {
  files: string[];
}

/** `s3://bucket/key` → parts; undefined for other schemes. A trailing `/` is dropped. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) return undefined;
  return { bucket: m[1]!, key: m[2]!.replace(/\/+$/, '') };
}

/** Snapshot directory key of checkpoint `n`. */
export function checkpointDirKey(checkpointPrefix: string, jobId: string, n: number): string {
  return `${checkpointPrefix}/${jobId}/chk-${n}`;
}

/** Snapshot directory key of a savepoint: `savepoint-<6 hex of jobId>-<12 hex>`. */
export function savepointDirKey(savepointPrefix: string, jobId: string, suffix12hex: string): string {
  return `${savepointPrefix}/savepoint-${jobId.slice(0, 6)}-${suffix12hex}`;
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
}

/**
 * Resolve the snapshot directory `dirKey` in `bucket` of `store` (one AZ's replica).
 * Absolute references resolve only when their bucket exists in this store — why a
 * checkpoint replicated under `per-az-buckets` is not restorable.
 */
export function resolveSnapshot(store: ObjectStore, bucket: string, dirKey: string): ResolvedSnapshot {
  const out: ResolvedSnapshot = { exists: false, hasMetadata: false, referencedFilesPresent: false, completedAtEpochSeconds: 0, stateBytes: 0 };
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
  out.completedAtEpochSeconds = meta.lastModifiedEpochSeconds;
  out.referencedFilesPresent = true;
  for (const ref of (JSON.parse(meta.body ?? '{"files":[]}') as MetadataBody).files) {
    const abs = parseS3Uri(ref);
    const file = abs ? store.get(abs.bucket, abs.key) : store.get(bucket, `${dirKey}/${ref}`);
    if (file) out.stateBytes += file.sizeBytes;
    else out.referencedFilesPresent = false;
  }
  return out;
}

/** Every common prefix under `prefix/` (one level, `/` delimiter), all pages. */
function subdirs(store: ObjectStore, bucket: string, prefix: string): string[] {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = store.list(bucket, { prefix: `${prefix}/`, delimiter: '/', continuationToken: token });
    out.push(...page.commonPrefixes.map((p) => p.slice(0, -1)));
    token = page.nextContinuationToken;
  } while (token !== undefined);
  return out;
}

/**
 * Every checkpoint and savepoint of a job in `bucket` of one AZ's replica, newest first,
 * complete or not. Paths are `s3://<bucket>/<dir>` without a trailing slash.
 */
export function listSnapshots(
  store: ObjectStore,
  bucket: string,
  job: { checkpointPrefix: string; savepointPrefix: string },
): SnapshotEntry[] {
  if (!store.hasBucket(bucket)) return [];
  const entries: SnapshotEntry[] = [];
  const add = (kind: SnapshotEntry['kind'], dirKey: string): void => {
    const r = resolveSnapshot(store, bucket, dirKey);
    if (!r.exists) return;
    entries.push({
      kind,
      path: `s3://${bucket}/${dirKey}`,
      completedAtEpochSeconds: r.completedAtEpochSeconds,
      hasMetadata: r.hasMetadata,
      referencedFilesPresent: r.referencedFilesPresent,
    });
  };
  for (const jobDir of subdirs(store, bucket, job.checkpointPrefix)) {
    for (const dir of subdirs(store, bucket, jobDir)) if (/\/chk-\d+$/.test(dir)) add('checkpoint', dir);
  }
  for (const dir of subdirs(store, bucket, job.savepointPrefix)) if (/\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/.test(dir)) add('savepoint', dir);
  return entries.sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds);
}

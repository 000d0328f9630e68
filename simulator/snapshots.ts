/**
 * How one AZ's in-memory replica resolves Flink's snapshot layout (domain/snapshot-layout.ts).
 */
import type { SnapshotEntry } from '../domain/types.js';
import { FlinkMetadataError } from '../domain/flink-metadata.js';
import { CHECKPOINT_DIR, METADATA, readMetadataBody, resolveReference, SAVEPOINT_DIR, type MetadataBody } from '../domain/snapshot-layout.js';
import type { ObjectStore } from './object-store.js';

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
  /** `_metadata` unreadable or not relocatable (FlinkMetadataError's message), as the S3 adapter reports it. */
  problem?: string;
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
  out.referencedFilesPresent = true;
  let body: MetadataBody;
  try {
    const bytes = typeof meta.body === 'string' ? new TextEncoder().encode(meta.body) : meta.body;
    body = bytes === undefined ? { files: [] } : readMetadataBody(bytes, { bucket, dirKey });
  } catch (err) {
    if (!(err instanceof FlinkMetadataError)) throw err;
    out.referencedFilesPresent = false;
    out.problem = err.message;
    return out;
  }
  out.completedAtEpochSeconds = body.completedAtEpochSeconds ?? meta.lastModifiedEpochSeconds;
  for (const ref of body.files) {
    const at = resolveReference(bucket, dirKey, ref);
    const file = store.get(at.bucket, at.key);
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
      ...(r.problem !== undefined ? { problem: r.problem } : {}),
    });
  };
  for (const jobDir of subdirs(store, bucket, job.checkpointPrefix)) {
    for (const dir of subdirs(store, bucket, jobDir)) if (CHECKPOINT_DIR.test(lastSegment(dir))) add('checkpoint', dir);
  }
  for (const dir of subdirs(store, bucket, job.savepointPrefix)) if (SAVEPOINT_DIR.test(lastSegment(dir))) add('savepoint', dir);
  return entries.sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds);
}

function lastSegment(dir: string): string {
  return dir.slice(dir.lastIndexOf('/') + 1);
}

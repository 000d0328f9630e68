/**
 * Flink's snapshot layout in an object store (DESIGN.md §3; Flink docs "Checkpoints" →
 * "Directory Structure"), shared by the simulator that writes it and the S3 adapter that
 * reads it:
 * - checkpoint: `<checkpointPrefix>/<jobId>/chk-<n>/_metadata` plus `chk-<n>/<uuid>` data,
 *   `<checkpointPrefix>/<jobId>/shared/<uuid>` (incremental state) and `taskowned/`;
 *   `_metadata` holds ABSOLUTE `s3://<bucket>/<key>` paths (checkpoints are not relocatable);
 * - savepoint: `<savepointPrefix>/savepoint-<6 hex of jobId>-<12 hex>/_metadata` plus data
 *   files; `_metadata` holds paths RELATIVE to the savepoint directory (Flink ≥ 1.11, FLINK-5763).
 * `_metadata` is written last: without it the snapshot is incomplete.
 *
 * Flink's real `_metadata` is binary (MetadataV3Serializer). Here it is the JSON stand-in
 * `MetadataBody` that the simulator writes; reading Flink's binary format is not built yet.
 */

/** Name of the file Flink writes last. */
export const METADATA = '_metadata';

/** Last path segment of a checkpoint directory. */
export const CHECKPOINT_DIR = /^chk-\d+$/;
/** Last path segment of a savepoint directory. */
export const SAVEPOINT_DIR = /^savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/;

/** Body of a (stand-in) `_metadata`. */
export interface MetadataBody {
  /** Files the snapshot consists of: absolute `s3://bucket/key` or relative to the snapshot directory. */
  files: string[];
  /** Completion time, epoch seconds; absent → the `_metadata` object's last-modified time. */
  completedAtEpochSeconds?: number;
}

/**
 * Parse a `_metadata` body.
 * @throws Error naming `where` when it is not the JSON stand-in `{ "files": [...] }`
 */
export function parseMetadata(body: string, where: string): MetadataBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`${where}: _metadata is not the JSON { "files": [...] } az-evac reads (Flink's binary format is not supported yet)`);
  }
  const p = parsed as Partial<MetadataBody> | null;
  if (!p || !Array.isArray(p.files) || !p.files.every((f) => typeof f === 'string')) {
    throw new Error(`${where}: _metadata lacks a "files" array of strings`);
  }
  const at = p.completedAtEpochSeconds;
  return { files: p.files, ...(typeof at === 'number' && Number.isFinite(at) ? { completedAtEpochSeconds: at } : {}) };
}

/** `s3://bucket/key` → parts; undefined for other schemes. A trailing `/` is dropped. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) return undefined;
  return { bucket: m[1]!, key: m[2]!.replace(/\/+$/, '') };
}

/** Where a file a snapshot references lives: absolute refs as given, relative ones under the snapshot directory. */
export function resolveReference(bucket: string, dirKey: string, ref: string): { bucket: string; key: string } {
  return parseS3Uri(ref) ?? { bucket, key: `${dirKey}/${ref}` };
}

/** Snapshot directory key of checkpoint `n`. */
export function checkpointDirKey(checkpointPrefix: string, jobId: string, n: number): string {
  return `${checkpointPrefix}/${jobId}/chk-${n}`;
}

/** Snapshot directory key of a savepoint: `savepoint-<6 hex of jobId>-<12 hex>`. */
export function savepointDirKey(savepointPrefix: string, jobId: string, suffix12hex: string): string {
  return `${savepointPrefix}/savepoint-${jobId.slice(0, 6)}-${suffix12hex}`;
}

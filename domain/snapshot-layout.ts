/**
 * Flink's snapshot layout in an object store (docs/design.md#snapshot-layout-and-completeness; Flink docs "Checkpoints" →
 * "Directory Structure"), shared by the simulator that writes it and the S3 adapter that
 * reads it:
 * - checkpoint: `<checkpointPrefix>/<jobId>/chk-<n>/_metadata` plus `chk-<n>/<uuid>` data,
 *   `<checkpointPrefix>/<jobId>/shared/<uuid>` (incremental state) and `taskowned/`;
 *   `_metadata` holds ABSOLUTE `s3://<bucket>/<key>` paths of its `shared/` files (so checkpoints
 *   are not relocatable) and paths relative to `chk-<n>/` for its own files;
 * - savepoint: `<savepointPrefix>/savepoint-<6 hex of jobId>-<12 hex>/_metadata` plus data
 *   files; `_metadata` holds paths RELATIVE to the savepoint directory (Flink ≥ 1.11, FLINK-5763).
 * `_metadata` is written last: without it the snapshot is incomplete.
 *
 * Flink's real `_metadata` is binary (domain/flink-metadata.ts reads it; docs/flink-snapshots.md);
 * the simulator writes it too (simulator/flink-metadata.ts). Exclusive files of a checkpoint are
 * relative; only its `shared/` files are absolute. A snapshot's completion time is its
 * `_metadata` object's last-modified time.
 */
import { assertRelocatable, readFlinkMetadata } from './flink-metadata.js';

/** Name of the file Flink writes last. */
export const METADATA = '_metadata';

/** Last path segment of a checkpoint directory. */
export const CHECKPOINT_DIR = /^chk-\d+$/;
/** Last path segment of a savepoint directory. */
export const SAVEPOINT_DIR = /^savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/;

/**
 * The files a Flink `_metadata` references, as `s3://` URIs or names relative to its directory
 * (what `resolveReference` takes). Every referenced file must lie in the snapshot's own
 * directory or, for a checkpoint, in its job's `shared/` or `taskowned/` directory (keys
 * compared, so a replica bucket of another name still matches): anything else is entropy
 * injection or a foreign path.
 * Also the snapshot's state size: the sum of the sizes `_metadata` records for those files
 * (bytes a restore reads; state kept inline in `_metadata` itself is not counted).
 * @param at where the object is: `bucket` and the snapshot directory's key (no trailing `/`)
 * @returns `files` (each once, in order of first reference) and `stateBytes`
 * @throws FlinkMetadataError (non-retryable) when the bytes are not Flink's format (`not-metadata`,
 *   e.g. a stand-in some tool wrote), of an unknown version, corrupt, or not relocatable
 */
export function readSnapshotFiles(bytes: Uint8Array, at: { bucket: string; dirKey: string }): { files: string[]; stateBytes: number } {
  const where = `s3://${at.bucket}/${at.dirKey}`;
  const meta = readFlinkMetadata(bytes, { snapshotDir: where, where: `${where}/${METADATA}` });
  const parent = at.dirKey.slice(0, at.dirKey.lastIndexOf('/'));
  const prefixes = CHECKPOINT_DIR.test(at.dirKey.slice(at.dirKey.lastIndexOf('/') + 1))
    ? [at.dirKey, `${parent}/shared`, `${parent}/taskowned`]
    : [at.dirKey];
  const byKey = meta.files.map((f) => ({ ...f, path: parseS3Uri(f.path)?.key ?? f.path }));
  assertRelocatable({ files: byKey }, { prefixes, where });
  return { files: meta.files.map((f) => f.path), stateBytes: meta.files.reduce((n, f) => n + f.size, 0) };
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

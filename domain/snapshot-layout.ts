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
 * relative; only its `shared/` files are absolute. `readMetadataBody` also reads the JSON
 * stand-in `MetadataBody`, which tests write where they need a back-dated completion time.
 */
import { assertRelocatable, FLINK_METADATA_MAGIC, readFlinkMetadata } from './flink-metadata.js';

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

/**
 * The files a `_metadata` object references, as `s3://` URIs or names relative to its directory
 * (what `resolveReference` takes): Flink's binary format when `bytes` starts with Flink's magic
 * number, else the simulator's JSON stand-in.
 * For Flink's format every referenced file must lie in the snapshot's own directory or, for a
 * checkpoint, in its job's `shared/` or `taskowned/` directory (keys compared, so a replica bucket
 * of another name still matches): anything else is entropy injection or a foreign path.
 * @param at where the object is: `bucket` and the snapshot directory's key (no trailing `/`)
 * @throws FlinkMetadataError (non-retryable) for binary metadata that cannot be read or is not
 *   relocatable; Error for a malformed stand-in
 */
export function readMetadataBody(bytes: Uint8Array, at: { bucket: string; dirKey: string }): MetadataBody {
  const where = `s3://${at.bucket}/${at.dirKey}`;
  const flink = bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0) === FLINK_METADATA_MAGIC;
  if (!flink) return parseMetadata(new TextDecoder().decode(bytes), where);
  const meta = readFlinkMetadata(bytes, { snapshotDir: where, where: `${where}/${METADATA}` });
  const parent = at.dirKey.slice(0, at.dirKey.lastIndexOf('/'));
  const prefixes = CHECKPOINT_DIR.test(at.dirKey.slice(at.dirKey.lastIndexOf('/') + 1))
    ? [at.dirKey, `${parent}/shared`, `${parent}/taskowned`]
    : [at.dirKey];
  const byKey = meta.files.map((f) => ({ ...f, path: parseS3Uri(f.path)?.key ?? f.path }));
  assertRelocatable({ files: byKey }, { prefixes, where });
  return { files: meta.files.map((f) => f.path) };
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

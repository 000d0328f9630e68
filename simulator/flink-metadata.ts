/**
 * Writer of Flink checkpoint/savepoint `_metadata` in Flink's binary format version 4, the one
 * Flink 1.19 and 1.20 write (Flink `Checkpoints.storeCheckpointMetadata` with
 * `MetadataV4Serializer`), so the simulator's snapshots are read by the same reader
 * (domain/flink-metadata.ts) as real ones. Self-contained: the simulator imports nothing from
 * the engine. The layout is described in docs/flink-snapshots.md.
 *
 * What is written: one operator with parallelism = number of subtasks, max parallelism 128,
 * no coordinator state, one subtask state each:
 * - checkpoint: an incremental keyed handle (`IncrementalRemoteKeyedStateHandle`, type byte 11)
 *   whose shared list is the `shared` files and whose private list is the others, as Flink's
 *   RocksDB backend writes them; the first private file doubles as the backend's meta-data
 *   handle;
 * - savepoint: a canonical key-group savepoint handle (`KeyGroupsSavepointStateHandle`, type
 *   byte 7) per file.
 * Files whose reference is an `s3://` URI become absolute `FileStateHandle`s (type 2); others
 * become `RelativeFileStateHandle`s (type 6), resolved by readers against the snapshot directory.
 * The trailing `CheckpointProperties` are the exact Java-serialized bytes Flink 1.20.3 wrote in
 * test/fixtures/flink/1.20.3 (a checkpoint and a canonical savepoint); a unit test holds them
 * equal to those fixtures.
 */

/** `Checkpoints.HEADER_MAGIC_NUMBER`. */
const MAGIC = 0x4960672d;
const FORMAT_VERSION = 4;
const MAX_PARALLELISM = 128;

/** One file of a snapshot. */
export interface SimSnapshotFile {
  /** `s3://bucket/key` (absolute) or a name relative to the snapshot directory. */
  ref: string;
  sizeBytes: number;
  /** Incremental shared state (`<checkpoint dir>/<job id>/shared/`): checkpoints only. */
  shared?: boolean;
}

/** What `_metadata` describes. */
export interface SimMetadata {
  kind: 'checkpoint' | 'savepoint';
  checkpointId: number;
  /** 32 hex digits (Flink `OperatorID`). */
  operatorId: string;
  /** At least one; savepoints: relative names (savepoints are relocatable). */
  files: SimSnapshotFile[];
}

/**
 * `_metadata` bytes for `meta`.
 * @throws Error naming the value when the id is not 32 hex digits, there are no files, a
 *   savepoint has an absolute or shared file, or a checkpoint has no private file
 */
export function writeFlinkMetadata(meta: SimMetadata): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(meta.operatorId)) throw new Error(`writeFlinkMetadata: operatorId must be 32 hex digits, got ${JSON.stringify(meta.operatorId)}`);
  if (!Number.isSafeInteger(meta.checkpointId) || meta.checkpointId < 0) throw new Error(`writeFlinkMetadata: checkpointId must be an integer ≥ 0, got ${meta.checkpointId}`);
  if (meta.files.length === 0) throw new Error('writeFlinkMetadata: a snapshot needs at least one file');
  const w = new Writer();
  w.i32(MAGIC);
  w.i32(FORMAT_VERSION);
  w.i64(meta.checkpointId);
  w.i32(0); // master states
  w.i32(1); // operators
  w.bytes(hexBytes(meta.operatorId));
  if (meta.kind === 'checkpoint') {
    const priv = meta.files.filter((f) => !f.shared);
    const shared = meta.files.filter((f) => f.shared);
    if (priv.length === 0) throw new Error('writeFlinkMetadata: a checkpoint needs a private (non-shared) file for the backend meta data');
    operatorHeader(w, 1);
    subtaskStart(w, 0);
    w.u8(11); // INCREMENTAL_KEY_GROUPS_HANDLE_V2
    w.i64(meta.checkpointId);
    w.utf(uuidFrom(meta.operatorId));
    w.i32(0);
    w.i32(MAX_PARALLELISM);
    w.i64(meta.files.reduce((s, f) => s + f.sizeBytes, 0)); // checkpointed size
    fileHandle(w, priv[0]!);
    w.i32(shared.length);
    shared.forEach((f, i) => {
      w.utf(`${String(i + 1).padStart(6, '0')}.sst`);
      fileHandle(w, f);
    });
    w.i32(priv.length - 1);
    priv.slice(1).forEach((f, i) => {
      w.utf(i === 0 ? 'MANIFEST-000001' : `OPTIONS-${String(i).padStart(6, '0')}`);
      fileHandle(w, f);
    });
    w.utf(`${meta.operatorId}-${meta.checkpointId}`); // state handle id
    subtaskEnd(w);
    w.bytes(checkpointProperties());
  } else {
    for (const f of meta.files) {
      if (f.shared || f.ref.startsWith('s3://')) throw new Error(`writeFlinkMetadata: savepoint file ${f.ref} must be relative and not shared`);
    }
    operatorHeader(w, meta.files.length);
    meta.files.forEach((f, i) => {
      subtaskStart(w, i);
      w.u8(7); // SAVEPOINT_KEY_GROUPS_HANDLE
      const [first, count] = keyGroups(i, meta.files.length);
      w.i32(first);
      w.i32(count);
      for (let k = 0; k < count; k++) w.i64(0);
      fileHandle(w, f);
      subtaskEnd(w);
    });
    w.bytes(savepointProperties());
  }
  return w.done();
}

let checkpointTail: Uint8Array | undefined;
let savepointTail: Uint8Array | undefined;
/** The decoded property bytes, decoded once (every checkpoint of a 5,000-job fleet appends them). */
const checkpointProperties = (): Uint8Array => (checkpointTail ??= hexBytes(CHECKPOINT_PROPERTIES_HEX));
const savepointProperties = (): Uint8Array => (savepointTail ??= hexBytes(CANONICAL_SAVEPOINT_PROPERTIES_HEX));

function operatorHeader(w: Writer, parallelism: number): void {
  w.i32(parallelism);
  w.i32(MAX_PARALLELISM);
  w.u8(0); // no coordinator state
  w.i32(parallelism); // subtask states
}

/** Subtask index, no managed/raw operator state. */
function subtaskStart(w: Writer, index: number): void {
  w.i32(index);
  w.i32(0);
  w.i32(0);
}

/** No raw keyed state, no in-flight channel state. */
function subtaskEnd(w: Writer): void {
  w.u8(0);
  w.i32(0);
  w.i32(0);
}

function fileHandle(w: Writer, f: SimSnapshotFile): void {
  if (f.ref.startsWith('s3://')) {
    w.u8(2); // FILE_STREAM_STATE_HANDLE
    w.i64(f.sizeBytes);
    w.utf(f.ref);
  } else {
    w.u8(6); // RELATIVE_STREAM_STATE_HANDLE
    w.utf(f.ref);
    w.i64(f.sizeBytes);
  }
}

/** Flink's key-group range of subtask `i` of `n` (`KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex`). */
function keyGroups(i: number, n: number): [number, number] {
  const start = Math.floor((i * MAX_PARALLELISM + n - 1) / n);
  const end = Math.floor(((i + 1) * MAX_PARALLELISM - 1) / n);
  return [start, end - start + 1];
}

/** A stable UUID-shaped backend id from the operator id. */
function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * Big-endian writer (`java.io.DataOutputStream`); strings as `writeUTF` (ASCII/BMP, no NUL).
 * Writes into one growing byte buffer (a checkpoint's `_metadata` is ~1.3 KiB): the simulator
 * encodes one per checkpoint of every running job, thousands a second at 40,000 jobs.
 */
class Writer {
  private buf = new Uint8Array(2048);
  private view = new DataView(this.buf.buffer);
  private n = 0;
  u8(v: number): void {
    this.room(1);
    this.buf[this.n++] = v & 0xff;
  }
  i32(v: number): void {
    this.room(4);
    this.view.setUint32(this.n, v >>> 0);
    this.n += 4;
  }
  i64(v: number): void {
    this.room(8);
    if (Number.isSafeInteger(v) && v >= 0) {
      // Two 32-bit halves: no BigInt for the ids and byte sizes this writer sees.
      this.view.setUint32(this.n, Math.floor(v / 2 ** 32));
      this.view.setUint32(this.n + 4, v >>> 0);
    } else this.view.setBigUint64(this.n, BigInt.asUintN(64, BigInt(v)));
    this.n += 8;
  }
  utf(s: string): void {
    if (s.includes('\0')) throw new Error(`writeFlinkMetadata: string too long or with NUL: ${s.slice(0, 40)}`);
    // Up to 3 bytes per UTF-16 unit; encodeInto writes after the 2-byte length.
    this.room(2 + 3 * s.length);
    const { written } = ENCODER.encodeInto(s, this.buf.subarray(this.n + 2));
    if (written > 0xffff) throw new Error(`writeFlinkMetadata: string too long or with NUL: ${s.slice(0, 40)}`);
    this.view.setUint16(this.n, written);
    this.n += 2 + written;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
}

const ENCODER = new TextEncoder();

// CheckpointProperties as Flink 1.20.3 serialized them (ObjectOutputStream): a retained
// incremental checkpoint (CheckpointType "Checkpoint", FORWARD_BACKWARD) and a canonical
// savepoint (SavepointType "Savepoint", CANONICAL, NONE). Data, not code.
export const CHECKPOINT_PROPERTIES_HEX =
  'aced0005737200386f72672e6170616368652e666c696e6b2e72756e74696d652e636865636b706f696e742e43686563' +
  '6b706f696e7450726f7065727469657300000000000000020200085a00106469736361726443616e63656c6c65645a00' +
  '0d646973636172644661696c65645a000f6469736361726446696e69736865645a000f6469736361726453756273756d' +
  '65645a00106469736361726453757370656e6465645a0006666f726365645a0009756e636c61696d65644c000e636865' +
  '636b706f696e74547970657400324c6f72672f6170616368652f666c696e6b2f72756e74696d652f636865636b706f69' +
  '6e742f536e617073686f74547970653b787000000101000000737200326f72672e6170616368652e666c696e6b2e7275' +
  '6e74696d652e636865636b706f696e742e436865636b706f696e7454797065d6de4f0305ae1d3a0200024c00046e616d' +
  '657400124c6a6176612f6c616e672f537472696e673b4c001473686172696e6746696c65735374726174656779740047' +
  '4c6f72672f6170616368652f666c696e6b2f72756e74696d652f636865636b706f696e742f536e617073686f74547970' +
  '652453686172696e6746696c657353747261746567793b787074000a436865636b706f696e747e7200456f72672e6170' +
  '616368652e666c696e6b2e72756e74696d652e636865636b706f696e742e536e617073686f7454797065245368617269' +
  '6e6746696c6573537472617465677900000000000000001200007872000e6a6176612e6c616e672e456e756d00000000' +
  '000000001200007870740010464f52574152445f4241434b57415244';
export const CANONICAL_SAVEPOINT_PROPERTIES_HEX =
  'aced0005737200386f72672e6170616368652e666c696e6b2e72756e74696d652e636865636b706f696e742e43686563' +
  '6b706f696e7450726f7065727469657300000000000000020200085a00106469736361726443616e63656c6c65645a00' +
  '0d646973636172644661696c65645a000f6469736361726446696e69736865645a000f6469736361726453756273756d' +
  '65645a00106469736361726453757370656e6465645a0006666f726365645a0009756e636c61696d65644c000e636865' +
  '636b706f696e74547970657400324c6f72672f6170616368652f666c696e6b2f72756e74696d652f636865636b706f69' +
  '6e742f536e617073686f74547970653b787000000000000100737200316f72672e6170616368652e666c696e6b2e7275' +
  '6e74696d652e636865636b706f696e742e53617665706f696e7454797065a087d308a45814b80200034c000a666f726d' +
  '6174547970657400354c6f72672f6170616368652f666c696e6b2f636f72652f657865637574696f6e2f53617665706f' +
  '696e74466f726d6174547970653b4c00046e616d657400124c6a6176612f6c616e672f537472696e673b4c0014706f73' +
  '74436865636b706f696e74416374696f6e7400484c6f72672f6170616368652f666c696e6b2f72756e74696d652f6368' +
  '65636b706f696e742f53617665706f696e745479706524506f7374436865636b706f696e74416374696f6e3b78707e72' +
  '00336f72672e6170616368652e666c696e6b2e636f72652e657865637574696f6e2e53617665706f696e74466f726d61' +
  '745479706500000000000000001200007872000e6a6176612e6c616e672e456e756d0000000000000000120000787074' +
  '000943414e4f4e4943414c74000953617665706f696e747e7200466f72672e6170616368652e666c696e6b2e72756e74' +
  '696d652e636865636b706f696e742e53617665706f696e745479706524506f7374436865636b706f696e74416374696f' +
  '6e00000000000000001200007871007e00097400044e4f4e45';

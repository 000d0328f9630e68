/**
 * Reader of Apache Flink's checkpoint/savepoint `_metadata` file (binary), as written by Flink
 * 1.19, 1.20 and 2.x. Pure: bytes in, structure out; no I/O. Format facts and their sources are
 * in docs/flink-snapshots.md.
 *
 * Layout (Flink `Checkpoints.storeCheckpointMetadata` / `loadCheckpointMetadata`): int magic
 * 0x4960672d, int format version, then the version's body. Bodies (all big-endian,
 * `java.io.DataOutputStream`; strings are `writeUTF`, i.e. u16 length + modified UTF-8):
 * - v3 (`MetadataV3Serializer`, Flink ≥ 1.11): long checkpoint id, master states
 *   (`MetadataV2V3SerializerBase.serializeMasterState`), operator states (operator id as two
 *   longs, parallelism, max parallelism, coordinator state handle, subtask states);
 * - v4 (`MetadataV4Serializer`, written by Flink 1.16–1.20): v3 followed by a Java-serialized
 *   `CheckpointProperties` (checkpoint vs savepoint, savepoint format CANONICAL/NATIVE);
 * - v5 (`MetadataV5Serializer`, written by Flink 2.0): v4 with each operator state preceded by
 *   the operator's name and uid (empty string = none);
 * - v6 (`MetadataV6Serializer`, written by Flink 2.1): v5 whose channel state handles
 *   (unaligned checkpoints) carry a type byte (`ChannelStateHandleSerializerV2`).
 * State handles are tagged with a type byte (the constants of `MetadataV2V3SerializerBase`):
 * byte/file/relative-file/segment stream handles; key-group, savepoint key-group, incremental
 * (RocksDB/ForSt: shared and private files) and changelog keyed handles; operator (partitionable,
 * file-merging) handles.
 *
 * Every other version or handle type is refused with a non-retryable `FlinkMetadataError`
 * naming it: guessing at an unknown layout could report a snapshot complete that is not.
 */
import { JavaStreamError, readJavaObject, ByteCursor, type JavaValue } from './java-object-stream.js';

/** `Checkpoints.HEADER_MAGIC_NUMBER`: the first four bytes of every `_metadata` since Flink 1.2. */
export const FLINK_METADATA_MAGIC = 0x4960672d;

/** Format versions this reader understands (`MetadataSerializers`); Flink ≤ 1.10 wrote v1/v2. */
export const SUPPORTED_METADATA_VERSIONS: readonly number[] = [3, 4, 5, 6];

/** `MetadataV2V3SerializerBase.MASTER_STATE_MAGIC_NUMBER`. */
const MASTER_STATE_MAGIC = 0xc96b1696 | 0;

// Handle type bytes: MetadataV2V3SerializerBase (Flink 1.20.3, 2.0.1 and 2.1.1 use the same numbers).
const NULL_HANDLE = 0;
const BYTE_STREAM_STATE_HANDLE = 1;
const FILE_STREAM_STATE_HANDLE = 2;
const KEY_GROUPS_HANDLE = 3;
const PARTITIONABLE_OPERATOR_STATE_HANDLE = 4;
const INCREMENTAL_KEY_GROUPS_HANDLE = 5;
const RELATIVE_STREAM_STATE_HANDLE = 6;
const SAVEPOINT_KEY_GROUPS_HANDLE = 7;
const CHANGELOG_HANDLE = 8;
const CHANGELOG_BYTE_INCREMENT_HANDLE = 9;
const CHANGELOG_FILE_INCREMENT_HANDLE = 10;
const INCREMENTAL_KEY_GROUPS_HANDLE_V2 = 11;
const KEY_GROUPS_HANDLE_V2 = 12;
const CHANGELOG_FILE_INCREMENT_HANDLE_V2 = 13;
const CHANGELOG_HANDLE_V2 = 14;
const SEGMENT_FILE_HANDLE = 15;
const EMPTY_SEGMENT_FILE_HANDLE = 16;
const SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE = 17;

// ChannelStateHandleSerializerV2 (metadata v6) type bytes.
const INPUT_CHANNEL_STATE_HANDLE = 1;
const RESULT_SUBPARTITION_STATE_HANDLE = 2;
const MERGED_INPUT_CHANNEL_STATE_HANDLE = 3;
const MERGED_RESULT_SUBPARTITION_STATE_HANDLE = 4;

/** `OperatorStateHandle.Mode`, by ordinal. */
const OPERATOR_STATE_MODES = ['SPLIT_DISTRIBUTE', 'UNION', 'BROADCAST'] as const;
/** `CheckpointedStateScope`, by ordinal. */
const STATE_SCOPES = ['EXCLUSIVE', 'SHARED'] as const;

/** Why a `_metadata` could not be used. Never retryable: the same bytes give the same answer. */
export type FlinkMetadataErrorCode =
  | 'not-metadata'
  | 'unsupported-version'
  | 'unknown-handle'
  | 'corrupt'
  | 'not-relocatable';

/** A `_metadata` that az-evac cannot read or must not restore from; `message` names the file and the value. */
export class FlinkMetadataError extends Error {
  override readonly name = 'FlinkMetadataError';
  /** Always false: re-reading the same bytes fails the same way. */
  readonly retryable = false;
  constructor(
    readonly code: FlinkMetadataErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A stream state handle: where one piece of state lives. */
export type StreamHandle =
  /** `FileStateHandle`: an absolute path (checkpoints; entropy-injected paths end up here). */
  | { kind: 'file'; path: string; size: number }
  /** `RelativeFileStateHandle`: a path relative to the snapshot directory (savepoints, Flink ≥ 1.11); `path` is resolved. */
  | { kind: 'relative'; relativePath: string; path: string; size: number }
  /** `ByteStreamStateHandle`: the state is inline in `_metadata`; `name` is not a file to check. */
  | { kind: 'bytes'; name: string; size: number }
  /** `SegmentFileStateHandle` (file merging, FLIP-306, Flink ≥ 1.20): a byte range of a shared physical file. */
  | { kind: 'segment'; path: string; startPos: number; size: number; scope: 'EXCLUSIVE' | 'SHARED'; logicalFileId: string }
  /** `EmptySegmentFileStateHandle`: no bytes, no file. */
  | { kind: 'empty-segment' }
  /** `KeyGroupsStateHandle` used as a stream handle (legacy type 3). */
  | { kind: 'key-groups'; firstKeyGroup: number; numKeyGroups: number; delegate: StreamHandle | null };

/** A file of an incremental snapshot with the name RocksDB/ForSt knows it by locally (e.g. `000012.sst`). */
export interface HandleAndLocalPath {
  localPath: string;
  handle: StreamHandle | null;
}

/** Keyed state of one subtask. */
export type KeyedHandle =
  /** `KeyGroupsStateHandle` (`savepoint: false`, full snapshot) or `KeyGroupsSavepointStateHandle` (canonical savepoint). */
  | { kind: 'key-groups'; savepoint: boolean; firstKeyGroup: number; numKeyGroups: number; delegate: StreamHandle | null; stateHandleId?: string }
  /** `IncrementalRemoteKeyedStateHandle` (RocksDB/ForSt incremental checkpoint or native savepoint). */
  | {
      kind: 'incremental';
      checkpointId: number;
      backendId: string;
      firstKeyGroup: number;
      numKeyGroups: number;
      checkpointedSize?: number;
      metaData: StreamHandle | null;
      shared: HandleAndLocalPath[];
      private: HandleAndLocalPath[];
      stateHandleId?: string;
    }
  /** `ChangelogStateBackendHandleImpl` (changelog state backend, FLIP-158). */
  | { kind: 'changelog'; firstKeyGroup: number; numKeyGroups: number; materialized: (KeyedHandle | null)[]; nonMaterialized: (KeyedHandle | null)[]; materializationId: number; checkpointId: number }
  /** `InMemoryChangelogStateHandle`: inline changes. */
  | { kind: 'changelog-bytes'; firstKeyGroup: number; numKeyGroups: number; changes: number }
  /** `ChangelogStateHandleStreamImpl`: changes in DSTL files. */
  | { kind: 'changelog-files'; firstKeyGroup: number; numKeyGroups: number; handles: (StreamHandle | null)[]; storageIdentifier: string };

/** Operator (non-keyed) state of one subtask. */
export interface OperatorHandle {
  /** `OperatorStreamStateHandle`, or the file-merging variants of FLIP-306. */
  kind: 'operator' | 'file-merging-operator';
  /** Named states with their redistribution mode and number of partitions. */
  states: { name: string; mode: (typeof OPERATOR_STATE_MODES)[number]; partitions: number }[];
  delegate: StreamHandle | null;
  /** File merging only: directories the merged files live in (directories, not files). */
  taskOwnedDir?: string;
  sharedDir?: string;
}

/** In-flight data of an unaligned checkpoint (`InputChannelStateHandle`, `ResultSubpartitionStateHandle` and merged forms). */
export interface ChannelHandle {
  kind: 'input-channel' | 'result-subpartition' | 'merged-input-channel' | 'merged-result-subpartition';
  subtaskIndex: number;
  delegate: StreamHandle | null;
}

/** State of one subtask (`OperatorSubtaskState`); `finished` subtasks carry none. */
export interface SubtaskState {
  index: number;
  finished: boolean;
  managedOperatorState: OperatorHandle | null;
  rawOperatorState: OperatorHandle | null;
  managedKeyedState: KeyedHandle | null;
  rawKeyedState: KeyedHandle | null;
  inputChannelState: ChannelHandle[];
  resultSubpartitionState: ChannelHandle[];
}

/** State of one operator (`OperatorState`). */
export interface OperatorStateInfo {
  /** `OperatorID` as Flink prints it: 32 hex digits. */
  operatorId: string;
  /** v5+: the operator's name and uid, when the job set them. */
  name?: string;
  uid?: string;
  parallelism: number;
  maxParallelism: number;
  /** Operator coordinator state (always inline bytes). */
  coordinatorState: StreamHandle | null;
  /** All subtasks finished (`FullyFinishedOperatorState`). */
  fullyFinished: boolean;
  subtasks: SubtaskState[];
}

/** `CheckpointProperties` (v4+): what kind of snapshot this is. */
export interface SnapshotProperties {
  /** From the `checkpointType` class: `CheckpointType` or `SavepointType`. */
  type: 'checkpoint' | 'savepoint';
  /** `SnapshotType.getName()`, e.g. `Checkpoint`, `Full Checkpoint`, `Savepoint`, `Suspend Savepoint`. */
  typeName: string;
  /** Savepoints: `SavepointFormatType` (CANONICAL = backend-independent, NATIVE = the backend's own files). */
  savepointFormat?: 'CANONICAL' | 'NATIVE';
  /** Savepoints: `PostCheckpointAction` (NONE, SUSPEND = stop-with-savepoint, TERMINATE = drain). */
  postCheckpointAction?: string;
  /** Checkpoints: `SharingFilesStrategy` (FORWARD_BACKWARD = incremental, FORWARD = full). */
  sharingFilesStrategy?: string;
  /** Flags of `CheckpointProperties` (`forced`, `discardSubsumed`, …, `unclaimed`). */
  flags: Record<string, boolean>;
}

/** A file the snapshot needs; a restore fails when one is missing. */
export interface ReferencedFile {
  /** Absolute path/URI: as written for absolute handles, `<snapshotDir>/<relative>` for relative ones. */
  path: string;
  /** Bytes the snapshot uses of it (for merged files: the sum over its segments). */
  size: number;
  /** `shared`: an incremental snapshot's shared state (`<checkpoint dir>/<job id>/shared/` in checkpoints) or a SHARED segment; else `exclusive`. */
  scope: 'shared' | 'exclusive';
  /** Written relative to the snapshot directory (relocatable with it). */
  relative: boolean;
}

/** What `_metadata` says. */
export interface FlinkSnapshotMetadata {
  /** Format version (3–6). */
  version: number;
  checkpointId: number;
  /** Master hooks' states (name, version, size in bytes), inline. */
  masterStates: { name: string; version: number; size: number }[];
  operators: OperatorStateInfo[];
  /** v4+; absent for v3. */
  properties?: SnapshotProperties;
  /** Every file the snapshot references, once each, in order of first reference. */
  files: ReferencedFile[];
}

/** Options of `readFlinkMetadata`. */
export interface ReadOptions {
  /** The snapshot directory the `_metadata` was read from (URI or path, no trailing `/`): relative handles resolve against it. */
  snapshotDir: string;
  /** Names the file in errors; default `<snapshotDir>/_metadata`. */
  where?: string;
}

/**
 * Parses a `_metadata` file.
 * @param bytes the whole file
 * @throws FlinkMetadataError (non-retryable) naming `where` and the offending value: `not-metadata`
 *   (wrong magic number), `unsupported-version` (a format version other than 3–6), `unknown-handle`
 *   (a handle type byte this reader does not know), `corrupt` (truncated, bad lengths, trailing bytes)
 */
export function readFlinkMetadata(bytes: Uint8Array, options: ReadOptions): FlinkSnapshotMetadata {
  const snapshotDir = options.snapshotDir.replace(/\/+$/, '');
  const where = options.where ?? `${snapshotDir}/_metadata`;
  const corrupt = (m: string): FlinkMetadataError => new FlinkMetadataError('corrupt', `${where}: ${m}`);
  const c = new ByteCursor(bytes, 0, corrupt);

  if (bytes.length < 8) throw new FlinkMetadataError('not-metadata', `${where}: ${bytes.length} bytes is too short for Flink _metadata (magic + version)`);
  const magic = c.i32('magic number');
  if (magic !== FLINK_METADATA_MAGIC) {
    throw new FlinkMetadataError(
      'not-metadata',
      `${where}: not Flink checkpoint metadata: magic number 0x${(magic >>> 0).toString(16).padStart(8, '0')}, expected 0x4960672d (Flink's Checkpoints.HEADER_MAGIC_NUMBER)`,
    );
  }
  const version = c.i32('version');
  if (!SUPPORTED_METADATA_VERSIONS.includes(version)) {
    throw new FlinkMetadataError(
      'unsupported-version',
      `${where}: Flink _metadata format version ${version} is not supported (az-evac reads versions ${SUPPORTED_METADATA_VERSIONS.join(', ')}: ` +
        `Flink 1.11–2.1). Fix: restore this job with a snapshot from a supported Flink version, or teach domain/flink-metadata.ts version ${version}`,
    );
  }

  const files = new Map<string, ReferencedFile>();
  const refer = (h: StreamHandle | null, scope: 'shared' | 'exclusive'): void => {
    if (!h) return;
    if (h.kind === 'file' || h.kind === 'relative') {
      const known = files.get(h.path);
      if (known) {
        if (scope === 'shared') known.scope = 'shared';
      } else {
        files.set(h.path, { path: h.path, size: h.size, scope, relative: h.kind === 'relative' });
      }
    } else if (h.kind === 'segment') {
      const known = files.get(h.path);
      if (known) known.size += h.size;
      else files.set(h.path, { path: h.path, size: h.size, scope: h.scope === 'SHARED' ? 'shared' : scope, relative: false });
    } else if (h.kind === 'key-groups') {
      refer(h.delegate, scope);
    }
  };

  const streamHandle = (what: string): StreamHandle | null => {
    const at = c.pos;
    const type = c.u8(`${what} type`);
    switch (type) {
      case NULL_HANDLE:
        return null;
      case FILE_STREAM_STATE_HANDLE: {
        const size = c.safeLong(`${what} size`);
        return { kind: 'file', size, path: c.utf(`${what} path`) };
      }
      case BYTE_STREAM_STATE_HANDLE: {
        const name = c.utf(`${what} name`);
        const size = c.i32(`${what} length`);
        if (size < 0) throw corrupt(`${what}: negative inline length ${size} at offset ${at}`);
        c.take(size, `${what} inline bytes`);
        return { kind: 'bytes', name, size };
      }
      case RELATIVE_STREAM_STATE_HANDLE: {
        const relativePath = c.utf(`${what} relative path`);
        const size = c.safeLong(`${what} size`);
        return { kind: 'relative', relativePath, path: `${snapshotDir}/${relativePath}`, size };
      }
      case KEY_GROUPS_HANDLE: {
        const { first, count } = keyGroupRangeWithOffsets(what);
        return { kind: 'key-groups', firstKeyGroup: first, numKeyGroups: count, delegate: streamHandle(`${what} delegate`) };
      }
      case SEGMENT_FILE_HANDLE: {
        const startPos = c.safeLong(`${what} start`);
        const size = c.safeLong(`${what} size`);
        const scopeOrdinal = c.i32(`${what} scope`);
        const scope = STATE_SCOPES[scopeOrdinal];
        if (!scope) throw corrupt(`${what}: unknown CheckpointedStateScope ordinal ${scopeOrdinal} at offset ${at}`);
        const path = c.utf(`${what} path`);
        return { kind: 'segment', startPos, size, scope, path, logicalFileId: c.utf(`${what} logical file id`) };
      }
      case EMPTY_SEGMENT_FILE_HANDLE:
        return { kind: 'empty-segment' };
      default:
        throw unknownHandle('stream state handle', type, at, what);
    }
  };

  const unknownHandle = (family: string, type: number, at: number, what: string): FlinkMetadataError =>
    new FlinkMetadataError(
      'unknown-handle',
      `${where}: unknown ${family} type ${type} at offset ${at} (${what}) in format version ${version}: ` +
        `written by a Flink version or state backend az-evac does not read. Fix: restore from a snapshot of a supported Flink version, or teach domain/flink-metadata.ts this handle`,
    );

  const keyGroupRangeWithOffsets = (what: string): { first: number; count: number } => {
    const first = c.i32(`${what} first key group`);
    const count = c.i32(`${what} key group count`);
    if (count < 0 || count > 32768) throw corrupt(`${what}: key group count ${count} outside 0..32768`);
    c.take(count * 8, `${what} key group offsets`);
    return { first, count };
  };

  const handleList = (what: string): HandleAndLocalPath[] => {
    const n = count(`${what} count`);
    const out: HandleAndLocalPath[] = [];
    for (let i = 0; i < n; i++) {
      const localPath = c.utf(`${what}[${i}] local path`);
      out.push({ localPath, handle: streamHandle(`${what}[${i}] (${localPath})`) });
    }
    return out;
  };

  const count = (what: string): number => {
    const n = c.i32(what);
    if (n < 0 || n > c.remaining) throw corrupt(`${what} ${n} is impossible with ${c.remaining} bytes left (offset ${c.pos - 4})`);
    return n;
  };

  const keyedHandle = (what: string): KeyedHandle | null => {
    const at = c.pos;
    const type = c.u8(`${what} type`);
    switch (type) {
      case NULL_HANDLE:
        return null;
      case KEY_GROUPS_HANDLE:
      case KEY_GROUPS_HANDLE_V2:
      case SAVEPOINT_KEY_GROUPS_HANDLE: {
        const { first, count: n } = keyGroupRangeWithOffsets(what);
        const delegate = streamHandle(`${what} delegate`);
        refer(delegate, 'exclusive');
        const h: KeyedHandle = { kind: 'key-groups', savepoint: type === SAVEPOINT_KEY_GROUPS_HANDLE, firstKeyGroup: first, numKeyGroups: n, delegate };
        if (type === KEY_GROUPS_HANDLE_V2) h.stateHandleId = c.utf(`${what} state handle id`);
        return h;
      }
      case INCREMENTAL_KEY_GROUPS_HANDLE:
      case INCREMENTAL_KEY_GROUPS_HANDLE_V2: {
        const v2 = type === INCREMENTAL_KEY_GROUPS_HANDLE_V2;
        const checkpointId = c.safeLong(`${what} checkpoint id`);
        const backendId = c.utf(`${what} backend id`);
        const firstKeyGroup = c.i32(`${what} first key group`);
        const numKeyGroups = c.i32(`${what} key group count`);
        const checkpointedSize = v2 ? c.safeLong(`${what} checkpointed size`) : undefined;
        const metaData = streamHandle(`${what} meta data`);
        const shared = handleList(`${what} shared`);
        const priv = handleList(`${what} private`);
        refer(metaData, 'exclusive');
        for (const s of shared) refer(s.handle, 'shared');
        for (const p of priv) refer(p.handle, 'exclusive');
        const h: KeyedHandle = { kind: 'incremental', checkpointId, backendId, firstKeyGroup, numKeyGroups, metaData, shared, private: priv };
        if (checkpointedSize !== undefined) h.checkpointedSize = checkpointedSize;
        if (v2) h.stateHandleId = c.utf(`${what} state handle id`);
        return h;
      }
      case CHANGELOG_HANDLE:
      case CHANGELOG_HANDLE_V2: {
        const firstKeyGroup = c.i32(`${what} first key group`);
        const numKeyGroups = c.i32(`${what} key group count`);
        c.i64(`${what} checkpointed size`);
        const materialized: (KeyedHandle | null)[] = [];
        for (let i = 0, n = count(`${what} materialized count`); i < n; i++) materialized.push(keyedHandle(`${what} materialized[${i}]`));
        const nonMaterialized: (KeyedHandle | null)[] = [];
        for (let i = 0, n = count(`${what} non-materialized count`); i < n; i++) nonMaterialized.push(keyedHandle(`${what} non-materialized[${i}]`));
        const materializationId = c.safeLong(`${what} materialization id`);
        const checkpointId = type === CHANGELOG_HANDLE_V2 ? c.safeLong(`${what} checkpoint id`) : materializationId;
        c.utf(`${what} state handle id`);
        return { kind: 'changelog', firstKeyGroup, numKeyGroups, materialized, nonMaterialized, materializationId, checkpointId };
      }
      case CHANGELOG_BYTE_INCREMENT_HANDLE: {
        const firstKeyGroup = c.i32(`${what} first key group`);
        const numKeyGroups = c.i32(`${what} key group count`);
        c.i64(`${what} from`);
        c.i64(`${what} to`);
        const n = count(`${what} change count`);
        for (let i = 0; i < n; i++) {
          c.i32(`${what} change key group`);
          const len = c.i32(`${what} change length`);
          if (len < 0) throw corrupt(`${what}: negative change length ${len}`);
          c.take(len, `${what} change bytes`);
        }
        c.utf(`${what} state handle id`);
        return { kind: 'changelog-bytes', firstKeyGroup, numKeyGroups, changes: n };
      }
      case CHANGELOG_FILE_INCREMENT_HANDLE:
      case CHANGELOG_FILE_INCREMENT_HANDLE_V2: {
        const firstKeyGroup = c.i32(`${what} first key group`);
        const numKeyGroups = c.i32(`${what} key group count`);
        const handles: (StreamHandle | null)[] = [];
        for (let i = 0, n = count(`${what} handle count`); i < n; i++) {
          c.i64(`${what} handle offset`);
          const h = streamHandle(`${what} handle[${i}]`);
          refer(h, 'shared');
          handles.push(h);
        }
        c.i64(`${what} state size`);
        c.i64(`${what} checkpointed size`);
        c.utf(`${what} state handle id`);
        const storageIdentifier = type === CHANGELOG_FILE_INCREMENT_HANDLE_V2 ? c.utf(`${what} storage identifier`) : 'filesystem';
        return { kind: 'changelog-files', firstKeyGroup, numKeyGroups, handles, storageIdentifier };
      }
      default:
        throw unknownHandle('keyed state handle', type, at, what);
    }
  };

  const operatorHandle = (what: string): OperatorHandle | null => {
    const at = c.pos;
    const type = c.i8(`${what} type`);
    if (type === NULL_HANDLE) return null;
    if (type !== PARTITIONABLE_OPERATOR_STATE_HANDLE && type !== SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE) {
      throw unknownHandle('operator state handle', type, at, what);
    }
    const states: OperatorHandle['states'] = [];
    for (let i = 0, n = count(`${what} state count`); i < n; i++) {
      const name = c.utf(`${what} state name`);
      const modeOrdinal = c.i8(`${what} mode`);
      const mode = OPERATOR_STATE_MODES[modeOrdinal];
      if (!mode) throw corrupt(`${what}: unknown OperatorStateHandle.Mode ordinal ${modeOrdinal} for state ${JSON.stringify(name)}`);
      const partitions = count(`${what} offsets count`);
      c.take(partitions * 8, `${what} offsets`);
      states.push({ name, mode, partitions });
    }
    if (type === SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE) {
      const taskOwnedDir = c.utf(`${what} task-owned dir`);
      const sharedDir = c.utf(`${what} shared dir`);
      c.u8(`${what} empty flag`);
      const delegate = streamHandle(`${what} delegate`);
      refer(delegate, 'exclusive');
      return { kind: 'file-merging-operator', states, delegate, taskOwnedDir, sharedDir };
    }
    const delegate = streamHandle(`${what} delegate`);
    refer(delegate, 'exclusive');
    return { kind: 'operator', states, delegate };
  };

  // Unaligned checkpoints' in-flight data: MetadataV3Serializer with ChannelStateHandleSerializer(V1) up to v5, V2 from v6.
  const channelHandles = (what: string, input: boolean): ChannelHandle[] => {
    const out: ChannelHandle[] = [];
    for (let i = 0, n = count(`${what} count`); i < n; i++) {
      const w = `${what}[${i}]`;
      let merged = false;
      if (version >= 6) {
        const at = c.pos;
        const t = c.u8(`${w} type`);
        const expected = input ? [INPUT_CHANNEL_STATE_HANDLE, MERGED_INPUT_CHANNEL_STATE_HANDLE] : [RESULT_SUBPARTITION_STATE_HANDLE, MERGED_RESULT_SUBPARTITION_STATE_HANDLE];
        if (!expected.includes(t)) throw unknownHandle('channel state handle', t, at, w);
        merged = t === expected[1];
      }
      const kind = (merged ? 'merged-' : '') + (input ? 'input-channel' : 'result-subpartition');
      if (merged) {
        const subtaskIndex = c.i32(`${w} subtask`);
        c.i64(`${w} state size`);
        const delegate = streamHandle(`${w} delegate`);
        const offsetsLength = c.i32(`${w} offsets length`);
        if (offsetsLength < 0) throw corrupt(`${w}: negative offsets length ${offsetsLength}`);
        c.take(offsetsLength, `${w} offsets`);
        refer(delegate, 'exclusive');
        out.push({ kind: kind as ChannelHandle['kind'], subtaskIndex, delegate });
      } else {
        const subtaskIndex = c.i32(`${w} subtask`);
        c.i32(`${w} gate/partition index`);
        c.i32(`${w} channel/subpartition index`);
        const offsets = count(`${w} offsets count`);
        c.take(offsets * 8, `${w} offsets`);
        c.i64(`${w} state size`);
        const delegate = streamHandle(`${w} delegate`);
        refer(delegate, 'exclusive');
        out.push({ kind: kind as ChannelHandle['kind'], subtaskIndex, delegate });
      }
    }
    return out;
  };

  const subtaskState = (index: number, what: string): SubtaskState => {
    const managedOperatorState = c.i32(`${what} has managed operator state`) !== 0 ? operatorHandle(`${what} managed operator state`) : null;
    const rawOperatorState = c.i32(`${what} has raw operator state`) !== 0 ? operatorHandle(`${what} raw operator state`) : null;
    const managedKeyedState = keyedHandle(`${what} managed keyed state`);
    const rawKeyedState = keyedHandle(`${what} raw keyed state`);
    const inputChannelState = channelHandles(`${what} input channel state`, true);
    const resultSubpartitionState = channelHandles(`${what} result subpartition state`, false);
    return { index, finished: false, managedOperatorState, rawOperatorState, managedKeyedState, rawKeyedState, inputChannelState, resultSubpartitionState };
  };

  const operatorState = (i: number): OperatorStateInfo => {
    let name: string | undefined;
    let uid: string | undefined;
    if (version >= 5) {
      name = c.utf(`operator[${i}] name`);
      uid = c.utf(`operator[${i}] uid`);
    }
    const idBytes = c.take(16, `operator[${i}] id`);
    const operatorId = Array.from(idBytes, (b) => b.toString(16).padStart(2, '0')).join('');
    const what = `operator ${operatorId}`;
    const parallelism = c.i32(`${what} parallelism`);
    const maxParallelism = c.i32(`${what} max parallelism`);
    const coordinatorState = streamHandle(`${what} coordinator state`);
    if (coordinatorState && coordinatorState.kind !== 'bytes') {
      throw corrupt(`${what}: coordinator state must be inline bytes (ByteStreamStateHandle), got ${coordinatorState.kind}`);
    }
    const n = c.i32(`${what} subtask count`);
    const op: OperatorStateInfo = { operatorId, parallelism, maxParallelism, coordinatorState, fullyFinished: n < 0, subtasks: [] };
    if (name) op.name = name;
    if (uid) op.uid = uid;
    if (n > c.remaining) throw corrupt(`${what}: subtask count ${n} is impossible with ${c.remaining} bytes left`);
    for (let j = 0; j < n; j++) {
      const stored = c.i32(`${what} subtask index`);
      if (stored < 0) {
        op.subtasks.push({
          index: -stored - 1, finished: true, managedOperatorState: null, rawOperatorState: null,
          managedKeyedState: null, rawKeyedState: null, inputChannelState: [], resultSubpartitionState: [],
        });
      } else {
        op.subtasks.push(subtaskState(stored, `${what} subtask ${stored}`));
      }
    }
    return op;
  };

  const checkpointId = c.safeLong('checkpoint id');
  if (checkpointId < 0) throw corrupt(`negative checkpoint id ${checkpointId}`);
  const masterStates: FlinkSnapshotMetadata['masterStates'] = [];
  for (let i = 0, n = count('master state count'); i < n; i++) {
    const magicNumber = c.i32('master state magic');
    if (magicNumber !== MASTER_STATE_MAGIC) throw corrupt(`master state ${i}: magic 0x${(magicNumber >>> 0).toString(16)}, expected 0xc96b1696`);
    const len = c.i32('master state length');
    if (len <= 0) throw corrupt(`master state ${i}: length ${len}`);
    const inner = new ByteCursor(c.take(len, 'master state'), 0, corrupt);
    const msVersion = inner.i32('master state version');
    const name = inner.utf('master state name');
    const size = inner.i32('master state payload length');
    inner.take(size, 'master state payload');
    masterStates.push({ name, version: msVersion, size });
  }
  const operators: OperatorStateInfo[] = [];
  for (let i = 0, n = count('operator state count'); i < n; i++) operators.push(operatorState(i));

  const result: FlinkSnapshotMetadata = { version, checkpointId, masterStates, operators, files: [...files.values()] };
  if (version >= 4) {
    let parsed: { value: JavaValue; end: number };
    try {
      parsed = readJavaObject(bytes, c.pos);
    } catch (e) {
      if (e instanceof JavaStreamError) throw corrupt(`checkpoint properties: ${e.message}`);
      throw e;
    }
    c.pos = parsed.end;
    result.properties = snapshotProperties(parsed.value, corrupt);
  }
  if (c.remaining !== 0) throw corrupt(`${c.remaining} unexpected trailing bytes at offset ${c.pos} (format version ${version})`);
  return result;
}

/** `CheckpointProperties` as decoded from Java serialization → `SnapshotProperties`. */
function snapshotProperties(v: JavaValue, corrupt: (m: string) => FlinkMetadataError): SnapshotProperties {
  if (!v || typeof v !== 'object' || v.kind !== 'object' || v.className !== 'org.apache.flink.runtime.checkpoint.CheckpointProperties') {
    throw corrupt(`checkpoint properties: expected a CheckpointProperties object, got ${describe(v)}`);
  }
  const flags: Record<string, boolean> = {};
  for (const [k, f] of Object.entries(v.fields)) if (typeof f === 'boolean') flags[k] = f;
  const t = v.fields.checkpointType;
  if (!t || typeof t !== 'object' || t.kind !== 'object') throw corrupt(`checkpoint properties: checkpointType is ${describe(t ?? null)}`);
  const typeName = typeof t.fields.name === 'string' ? t.fields.name : '';
  const enumOf = (x: JavaValue | undefined): string | undefined => (x && typeof x === 'object' && x.kind === 'enum' ? x.constant : undefined);
  if (t.className === 'org.apache.flink.runtime.checkpoint.SavepointType') {
    const format = enumOf(t.fields.formatType);
    if (format !== 'CANONICAL' && format !== 'NATIVE') throw corrupt(`checkpoint properties: savepoint format ${String(format)} is neither CANONICAL nor NATIVE`);
    const p: SnapshotProperties = { type: 'savepoint', typeName, savepointFormat: format, flags };
    const action = enumOf(t.fields.postCheckpointAction);
    if (action) p.postCheckpointAction = action;
    return p;
  }
  if (t.className === 'org.apache.flink.runtime.checkpoint.CheckpointType') {
    const p: SnapshotProperties = { type: 'checkpoint', typeName, flags };
    const strategy = enumOf(t.fields.sharingFilesStrategy);
    if (strategy) p.sharingFilesStrategy = strategy;
    return p;
  }
  throw corrupt(`checkpoint properties: unknown snapshot type class ${t.className}`);
}

function describe(v: JavaValue): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `${v.kind} ${v.className}`;
  return typeof v;
}

/** Options of `assertRelocatable`. */
export interface RelocatableOptions {
  /**
   * Where the job's snapshot files may live (URIs or paths without trailing `/`), e.g. the
   * snapshot directory and `<checkpoint dir>/<job id>/shared`. A referenced file must be under one.
   */
  prefixes: readonly string[];
  /** The job's `s3.entropy.key` when it sets one: a path containing it is refused too. */
  entropyKey?: string;
  /** Names the snapshot in errors. */
  where: string;
}

/**
 * Refuses a snapshot that cannot be restored from a copy elsewhere: one that references files
 * outside the job's own prefixes. That is what entropy injection (`s3.entropy.key`, Flink docs
 * "Amazon S3" → "Entropy injection for S3 file systems") produces: data files are written under
 * a path where the key is replaced by random characters, while `_metadata` sits under the path
 * with the key removed, so the absolute paths in `_metadata` name no prefix az-evac replicates
 * or maps; the same holds for any foreign absolute path.
 * @throws FlinkMetadataError `not-relocatable` naming the first offending path, how many there are and the fix
 */
export function assertRelocatable(meta: Pick<FlinkSnapshotMetadata, 'files'>, options: RelocatableOptions): void {
  const prefixes = options.prefixes.map((p) => p.replace(/\/+$/, ''));
  const key = options.entropyKey;
  const bad = meta.files.filter(
    (f) => (key !== undefined && key !== '' && f.path.includes(key)) || !prefixes.some((p) => f.path === p || f.path.startsWith(`${p}/`)),
  );
  if (bad.length === 0) return;
  const first = bad[0]!.path;
  const why = key && first.includes(key) ? `it contains the entropy key ${JSON.stringify(key)}` : `it is outside the job's snapshot prefixes ${prefixes.join(', ')}`;
  throw new FlinkMetadataError(
    'not-relocatable',
    `${options.where}: references ${first} (${bad.length} of ${meta.files.length} files like it): ${why}, as entropy injection (s3.entropy.key) ` +
      `or a foreign path produces; such a snapshot is not relocatable to the other AZ. Fix: drop s3.entropy.key from the job's checkpoint path, or choose another snapshot`,
  );
}

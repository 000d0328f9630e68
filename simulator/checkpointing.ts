/**
 * Periodic checkpoints and savepoints of running jobs, written into their AZ's state
 * bucket in Flink's layout (see snapshots.ts) and replicated by ReplicatedStores.
 *
 * - every checkpoint interval (`execution.checkpointing.interval`, default 60 model s) a
 *   RUNNING job writes `chk-<n+1>`: a private data file, a `shared/` file, then `_metadata`
 *   LAST; the newest 3 checkpoints are retained (older ones deleted, deletes replicated);
 * - every 30 model minutes a periodic savepoint (data file, then `_metadata`); 2 retained. It
 *   takes a savepoint's time for the job's state (az-bottlenecks.ts AzBottlenecks.savepoint:
 *   base, then the state at the write rate, sharing the AZ's object-store write bandwidth with
 *   the other savepoints written there) and completes then, if the job still runs.
 * `_metadata` is Flink's binary format (flink-metadata.ts, as Flink 1.20 writes it): the
 * checkpoint's own file relative to its directory, its `shared/` file absolute, the savepoint's
 * file relative. Its completion time is the `_metadata` object's last-modified time.
 * State bytes are split 5 % private / 95 % shared per checkpoint, so a snapshot's files
 * sum to the job's state size (what a restore reads, see latency-model.ts).
 *
 * All jobs share the simulator's one scheduler (no timer per job). A job stops being
 * ticked as soon as `isActive()` turns false (suspended, redeployed, failed).
 */
import type { StoredObject } from './object-store.js';
import { hex, seededUniform, type Uniform } from './random.js';
import type { ReplicatedStores } from './replication.js';
import type { Scheduler } from './scheduler.js';
import { checkpointDirKey, METADATA, savepointDirKey } from '../domain/snapshot-layout.js';
import { writeFlinkMetadata, type SimSnapshotFile } from './flink-metadata.js';
import type { AzBottlenecks } from './az-bottlenecks.js';

/** Checkpointing constants (model seconds, counts). */
export const CHECKPOINTING = {
  defaultIntervalSeconds: 60,
  retainedCheckpoints: 3,
  savepointIntervalSeconds: 30 * 60,
  retainedSavepoints: 2,
  privateStateFraction: 0.05,
} as const;

/**
 * Checkpoint interval floor when objects go through to S3, model seconds. Measured: a
 * 200-job fleet at the default 60 s interval writes ~400 S3 requests/s (checkpoint files,
 * replicas, retention deletes) against ~100–150/s that versitygw sustains on 2 shared
 * cores (docs/object-stores.md). 120 s halves that and stays below the tightest RPO (P0,
 * 300 s) minus the longest replication lag (60 s): a newest restorable checkpoint is never
 * older than 180 s. simulator/main.ts applies it; the benchmark's lower bound uses the same.
 */
export const S3_CHECKPOINT_FLOOR_SECONDS = 120;

/**
 * Seeding only: object role → AZ → model seconds that replica lags (absent AZ: replicated
 * at once). Without it, writes replicate with the live random lag.
 */
export type ReplicaDelays = Record<'metadata' | 'data', Record<string, number>>;

/** A retained snapshot: its directory key and the keys of its objects. */
interface Retained {
  dir: string;
  keys: string[];
}

/** Where and what one running job snapshots, and its retained history. */
export interface SnapshotTrack {
  az: string;
  /** `namespace/name`. */
  key: string;
  /** 32 hex. */
  jobId: string;
  /** Bucket of the checkpoint/savepoint dirs (normally the AZ's state bucket). */
  bucket: string;
  /** Key prefixes; undefined → the job writes no checkpoints (or savepoints). */
  checkpointPrefix?: string;
  savepointPrefix?: string;
  intervalSeconds: number;
  stateSizeBytes: number;
  nextCheckpointId: number;
  checkpoints: Retained[];
  savepoints: Retained[];
}

/** A written snapshot: `s3://bucket/dir`, completion time (wall epoch seconds, see scheduler.ts), checkpoint id. */
export interface WrittenSnapshot {
  path: string;
  completedAtEpochSeconds: number;
  id: number;
}

function uuid(u: Uniform): string {
  const h = hex(u, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Writes checkpoints and savepoints for running jobs. */
export class Checkpointing {
  /** @param bottlenecks the AZs' shared resources, whose savepoint time (AzBottlenecks.savepoint) periodic savepoints take */
  constructor(
    private readonly stores: ReplicatedStores,
    private readonly scheduler: Scheduler,
    private readonly seed: number,
    private readonly bottlenecks: AzBottlenecks,
  ) {}

  /**
   * Write checkpoint `track.nextCheckpointId` completed at `at` (see ReplicaDelays).
   * @returns the snapshot, or undefined when the job has no checkpoint dir or its bucket
   *   does not exist in its AZ (the checkpoint fails, as in Flink).
   */
  writeCheckpoint(track: SnapshotTrack, at: number, replicaDelays?: ReplicaDelays): WrittenSnapshot | undefined {
    if (track.checkpointPrefix === undefined || !this.stores.store(track.az).hasBucket(track.bucket)) return undefined;
    const n = track.nextCheckpointId++;
    const dir = checkpointDirKey(track.checkpointPrefix, track.jobId, n);
    const u = seededUniform(this.seed, track.jobId, 'chk', n);
    const privateBytes = Math.round(track.stateSizeBytes * CHECKPOINTING.privateStateFraction);
    const privateName = uuid(u);
    const sharedKey = `${track.checkpointPrefix}/${track.jobId}/shared/${uuid(u)}`;
    const files: Array<[string, number]> = [[`${dir}/${privateName}`, privateBytes], [sharedKey, track.stateSizeBytes - privateBytes]];
    const refs: SimSnapshotFile[] = [
      { ref: privateName, sizeBytes: privateBytes },
      { ref: `s3://${track.bucket}/${sharedKey}`, sizeBytes: track.stateSizeBytes - privateBytes, shared: true },
    ];
    const keys = this.writeSnapshot(track, { dir, kind: 'checkpoint', checkpointId: n }, files, refs, at, replicaDelays);
    track.checkpoints.push({ dir, keys });
    this.retain(track, track.checkpoints, CHECKPOINTING.retainedCheckpoints);
    return { path: `s3://${track.bucket}/${dir}`, completedAtEpochSeconds: this.scheduler.clock.epoch(at), id: n };
  }

  /**
   * Write a savepoint completed at `at` (periodic, or on suspend/upgrade); `replicaDelays`
   * as for checkpoints. Undefined when the job has no savepoint dir.
   */
  writeSavepoint(track: SnapshotTrack, at: number, replicaDelays?: ReplicaDelays): WrittenSnapshot | undefined {
    if (track.savepointPrefix === undefined || !this.stores.store(track.az).hasBucket(track.bucket)) return undefined;
    const u = seededUniform(this.seed, track.jobId, 'savepoint', at);
    const dir = savepointDirKey(track.savepointPrefix, track.jobId, hex(u, 12));
    const file = uuid(u);
    const keys = this.writeSnapshot(
      track, { dir, kind: 'savepoint', checkpointId: track.nextCheckpointId },
      [[`${dir}/${file}`, track.stateSizeBytes]], [{ ref: file, sizeBytes: track.stateSizeBytes }], at, replicaDelays,
    );
    track.savepoints.push({ dir, keys });
    this.retain(track, track.savepoints, CHECKPOINTING.retainedSavepoints);
    return { path: `s3://${track.bucket}/${dir}`, completedAtEpochSeconds: this.scheduler.clock.epoch(at), id: track.nextCheckpointId };
  }

  /**
   * Seed a job's history at fleet load so restore points exist at once: checkpoints aged
   * 150/90/30 s and savepoints aged 40/10 min, replicated to every other AZ. When
   * `laggingReplica` names an AZ, the newest checkpoint's `_metadata` (or, by a seeded
   * coin, one data file) reaches that replica only 30–90 s later: incomplete for now.
   */
  seedHistory(track: SnapshotTrack, now: number, laggingReplica?: string): void {
    const inSync: ReplicaDelays = { metadata: {}, data: {} };
    for (const age of [40 * 60, 10 * 60]) this.writeSavepoint(track, now - age, inSync);
    const ages = [150, 90, 30];
    ages.forEach((age, i) => {
      let delays = inSync;
      if (laggingReplica !== undefined && i === ages.length - 1) {
        const u = seededUniform(this.seed, track.key, 'lagging-replica');
        const delay = 30 + 60 * u();
        delays = u() < 0.5 ? { metadata: { [laggingReplica]: delay }, data: {} } : { metadata: {}, data: { [laggingReplica]: delay } };
      }
      this.writeCheckpoint(track, now - age, delays);
    });
  }

  /**
   * Tick the job while `isActive()`: a checkpoint every interval (first one `first.checkpointInSeconds`
   * from now) and a periodic savepoint every 30 min (first one `first.savepointInSeconds` from now).
   * A checkpoint tick while `hooks.tasksRunning()` is false (tasks still restoring state) is
   * declined and the next one comes an interval later, as Flink's checkpoint coordinator
   * does when not all tasks are running. A savepoint tick starts a savepoint that completes
   * savepointSeconds(model, state) later if the job is still active; while
   * `hooks.savepointFails()` is true it writes nothing (the savepoint fails, as the operator's
   * periodic savepoints do when the JobManager cannot complete one: the job runs on). The next
   * tick comes 30 min after the previous one either way.
   */
  start(
    track: SnapshotTrack,
    isActive: () => boolean,
    onCheckpoint: (written: WrittenSnapshot) => void,
    first: { checkpointInSeconds?: number; savepointInSeconds?: number } = {},
    hooks: { tasksRunning?: () => boolean; savepointFails?: () => boolean } = {},
  ): void {
    const tasksRunning = hooks.tasksRunning ?? (() => true);
    const savepointFails = hooks.savepointFails ?? (() => false);
    const checkpoint = (): void => {
      if (!isActive()) return;
      const written = tasksRunning() ? this.writeCheckpoint(track, this.scheduler.clock.now()) : undefined;
      if (written) onCheckpoint(written);
      this.scheduler.after(track.intervalSeconds, [track.az], checkpoint);
    };
    const savepoint = (): void => {
      if (!isActive()) return;
      if (!savepointFails()) {
        this.bottlenecks.savepoint(track.az, track.stateSizeBytes, () => {
          if (isActive()) this.writeSavepoint(track, this.scheduler.clock.now());
        });
      }
      this.scheduler.after(CHECKPOINTING.savepointIntervalSeconds, [track.az], savepoint);
    };
    this.scheduler.after(first.checkpointInSeconds ?? track.intervalSeconds, [track.az], checkpoint);
    this.scheduler.after(first.savepointInSeconds ?? CHECKPOINTING.savepointIntervalSeconds, [track.az], savepoint);
  }

  private writeSnapshot(
    track: SnapshotTrack,
    snapshot: { dir: string; kind: 'checkpoint' | 'savepoint'; checkpointId: number },
    files: Array<[string, number]>,
    refs: SimSnapshotFile[],
    at: number,
    replicaDelays?: ReplicaDelays,
  ): string[] {
    const stamp = this.scheduler.clock.epoch(at);
    const put = (key: string, obj: StoredObject, delays?: Record<string, number>): void => {
      if (replicaDelays) this.stores.putReplicated(track.az, track.bucket, key, obj, delays);
      else this.stores.put(track.az, track.bucket, key, obj);
    };
    for (const [key, sizeBytes] of files) put(key, { sizeBytes, lastModifiedEpochSeconds: stamp }, replicaDelays?.data);
    const { dir, kind, checkpointId } = snapshot;
    const body = writeFlinkMetadata({ kind, checkpointId, operatorId: track.jobId, files: refs });
    put(`${dir}/${METADATA}`, { sizeBytes: body.length, lastModifiedEpochSeconds: stamp, body }, replicaDelays?.metadata);
    return [...files.map(([k]) => k), `${dir}/${METADATA}`];
  }

  private retain(track: SnapshotTrack, list: Retained[], keep: number): void {
    while (list.length > keep) {
      const old = list.shift()!;
      for (const key of old.keys) this.stores.delete(track.az, track.bucket, key);
    }
  }
}

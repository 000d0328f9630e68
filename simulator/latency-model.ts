/**
 * The simulated platform's timing model: every parameter of a FlinkDeployment's way from
 * apply to RUNNING, and of the shared resources a mass evacuation queues on, in one
 * `PlatformModel`. Each parameter's source (operator default, Kubernetes or S3 figure, field
 * report) or its "assumption" mark is in docs/simulator-model.md; model seconds throughout
 * (the server divides by its time scale for wall time), bytes and bytes per second.
 *
 * A deploy, in order (simulator/operator.ts runs it on the shared resources of its AZ):
 * 1. capacity: its pods wait (Pending) until the AZ's free cores and MiB fit them (capacity.ts);
 * 2. reconcile: the operator's deploy reconcile, `deployReconcileSeconds` on one of the AZ
 *    operator's `reconcileParallelism` threads (FIFO when all are busy);
 * 3. pod scheduling: the job's 1 + replicas pods bound at `podsBoundPerSecond` per AZ (FIFO);
 * 4. image pull: `imageBytes` per job from the AZ's registry, `imagePullBytesPerSecond` alone,
 *    all pulls sharing `registryBytesPerSecond`;
 * 5. JobManager start (`jobManagerSeconds`), then its REST port is open;
 * 6. jar fetch: from the AZ's jar cache at `cacheBytesPerSecond` when every jar is there
 *    (preloaded), else from the HDD-backed repository at `repositoryBytesPerSecondPerDownload`
 *    alone, all downloads and preload copies sharing `repositoryBytesPerSecond`;
 * 7. TaskManagers (`taskManager*Seconds`), then job submission and task deployment (`jobInitSeconds`):
 *    Flink's job is RUNNING;
 * 8. the operator sees RUNNING at its first progress check (every
 *    `progressCheckIntervalSeconds` from the reconcile) at least `restReadyDelaySeconds` after
 *    the REST port opened;
 * 9. state restore (restoring deploys): the tasks read the snapshot at
 *    `restoreBytesPerSecondPerJob` alone (at least bytes / `restoreMaxSecondsAlone`), all
 *    restores of the AZ sharing `objectStoreReadBytesPerSecond`.
 * A savepoint (a stop with a savepoint: suspend under upgradeMode savepoint, preemption, a
 * drill's or a planned move's stop; an upgrade's; a periodic one; protection's) takes
 * `savepointBaseSeconds`, then writes the state at `savepointBytesPerSecond` alone, all
 * savepoints of the AZ sharing `objectStoreWriteBytesPerSecond` (az-bottlenecks.ts
 * AzBottlenecks.savepoint); `savepointSeconds` is its time alone. A stop frees its pods after.
 *
 * Random draws (`jobManagerSeconds`, `taskManagerBaseSeconds`, `jobInitSeconds`) are
 * deterministic from (seed, job key, deploy count), so the lower bound (bench/lower-bound.ts)
 * recomputes the same per-job times with `fixedPhases`.
 */
import { between, seededUniform } from './random.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Seconds drawn uniformly from [min, max]. */
export interface SecondsRange {
  min: number;
  max: number;
}

/** Every timing parameter of the simulated platform (module doc; sources in docs/simulator-model.md). */
export interface PlatformModel {
  /** `default` (calibrated to the field) or `null` (every job RUNNING the moment it is applied). */
  name: 'default' | 'null';
  /** Operator reconcile threads per AZ (`kubernetes.operator.reconcile.parallelism`); Infinity: unbounded. */
  reconcileParallelism: number;
  /** Seconds one deploy reconcile holds a reconcile thread. */
  deployReconcileSeconds: number;
  /** Seconds after the JobManager's REST port opens before the operator trusts it (`kubernetes.operator.observer.rest-ready.delay`). */
  restReadyDelaySeconds: number;
  /** Seconds between the operator's observations of a deploy in progress (`kubernetes.operator.observer.progress-check.interval`); 0: at once. */
  progressCheckIntervalSeconds: number;
  /** Seconds an upgrade spends cancelling the running job before redeploying. */
  upgradeCancelSeconds: number;
  /** Seconds between a failed restore and the next attempt (Flink's restart delay). */
  restartDelaySeconds: number;
  /** Pods the AZ's kube-scheduler binds per second (Infinity: at once). */
  podsBoundPerSecond: number;
  /** Bytes of the Flink image pulled once per deploy. */
  imageBytes: number;
  /** Bytes per second of one image pull alone. */
  imagePullBytesPerSecond: number;
  /** Bytes per second the AZ's image registry serves to all pulls together. */
  registryBytesPerSecond: number;
  jobManagerSeconds: SecondsRange;
  taskManagerBaseSeconds: SecondsRange;
  taskManagerPerReplicaSeconds: number;
  taskManagerMaxSeconds: number;
  jobInitSeconds: SecondsRange;
  /** Bytes per second of a jar read from the AZ's jar cache (artifact bucket). */
  cacheBytesPerSecond: number;
  /** Bytes per second of one jar download from the HDD-backed repository alone. */
  repositoryBytesPerSecondPerDownload: number;
  /** Bytes per second the repository serves to all downloads and preload copies together. */
  repositoryBytesPerSecond: number;
  /** Bytes per second one job's restore reads alone (its TaskManagers together). */
  restoreBytesPerSecondPerJob: number;
  /** A restore alone never takes longer than this (big state is read by many TaskManagers). */
  restoreMaxSecondsAlone: number;
  /** Bytes per second the AZ's object store serves to all restores together. */
  objectStoreReadBytesPerSecond: number;
  /** Seconds of a stop-with-savepoint besides writing the state. */
  savepointBaseSeconds: number;
  /** Bytes per second one savepoint writes alone. */
  savepointBytesPerSecond: number;
  /** Bytes per second the AZ's object store takes from all savepoints being written together. */
  objectStoreWriteBytesPerSecond: number;
  /**
   * Bytes per second one shipped savepoint copy moves alone (protection's copy between two AZs'
   * object stores, simulator/protection.ts); all copies and restores of the source AZ share
   * `objectStoreReadBytesPerSecond`.
   */
  shipBytesPerSecondPerCopy: number;
  /** Seconds to promote a hot standby (a label flip on a job already RUNNING). */
  promoteStandbySeconds: number;
  /** Seconds after RUNNING of a deploy's first checkpoint; undefined: one checkpoint interval. */
  firstCheckpointSeconds?: number;
}

/** The default model: one job's apply → RUNNING ≈ 2 min, bottlenecks at a mass evacuation's load. */
export const DEFAULT_MODEL: PlatformModel = {
  name: 'default',
  reconcileParallelism: 50,
  deployReconcileSeconds: 2,
  restReadyDelaySeconds: 10,
  progressCheckIntervalSeconds: 10,
  upgradeCancelSeconds: 10,
  restartDelaySeconds: 10,
  podsBoundPerSecond: 50,
  imageBytes: 1 * GiB,
  imagePullBytesPerSecond: 200 * MiB,
  registryBytesPerSecond: 10 * GiB,
  jobManagerSeconds: { min: 10, max: 20 },
  taskManagerBaseSeconds: { min: 5, max: 10 },
  taskManagerPerReplicaSeconds: 0.5,
  taskManagerMaxSeconds: 30,
  jobInitSeconds: { min: 60, max: 90 },
  cacheBytesPerSecond: 200 * MiB,
  repositoryBytesPerSecondPerDownload: 25 * MiB,
  repositoryBytesPerSecond: 1000 * MiB,
  restoreBytesPerSecondPerJob: 500 * MiB,
  restoreMaxSecondsAlone: 300,
  objectStoreReadBytesPerSecond: 64 * GiB,
  savepointBaseSeconds: 5,
  savepointBytesPerSecond: 500 * MiB,
  objectStoreWriteBytesPerSecond: 21 * GiB,
  shipBytesPerSecondPerCopy: 200 * MiB,
  promoteStandbySeconds: 1,
};

/** The null platform: no delay, no shared resource, first checkpoint at RUNNING; the engine measured alone. */
export const NULL_MODEL: PlatformModel = {
  name: 'null',
  reconcileParallelism: Infinity,
  deployReconcileSeconds: 0,
  restReadyDelaySeconds: 0,
  progressCheckIntervalSeconds: 0,
  upgradeCancelSeconds: 0,
  restartDelaySeconds: 0,
  podsBoundPerSecond: Infinity,
  imageBytes: 0,
  imagePullBytesPerSecond: Infinity,
  registryBytesPerSecond: Infinity,
  jobManagerSeconds: { min: 0, max: 0 },
  taskManagerBaseSeconds: { min: 0, max: 0 },
  taskManagerPerReplicaSeconds: 0,
  taskManagerMaxSeconds: 0,
  jobInitSeconds: { min: 0, max: 0 },
  cacheBytesPerSecond: Infinity,
  repositoryBytesPerSecondPerDownload: Infinity,
  repositoryBytesPerSecond: Infinity,
  restoreBytesPerSecondPerJob: Infinity,
  restoreMaxSecondsAlone: 0,
  objectStoreReadBytesPerSecond: Infinity,
  savepointBaseSeconds: 0,
  savepointBytesPerSecond: Infinity,
  objectStoreWriteBytesPerSecond: Infinity,
  shipBytesPerSecondPerCopy: Infinity,
  promoteStandbySeconds: 0,
  firstCheckpointSeconds: 0,
};

/** Model names the simulator accepts (`--platform-model`). */
export const PLATFORM_MODELS = { default: DEFAULT_MODEL, null: NULL_MODEL } as const;

/**
 * The model called `name`.
 * @throws Error naming the value and the accepted names when `name` is not one
 */
export function platformModelNamed(name: string): PlatformModel {
  const model = (PLATFORM_MODELS as Record<string, PlatformModel>)[name];
  if (!model) throw new Error(`platform model ${JSON.stringify(name)} is unknown; use one of ${Object.keys(PLATFORM_MODELS).join(', ')}`);
  return model;
}

/** The per-deploy draws of a start-up, seconds. */
export interface FixedPhases {
  jobManager: number;
  taskManagers: number;
  jobInit: number;
}

/**
 * The randomly drawn phases of a deploy (JobManager start, TaskManagers, job init), seconds,
 * deterministic from (seed, key, deployCount); `replicas` = TaskManager pods.
 */
export function fixedPhases(model: PlatformModel, seed: number, key: string, deployCount: number, replicas: number): FixedPhases {
  const u = seededUniform(seed, key, deployCount, 'startup');
  const jm = model.jobManagerSeconds;
  const tm = model.taskManagerBaseSeconds;
  const init = model.jobInitSeconds;
  return {
    jobManager: between(u, jm.min, jm.max),
    taskManagers: Math.min(model.taskManagerMaxSeconds, between(u, tm.min, tm.max) + model.taskManagerPerReplicaSeconds * Math.max(0, replicas)),
    jobInit: between(u, init.min, init.max),
  };
}

/** Bytes per second one restore of `bytes` reads at most (alone): the per-job rate, faster for big state. */
export function restoreCapBytesPerSecond(model: PlatformModel, bytes: number): number {
  return model.restoreMaxSecondsAlone > 0 ? Math.max(model.restoreBytesPerSecondPerJob, bytes / model.restoreMaxSecondsAlone) : model.restoreBytesPerSecondPerJob;
}

/** Seconds of a savepoint of `stateBytes` of state alone (no other savepoint of its AZ writing meanwhile). */
export function savepointSeconds(model: PlatformModel, stateBytes: number): number {
  return model.savepointBaseSeconds + seconds(stateBytes, model.savepointBytesPerSecond);
}

/** `bytes / bytesPerSecond`, 0 for no bytes or an infinite rate. */
export function seconds(bytes: number, bytesPerSecond: number): number {
  return bytes <= 0 || bytesPerSecond === Infinity ? 0 : bytes / bytesPerSecond;
}

/** The phases of a deploy, in order (module doc). */
export type StartupPhase = 'capacity' | 'reconcile' | 'podScheduling' | 'imagePull' | 'jobManager' | 'jarFetch' | 'taskManagers' | 'jobInit' | 'observe' | 'stateRestore';

/** Seconds of one deploy's phases as they happened (filled in as the deploy advances; 0 until then). */
export interface StartupTime {
  /** Apply accepted → jobStatus RUNNING seen by the operator (set at RUNNING). */
  total: number;
  /**
   * Per phase, in order; `stateRestore` is the restore alone (uncontended) while it runs and
   * the time it took once it ended.
   */
  phases: Record<StartupPhase, number>;
}

/** A StartupTime with every phase at 0. */
export function emptyStartup(): StartupTime {
  return { total: 0, phases: { capacity: 0, reconcile: 0, podScheduling: 0, imagePull: 0, jobManager: 0, jarFetch: 0, taskManagers: 0, jobInit: 0, observe: 0, stateRestore: 0 } };
}

/** What one deploy needs, for its time alone. */
export interface DeployShape {
  /** Job key `namespace/name` (part of the random draws). */
  key: string;
  seed: number;
  /** The resource's deploy count of this deploy (1 on its first). */
  deployCount: number;
  /** TaskManager pods. */
  replicas: number;
  /** Total bytes of the job's jars. */
  jarBytes: number;
  /** Every jar is in the AZ's jar cache (preloaded). */
  preloaded: boolean;
  /** Bytes of state restored (0: a stateless start). */
  restoreBytes: number;
}

/**
 * Seconds of each phase of a deploy ALONE on an idle platform, with no capacity wait and the
 * operator's progress check at once: none of the shared resources queues or divides it, so
 * any real run of the same deploy takes at least this long in each phase.
 */
export function aloneSeconds(model: PlatformModel, d: DeployShape): Record<Exclude<StartupPhase, 'capacity' | 'observe'>, number> & { restReadyDelay: number } {
  const drawn = fixedPhases(model, d.seed, d.key, d.deployCount, d.replicas);
  const podsPerSecond = model.podsBoundPerSecond;
  return {
    reconcile: model.deployReconcileSeconds,
    podScheduling: podsPerSecond === Infinity ? 0 : (1 + d.replicas) / podsPerSecond,
    imagePull: seconds(model.imageBytes, Math.min(model.imagePullBytesPerSecond, model.registryBytesPerSecond)),
    jobManager: drawn.jobManager,
    jarFetch: d.preloaded ? seconds(d.jarBytes, model.cacheBytesPerSecond) : seconds(d.jarBytes, Math.min(model.repositoryBytesPerSecondPerDownload, model.repositoryBytesPerSecond)),
    taskManagers: drawn.taskManagers,
    jobInit: drawn.jobInit,
    restReadyDelay: model.restReadyDelaySeconds,
    stateRestore: seconds(d.restoreBytes, Math.min(restoreCapBytesPerSecond(model, d.restoreBytes), model.objectStoreReadBytesPerSecond)),
  };
}

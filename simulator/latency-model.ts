/**
 * Start-up latency of a FlinkDeployment in the simulator, in MODEL seconds (the server
 * divides by its time scale for wall time). Pure; every random draw is deterministic from
 * (seed, job key, deploy count), so the benchmark can recompute a zero-overhead lower
 * bound for the same plan by calling `startupSeconds` with `preloaded: true` and
 * `concurrentRepoDownloads: 1`.
 *
 * Calibrated against the field reports (docs/design.md#field-reports): apply → RUNNING ≈ 2 min typically,
 * ≈ 5 min for a savepoint redeploy of big state, 15–20 min when nodes must scale up; jar
 * downloads from busy HDD-backed storage ran 10× slower under evacuation load.
 *
 * Phases, in order:
 * - `jobManager`: JobManager pod scheduling + container start, uniform 15–30 s.
 * - `jarFetch`: jar bytes / bandwidth. From the AZ's jar cache (preloaded): 200 MiB/s. From
 *   the replicated HDD-backed repository: 25 MiB/s divided by the contention slowdown
 *   `min(10, max(1, concurrentRepoDownloads / 4))` — i.e. bandwidth is shared once more
 *   than 4 downloads run at once, bottoming out at 10× slower (≥ 40 concurrent).
 * - `taskManagers`: TaskManager pod scheduling, 5–10 s + 0.5 s per replica, capped at 30 s.
 * - `stateRestore`: only when restoring: stateSizeBytes at 500 MiB/s, capped at 300 s.
 * - `jobInit`: job graph submission, task deployment, source/sink init, uniform 60–90 s.
 */
import { between, seededUniform } from './random.js';

const MiB = 1024 * 1024;

/** Latency constants (seconds, bytes per second). */
export const LATENCY = {
  jobManagerSeconds: { min: 15, max: 30 },
  cacheBandwidthBytesPerSecond: 200 * MiB,
  repositoryBandwidthBytesPerSecond: 25 * MiB,
  /** Concurrent repository downloads per step of slowdown. */
  contentionDownloadsPerStep: 4,
  /** Slowdown ceiling under contention (field report: 10× slower). */
  maxContentionSlowdown: 10,
  taskManagerBaseSeconds: { min: 5, max: 10 },
  taskManagerPerReplicaSeconds: 0.5,
  taskManagerMaxSeconds: 30,
  restoreBandwidthBytesPerSecond: 500 * MiB,
  restoreMaxSeconds: 300,
  jobInitSeconds: { min: 60, max: 90 },
  /** Promoting a hot standby is a label flip on a job already RUNNING. */
  promoteStandbySeconds: 1,
} as const;

/** Inputs of one deploy's start-up. */
export interface StartupInput {
  /** Job key `namespace/name` (part of the random draw). */
  key: string;
  /** Bytes of state restored (ignored unless `restored`). */
  stateSizeBytes: number;
  /** Total bytes of the job's jars. */
  jarBytes: number;
  /** Jar is in the AZ's artifact bucket (jar cache) already. */
  preloaded: boolean;
  /** Repository downloads running in the AZ when this one starts, including itself (≥ 1). */
  concurrentRepoDownloads: number;
  /** TaskManager pods. */
  replicas: number;
  /** Restoring from a snapshot (checkpoint, savepoint or HA pointer). */
  restored: boolean;
  /** Simulator seed. */
  seed: number;
  /** How many deploys this resource had before (0 on the first). */
  deployCount: number;
}

/** Start-up duration, model seconds, in total and per phase (see the module doc). */
export interface StartupTime {
  total: number;
  phases: Record<'jobManager' | 'jarFetch' | 'taskManagers' | 'stateRestore' | 'jobInit', number>;
}

/** Slowdown factor of repository downloads with `concurrent` downloads running (1..10). */
export function contentionSlowdown(concurrent: number): number {
  const steps = Math.max(1, concurrent) / LATENCY.contentionDownloadsPerStep;
  return Math.min(LATENCY.maxContentionSlowdown, Math.max(1, steps));
}

/**
 * Seconds to read `bytes` from the AZ's jar repository with `concurrent` downloads
 * running (used for deploys that miss the cache and for server-side preload copies).
 */
export function repositoryFetchSeconds(bytes: number, concurrent: number): number {
  return (bytes / LATENCY.repositoryBandwidthBytesPerSecond) * contentionSlowdown(concurrent);
}

/** Seconds to fetch `bytes` of jars: from the cache when preloaded, else from the repository. */
export function jarFetchSeconds(bytes: number, preloaded: boolean, concurrent: number): number {
  return preloaded ? bytes / LATENCY.cacheBandwidthBytesPerSecond : repositoryFetchSeconds(bytes, concurrent);
}

/** Seconds to restore `bytes` of state (capped). */
export function stateRestoreSeconds(bytes: number): number {
  return Math.min(LATENCY.restoreMaxSeconds, bytes / LATENCY.restoreBandwidthBytesPerSecond);
}

/**
 * Start-up time of one deploy (apply accepted → jobStatus RUNNING), model seconds.
 * Draws are taken in a fixed order from (seed, key, deployCount), independent of the
 * other inputs, so changing `preloaded` or contention changes only the jar phase.
 */
export function startupSeconds(input: StartupInput): StartupTime {
  const u = seededUniform(input.seed, input.key, input.deployCount, 'startup');
  const jm = LATENCY.jobManagerSeconds;
  const tmBase = LATENCY.taskManagerBaseSeconds;
  const init = LATENCY.jobInitSeconds;
  const phases: StartupTime['phases'] = {
    jobManager: between(u, jm.min, jm.max),
    jarFetch: jarFetchSeconds(input.jarBytes, input.preloaded, input.concurrentRepoDownloads),
    taskManagers: Math.min(
      LATENCY.taskManagerMaxSeconds,
      between(u, tmBase.min, tmBase.max) + LATENCY.taskManagerPerReplicaSeconds * Math.max(0, input.replicas),
    ),
    stateRestore: input.restored ? stateRestoreSeconds(input.stateSizeBytes) : 0,
    jobInit: between(u, init.min, init.max),
  };
  const total = Object.values(phases).reduce((sum, s) => sum + s, 0);
  return { total, phases };
}

/**
 * "Restored means restored": when a job started in the target AZ counts RUNNING. Pure; the
 * Kubernetes adapter (platform/kube/wait-for-running.ts) and the simulator feed it the same
 * evidence (docs/design.md#restored-means-restored; the simulator's waitForRunning and its
 * Kubernetes stand-in produce it the same way, simulator/operator.ts).
 *
 * Why the operator's RUNNING is not enough: Flink's job status RUNNING means the job's tasks
 * are scheduled; each task then restores its state (execution state INITIALIZING, FLINK-17012,
 * Flink ≥ 1.13) and only afterwards runs. A restore that fails on a missing file fails the task,
 * the job goes RESTARTING, restores again, and cycles RESTARTING ↔ RUNNING for as long as the
 * restart strategy allows (unbounded by default when checkpointing is on). The operator mirrors
 * Flink's job status into `status.jobStatus.state` and sets `status.error` only when the job is
 * FAILED (flink-kubernetes-operator release-1.15.0 JobStatusObserver.updateJobStatus /
 * recordJobErrorIfPresent); a restart loop shows there only as RUNNING or RESTARTING, its
 * exceptions as Kubernetes Events (observeJobManagerExceptions).
 *
 * The evidence that a restore ended: a checkpoint COMPLETED after it. A checkpoint completes
 * only when every task acknowledged it, and a task acknowledges only once running, i.e. after
 * its restore. The operator's status does not carry it: `status.jobStatus.checkpointInfo` is
 * "last completed checkpoint by the operator" (operator-triggered ones only; CheckpointInfo,
 * release-1.15.0, deprecated), not Flink's periodic checkpoints. Flink's REST API does:
 * `GET /jobs/:jobid/checkpoints` (docs "REST API", CheckpointingStatistics) gives
 * `counts.restored`, `latest.restored` {id, restore_timestamp, external_path} and
 * `latest.completed` {id, latest_ack_timestamp, external_path}; after a restore of checkpoint
 * (or savepoint) n, the job's next checkpoint is n+1 (CheckpointCoordinator resets its id
 * counter to the restored id + 1, CheckpointCoordinator.restoreSavepoint), so "completed after
 * the restore" is `completed.id > restored.id`.
 *
 * Rules, first match wins (`restoreVerdict`):
 * 1. the resource is absent, or the operator has not acted on generation ≥ minGeneration → wait;
 * 2. lifecycleState FAILED or jobStatus FAILED → failed, with the operator's status.error;
 * 3. a restoring job with RESTORE_LOOP_RESTARTS or more restarts (restores after the first)
 *    and no checkpoint completed after its latest restore → failed: a restore loop, with the
 *    JobManager's newest root exception (whether the operator shows it RUNNING or RESTARTING);
 * 4. not jobStatus RUNNING with lifecycleState STABLE/DEPLOYED → wait (RESTARTING included);
 * 5. the deploy restores nothing (stateless start) → running: nothing to verify;
 * 6. no checkpoint statistics yet → wait (the caller fetches them);
 * 7. checkpointing not enabled (Flink answers 404 "Checkpointing has not been enabled.") →
 *    running, evidence `not-verified`: no checkpoint can ever show the restore ended;
 * 8. a checkpoint completed after the latest restore → running, evidence `checkpoint-after-restore`;
 * 9. else wait for the first checkpoint after the restore (the caller's deadline is the tier's
 *    startupTimeoutSeconds).
 */

/** Restarts (restores after the first) without a checkpoint in between that make a restore loop. */
export const RESTORE_LOOP_RESTARTS = 2;

/** What the operator reports of one FlinkDeployment (the ports' DeploymentStatus has these fields). */
export interface OperatorView {
  lifecycleState?: string;
  jobState?: string;
  jobId?: string;
  observedGeneration?: number;
  error?: string;
}

/**
 * Flink's checkpoint statistics of one job (REST `GET /jobs/:jobid/checkpoints`), reduced.
 * Times are epoch milliseconds.
 */
export interface CheckpointStats {
  /** false when Flink answers that checkpointing is not enabled for the job. */
  enabled: boolean;
  /** counts.restored: restores since the job was submitted (the initial one plus one per failover that restored). */
  restoredCount: number;
  /** latest.restored: the checkpoint or savepoint restored last. */
  restored?: { id: number; restoredAtMs: number; path?: string };
  /** latest.completed: the newest completed checkpoint. */
  completed?: { id: number; completedAtMs: number; path?: string };
}

/** Why a job counted as running, kept in its outcome and shown in the report. */
export type RestoreEvidence =
  | {
      kind: 'checkpoint-after-restore';
      /** Checkpoint (or savepoint) id restored, and its path when Flink reports one. */
      restoredId: number;
      restoredPath?: string;
      /** The first checkpoint seen completed after the restore: id and completion time, epoch ms. */
      checkpointId: number;
      checkpointAtMs: number;
    }
  | { kind: 'nothing-restored' }
  | { kind: 'not-verified'; reason: string };

/** The verdict: done (running or failed) or still waiting, and on what. */
export type RestoreVerdict =
  | { done: 'running'; evidence: RestoreEvidence }
  | { done: 'failed'; reason: string }
  | { done?: undefined; waitingFor: string; needsCheckpoints: boolean };

/** Input of restoreVerdict. */
export interface RestoreVerdictInput {
  /** The operator's view; null when the resource does not exist. */
  status: OperatorView | null;
  /** Generation the wait is for (the spec just written): older statuses are not judged. */
  minGeneration: number;
  /** The deploy restores state (initialSavepointPath, a savepoint redeploy, HA metadata). */
  restoring: boolean;
  /** The job's checkpoint statistics, when fetched (see needsCheckpoints). */
  checkpoints?: CheckpointStats;
  /** The JobManager's newest root exception (REST `/jobs/:jobid/exceptions`), when fetched. */
  lastFailure?: string;
}

/** Whether the operator reports the job running at generation ≥ `minGeneration`: jobStatus RUNNING, lifecycleState STABLE or DEPLOYED. */
export function operatorRunning(status: OperatorView | null, minGeneration: number): boolean {
  if (!status || (status.observedGeneration ?? 0) < minGeneration) return false;
  return status.jobState === 'RUNNING' && (status.lifecycleState === 'STABLE' || status.lifecycleState === 'DEPLOYED');
}

/** Restarts recorded in `stats`: restores after the first. */
export function restartsOf(stats: CheckpointStats | undefined): number {
  return Math.max(0, (stats?.restoredCount ?? 0) - 1);
}

/** Judge one observation (see the module doc for the rules). */
export function restoreVerdict(input: RestoreVerdictInput): RestoreVerdict {
  const { status, minGeneration, restoring, checkpoints } = input;
  if (!status) return { waitingFor: 'the FlinkDeployment to exist', needsCheckpoints: false };
  if ((status.observedGeneration ?? 0) < minGeneration) {
    return { waitingFor: `the operator to act on generation ≥ ${minGeneration} (observedGeneration ${status.observedGeneration ?? 'none'})`, needsCheckpoints: false };
  }
  if (status.lifecycleState === 'FAILED' || status.jobState === 'FAILED') {
    return { done: 'failed', reason: `FAILED: ${status.error ?? input.lastFailure ?? '(operator gave no status.error)'}` };
  }
  const restarting = status.jobState === 'RESTARTING';
  const { restored, completed } = checkpoints ?? {};
  const checkpointAfterRestore = completed && (!restored || completed.id > restored.id) ? completed : undefined;
  const restarts = restartsOf(checkpoints);
  const what = restored ? `${restored.path ?? `checkpoint ${restored.id}`}` : 'its snapshot';
  if (restoring && checkpoints?.enabled && !checkpointAfterRestore && restarts >= RESTORE_LOOP_RESTARTS) {
    return {
      done: 'failed',
      reason: `restore loop: the job restarted ${restarts} times restoring ${what} without completing a checkpoint; last failure: ${input.lastFailure ?? status.error ?? '(the JobManager recorded no exception)'}`,
    };
  }
  if (!operatorRunning(status, minGeneration)) {
    return {
      waitingFor: `jobStatus RUNNING (lifecycleState ${status.lifecycleState ?? 'none'}, jobStatus ${status.jobState ?? 'none'})`,
      // A job seen RESTARTING may be in a restore loop: its restarts count.
      needsCheckpoints: restoring && restarting && status.jobId !== undefined,
    };
  }
  if (!restoring) return { done: 'running', evidence: { kind: 'nothing-restored' } };
  if (!checkpoints) return { waitingFor: "the job's checkpoint statistics", needsCheckpoints: true };
  if (!checkpoints.enabled) {
    return { done: 'running', evidence: { kind: 'not-verified', reason: 'checkpointing is not enabled for the job: no checkpoint can show its restore ended' } };
  }
  if (checkpointAfterRestore) {
    return {
      done: 'running',
      evidence: {
        kind: 'checkpoint-after-restore', restoredId: restored?.id ?? 0, ...(restored?.path ? { restoredPath: restored.path } : {}),
        checkpointId: checkpointAfterRestore.id, checkpointAtMs: checkpointAfterRestore.completedAtMs,
      },
    };
  }
  return { waitingFor: `the first checkpoint after restoring ${what} (restarts so far: ${restarts})`, needsCheckpoints: true };
}

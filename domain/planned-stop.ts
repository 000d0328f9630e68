/**
 * Planned moves (mode `planned`, domain/evacuation.ts stopsWithSavepoint; also a drill's
 * failback of its drilled copy): each job is stopped with a savepoint in the source AZ first,
 * then restored in the target AZ from exactly that savepoint. Pure parts: when a
 * stop-with-savepoint has succeeded or failed (savepointStopVerdict, over the fence's "stopped"
 * rules of domain/fence.ts stopVerdict) and how long it may take (savepointTimeoutSeconds).
 * Whether that very savepoint is restorable in the target AZ's replica is the object store's
 * lookup (ObjectStorePort.findSnapshot with `dirKeys: [the savepoint]`).
 *
 * Operator facts (Flink Kubernetes Operator release-1.13.0 to release-1.15.0; docs/design.md
 * "Planned moves"):
 * - `spec.job.state: suspended` with `spec.job.upgradeMode: savepoint` on a RUNNING job makes the
 *   operator stop it with a savepoint: AbstractJobReconciler.getJobUpgrade reads the upgrade mode
 *   of the desired spec (release-1.15.0 L218) and AbstractFlinkService.savepointJobOrError calls
 *   Flink's stop-with-savepoint (release-1.15.0 L446-496).
 * - The path of the savepoint taken is written to `status.jobStatus.upgradeSavepointPath`
 *   (AbstractJobReconciler.setUpgradeSavepointPath, release-1.15.0 L437-469); the deprecated
 *   `status.jobStatus.savepointInfo.lastSavepoint.location` gets it only when FlinkStateSnapshot
 *   resources are disabled, so upgradeSavepointPath is the field to read.
 * - A savepoint that fails or times out throws UpgradeFailureException (reason SavepointError):
 *   the operator writes it as JSON into `status.error` (FlinkResourceExceptionUtils.updateFlinkResourceException, release-1.15.0 L46-63), does
 *   not record the new spec as reconciled (observedGeneration stays) and the job runs on; it
 *   retries on every reconcile while the spec says suspended.
 * - A last-state stop writes the dummy path `KUBERNETES_OPERATOR_LAST_STATE`
 *   (AbstractJobReconciler.LAST_STATE_DUMMY_SP_PATH): never a savepoint.
 */
import type { TiersPolicy } from './types.js';
import { DEFAULT_SAVEPOINT_TIMEOUT } from './types.js';
import { stopVerdict, type StopEvidence } from './fence.js';

/** The dummy upgradeSavepointPath of a last-state stop (AbstractJobReconciler.LAST_STATE_DUMMY_SP_PATH). */
export const LAST_STATE_DUMMY_PATH = 'KUBERNETES_OPERATOR_LAST_STATE';

/**
 * What of a FlinkDeployment's state a savepoint-stop verdict reads: the fence's stop evidence
 * plus the savepoint path and error (a subset of platform/ports.ts DeploymentStatus).
 */
export interface SavepointStopEvidence extends StopEvidence {
  /** status.jobStatus.upgradeSavepointPath */
  upgradeSavepointPath?: string;
  /** status.error */
  error?: string;
}

/** Verdict on a stop-with-savepoint in flight: `stopped` with the savepoint and what was seen, or `failed` with why. */
export type SavepointStopVerdict =
  | { kind: 'stopped'; savepointPath: string; seen: string }
  | { kind: 'failed'; reason: string };

/**
 * Whether the stop-with-savepoint az-evac asked for at `generation` has ended.
 * @param before the resource as read just before the stop was asked for (its savepoint path and error then)
 * @param now the resource now; null when it no longer exists
 * @param generation metadata.generation the stop patch produced
 * @returns `stopped` with the savepoint's path once the copy is observed stopped at
 *   `generation` (domain/fence.ts stopVerdict: the operator recorded it and the job runs no
 *   more) and a savepoint path new since `before` is in status; `failed` with the operator's
 *   error when a new status.error appears, when the resource is gone or set running again by
 *   someone else, or when the job stopped without a new savepoint (the old path, none, or a
 *   last-state stop's dummy); undefined while the stop is in flight
 */
export function savepointStopVerdict(before: SavepointStopEvidence, now: SavepointStopEvidence | null, generation: number): SavepointStopVerdict | undefined {
  if (!now) return { kind: 'failed', reason: 'the FlinkDeployment was deleted while it was being stopped' };
  if (now.specState !== 'suspended') return { kind: 'failed', reason: `spec.job.state was set back to running (generation ${now.generation}) while the stop-with-savepoint was in flight` };
  const stop = stopVerdict(now, generation);
  const path = now.upgradeSavepointPath;
  if (stop.stopped) {
    if (path !== undefined && path !== '' && path !== before.upgradeSavepointPath && path !== LAST_STATE_DUMMY_PATH) return { kind: 'stopped', savepointPath: path, seen: stop.seen };
    return { kind: 'failed', reason: `the operator stopped the job (${stop.seen}) without a new savepoint (status.jobStatus.upgradeSavepointPath ${path ?? 'absent'})` };
  }
  if (now.error && now.error !== before.error) return { kind: 'failed', reason: `the operator reports: ${now.error}` };
  return undefined;
}

/**
 * Seconds a planned move waits for a job's stop-with-savepoint, and again for that savepoint
 * to be complete in the target AZ's replica: `baseSeconds + secondsPerGiB × stateBytes / 2^30`
 * of the policy's savepointTimeout (DEFAULT_SAVEPOINT_TIMEOUT when absent), in the policy's clock.
 * @param stateBytes the job's state size, bytes (catalog); negative or non-finite counts as 0
 */
export function savepointTimeoutSeconds(policy: Pick<TiersPolicy, 'savepointTimeout'>, stateBytes: number): number {
  const t = policy.savepointTimeout ?? DEFAULT_SAVEPOINT_TIMEOUT;
  const gib = Number.isFinite(stateBytes) && stateBytes > 0 ? stateBytes / 1024 ** 3 : 0;
  return t.baseSeconds + t.secondsPerGiB * gib;
}

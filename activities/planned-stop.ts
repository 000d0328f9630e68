/**
 * The source side of a planned move (mode `planned`, domain/planned-stop.ts):
 * `stopSource` stops the job with a savepoint in the source AZ and waits for the operator to
 * report it; `restartSource` puts a stopped source copy back to running when its move cannot
 * go on (the operator restores it from the savepoint it just took). The target side (the
 * savepoint complete in the target AZ's replica: savepointInReplica, the restore from exactly
 * it) is the start step's (activities/job-steps.ts). A drill's failback stops its drilled copy
 * the same way (activities/failback.ts).
 */
import { Context } from '@temporalio/activity';
import type { StepTiming } from '../domain/evacuation.js';
import { savepointStopVerdict, savepointTimeoutSeconds, type SavepointStopEvidence, type SavepointStopVerdict } from '../domain/planned-stop.js';
import type { SnapshotOwner } from '../domain/snapshot-owner.js';
import type { SnapshotChoice } from '../domain/types.js';
import type { UpgradeMode } from '../platform/ports.js';
import type { ActivityDeps } from './deps.js';
import { platformCall } from './failures.js';
import { loadJobContext, type JobContext } from './job-context.js';
import type { JobRef } from './job-steps.js';
import { heartbeating } from './poll.js';

/** Result of `stopSource`: `stopped` with the savepoint's path in the source AZ, `none` (nothing to stop), or `fail` with why. */
export type StopSourceResult = StepTiming & (
  | { action: 'stopped'; savepointPath: string }
  | { action: 'none'; reason: string }
  | { action: 'fail'; reason: string }
);

/** Wall ms between two reads of a stopping source copy. */
const POLL_MS = 500;

/**
 * The upgradeMode a source copy is set back to when its stop is taken back: `last-state` stays
 * (a last-state restore after a savepoint stop still restores from it, AbstractJobReconciler
 * release-1.15.0 L191-207: the upgrade mode of the stop is inherited unless stateless is asked
 * for); anything else becomes `savepoint`, so that a stop that completed after all restores from
 * its savepoint instead of starting stateless.
 */
export function undoMode(ctx: JobContext): UpgradeMode {
  return (ctx.job.deployment.spec.job as { upgradeMode?: string } | undefined)?.upgradeMode === 'last-state' ? 'last-state' : 'savepoint';
}

/**
 * Least wall seconds a planned move waits for a savepoint (its stop, its replication): the
 * policy's bound is platform work (divided by the time scale on a simulated platform), while
 * the control plane's own latency (the operator's status write, the watch) is wall time.
 */
const SAVEPOINT_WAIT_FLOOR_SECONDS = 120;

/**
 * Wall seconds a planned move waits for job `ctx`'s savepoint, at each of its two waits:
 * the policy's savepointTimeoutSeconds for the job's state size, at least SAVEPOINT_WAIT_FLOOR_SECONDS.
 */
export function savepointWaitSeconds(ctx: JobContext): number {
  return Math.max(SAVEPOINT_WAIT_FLOOR_SECONDS, savepointTimeoutSeconds(ctx.stored.policy, ctx.job.stateSizeBytes));
}

/**
 * Wait for the stop-with-savepoint asked for at `generation` of `copy` in `az` to end
 * (domain/planned-stop.ts savepointStopVerdict against `baseline`, the resource before the
 * stop), reading it every 500 ms up to savepointWaitSeconds, heartbeating. Used by the planned
 * stop of a source copy and by a drill's failback of its target copy.
 * @returns the verdict; a timeout is `failed` naming the limit
 * @throws retryable platform errors of the reads
 */
export async function awaitSavepointStop(
  deps: ActivityDeps, ctx: JobContext, az: string, copy: { namespace: string; name: string }, baseline: SavepointStopEvidence, generation: number,
): Promise<SavepointStopVerdict> {
  const limitSeconds = savepointWaitSeconds(ctx);
  const deadline = Date.now() + limitSeconds * 1000;
  const activity = Context.current();
  for (;;) {
    const now = await platformCall(`read ${copy.namespace}/${copy.name} in ${az}`, () => deps.cluster.getDeployment(az, copy.namespace, copy.name));
    const verdict = savepointStopVerdict(baseline, now, generation);
    if (verdict) return verdict;
    if (Date.now() > deadline) {
      return { kind: 'failed', reason: `no savepoint reported within ${Math.round(limitSeconds)}s (tiers.yaml savepointTimeout for ${(ctx.job.stateSizeBytes / 1024 ** 3).toFixed(1)} GiB of state)` };
    }
    activity.heartbeat(`stop-with-savepoint of ${copy.namespace}/${copy.name} in ${az}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Wall ms between two lookups of a savepoint replicating into another AZ. */
const REPLICA_POLL_MS = 1000;

/**
 * Wait until exactly the savepoint `savepointPath` (as the AZ that wrote it names it) is
 * complete and restorable in `az`'s replica: ObjectStorePort.findSnapshot over `owner`'s
 * savepoints with `dirKeys: [savepointPath]` (compared by key: AZs may name their replicas'
 * buckets apart) and the catalog's layout, every second up to savepointWaitSeconds,
 * heartbeating. Never another snapshot.
 * @returns `snapshot` with `az`'s own entry (its path is the one to restore from), or `none`
 *   with why it is not there (complete) after the wait
 * @throws retryable platform errors of the lookups
 */
export async function savepointInReplica(deps: ActivityDeps, ctx: JobContext, az: string, owner: SnapshotOwner, savepointPath: string): Promise<SnapshotChoice> {
  const limitSeconds = savepointWaitSeconds(ctx);
  const deadline = Date.now() + limitSeconds * 1000;
  const activity = Context.current();
  for (;;) {
    const query = { layout: ctx.catalog.platform.layout, kind: 'savepoint' as const, dirKeys: [savepointPath], nowEpochSeconds: Date.now() / 1000 };
    const found = await platformCall(`savepoint ${savepointPath} in ${az}`, () => deps.objects.findSnapshot(az, owner, query));
    if (found.kind === 'snapshot') return found;
    if (Date.now() > deadline) {
      return { ...found, reason: `savepoint ${savepointPath} not complete in ${az}'s replica after ${Math.round(limitSeconds)}s (tiers.yaml savepointTimeout): ${found.reason}; not restored from any other snapshot` };
    }
    activity.heartbeat(`savepoint ${savepointPath} replicating to ${az}`);
    await new Promise((r) => setTimeout(r, REPLICA_POLL_MS));
  }
}

/** Build the planned-move activities over `deps`. */
export function createPlannedStopActivities(deps: ActivityDeps) {
  const steps = {
    /**
     * Stop the source copy of job `ref.key` with a savepoint (ClusterPort.stopWithSavepoint) and
     * wait, up to savepointWaitSeconds (the policy's bound for its state size), for the operator to
     * report the savepoint (domain/planned-stop.ts savepointStopVerdict). A job suspended in the source
     * before the evacuation has nothing to stop (`none`). A job that is not RUNNING there, or
     * whose savepoint fails or times out, is not moved: the stop is taken back (undoStop, spec
     * running again) and the result is `fail` with the operator's error; it keeps running in the
     * source. A retry after the stop completed finds the savepoint in status and returns it.
     * @throws retryable platform errors (the source API not answering), non-retryable 'UnknownJob'
     */
    async stopSource(ref: JobRef): Promise<StopSourceResult> {
      const startedAtMs = Date.now();
      const activity = Context.current();
      const timing = (): StepTiming => ({ startedAtMs, endedAtMs: Date.now(), attempt: activity.info.attempt });
      const ctx = await loadJobContext(deps, ref, ref.key);
      const az = ctx.source.name;
      const { namespace, name } = ctx.job;
      if (ctx.job.deployment.spec.job?.state === 'suspended') return { action: 'none', reason: `suspended in ${az} before the evacuation: nothing to stop`, ...timing() };

      const before = await platformCall(`read ${ref.key} in ${az}`, () => deps.cluster.getDeployment(az, namespace, name));
      if (!before) {
        return { action: 'fail', reason: `${ref.key} does not exist in ${az}: a planned move stops the source copy with a savepoint first. Fix: evacuate it in emergency mode (restores its newest replicated snapshot)`, ...timing() };
      }
      let generation = before.generation;
      // A retry of this step (or of the evacuation run) finds the source already stopping or
      // stopped: wait on that stop, counting any savepoint path in status as its own.
      let baseline: SavepointStopEvidence = before.specState === 'suspended' ? { ...before, upgradeSavepointPath: undefined, error: undefined } : before;
      if (before.specState === 'running') {
        if (before.jobState !== 'RUNNING') {
          return {
            action: 'fail', ...timing(),
            reason: `${ref.key} is ${before.lifecycleState ?? '?'}/${before.jobState ?? '?'} in ${az}, not RUNNING: a stop-with-savepoint needs a running job; it was left as it is. Fix: repair it first, or evacuate it in emergency mode (restores its newest replicated snapshot)`,
          };
        }
        const patched = await platformCall(`stop ${ref.key} with savepoint in ${az}`, () => deps.cluster.stopWithSavepoint(az, namespace, name));
        if (!patched) return { action: 'fail', reason: `${ref.key} was deleted from ${az} before it could be stopped with a savepoint`, ...timing() };
        generation = patched.generation;
        baseline = before;
      }

      const verdict = await awaitSavepointStop(deps, ctx, az, { namespace, name }, baseline, generation);
      if (verdict.kind === 'stopped') return { action: 'stopped', savepointPath: verdict.savepointPath, ...timing() };
      const why = verdict.reason;
      const mode = undoMode(ctx);
      await platformCall(`take back the stop of ${ref.key} in ${az}`, () => deps.cluster.undoStop(az, namespace, name, mode));
      return {
        action: 'fail', ...timing(),
        reason: `stop-with-savepoint of ${ref.key} in ${az} failed: ${why}; the job was not moved and keeps running in ${az} (spec.job.state set back to running, upgradeMode ${mode})`,
      };
    },

    /**
     * Put the stopped source copy of job `ref.key` back to running after its move could not go
     * on before anything was deployed in the target AZ (the savepoint never reached the target's
     * replica, the rendered manifest was refused): undoStop, so the operator restores it from the
     * savepoint it was stopped with. Idempotent.
     * @returns what was done, for the job's reason
     */
    async restartSource(ref: JobRef): Promise<StepTiming & { note: string }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref, ref.key);
      const az = ctx.source.name;
      const mode = undoMode(ctx);
      await platformCall(`restart ${ref.key} in ${az}`, () => deps.cluster.undoStop(az, ctx.job.namespace, ctx.job.name, mode));
      return { note: `restarted in ${az} from the savepoint it was stopped with (spec.job.state running, upgradeMode ${mode})`, startedAtMs, endedAtMs: Date.now(), attempt: Context.current().info.attempt };
    },
  };
  return {
    ...steps,
    /** The stop step (see `steps.stopSource`), heartbeating all along its wait. */
    stopSource: (ref: JobRef): Promise<StopSourceResult> => heartbeating(`stop-with-savepoint of ${ref.key}`, () => steps.stopSource(ref)),
  };
}

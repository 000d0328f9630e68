/**
 * Fencing in absentia (guarantee 2: no job runs in two AZs at once). The start step
 * records a pending fence when the source AZ does not answer (activities/job-steps.ts);
 * `fencePending` suspends every pending source copy whose AZ answers again and marks it
 * fenced. The fencing follow-up workflow (workflows/fence-source.ts) runs it until no
 * fence is pending, so a source AZ that comes back has its evacuated jobs suspended
 * before anything else there resumes them. Uses ClusterPort.suspend only: every platform
 * adapter gets it for free.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { fenceWorkflowId, type FencePassResult, type FenceRecord } from '../domain/evacuation.js';
import { PlatformError } from '../platform/errors.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, type FailureType } from './failures.js';
import { pollUntil } from './poll.js';

/** Source copies suspended at once in one pass. */
const FENCE_CONCURRENCY = 32;

/** Failure types of a call whose AZ did not answer. */
const UNREACHABLE_TYPES = new Set<string>(['PlatformUnavailable', 'PlatformTimeout'] satisfies FailureType[]);

/** A PlatformError that says the AZ's API did not answer (down, 5xx, timeout): the fence stays pending. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof PlatformError && (err.code === 'az-down' || err.code === 'unavailable' || err.code === 'timeout');
}

/** Build the fencing activities over `deps`. */
export function createFencingActivities(deps: ActivityDeps) {
  /**
   * One fencing pass: suspend every pending source copy of `evacuationId` whose AZ answers
   * (idempotent: suspending a suspended or absent resource is a no-op), record it fenced.
   * An AZ that still does not answer leaves its fences pending; other errors are thrown.
   * @returns how many were fenced now, which remain pending, which were fenced after the fact
   */
  async function fencePass(evacuationId: string): Promise<FencePassResult> {
    const fences = await deps.evacuations.listFences(evacuationId);
    const limit = pLimit(FENCE_CONCURRENCY);
    let fenced = 0;
    const pending: string[] = [];
    const unreachableAzs = new Set<string>();
    await Promise.all(fences.filter((f) => f.state === 'pending').map((f) => limit(async () => {
      if (unreachableAzs.has(f.sourceAz)) {
        pending.push(f.key);
        return;
      }
      try {
        // A down AZ fails at once ('az-down' is not retried in the call); 5xx and timeouts after the call's retries.
        const status = await platformCall(`fence ${f.key} in ${f.sourceAz}`, () => deps.cluster.suspend(f.sourceAz, f.namespace, f.name));
        const done: FenceRecord = { ...f, state: status ? 'suspended' : 'absent', fencedAtMs: Date.now() };
        await deps.evacuations.putFence(evacuationId, done);
        fenced += 1;
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || err.nonRetryable || !UNREACHABLE_TYPES.has(err.type ?? '')) throw err;
        unreachableAzs.add(f.sourceAz);
        pending.push(f.key);
      }
    })));
    const now = await deps.evacuations.listFences(evacuationId);
    return { fenced, pending: pending.sort(), fencedLater: now.filter((f) => f.state !== 'pending').map((f) => f.key).sort() };
  }

  return {
    /** One fencing pass (see fencePass), run by the evacuation and its fencing follow-up. */
    fencePending: fencePass,

    /**
     * Before a failback moves anything back into the source AZ: run fencing passes until no
     * fence of `evacuationId` is pending (the source AZ answers), then wait for its fencing
     * follow-up workflow to close. Otherwise a follow-up pass in flight could suspend a
     * source copy right after the failback restored it, and the job would never run again.
     * Heartbeats while it waits.
     * @throws non-retryable 'StartupTimeout' when fences are still pending after `timeoutSeconds` (wall)
     */
    async settleFences(req: { evacuationId: string; timeoutSeconds: number }): Promise<FencePassResult> {
      const last = await pollUntil(`fences of ${req.evacuationId} in the source AZ`, req.timeoutSeconds * 1000, async () => {
        const p = await fencePass(req.evacuationId);
        return p.pending.length === 0 ? p : undefined;
      });
      const activity = Context.current();
      const beat = setInterval(() => activity.heartbeat(`fencing follow-up ${fenceWorkflowId(req.evacuationId)} to close`), 5_000);
      try {
        await activity.client.workflow.getHandle(fenceWorkflowId(req.evacuationId)).result();
      } catch (err) {
        // Absent (no fence was ever pending) or already closed some other way: nothing runs.
        if (!(err instanceof WorkflowNotFoundError) && !(err instanceof WorkflowFailedError)) throw err;
      } finally {
        clearInterval(beat);
      }
      return last;
    },
  };
}


/**
 * Fencing in absentia (guarantee 2: no job runs in two AZs at once). The start step
 * records a pending fence when the source AZ does not answer (activities/job-steps.ts);
 * `fencePending` suspends every pending source copy whose AZ answers again and marks it
 * fenced. The fencing follow-up workflow (workflows/fence-source.ts) runs it until no
 * fence is pending, so a source AZ that comes back has its evacuated jobs suspended
 * before anything else there resumes them. Uses ClusterPort.suspend only: every platform
 * adapter gets it for free.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { fenceWorkflowId, recordsKey, type FencePassResult, type RunRef } from '../domain/evacuation.js';
import { PlatformError } from '../platform/errors.js';
import type { DeploymentStatus } from '../platform/ports.js';
import { retryTransient } from '../platform/transient-retry.js';
import type { ActivityDeps } from './deps.js';
import { asFailure } from './failures.js';
import { pollUntil } from './poll.js';

/** Source copies suspended at once in one pass. */
const FENCE_CONCURRENCY = 32;

/**
 * A PlatformError after which a fence stays pending (retried by the next pass) instead of
 * failing: the source AZ's API did not answer (down, 5xx, timeout), throttled us, or answered 403. A
 * kube-apiserver that is starting serves requests before its RBAC cache has synced and
 * answers 403 to every non-admin identity meanwhile (measured on v1.34: about a second);
 * a fence is never given up, so a lasting 403 (broken RBAC) keeps it pending and listed.
 */
export function fenceStaysPending(err: unknown): boolean {
  return err instanceof PlatformError && ['az-down', 'unavailable', 'throttled', 'timeout', 'forbidden'].includes(err.code);
}

/** Build the fencing activities over `deps`. */
export function createFencingActivities(deps: ActivityDeps) {
  /**
   * One fencing pass: suspend every pending source copy of `evacuationId` whose AZ answers
   * (idempotent: suspending a suspended or absent resource is a no-op), record it fenced.
   * An AZ that still does not answer (or answers 403: fenceStaysPending) leaves its fences
   * pending; other errors are thrown.
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
      let status: DeploymentStatus | null;
      try {
        // A down AZ fails at once ('az-down' is not retried in place); 5xx and timeouts after the in-place retries.
        status = await retryTransient(() => deps.cluster.suspend(f.sourceAz, f.namespace, f.name));
      } catch (err) {
        if (!(err instanceof PlatformError)) throw err;
        if (!fenceStaysPending(err)) throw asFailure(`fence ${f.key} in ${f.sourceAz}`, err);
        unreachableAzs.add(f.sourceAz);
        pending.push(f.key);
        return;
      }
      await deps.evacuations.putFence(evacuationId, { ...f, state: status ? 'suspended' : 'absent', fencedAtMs: Date.now() });
      fenced += 1;
    })));
    const now = await deps.evacuations.listFences(evacuationId);
    return { fenced, pending: pending.sort(), fencedLater: now.filter((f) => f.state !== 'pending').map((f) => f.key).sort() };
  }

  return {
    /** One fencing pass (see fencePass), run by the evacuation and its fencing follow-up. */
    fencePending: fencePass,

    /**
     * Before a failback moves anything back into the source AZ: run fencing passes until no
     * fence of the evacuation run `req` (evacuationId + runId) is pending (the source AZ answers), then wait for its fencing
     * follow-up workflow to close. Otherwise a follow-up pass in flight could suspend a
     * source copy right after the failback restored it, and the job would never run again.
     * Heartbeats while it waits.
     * @throws non-retryable 'StartupTimeout' when fences are still pending after `timeoutSeconds` (wall)
     */
    async settleFences(req: RunRef & { timeoutSeconds: number }): Promise<FencePassResult> {
      const records = recordsKey(req);
      const last = await pollUntil(`fences of ${records} in the source AZ`, req.timeoutSeconds * 1000, async () => {
        const p = await fencePass(records);
        return p.pending.length === 0 ? p : undefined;
      });
      const activity = Context.current();
      const beat = setInterval(() => activity.heartbeat(`fencing follow-up ${fenceWorkflowId(records)} to close`), 5_000);
      try {
        await activity.client.workflow.getHandle(fenceWorkflowId(records)).result();
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


/**
 * Fencing in absentia (guarantee 2: no job runs in two AZs at once). The start step
 * records a pending fence when the source AZ does not answer (activities/job-steps.ts);
 * `fencePending` suspends every pending source copy whose AZ answers again and marks it
 * fenced. The fencing follow-up workflow (workflows/fence-source.ts) runs it until no
 * fence is pending, so a source AZ that comes back has its evacuated jobs suspended
 * before anything else there resumes them. Uses ClusterPort.suspend only: every platform
 * adapter gets it for free.
 */
import { ApplicationFailure } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { FencePassResult, FenceRecord } from '../domain/evacuation.js';
import { PlatformError } from '../platform/errors.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, type FailureType } from './failures.js';

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
  return {
    /**
     * One fencing pass: suspend every pending source copy of `evacuationId` whose AZ answers
     * (idempotent: suspending a suspended or absent resource is a no-op), record it fenced.
     * An AZ that still does not answer leaves its fences pending; other errors are thrown.
     * @returns how many were fenced now, which remain pending, which were fenced after the fact
     */
    async fencePending(evacuationId: string): Promise<FencePassResult> {
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
    },
  };
}


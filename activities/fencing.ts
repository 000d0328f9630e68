/**
 * Fencing (guarantee 2: no job runs in two AZs at once), observed, not just requested. The
 * start step fences a job's source copy (requestFence: suspend with az-evac's annotations and
 * an Event, then wait a bounded time to see it stopped: awaitStopped over the pure verdict of
 * domain/fence.ts). A fence it could not finish is recorded for the fencing follow-up
 * (workflows/fence-source.ts): `pending` when the source AZ did not answer (written before
 * the target copy is deployed), `requested` when the suspend was accepted but the copy was not
 * seen stopped. `fencePending` runs one pass: it suspends the pending copies whose AZ answers
 * again and looks again at the requested ones, until every fence is seen done. Uses
 * ClusterPort.suspend, getDeployment and recordEvent only: every platform adapter gets it.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { fencePassCounts, fenceWorkflowId, recordsKey, type FencePassCounts, type FencePassResult, type FenceSeen, type RunRef } from '../domain/evacuation.js';
import { fenceMark, stopVerdict, type ActingRun, type ActionMark, type StopVerdict } from '../domain/fence.js';
import { PlatformError } from '../platform/errors.js';
import type { ClusterPort, DeploymentStatus, StoredPlan } from '../platform/ports.js';
import type { ActivityDeps } from './deps.js';
import { asFailure } from './failures.js';
import { pollUntil } from './poll.js';

/** Source copies suspended at once in one pass. */
const FENCE_CONCURRENCY = 32;

/** Wall milliseconds between two reads while waiting for a copy to stop. */
const STOP_POLL_MS = 500;

/** A copy told to suspend, as last observed: the verdict (domain/fence.ts) and when it was seen (epoch ms). */
export interface StopObservation extends StopVerdict {
  atMs: number;
}

/**
 * Wait until a FlinkDeployment told to suspend is observed stopped (domain/fence.ts
 * stopVerdict), reading it through ClusterPort.getDeployment every 500 ms for at most
 * `timeoutMs` wall milliseconds, heartbeating when run inside an activity. A read that fails
 * with a PlatformError (API unreachable, throttled, forbidden) counts as not seen and the wait
 * goes on; other errors are thrown. Works on every ClusterPort adapter. Shared by fencing
 * and by anything else that must see a copy stop (e.g. a stop-with-savepoint).
 * @param minGeneration metadata.generation the suspend patch produced
 * @returns the first stopped observation, else the last one at the deadline
 */
export async function awaitStopped(
  cluster: ClusterPort, az: string, namespace: string, name: string, minGeneration: number, timeoutMs: number,
): Promise<StopObservation> {
  const deadline = Date.now() + timeoutMs;
  const activity = Context.current();
  for (;;) {
    let observation: StopObservation;
    try {
      observation = { ...stopVerdict(await cluster.getDeployment(az, namespace, name), minGeneration), atMs: Date.now() };
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err;
      observation = { stopped: false, seen: `could not read it in ${az}: ${err.message}`, atMs: Date.now() };
    }
    if (observation.stopped || Date.now() >= deadline) return observation;
    activity.heartbeat(`${namespace}/${name} stopping in ${az}`);
    await new Promise((r) => setTimeout(r, Math.min(STOP_POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}

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

/** The evacuation run a stored plan belongs to, as fence and preemption marks name it. */
export function actingRun(stored: StoredPlan): ActingRun {
  const r = stored.request;
  return { evacuationId: r.evacuationId, ...(r.runId ? { runId: r.runId } : {}), mode: r.mode, sourceAz: r.sourceAz, targetAz: r.targetAz, ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}) };
}

/** A FlinkDeployment az-evac acts on: where it is. */
export interface CopyRef {
  az: string;
  namespace: string;
  name: string;
}

/**
 * Suspend a copy with az-evac's annotations in the same patch (who, when, why: `mark`),
 * then record the mark's Kubernetes Event on it, best effort: a failed Event is logged and
 * never fails the caller. @returns the resource as patched, null when it does not exist
 * @throws PlatformError of the suspend (the caller decides: pending fence or failure)
 */
export async function suspendMarked(deps: ActivityDeps, copy: CopyRef, mark: ActionMark, eventId: string): Promise<DeploymentStatus | null> {
  const status = await deps.cluster.suspend(copy.az, copy.namespace, copy.name, mark.annotations);
  if (status) await recordMarkEvent(deps, copy, status.uid, mark, eventId);
  return status;
}

/**
 * Record the Kubernetes Event of `mark` on a copy az-evac just acted on (its annotations went
 * with the action's own apply or patch), best effort: a failed Event is logged and never
 * fails the caller. Idempotent by `eventId` (a retried step records one Event).
 * @param uid the copy's metadata.uid, as the action's answer gave it (`kubectl describe` matches Events by it)
 */
export async function recordMarkEvent(deps: ActivityDeps, copy: CopyRef, uid: string | undefined, mark: ActionMark, eventId: string): Promise<void> {
  const event = { namespace: copy.namespace, name: copy.name, ...(uid ? { uid } : {}), type: 'Normal' as const, ...mark.event, id: eventId };
  await deps.cluster.recordEvent(copy.az, event).catch((err: unknown) => {
    Context.current().log.warn(`Event ${mark.event.reason} on ${copy.namespace}/${copy.name} in ${copy.az} not recorded (best effort): ${err instanceof Error ? err.message : String(err)}`);
  });
}

/** A fence requested and watched: its state now, what was seen, and the generation the suspend produced. */
export interface FenceAttempt {
  state: 'stopped' | 'absent' | 'requested';
  seen: FenceSeen;
  /** metadata.generation after the suspend (absent: none). */
  suspendGeneration?: number;
}

/**
 * Fence one source copy of the run `run` (guarantee 2): suspend it with the fence mark
 * (annotations + Event, suspendMarked), then wait up to `observeMs` to see it stopped
 * (awaitStopped). @returns `stopped` or `absent` when observed, `requested` when the suspend
 * was accepted but the stop not seen in time
 * @throws PlatformError of the suspend
 */
export async function requestFence(deps: ActivityDeps, run: ActingRun, copy: CopyRef, observeMs: number): Promise<FenceAttempt> {
  const requestedAtMs = Date.now();
  const status = await suspendMarked(deps, copy, fenceMark(run, requestedAtMs), `${recordsKey(run)}/fenced/${copy.namespace}/${copy.name}`);
  if (!status) return { state: 'absent', seen: { seen: 'FlinkDeployment absent', atMs: requestedAtMs } };
  const o = await awaitStopped(deps.cluster, copy.az, copy.namespace, copy.name, status.generation, observeMs);
  if (o.seen === 'FlinkDeployment absent') return { state: 'absent', seen: { seen: o.seen, atMs: o.atMs } };
  return { state: o.stopped ? 'stopped' : 'requested', seen: { seen: o.seen, atMs: o.atMs }, suspendGeneration: status.generation };
}

/** Build the fencing activities over `deps`. */
export function createFencingActivities(deps: ActivityDeps) {
  /**
   * One fencing pass over the fence records of evacuation run `evacuationId` (its records
   * key): each `pending` one whose AZ answers is suspended with the fence mark and looked at
   * once (requestFence with no wait); each `requested` one is looked at (awaitStopped, one
   * read) and recorded `stopped` once seen stopped. A `requested` fence is never suspended
   * again: the suspend was accepted, and a failback may have resumed the copy since. An AZ
   * that still does not answer (or answers 403: fenceStaysPending) leaves its fences as they
   * are; other errors are thrown.
   * @returns how many were seen stopped now, which remain pending or not observed, which were fenced after the fact
   */
  async function fencePass(evacuationId: string): Promise<FencePassResult> {
    const fences = await deps.evacuations.listFences(evacuationId);
    const open = fences.filter((f) => f.state === 'pending' || f.state === 'requested');
    const run = open.some((f) => f.state === 'pending') ? actingRun(await deps.evacuations.getPlan(evacuationId)) : undefined;
    const limit = pLimit(FENCE_CONCURRENCY);
    let fenced = 0;
    const pending: string[] = [];
    const notObserved: string[] = [];
    const unreachableAzs = new Set<string>();
    await Promise.all(open.map((f) => limit(async () => {
      const copy = { az: f.sourceAz, namespace: f.namespace, name: f.name };
      if (f.state === 'requested') {
        const o = await awaitStopped(deps.cluster, copy.az, copy.namespace, copy.name, f.suspendGeneration ?? 0, 0);
        if (!o.stopped) {
          notObserved.push(f.key);
          return;
        }
        const state = o.seen === 'FlinkDeployment absent' ? 'absent' : 'stopped';
        await deps.evacuations.putFence(evacuationId, { ...f, state, seen: { seen: o.seen, atMs: o.atMs }, fencedAtMs: o.atMs });
        fenced += 1;
        return;
      }
      if (unreachableAzs.has(f.sourceAz)) {
        pending.push(f.key);
        return;
      }
      let attempt: FenceAttempt;
      try {
        // Not retried in place: a fence that stays pending is tried again by the next pass.
        attempt = await requestFence(deps, run!, copy, 0);
      } catch (err) {
        if (!(err instanceof PlatformError)) throw err;
        if (!fenceStaysPending(err)) throw asFailure(`fence ${f.key} in ${f.sourceAz}`, err);
        unreachableAzs.add(f.sourceAz);
        pending.push(f.key);
        return;
      }
      await deps.evacuations.putFence(evacuationId, {
        ...f, state: attempt.state, seen: attempt.seen,
        ...(attempt.suspendGeneration !== undefined ? { suspendGeneration: attempt.suspendGeneration } : {}),
        ...(attempt.state === 'requested' ? {} : { fencedAtMs: attempt.seen.atMs }),
      });
      if (attempt.state === 'requested') notObserved.push(f.key);
      else fenced += 1;
    })));
    const done = new Set(fences.filter((f) => f.state === 'stopped' || f.state === 'absent').map((f) => f.key));
    for (const f of open) if (!pending.includes(f.key) && !notObserved.includes(f.key)) done.add(f.key);
    return { fenced, pending: pending.sort(), notObserved: notObserved.sort(), fencedLater: [...done].sort() };
  }

  return {
    /** One fencing pass (see fencePass), run by the evacuation and its fencing follow-up. */
    fencePending: fencePass,

    /** One fencing pass (see fencePass) answering in counts only: the fencing follow-up's passes (a few bytes in its history, not every open fence's key). */
    fencePassCounts: async (evacuationId: string): Promise<FencePassCounts> => fencePassCounts(await fencePass(evacuationId)),

    /**
     * Before a failback moves anything back into the source AZ: run fencing passes until every
     * fence of the evacuation run `req` (evacuationId + runId) is done — none pending (the
     * source AZ answers) and none requested but not yet seen stopped — then wait for its fencing
     * follow-up workflow to close. Otherwise a follow-up pass in flight could suspend a
     * source copy right after the failback restored it, and the job would never run again.
     * Heartbeats while it waits.
     * @throws non-retryable 'StartupTimeout' when fences are still pending or not observed after `timeoutSeconds` (wall)
     */
    async settleFences(req: RunRef & { timeoutSeconds: number }): Promise<FencePassResult> {
      const records = recordsKey(req);
      const last = await pollUntil(`fences of ${records} in the source AZ`, req.timeoutSeconds * 1000, async () => {
        const p = await fencePass(records);
        return p.pending.length === 0 && p.notObserved.length === 0 ? p : undefined;
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


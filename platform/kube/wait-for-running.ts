/**
 * Wait until one FlinkDeployment counts RUNNING by domain/restore-verdict.ts: the operator
 * reports it running and, when the deploy restores state, Flink completed a checkpoint after
 * the restore (docs/design.md#restored-means-restored).
 *
 * Phase 1, the operator's status: a WATCH on that one resource (field selector
 * `metadata.name=<name>`), not a poll loop: GET it (resourceVersion R), judge, then watch from
 * R so no change between the GET and the watch is missed. The API server ends a watch after
 * `timeoutSeconds` (or on a restart; 410 Gone when R is too old): the loop then GETs and
 * watches again. It ends when the verdict is done, or when it needs Flink's checkpoint
 * statistics (the operator reports a restoring job RUNNING or RESTARTING).
 *
 * Phase 2, Flink's evidence: every checkpointPollSeconds, GET the resource and the job's
 * checkpoint statistics from the JobManager's REST API through the API server's service proxy
 * (flink-rest.ts), plus its newest exception once restarts make a restore loop. A REST answer
 * that fails (no ready JobManager yet, 503) is waited through and named at the deadline (below);
 * 403 (the worker lacks `services/proxy` get) fails at once. Costs two requests per restoring job per
 * poll until its first checkpoint after the restore, about one checkpoint interval (0.2
 * requests/s per job with the default 600 s start-up timeout).
 *
 * API trouble on a GET of the resource is not the job's: a 5xx (a stalled service proxy's 504
 * included), a 429 (read again after its Retry-After), a connection reset or refused, no answer
 * within the request deadline. Such a GET is read again (p-retry: 0.5 s doubling to 5 s) until
 * the deadline, so it never costs the job one of its start-up attempts (activities/job-batch.ts);
 * past the deadline the last error is thrown as it is (retryable: the caller may look again).
 * So is a 403: a kube-apiserver that has just restarted answers 403 to every non-admin identity
 * until its RBAC cache syncs (seconds on a busy machine, seen in test/kube/faults.test.ts), and
 * the apply before the wait already proved the worker's RBAC; past the deadline the 403 is
 * thrown retryable, naming its fix (an apiserver back from an outage at a job's deadline still
 * answers 403 for a while: seen in the kube fault suite's 30 s outage row), so the caller looks
 * again a bounded number of times. Other GET failures are thrown at once. A job that does not start
 * still fails with its reason: FAILED or a restore loop at once, not RUNNING (no JobManager)
 * with PlatformError('timeout') at the deadline. A job the operator reports RUNNING whose
 * checkpoint statistics could not be read at the deadline for API trouble (the service proxy's
 * 5xx or 504, a 429, no answer) gets a retryable PlatformError('unavailable') instead: the
 * caller looks again a bounded number of times (kube fault suite, 30 % row: a job failed its
 * deadline on a REST read stalled then answered 504).
 *
 * Progress is reported on every event and at least every HEARTBEAT_SECONDS, so the activity
 * can heartbeat through long start-ups.
 */
import { Watch } from '@kubernetes/client-node';
import pRetry from 'p-retry';
import { restartsOf, restoreVerdict, RESTORE_LOOP_RESTARTS, type CheckpointStats } from '../../domain/restore-verdict.js';
import { PlatformError } from '../errors.js';
import type { DeploymentStatus, RunningStatus, WaitProgress } from '../ports.js';
import type { AzApis } from './az-apis.js';
import { kubeCall } from './errors.js';
import { readCheckpointStats, readLastFailure } from './flink-rest.js';
import { collectionPath, FLINK_DEPLOYMENTS, toDeploymentStatus, type FlinkDeploymentObject } from './flink-resource.js';

/** Longest gap between onProgress calls, seconds. */
export const HEARTBEAT_SECONDS = 5;
/**
 * Pause between two reads of a restoring job's checkpoint statistics, seconds: a thirtieth of
 * the start-up timeout, between 1 and 10 s (10 s for the default 600 s timeout), so the poll
 * adds little to a short start-up and at most 10 s to a long one.
 */
export function checkpointPollSeconds(timeoutSeconds: number): number {
  return Math.min(10, Math.max(1, timeoutSeconds / 30));
}
/**
 * Codes of a failed read that is API trouble, the platform's and not the job's (kube errors.ts:
 * 5xx and network failures are `unavailable`, 429 `throttled`, no answer within the request
 * deadline `az-down`).
 */
const API_TROUBLE = new Set<PlatformError['code']>(['unavailable', 'throttled', 'az-down']);
/** Codes of a failed GET of the resource read again until the deadline: API trouble, and a 403 (an apiserver whose RBAC cache is still syncing, module doc). */
const READ_AGAIN = new Set<PlatformError['code']>([...API_TROUBLE, 'forbidden']);
/** Back-off between reads of the resource through API trouble, ms (a 429's Retry-After when longer). */
const READ_AGAIN_BACKOFF = { minTimeout: 500, factor: 2, maxTimeout: 5_000 } as const;

/** Longest single watch request, seconds (the API server closes it then; we re-watch). */
const WATCH_SECONDS = 300;
/** Pause before re-watching after a watch that ended within a second (API server restarting). */
const REWATCH_PAUSE_MS = 1000;

/** GET the resource; null when it does not exist. */
export async function getFlinkDeployment(apis: AzApis, namespace: string, name: string): Promise<FlinkDeploymentObject | null> {
  try {
    return (await kubeCall(apis.az, `get FlinkDeployment ${namespace}/${name}`, () =>
      apis.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace, name }),
    )) as FlinkDeploymentObject;
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return null;
    throw err;
  }
}

/** A judgement of one observation: running, or phase 1 must hand over to the checkpoint polls. */
type Judged = RunningStatus | 'needs-checkpoints' | undefined;

/**
 * Wait (see module doc).
 * @param opts.restoring the deploy restores state: running needs a checkpoint after the restore
 * @returns the status with the restore evidence, once the verdict is running
 * @throws PlatformError('failed', non-retryable) with the operator's status.error when the
 *   resource goes FAILED, or with the JobManager's newest exception when the restore loops;
 *   PlatformError('timeout', retryable) after `timeoutSeconds`, naming what it waited for;
 *   a GET failure classified by kubeError: API trouble or 403 only when it lasts to the
 *   deadline, others at once; 'forbidden' when the REST proxy is refused; the signal's reason
 *   when aborted during a back-off
 */
export async function waitForRunning(
  apis: AzApis,
  namespace: string,
  name: string,
  opts: { minGeneration: number; timeoutSeconds: number; restoring?: boolean; onProgress?: WaitProgress; signal?: AbortSignal },
): Promise<RunningStatus> {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const resource = `FlinkDeployment ${namespace}/${name}`;
  let last: DeploymentStatus | null = null;
  let waitingFor = 'jobStatus RUNNING';
  /** Why the last REST read failed, for the timeout message. */
  let restProblem: string | undefined;
  /** Whether that failure was API trouble (the service proxy's 5xx, 429, no answer): then the deadline does not prove the job slow. */
  let restTrouble = false;
  const heartbeat = setInterval(() => opts.onProgress?.(last), HEARTBEAT_SECONDS * 1000);
  const judge = (status: DeploymentStatus | null, evidence: { checkpoints?: CheckpointStats; lastFailure?: string } = {}): Judged => {
    const verdict = restoreVerdict({ status, minGeneration: opts.minGeneration, restoring: opts.restoring === true, ...evidence });
    if (verdict.done === 'failed') throw new PlatformError('failed', `${apis.az}: ${resource} ${verdict.reason}`, false);
    if (verdict.done === 'running') return { ...status!, restore: verdict.evidence };
    waitingFor = verdict.waitingFor;
    return verdict.needsCheckpoints ? 'needs-checkpoints' : undefined;
  };
  const checkDeadline = (): number => {
    const remaining = deadline - Date.now();
    if (remaining > 0) return remaining;
    const seen = `(lifecycleState ${last?.lifecycleState ?? 'none'}, jobStatus ${last?.jobState ?? 'none'}, observedGeneration ${last?.observedGeneration ?? 'none'}` +
      `${restProblem ? `; JobManager REST API: ${restProblem}` : ''})`;
    // The job runs and only the proxy's trouble hides its checkpoints: API trouble, retryable, not a start-up timeout.
    if (restTrouble) throw new PlatformError('unavailable', `${apis.az}: ${resource}: Flink's checkpoint statistics could not be read at the start-up deadline (${opts.timeoutSeconds}s) for API trouble ${seen}`, true);
    throw new PlatformError('timeout', `${apis.az}: ${resource} not RUNNING at generation ≥ ${opts.minGeneration} after ${opts.timeoutSeconds}s, still waiting for ${waitingFor} ${seen}`, true);
  };
  /** GET and report the resource, reading it again through API trouble until the deadline (module doc). */
  const observe = async (): Promise<{ obj: FlinkDeploymentObject | null; status: DeploymentStatus | null }> => {
    if (opts.signal?.aborted) throw new PlatformError('timeout', `${apis.az}: wait for ${resource} was cancelled`, true);
    const obj = await pRetry(() => getFlinkDeployment(apis, namespace, name), {
      ...READ_AGAIN_BACKOFF, retries: Infinity, maxRetryTime: Math.max(0, deadline - Date.now()), ...(opts.signal ? { signal: opts.signal } : {}),
      shouldRetry: ({ error }) => error instanceof PlatformError && READ_AGAIN.has(error.code),
      onFailedAttempt: async ({ error, retryDelay }) => {
        opts.onProgress?.(last);
        // A 429's Retry-After, when longer than the back-off, within the deadline.
        const after = error instanceof PlatformError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 - retryDelay : 0;
        if (after > 0) await pause(Math.min(after, Math.max(0, deadline - Date.now())), opts.signal);
      },
    }).catch((err: unknown) => {
      // Past the deadline: a 403 is as transient as the rest of the API trouble (module doc).
      throw err instanceof PlatformError && err.code === 'forbidden' ? new PlatformError('forbidden', err.message, true) : err;
    });
    const status = obj ? toDeploymentStatus(apis.az, obj) : null;
    last = status;
    opts.onProgress?.(status);
    return { obj, status };
  };
  try {
    // Phase 1: the operator's status, watched.
    for (;;) {
      const seen = await observe();
      const judged = judge(seen.status);
      if (judged === 'needs-checkpoints') break;
      if (judged) return judged;
      const remaining = checkDeadline();
      const startedAt = Date.now();
      const result = await watchOnce(apis, namespace, name, seen.obj?.metadata.resourceVersion, Math.min(WATCH_SECONDS, Math.ceil(remaining / 1000)), opts.signal, (status) => {
        last = status;
        opts.onProgress?.(last);
        return judge(status);
      });
      if (result === 'needs-checkpoints') break;
      if (result) return result;
      if (Date.now() - startedAt < REWATCH_PAUSE_MS) await pause(REWATCH_PAUSE_MS, opts.signal);
    }
    // Phase 2: the resource and Flink's checkpoint statistics, polled.
    for (;;) {
      const { status } = await observe();
      let judged = judge(status);
      if (judged === 'needs-checkpoints' && status?.jobId) {
        const evidence = await readEvidence(apis, namespace, name, status.jobId).catch((err: unknown) => {
          if (err instanceof PlatformError && err.code === 'forbidden') throw err;
          restProblem = err instanceof Error ? err.message : String(err);
          restTrouble = err instanceof PlatformError && API_TROUBLE.has(err.code);
          return undefined;
        });
        if (evidence) {
          restProblem = undefined;
          restTrouble = false;
          judged = judge(status, evidence);
        }
      }
      if (judged && judged !== 'needs-checkpoints') return judged;
      await pause(Math.min(checkpointPollSeconds(opts.timeoutSeconds) * 1000, checkDeadline()), opts.signal);
    }
  } finally {
    clearInterval(heartbeat);
  }
}

/** Checkpoint statistics of job `jobId`, and its newest exception once its restarts make a restore loop. */
async function readEvidence(apis: AzApis, namespace: string, name: string, jobId: string): Promise<{ checkpoints: CheckpointStats; lastFailure?: string }> {
  const checkpoints = await readCheckpointStats(apis, namespace, name, jobId);
  if (restartsOf(checkpoints) < RESTORE_LOOP_RESTARTS) return { checkpoints };
  const lastFailure = await readLastFailure(apis, namespace, name, jobId);
  return { checkpoints, ...(lastFailure ? { lastFailure } : {}) };
}

/** Sleep `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * One watch request. Resolves with what `judge` returns once it returns something, undefined
 * when the watch ends (server timeout, error, abort); rejects with what `judge` throws.
 */
function watchOnce<T>(
  apis: AzApis,
  namespace: string,
  name: string,
  resourceVersion: string | undefined,
  timeoutSeconds: number,
  signal: AbortSignal | undefined,
  judge: (status: DeploymentStatus | null) => T | undefined,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      controller?.abort();
      fn();
    };
    const onAbort = (): void => finish(() => resolve(undefined));
    signal?.addEventListener('abort', onAbort);
    new Watch(apis.kc)
      .watch(
        collectionPath(namespace),
        { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: true, timeoutSeconds, ...(resourceVersion ? { resourceVersion } : {}) },
        (phase: string, obj: FlinkDeploymentObject) => {
          if (phase === 'BOOKMARK' || phase === 'ERROR') return;
          try {
            const status = phase === 'DELETED' ? null : toDeploymentStatus(apis.az, obj);
            const judged = judge(status);
            if (judged !== undefined) finish(() => resolve(judged));
          } catch (err) {
            finish(() => reject(err as Error));
          }
        },
        () => finish(() => resolve(undefined)),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        () => finish(() => resolve(undefined)),
      );
  });
}

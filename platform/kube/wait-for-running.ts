/**
 * Wait until one FlinkDeployment runs, with a WATCH on that one resource (field selector
 * `metadata.name=<name>`), not a poll loop: GET it (resourceVersion R), judge, then watch
 * from R so no change between the GET and the watch is missed. The API server ends a watch
 * after `timeoutSeconds` (or on a restart; 410 Gone when R is too old): the loop then GETs
 * and watches again. Progress is reported on every event and at least every
 * HEARTBEAT_SECONDS, so the activity can heartbeat through long start-ups.
 */
import { Watch } from '@kubernetes/client-node';
import { PlatformError } from '../errors.js';
import type { DeploymentStatus, WaitProgress } from '../ports.js';
import type { AzApis } from './az-apis.js';
import { kubeCall } from './errors.js';
import { collectionPath, FLINK_DEPLOYMENTS, runningVerdict, toDeploymentStatus, type FlinkDeploymentObject } from './flink-resource.js';

/** Longest gap between onProgress calls, seconds. */
export const HEARTBEAT_SECONDS = 5;
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

/**
 * Wait (see module doc).
 * @returns the status once RUNNING at observedGeneration ≥ minGeneration
 * @throws PlatformError('failed') with the operator's status.error when the resource goes FAILED;
 *   PlatformError('timeout', retryable) after `timeoutSeconds`; GET failures classified by kubeError
 */
export async function waitForRunning(
  apis: AzApis,
  namespace: string,
  name: string,
  opts: { minGeneration: number; timeoutSeconds: number; onProgress?: WaitProgress; signal?: AbortSignal },
): Promise<DeploymentStatus> {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  let last: DeploymentStatus | null = null;
  const heartbeat = setInterval(() => opts.onProgress?.(last), HEARTBEAT_SECONDS * 1000);
  const done = (status: DeploymentStatus | null): DeploymentStatus | undefined => {
    const verdict = runningVerdict(status, opts.minGeneration);
    if (verdict === 'failed') {
      throw new PlatformError('failed', `${apis.az}: FlinkDeployment ${namespace}/${name} is FAILED: ${status?.error ?? '(operator gave no status.error)'}`, false);
    }
    return verdict === 'running' ? status! : undefined;
  };
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new PlatformError('timeout', `${apis.az}: wait for FlinkDeployment ${namespace}/${name} was cancelled`, true);
      const obj = await getFlinkDeployment(apis, namespace, name);
      last = obj ? toDeploymentStatus(apis.az, obj) : null;
      opts.onProgress?.(last);
      const running = done(last);
      if (running) return running;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new PlatformError(
          'timeout',
          `${apis.az}: FlinkDeployment ${namespace}/${name} not RUNNING at generation ≥ ${opts.minGeneration} after ${opts.timeoutSeconds}s ` +
            `(lifecycleState ${last?.lifecycleState ?? 'none'}, jobStatus ${last?.jobState ?? 'none'}, observedGeneration ${last?.observedGeneration ?? 'none'})`,
          true,
        );
      }
      const startedAt = Date.now();
      const result = await watchOnce(apis, namespace, name, obj?.metadata.resourceVersion, Math.min(WATCH_SECONDS, Math.ceil(remaining / 1000)), opts.signal, (status) => {
        last = status;
        opts.onProgress?.(last);
        return done(status);
      });
      if (result) return result;
      if (Date.now() - startedAt < REWATCH_PAUSE_MS) await new Promise((r) => setTimeout(r, REWATCH_PAUSE_MS));
    }
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * One watch request. Resolves with the status once `judge` returns one, undefined when the
 * watch ends (server timeout, error, abort); rejects with what `judge` throws.
 */
function watchOnce(
  apis: AzApis,
  namespace: string,
  name: string,
  resourceVersion: string | undefined,
  timeoutSeconds: number,
  signal: AbortSignal | undefined,
  judge: (status: DeploymentStatus | null) => DeploymentStatus | undefined,
): Promise<DeploymentStatus | undefined> {
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
            const running = judge(status);
            if (running) finish(() => resolve(running));
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

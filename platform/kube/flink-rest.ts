/**
 * Flink's JobManager REST API of one FlinkDeployment, reached through the Kubernetes API
 * server's service proxy: `GET /api/v1/namespaces/<ns>/services/<name>-rest:8081/proxy/<path>`
 * (Kubernetes docs "Access Services running on clusters", "Manually constructing apiserver
 * proxy URLs"). Flink's native Kubernetes integration, which the operator deploys through,
 * creates the Service `<cluster-id>-rest` with the REST port (`rest.port`, default 8081), and
 * the operator uses the FlinkDeployment's name as the cluster id. The worker needs `get` on
 * `services/proxy` (deploy/rbac/az-evac-worker.yaml); the API server must reach the
 * JobManager pod's address (true where the control plane routes to pods).
 *
 * Used for the one fact the operator's status lacks: whether a checkpoint completed after the
 * job restored (docs/design.md#restored-means-restored). Endpoints (Flink docs "REST API",
 * same shape in Flink 1.19, 1.20 and 2.x):
 * - `GET /jobs/:jobid/checkpoints` → `{counts: {restored, completed, ...}, latest: {completed:
 *   {id, latest_ack_timestamp, external_path} | null, restored: {id, restore_timestamp,
 *   external_path, is_savepoint} | null, ...}}`; 404 `{"errors": ["Checkpointing has not been
 *   enabled."]}` when the job does not checkpoint (CheckpointingStatisticsHandler);
 * - `GET /jobs/:jobid/exceptions?maxExceptions=1` → `{exceptionHistory: {entries: [{exceptionName,
 *   stacktrace, timestamp}]}}`, newest first: the root exception of the newest failure (what the
 *   operator reports as a JobException Event, JobStatusObserver release-1.15.0).
 */
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '@kubernetes/client-node';
import type { CheckpointStats } from '../../domain/restore-verdict.js';
import type { AzApis } from './az-apis.js';
import { DEFAULT_KUBE_REQUEST_TIMEOUT_MS } from './az-apis.js';
import { kubeCall } from './errors.js';

/** Port of the JobManager REST Service (`rest.port`, Flink's default). */
export const REST_PORT = 8081;

/** API-server path of `restPath` (starting with `/`) on the REST Service of FlinkDeployment `name`. */
export function restProxyPath(namespace: string, name: string, restPath: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(`${name}-rest`)}:${REST_PORT}/proxy${restPath}`;
}

/**
 * GET through the service proxy, with the AZ's credentials and the request deadline.
 * @returns the HTTP status and body; a network failure throws (classified by kubeCall's caller)
 */
async function proxyGet(apis: AzApis, namespace: string, name: string, restPath: string): Promise<{ status: number; body: string }> {
  const server = apis.kc.getCurrentCluster()?.server;
  if (!server) throw new Error(`${apis.az}: the kubeconfig context has no cluster. Fix: point the AZ's context at a cluster entry of the kubeconfig`);
  const ctx = new RequestContext(`${server}${restProxyPath(namespace, name, restPath)}`, HttpMethod.GET);
  await apis.kc.applySecurityAuthentication(ctx);
  ctx.setHeaderParam('Accept', 'application/json');
  ctx.setSignal(AbortSignal.timeout(DEFAULT_KUBE_REQUEST_TIMEOUT_MS));
  const rsp = await new IsomorphicFetchHttpLibrary().send(ctx).toPromise();
  return { status: rsp.httpStatusCode, body: await rsp.body.text() };
}

/** A non-2xx answer as the ApiException kubeCall classifies (404 not-found, 403 forbidden, 503 unavailable, ...). */
function failure(status: number, body: string, what: string): ApiException<string> {
  return new ApiException(status, `${what}: HTTP ${status}`, body, {});
}

interface CheckpointingStatisticsJson {
  counts?: { restored?: number };
  latest?: {
    completed?: { id: number; latest_ack_timestamp: number; external_path?: string } | null;
    restored?: { id: number; restore_timestamp: number; external_path?: string } | null;
  };
}

/**
 * The job's checkpoint statistics (`GET /jobs/:jobid/checkpoints`).
 * @returns `enabled: false` when Flink answers that checkpointing is not enabled
 * @throws PlatformError classified by kubeError: 'not-found' (no such Service or job yet),
 *   'unavailable' (no ready JobManager behind the Service: 503), 'forbidden' (no `services/proxy` get)
 */
export async function readCheckpointStats(apis: AzApis, namespace: string, name: string, jobId: string): Promise<CheckpointStats> {
  const what = `read checkpoint statistics of job ${jobId} of FlinkDeployment ${namespace}/${name} (JobManager REST API through the service proxy)`;
  return kubeCall(apis.az, what, async () => {
    const { status, body } = await proxyGet(apis, namespace, name, `/jobs/${encodeURIComponent(jobId)}/checkpoints`);
    if (status === 404 && /checkpointing (has not been|is not) enabled/i.test(body)) return { enabled: false, restoredCount: 0 };
    if (status < 200 || status > 299) throw failure(status, body, what);
    const json = JSON.parse(body) as CheckpointingStatisticsJson;
    const restored = json.latest?.restored;
    const completed = json.latest?.completed;
    return {
      enabled: true,
      restoredCount: json.counts?.restored ?? 0,
      ...(restored ? { restored: { id: restored.id, restoredAtMs: restored.restore_timestamp, ...(restored.external_path ? { path: restored.external_path } : {}) } } : {}),
      ...(completed ? { completed: { id: completed.id, completedAtMs: completed.latest_ack_timestamp, ...(completed.external_path ? { path: completed.external_path } : {}) } } : {}),
    };
  });
}

interface JobExceptionsJson {
  exceptionHistory?: { entries?: Array<{ exceptionName?: string; stacktrace?: string }> };
  'root-exception'?: string;
}

/**
 * The first line of the job's newest root exception (`GET /jobs/:jobid/exceptions?maxExceptions=1`),
 * e.g. `java.io.FileNotFoundException: ...`; undefined when none is recorded.
 * @throws PlatformError as readCheckpointStats
 */
export async function readLastFailure(apis: AzApis, namespace: string, name: string, jobId: string): Promise<string | undefined> {
  const what = `read exceptions of job ${jobId} of FlinkDeployment ${namespace}/${name} (JobManager REST API through the service proxy)`;
  return kubeCall(apis.az, what, async () => {
    const { status, body } = await proxyGet(apis, namespace, name, `/jobs/${encodeURIComponent(jobId)}/exceptions?maxExceptions=1`);
    if (status < 200 || status > 299) throw failure(status, body, what);
    const json = JSON.parse(body) as JobExceptionsJson;
    const entry = json.exceptionHistory?.entries?.[0];
    const text = entry?.stacktrace ?? entry?.exceptionName ?? json['root-exception'];
    return text?.split('\n')[0]?.trim() || undefined;
  });
}

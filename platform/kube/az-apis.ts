/**
 * The API clients of one AZ's Kubernetes cluster, built from that AZ's own KubeConfig, and
 * the list helper (paged) every reader uses.
 *
 * Every request of these clients carries a deadline (`requestTimeoutMs`): client-node 2.x
 * sends requests with undici's fetch, which has no overall timeout of its own, and a
 * blackholed API server (packets dropped, TCP accepted but never answered) would otherwise
 * hold a call until the OS gives up (minutes). A middleware sets `AbortSignal.timeout` as the
 * request's signal (RequestContext.setSignal, passed to fetch by client-node's
 * IsomorphicFetchHttpLibrary); the abort covers connecting, the response headers and the body,
 * and surfaces as a `TimeoutError` that errors.ts classifies as a retryable 'az-down'
 * ("API server unreachable").
 * Watches (wait-for-running.ts) do not go through these clients and keep their own timeouts.
 * Source: @kubernetes/client-node 2.0.1 dist/gen/http/isomorphic-fetch.js and
 * dist/config.js makeApiClient (the configuration this mirrors, plus the middleware).
 */
import { CoreV1Api, createConfiguration, CustomObjectsApi, KubeConfig, ServerConfiguration, setHeaderMiddleware, type Middleware, type RequestContext, type ResponseContext } from '@kubernetes/client-node';
import { PlatformError } from '../errors.js';
import { kubeCall } from './errors.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from './flink-resource.js';

/** Default deadline of one Kubernetes API request, milliseconds (AZ_EVAC_KUBE_REQUEST_TIMEOUT_SECONDS). */
export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 15_000;

/** Items per page of a list call. */
const PAGE = 500;

/** Clients of one AZ. */
export interface AzApis {
  az: string;
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

/**
 * Clients per AZ from KubeConfigs per AZ (kube-configs.ts).
 * @param opts.requestTimeoutMs deadline of each request, milliseconds (> 0); default DEFAULT_KUBE_REQUEST_TIMEOUT_MS
 */
export function azApis(configs: Map<string, KubeConfig>, opts: { requestTimeoutMs?: number } = {}): Map<string, AzApis> {
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_KUBE_REQUEST_TIMEOUT_MS;
  return new Map([...configs].map(([az, kc]) => [az, { az, kc, custom: apiClient(kc, CustomObjectsApi, timeoutMs), core: apiClient(kc, CoreV1Api, timeoutMs) }]));
}

/** A middleware giving each request an AbortSignal that fires after `timeoutMs`. */
function requestDeadline(timeoutMs: number): Middleware {
  return {
    pre: async (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return ctx;
    },
    post: async (rsp: ResponseContext) => rsp,
  };
}

/** KubeConfig.makeApiClient with the request deadline added (same server, auth and User-Agent). */
function apiClient<T>(kc: KubeConfig, type: new (config: ReturnType<typeof createConfiguration>) => T, timeoutMs: number): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig context has no cluster. Fix: point the AZ\'s context at a cluster entry of the kubeconfig');
  return new type(createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    middleware: [setHeaderMiddleware('User-Agent', 'az-evac')],
    promiseMiddleware: [requestDeadline(timeoutMs)],
  }));
}

/**
 * Every FlinkDeployment of the cluster (all namespaces), paged.
 * @param labelSelector e.g. `az-evac.io/tier` (has the label)
 * @throws PlatformError classified by kubeError
 */
export async function listFlinkDeployments(apis: AzApis, labelSelector?: string): Promise<FlinkDeploymentObject[]> {
  const out: FlinkDeploymentObject[] = [];
  let cont: string | undefined;
  do {
    const page = (await kubeCall(apis.az, `list FlinkDeployments${labelSelector ? ` -l ${labelSelector}` : ''}`, () =>
      apis.custom.listClusterCustomObject({ ...FLINK_DEPLOYMENTS, labelSelector, limit: PAGE, _continue: cont }),
    )) as { items: FlinkDeploymentObject[]; metadata?: { _continue?: string; continue?: string } };
    out.push(...page.items);
    cont = page.metadata?._continue ?? page.metadata?.continue;
    if (cont === '') cont = undefined;
  } while (cont !== undefined);
  return out;
}

/**
 * Setup check of one AZ: the FlinkDeployment CRD is served (a 404 on the resource type means
 * it is not installed). Run at worker start and before a plan acts.
 * @throws PlatformError('not-found', non-retryable) naming the CRD, the AZ and the fix;
 *   other failures classified by kubeError (unreachable → retryable 'unavailable')
 */
export async function assertFlinkCrd(apis: AzApis): Promise<void> {
  try {
    await kubeCall(apis.az, 'list FlinkDeployments (CRD check)', () => apis.custom.listClusterCustomObject({ ...FLINK_DEPLOYMENTS, limit: 1 }));
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') {
      throw new PlatformError(
        'not-found',
        `${apis.az}: the FlinkDeployment CRD (${FLINK_DEPLOYMENTS.plural}.${FLINK_DEPLOYMENTS.group}/${FLINK_DEPLOYMENTS.version}) is not installed. ` +
          'Fix: install the Flink Kubernetes Operator (or `kubectl apply -f vendor/flink-operator/crds/`) in this cluster before az-evac acts on it',
        false,
      );
    }
    throw err;
  }
}

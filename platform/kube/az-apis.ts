/**
 * The API clients of one AZ's Kubernetes cluster, built from that AZ's own KubeConfig, and
 * the list helper (paged) every reader uses.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { PlatformError } from '../errors.js';
import { kubeCall } from './errors.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from './flink-resource.js';

/** Items per page of a list call. */
const PAGE = 500;

/** Clients of one AZ. */
export interface AzApis {
  az: string;
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

/** Clients per AZ from KubeConfigs per AZ (kube-configs.ts). */
export function azApis(configs: Map<string, KubeConfig>): Map<string, AzApis> {
  return new Map([...configs].map(([az, kc]) => [az, { az, kc, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) }]));
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

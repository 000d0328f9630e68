/**
 * The HA ConfigMaps of a Flink cluster-id in one namespace: the ConfigMaps labelled
 * `app=<name>,configmap-type=high-availability` that Flink's Kubernetes HA services keep
 * (leader election, job graphs, checkpoint pointers). Stale ones silently win over
 * initialSavepointPath on a start (docs/design.md#upgrade-mode-and-ha-metadata).
 */
import { PlatformError } from '../errors.js';
import type { AzApis } from './az-apis.js';
import { kubeCall } from './errors.js';

/** Label selector of the HA ConfigMaps of cluster-id `name`. */
export function haLabelSelector(name: string): string {
  return `app=${name},configmap-type=high-availability`;
}

/**
 * Delete every HA ConfigMap of `namespace/name` (one gone meanwhile is fine).
 * @returns how many this call deleted
 * @throws PlatformError classified by kubeError (list or delete refused, AZ down)
 */
export async function deleteHaConfigMaps(a: AzApis, namespace: string, name: string): Promise<number> {
  const labelSelector = haLabelSelector(name);
  const list = await kubeCall(a.az, `list ConfigMaps -n ${namespace} -l ${labelSelector}`, () => a.core.listNamespacedConfigMap({ namespace, labelSelector }));
  let deleted = 0;
  for (const cm of list.items) {
    const cmName = cm.metadata!.name!;
    try {
      await kubeCall(a.az, `delete HA ConfigMap ${namespace}/${cmName}`, () => a.core.deleteNamespacedConfigMap({ namespace, name: cmName }));
      deleted++;
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === 'not-found')) throw err;
    }
  }
  return deleted;
}

/**
 * Reading the resource sets of guarantee 4 (resource-sets.ts) for both AZs: from the
 * simulator's own state (simulator tests), or from the real apiservers as admin (kube tests,
 * whose jar caches live in the simulator's object store as well).
 */
import type { PlatformProfile } from '../../domain/types.js';
import { listFlinkDeployments, type AzApis } from '../../platform/kube/az-apis.js';
import { kubeCall } from '../../platform/kube/errors.js';
import type { SimulatorControlClient } from '../../simulator/control-client.js';
import { deploymentLine, type ResourceSets } from './resource-sets.js';

/** Every object key of a bucket in an AZ's simulated store, sorted. */
async function objectKeys(sim: SimulatorControlClient, az: string, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await sim.listObjects(az, bucket, token ? { continuationToken: token } : {});
    keys.push(...page.contents.map((o) => o.key));
    token = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** The artifact bucket of `az`. @throws Error for an AZ the profile lacks */
function artifactBucket(platform: PlatformProfile, az: string): string {
  const profile = platform.azs.find((a) => a.name === az);
  if (!profile) throw new Error(`AZ ${az} is not in the platform profile (${platform.azs.map((a) => a.name).join(', ')})`);
  return profile.artifactBucket;
}

/** Resource sets of `azs` as the simulator holds them (HA ConfigMaps as `namespace/name` sets). */
export async function simulatorResources(sim: SimulatorControlClient, platform: PlatformProfile, azs: string[]): Promise<ResourceSets> {
  const out: ResourceSets = {};
  for (const az of azs) {
    const deployments = (await sim.listDeployments(az)).map((d) => deploymentLine(
      d.manifest.metadata.namespace ?? 'default', d.manifest.metadata.name, d.manifest.spec.job?.state, d.manifest.metadata.labels?.['az-evac.io/role'],
    ));
    out[az] = { deployments: deployments.sort(), haConfigMaps: await sim.haConfigMaps(az), jarCache: await objectKeys(sim, az, artifactBucket(platform, az)) };
  }
  return out;
}

/**
 * Resource sets read from the apiservers (`admin`: admin clients per AZ): every
 * FlinkDeployment, every ConfigMap labelled configmap-type=high-availability
 * (`namespace/name` of each ConfigMap), and the jar cache from the simulator's object store.
 */
export async function kubeResources(admin: Map<string, AzApis>, sim: SimulatorControlClient, platform: PlatformProfile): Promise<ResourceSets> {
  const out: ResourceSets = {};
  for (const [az, a] of admin) {
    const deployments = (await listFlinkDeployments(a)).map((d) => deploymentLine(
      d.metadata.namespace ?? 'default', d.metadata.name, d.spec.job?.state, d.metadata.labels?.['az-evac.io/role'],
    ));
    const cms = await kubeCall(az, 'list HA ConfigMaps', () => a.core.listConfigMapForAllNamespaces({ labelSelector: 'configmap-type=high-availability' }));
    out[az] = {
      deployments: deployments.sort(),
      haConfigMaps: cms.items.map((cm) => `${cm.metadata!.namespace!}/${cm.metadata!.name!}`).sort(),
      jarCache: await objectKeys(sim, az, artifactBucket(platform, az)),
    };
  }
  return out;
}

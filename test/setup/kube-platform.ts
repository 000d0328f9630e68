/**
 * A k8s platform for tests of the `kube` project: the run's two real apiservers
 * (test/setup/kube.ts), a simulator process whose operator stand-in watches them, a seeded
 * fleet (loaded into the simulator, applied to the clusters), and the KubePlatform adapter
 * under the least-privilege worker identity (deploy/rbac/az-evac-worker.yaml), with the
 * simulator's object store behind its ObjectStorePort.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Capacity } from '../../domain/types.js';
import { azApis, listFlinkDeployments, type AzApis } from '../../platform/kube/az-apis.js';
import { kubeCall } from '../../platform/kube/errors.js';
import { FLINK_DEPLOYMENTS } from '../../platform/kube/flink-resource.js';
import { loadKubeConfigs, parseKubeContexts } from '../../platform/kube/kube-configs.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import { spawnSimulator, type SpawnedSimulator } from '../../simulator/spawn.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';
import { seedKubeFleet, waitForSeededStatus } from '../../simulator/kube-seed.js';
import { testControlPlane } from './kube.js';

const AZS = ['az-a', 'az-b'];

/** A seeded k8s test platform. */
export interface KubeTestPlatform {
  sim: SpawnedSimulator;
  fleet: GeneratedFleet;
  /** The adapter, as the worker identity. */
  kube: KubePlatform;
  /** Admin clients per AZ (assertions, the stand-in's view). */
  admin: Map<string, AzApis>;
  /** Worker-identity clients per AZ. */
  worker: Map<string, AzApis>;
  /** Stop the simulator and delete every FlinkDeployment and HA ConfigMap (AZs must be up). */
  close(): Promise<void>;
}

/** Clients per AZ of the run's control plane, as admin or as the worker identity. */
export function testApis(identity: 'admin' | 'worker'): Map<string, AzApis> {
  const cp = testControlPlane();
  return azApis(loadKubeConfigs(identity === 'admin' ? cp.kubeconfigPath : cp.workerKubeconfigPath, parseKubeContexts('', AZS)));
}

/**
 * Delete every FlinkDeployment and HA ConfigMap in every AZ (clusters are shared by the
 * run's files; each starts clean).
 */
export async function cleanClusters(admin: Map<string, AzApis>): Promise<void> {
  for (const a of admin.values()) {
    const namespaces = new Set((await listFlinkDeployments(a)).map((d) => d.metadata.namespace ?? 'default'));
    const cms = await kubeCall(a.az, 'list HA ConfigMaps', () => a.core.listConfigMapForAllNamespaces({ labelSelector: 'configmap-type=high-availability' }));
    for (const cm of cms.items) namespaces.add(cm.metadata!.namespace!);
    for (const namespace of namespaces) {
      await kubeCall(a.az, `delete FlinkDeployments -n ${namespace}`, () => a.custom.deleteCollectionNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace }));
      await kubeCall(a.az, `delete HA ConfigMaps -n ${namespace}`, () =>
        a.core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector: 'configmap-type=high-availability' }),
      );
    }
  }
}

/**
 * Clean the clusters, spawn a simulator with the operator stand-in on them, load a generated
 * fleet of `jobs` primaries into it and seed the same fleet into the clusters.
 * @param o.headroom extra allocatable per AZ on top of the fleet's (tight) capacity, for tests that start jobs of their own
 */
export async function startKubeTestPlatform(o: { jobs: number; seed: number; timeScale: number; headroom?: Record<string, Capacity> }): Promise<KubeTestPlatform> {
  const cp = testControlPlane();
  const admin = testApis('admin');
  const worker = testApis('worker');
  await cleanClusters(admin);
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed, logLevel: 'warn', kube: { kubeconfig: cp.kubeconfigPath, contexts: '' } });
  try {
    const fleet = withHeadroom(generateFleet({ jobs: o.jobs, seed: o.seed, templates: loadExampleTemplates() }), o.headroom);
    const loaded = await sim.client.loadFleet(fleet);
    const seeded = await seedKubeFleet(admin, fleet, loaded);
    await waitForSeededStatus(admin, seeded);
    const kube = new KubePlatform(worker, fleet.platform, sim.client);
    return {
      sim, fleet, kube, admin, worker,
      async close() {
        await sim.stop();
        await cleanClusters(admin);
      },
    };
  } catch (err) {
    await sim.stop();
    throw err;
  }
}

/** `fleet` with `headroom` added to its AZ capacities. */
export function withHeadroom(fleet: GeneratedFleet, headroom: Record<string, Capacity> = {}): GeneratedFleet {
  for (const [az, extra] of Object.entries(headroom)) {
    const c = fleet.capacities[az]!;
    fleet.capacities[az] = { cores: c.cores + extra.cores, memoryMiB: c.memoryMiB + extra.memoryMiB };
  }
  return fleet;
}

/** Merge-patch content type, for tests that write as another client. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Server-side-apply content type. */
export const APPLY_PATCH = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

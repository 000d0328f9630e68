/**
 * A k8s platform for tests of the `kube` project: the run's two real apiservers
 * (test/setup/kube.ts), the run's two S3 servers (versitygw, test/setup/s3-global-setup.ts),
 * a simulator process whose operator stand-in watches the clusters and writes checkpoints,
 * savepoints and jars through to S3, a seeded fleet (loaded into the simulator, applied to
 * the clusters), and the KubePlatform adapter under the least-privilege worker identity
 * (deploy/rbac/az-evac-worker.yaml) with the S3 adapter as its object store, as the
 * production worker builds it. The worker never talks to the simulator.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Capacity, PlatformProfile, StorageLayout } from '../../domain/types.js';
import { azApis, listFlinkDeployments, type AzApis } from '../../platform/kube/az-apis.js';
import { kubeCall } from '../../platform/kube/errors.js';
import { FLINK_DEPLOYMENTS } from '../../platform/kube/flink-resource.js';
import { loadKubeConfigs, parseKubeContexts } from '../../platform/kube/kube-configs.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../../config/settings.js';
import type { ObjectStorePort } from '../../platform/ports.js';
import { spawnSimulator, type SpawnedSimulator } from '../../simulator/spawn.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';
import { seedKubeFleet, waitForSeededStatus } from '../../simulator/kube-seed.js';
import { testControlPlane } from './kube.js';
import { testClients, testS3, testStore } from './s3.js';

const AZS = ['az-a', 'az-b'];

/** A seeded k8s test platform. */
export interface KubeTestPlatform {
  sim: SpawnedSimulator;
  fleet: GeneratedFleet;
  /** The adapter, as the worker identity. */
  kube: KubePlatform;
  /** Its object store: S3 over the run's versitygw servers, buckets from the fleet's profile (or the simulator's, with `s3: false`). */
  objects: ObjectStorePort;
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
 * @param o.s3 false: no S3 servers; the adapter's object store is the simulator's (HTTP).
 *   Only for drills: the stand-in writes to S3 behind its own memory, so with the source AZ
 *   up a retired checkpoint can still be listed in S3 after the stand-in forgot it, and its
 *   restore then FAILS (a lag of the stand-in's write-through, not of the adapter). Default true.
 * @param o.layout the fleet's storage layout (default symmetric); o.notReplicated AZ pairs whose stores do not replicate
 * @param o.maxStateBytes caps every job's state (see withStateCap): for tests where state size is not what is tested
 */
export async function startKubeTestPlatform(o: { jobs: number; seed: number; timeScale: number; headroom?: Record<string, Capacity>; s3?: boolean; layout?: StorageLayout; notReplicated?: PlatformProfile['notReplicated']; maxStateBytes?: number }): Promise<KubeTestPlatform> {
  const s3 = o.s3 ?? true;
  const cp = testControlPlane();
  const admin = testApis('admin');
  const worker = testApis('worker');
  await cleanClusters(admin);
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed, logLevel: 'warn', kube: { kubeconfig: cp.kubeconfigPath, contexts: '' }, ...(s3 ? { s3: testS3() } : {}) });
  try {
    const fleet = withStateCap(withHeadroom(generateFleet({ jobs: o.jobs, seed: o.seed, templates: loadExampleTemplates(), ...(o.layout ? { layout: o.layout } : {}) }), o.headroom), o.maxStateBytes);
    if (o.notReplicated) fleet.platform.notReplicated = o.notReplicated;
    const loaded = await sim.client.loadFleet(fleet);
    const seeded = await seedKubeFleet(admin, fleet, loaded);
    await waitForSeededStatus(admin, seeded);
    const objects = s3 ? testStore(testClients(), fleet.platform.azs, { endpoints: testS3().endpoints }) : sim.client;
    const kube = new KubePlatform(worker, fleet.platform, objects);
    return {
      sim, fleet, kube, objects, admin, worker,
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

/**
 * `fleet` with every job's state capped at `maxBytes` (undefined: unchanged; tests pass
 * SMALL_STATE_BYTES of ./evacuation-harness.ts). The generator draws state up to 500 GB, and a
 * stop-with-savepoint takes state / 500 MiB/s of model time (simulator/latency-model.ts): a
 * 500 GB job's stop alone is ~950 model s, 19 s wall at time scale 50, in every drill, planned
 * move and failback.
 */
export function withStateCap(fleet: GeneratedFleet, maxBytes?: number): GeneratedFleet {
  if (maxBytes !== undefined) for (const j of fleet.jobs) j.stateSizeBytes = Math.min(j.stateSizeBytes, maxBytes);
  return fleet;
}

/** Merge-patch content type, for tests that write as another client. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Server-side-apply content type. */
export const APPLY_PATCH = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/**
 * Settings of a production k8s worker on the run's clusters (AZ_EVAC_PLATFORM=k8s, the worker
 * kubeconfig, `platform` (a fleet's profile) written to `<stateDir>/platform.json`, the run's S3 servers) with NO
 * simulator URL: buildPlatform(settings) then builds what a real deployment gets.
 */
export async function kubeWorkerSettings(platform: PlatformProfile, base: Settings): Promise<Settings> {
  const profile = join(base.stateDir, 'platform.json');
  await writeFile(profile, JSON.stringify(platform, null, 2));
  const s3 = testS3();
  return {
    ...base, platform: 'k8s', simulatorUrl: '', kubeconfig: testControlPlane().workerKubeconfigPath, kubeContexts: '', platformProfileFile: profile,
    s3Endpoints: Object.entries(s3.endpoints).map(([az, url]) => `${az}=${url}`).join(','), s3AccessKey: s3.accessKeyId, s3SecretKey: s3.secretAccessKey,
  };
}

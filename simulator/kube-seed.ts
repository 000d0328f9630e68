/**
 * Seeds real clusters with a generated fleet (tests, `az-evac demo --platform k8s`), as a
 * platform team's GitOps tooling would have deployed it: every team namespace in every AZ with the
 * ServiceAccounts, Secrets, ConfigMaps and claims its jobs' pods reference, every primary and
 * standby FlinkDeployment (server-side apply as field manager `platform-gitops`, not
 * `az-evac`), the stale HA ConfigMaps the simulator's fleet load left (fleet-loader.ts), and
 * the Nodes' status.allocatable set to the fleet's AZ capacity (split evenly over the
 * cluster's Nodes), so the adapter's capacity matches the simulator's ledger.
 * Run with admin clients, after loading the same fleet into the simulator whose operator
 * stand-in watches these clusters (so it finds the simulated jobs already running).
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { FlinkDeploymentManifest } from '../domain/types.js';
import { PlatformError } from '../platform/errors.js';
import { listFlinkDeployments, type AzApis } from '../platform/kube/az-apis.js';
import { kubeCall } from '../platform/kube/errors.js';
import { FLINK_DEPLOYMENTS } from '../platform/kube/flink-resource.js';
import type { GeneratedFleet } from './fleet-generator.js';
import { namespaceObjects, type LoadFleetResult } from './fleet-loader.js';
import type { ObjectRef } from '../domain/target-readiness.js';

/** Field manager of the seeded resources (the platform's own deploy tooling). */
export const SEED_FIELD_MANAGER = 'platform-gitops';
const CONCURRENCY = 16;

/**
 * Seed every AZ of `fleet` (see module doc).
 * @param apis admin clients per AZ; every AZ of the fleet must be present
 * @returns resources applied per AZ
 * @throws PlatformError from the API servers (classified), Error naming an AZ without clients
 */
export async function seedKubeFleet(apis: Map<string, AzApis>, fleet: GeneratedFleet, loaded: Pick<LoadFleetResult, 'staleHaConfigMaps'>): Promise<Record<string, number>> {
  const manifests: Array<{ az: string; manifest: FlinkDeploymentManifest }> = [
    ...fleet.jobs.map((j) => ({ az: j.az, manifest: j.deployment })),
    ...fleet.standbys.map((s) => ({ az: s.az, manifest: s.manifest })),
  ];
  const of = (az: string): AzApis => {
    const a = apis.get(az);
    if (!a) throw new Error(`no kubeconfig context for AZ ${az} of the fleet (have: ${[...apis.keys()].join(', ')})`);
    return a;
  };
  const counts: Record<string, number> = {};
  // A DR-ready platform has every team namespace in every AZ (evacuated jobs land there).
  const namespaces = namespaceObjects(manifests.map((m) => m.manifest));
  for (const az of fleet.platform.azs.map((a) => a.name)) {
    const a = of(az);
    for (const [name, objects] of namespaces) {
      await ensureNamespace(a, name);
      for (const o of objects) await ensureObject(a, name, o);
    }
    await setNodeAllocatable(a, fleet.capacities[az] ?? { cores: 0, memoryMiB: 0 });
    counts[az] = 0;
  }
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    manifests.map(({ az, manifest }) =>
      limit(async () => {
        const a = of(az);
        const namespace = manifest.metadata.namespace ?? 'default';
        await kubeCall(az, `seed FlinkDeployment ${namespace}/${manifest.metadata.name}`, () =>
          a.custom.patchNamespacedCustomObject(
            { ...FLINK_DEPLOYMENTS, namespace, name: manifest.metadata.name, body: manifest, fieldManager: SEED_FIELD_MANAGER, force: true },
            setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
          ),
        );
        counts[az]!++;
      }),
    ),
  );
  for (const { az, key } of loaded.staleHaConfigMaps) {
    const [namespace, name] = key.split('/') as [string, string];
    await createHaConfigMaps(of(az), namespace, name);
  }
  return counts;
}

/**
 * Wait until the operator stand-in has written status on every seeded FlinkDeployment
 * (`seeded`: resources per AZ, as seedKubeFleet returns).
 * @throws Error naming the AZ and the counts after `timeoutMs`
 */
export async function waitForSeededStatus(apis: Map<string, AzApis>, seeded: Record<string, number>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const [az, count] of Object.entries(seeded)) {
    for (;;) {
      const withStatus = (await listFlinkDeployments(apis.get(az)!)).filter((d) => d.status?.lifecycleState !== undefined).length;
      if (withStatus >= count) break;
      if (Date.now() > deadline) throw new Error(`${az}: the operator stand-in wrote status on ${withStatus} of ${count} seeded FlinkDeployments within ${timeoutMs / 1000}s. Is the simulator running with --kubeconfig?`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Create the two HA ConfigMaps a Flink JobManager with Kubernetes HA leaves
 * (`<name>-cluster-config-map` and one job ConfigMap), labelled
 * `app=<name>,configmap-type=high-availability`. Idempotent.
 */
export async function createHaConfigMaps(a: AzApis, namespace: string, name: string): Promise<void> {
  for (const cmName of [`${name}-cluster-config-map`, `${name}-00000000000000000000000000000000-config-map`]) {
    try {
      await kubeCall(a.az, `create HA ConfigMap ${namespace}/${cmName}`, () =>
        a.core.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name: cmName, labels: { app: name, 'configmap-type': 'high-availability', type: 'flink-native-kubernetes' } }, data: { leader: 'stale' } },
        }),
      );
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === 'conflict')) throw err; // exists already
    }
  }
}

async function ensureNamespace(a: AzApis, name: string): Promise<void> {
  try {
    await kubeCall(a.az, `create Namespace ${name}`, () => a.core.createNamespace({ body: { metadata: { name } } }));
  } catch (err) {
    if (!(err instanceof PlatformError && err.code === 'conflict')) throw err;
  }
}

/** Create an empty object of `ref` in `namespace` (a claim of 1Gi); one that exists already is fine. */
export async function ensureObject(a: AzApis, namespace: string, ref: ObjectRef): Promise<void> {
  const metadata = { name: ref.name };
  const create = (): Promise<unknown> => {
    switch (ref.kind) {
      case 'ServiceAccount': return a.core.createNamespacedServiceAccount({ namespace, body: { metadata } });
      case 'Secret': return a.core.createNamespacedSecret({ namespace, body: { metadata } });
      case 'ConfigMap': return a.core.createNamespacedConfigMap({ namespace, body: { metadata } });
      case 'PersistentVolumeClaim':
        return a.core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    }
  };
  try {
    await kubeCall(a.az, `create ${ref.kind} ${namespace}/${ref.name}`, create);
  } catch (err) {
    if (!(err instanceof PlatformError && err.code === 'conflict')) throw err;
  }
}

async function setNodeAllocatable(a: AzApis, total: { cores: number; memoryMiB: number }): Promise<void> {
  const nodes = (await kubeCall(a.az, 'list Nodes', () => a.core.listNode())).items;
  if (nodes.length === 0) throw new Error(`${a.az} has no Nodes to size. Fix: register Nodes (the local control plane does)`);
  // Exact split: the last Node takes the remainder, so the sum equals the simulator's ledger.
  const cores = Math.floor(total.cores / nodes.length);
  const memoryMiB = Math.floor(total.memoryMiB / nodes.length);
  for (const [i, node] of nodes.entries()) {
    const last = i === nodes.length - 1;
    const c = last ? total.cores - cores * (nodes.length - 1) : cores;
    const m = last ? total.memoryMiB - memoryMiB * (nodes.length - 1) : memoryMiB;
    const resources = { cpu: String(c), memory: `${m}Mi`, pods: '1000' };
    await kubeCall(a.az, `size Node ${node.metadata!.name!}`, () =>
      a.core.patchNodeStatus({ name: node.metadata!.name!, body: { status: { allocatable: resources, capacity: resources } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }
}

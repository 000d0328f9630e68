/**
 * Bootstrap of one freshly started local cluster, as its admin: namespaces, the worker's
 * least-privilege RBAC (deploy/rbac/az-evac-worker.yaml), the real FlinkDeployment,
 * FlinkSessionJob and FlinkStateSnapshot CRDs (vendor/flink-operator/crds, waited until Established) and Nodes with
 * allocatable cpu/memory and the zone label (Node objects only: no kubelet runs, and no
 * controller-manager marks them NotReady).
 */
import { readFileSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
  type V1Node,
} from '@kubernetes/client-node';
import type { LocalCluster, LocalNodeSpec } from './local-control-plane.js';

/** Field manager of the bootstrap's server-side applies (not az-evac's own FIELD_MANAGER). */
const SETUP_FIELD_MANAGER = 'az-evac-local-setup';
/** Manifests applied to every cluster, relative to the repo root. */
const MANIFESTS = [
  'deploy/rbac/az-evac-worker.yaml',
  'vendor/flink-operator/crds/flinkdeployments.flink.apache.org-v1.yml',
  'vendor/flink-operator/crds/flinksessionjobs.flink.apache.org-v1.yml',
  'vendor/flink-operator/crds/flinkstatesnapshots.flink.apache.org-v1.yml',
];
const CRDS = ['flinkdeployments.flink.apache.org', 'flinksessionjobs.flink.apache.org', 'flinkstatesnapshots.flink.apache.org'];
/** How long a CRD may take to become Established, seconds. */
const ESTABLISHED_TIMEOUT_S = 60;
/** Label the adapter reads to tell a Node's AZ (well-known label). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Admin KubeConfig of one local cluster (a single context named after the AZ). */
export function adminKubeConfig(cluster: LocalCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.az, server: cluster.server, caFile: cluster.caFile }],
    users: [{ name: 'admin', token: cluster.adminToken }],
    contexts: [{ name: cluster.az, cluster: cluster.az, user: 'admin' }],
    currentContext: cluster.az,
  });
  return kc;
}

/**
 * The objects of a manifest file as client-node's typed models: KubernetesObjectApi serializes
 * by model attribute, so a plain parse would silently drop keys such as the CRDs'
 * `x-kubernetes-preserve-unknown-fields` (the apiserver then rejects the schema).
 */
function manifestObjects(file: string): KubernetesObject[] {
  return (loadAllYaml(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => o !== null);
}

async function waitEstablished(ext: ApiextensionsV1Api, name: string, az: string): Promise<void> {
  const deadline = Date.now() + ESTABLISHED_TIMEOUT_S * 1000;
  for (;;) {
    const crd = await ext.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`${az}: CRD ${name} not Established after ${ESTABLISHED_TIMEOUT_S} s (conditions: ${JSON.stringify(crd.status?.conditions ?? [])})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function node(az: string, i: number, spec: LocalNodeSpec): V1Node {
  const allocatable = { cpu: String(spec.cpuCores), memory: `${spec.memoryMiB}Mi`, pods: '110' };
  return {
    metadata: { name: `kube-node-${az}-${i}`, labels: { [ZONE_LABEL]: az, 'kubernetes.io/hostname': `kube-node-${az}-${i}` } },
    // Status is accepted on create for Nodes (it is what a kubelet registers with).
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True', reason: 'LocalControlPlane', message: 'no kubelet: registered by az-evac local control plane' }] },
  };
}

/**
 * Bootstrap `cluster` (idempotent apart from Nodes, which are created once).
 * @throws Error naming the AZ when a CRD does not become Established; API errors as thrown by client-node
 */
export async function bootstrapCluster(cluster: LocalCluster, opts: { nodes: LocalNodeSpec; namespaces: string[] }): Promise<void> {
  const kc = adminKubeConfig(cluster);
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const core = kc.makeApiClient(CoreV1Api);
  const apply = (o: KubernetesObject): Promise<KubernetesObject> =>
    objects.patch(o, undefined, undefined, SETUP_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);

  for (const ns of opts.namespaces) await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const file of MANIFESTS) {
    for (const o of manifestObjects(file)) await apply(o);
  }
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await Promise.all(CRDS.map((name) => waitEstablished(ext, name, cluster.az)));
  for (let i = 0; i < opts.nodes.count; i++) await core.createNode({ body: node(cluster.az, i, opts.nodes) });
}

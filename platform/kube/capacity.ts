/**
 * Free capacity of one AZ's cluster: the Nodes' status.allocatable (cpu, memory) minus what
 * its FlinkDeployments request — every FlinkDeployment whose spec.job.state is `running`
 * (pods running or pending), sized like the simulator and the planner do
 * (manifestResources: JobManager replicas × resource + TaskManager count × resource).
 * Suspended ones (P1 cold standbys, preempted P3s) request nothing.
 */
// Not re-exported by the package index; the package has no exports map, so the deep path is public.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import type { Capacity } from '../../domain/types.js';
import { manifestResources } from '../../domain/flink-spec.js';
import { listFlinkDeployments, type AzApis } from './az-apis.js';
import { kubeCall } from './errors.js';
import { toManifest } from './flink-resource.js';

const MIB = 1024 * 1024;

/** A quantity (`32`, `500m`, `128Gi`) as a number; 0 when absent. */
function scalar(q: string | undefined): number {
  if (q === undefined) return 0;
  return Number(quantityToScalar(q));
}

/**
 * Allocatable minus requested, cores and MiB (may go negative when the cluster is overcommitted).
 * @throws PlatformError classified by kubeError
 */
export async function clusterCapacity(apis: AzApis): Promise<Capacity> {
  const nodes = await kubeCall(apis.az, 'list Nodes', () => apis.core.listNode());
  let cores = 0;
  let bytes = 0;
  for (const node of nodes.items) {
    if (node.spec?.unschedulable) continue;
    cores += scalar(node.status?.allocatable?.cpu);
    bytes += scalar(node.status?.allocatable?.memory);
  }
  let memoryMiB = Math.floor(bytes / MIB);
  for (const fd of await listFlinkDeployments(apis)) {
    if ((fd.spec.job as { state?: string } | undefined)?.state === 'suspended') continue;
    try {
      const r = manifestResources(toManifest(fd));
      cores -= r.cores;
      memoryMiB -= r.memoryMiB;
    } catch {
      // A resource whose size cannot be read cannot start either (the operator fails it).
    }
  }
  return { cores, memoryMiB };
}

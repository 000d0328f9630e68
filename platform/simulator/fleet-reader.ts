/**
 * Reads the fleet back from the FlinkDeployments of the reachable AZs, as catalog sync
 * does on a real platform: tier, team and role from labels; lineage, jars and standby
 * pairing from annotations (FLEET_LABELS / FLEET_ANNOTATIONS of fleet-deployment.ts);
 * snapshot prefixes from the checkpoint/savepoint dirs in flinkConfiguration; requested
 * resources from the pod resources. Resources labelled `role=standby` are not jobs: they
 * are attached to their primary (annotation standby-for) as `standby` — hot when their
 * spec runs, cold when suspended. Resources without a tier label are not az-evac's.
 * The state size is not on the resource; it comes from the platform's metrics (here the
 * loaded fleet's nominal sizes). Shared by the simulator and the Kubernetes adapter
 * (platform/kube/fleet-source.ts), which both list resources and call readFleetJobs.
 */
import { TIERS, type FleetJob, type FlinkDeploymentManifest, type JarArtifact, type Tier } from '../../domain/types.js';
import { FLEET_ANNOTATIONS, FLEET_LABELS } from './fleet-deployment.js';
import { readSpec } from './flink-spec.js';
import { nsName } from './resources.js';

/** One FlinkDeployment as a platform lists it: the AZ it lives in and its manifest. */
export interface FleetResource {
  az: string;
  manifest: FlinkDeploymentManifest;
}

function topics(value: string | undefined): string[] {
  return (value ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
}

function jars(value: string | undefined): JarArtifact[] {
  try {
    const parsed: unknown = JSON.parse(value ?? '[]');
    return Array.isArray(parsed) ? (parsed as JarArtifact[]) : [];
  } catch {
    return [];
  }
}

/** Fleet jobs of `resources` (every FlinkDeployment of the reachable AZs), in AZ then name order. */
export function readFleetJobs(resources: FleetResource[], stateSizeBytes: (key: string) => number): FleetJob[] {
  const all = resources.map((r) => ({
    az: r.az,
    namespace: r.manifest.metadata.namespace ?? 'default',
    name: r.manifest.metadata.name,
    labels: r.manifest.metadata.labels ?? {},
    annotations: r.manifest.metadata.annotations ?? {},
    manifest: r.manifest,
  }));
  const standbys = new Map<string, (typeof all)[number]>();
  for (const r of all) {
    const forJob = r.annotations[FLEET_ANNOTATIONS.standbyFor];
    if (r.labels[FLEET_LABELS.role] === 'standby' && forJob !== undefined) standbys.set(forJob, r);
  }
  const jobs: FleetJob[] = [];
  for (const r of all) {
    const tier = r.labels[FLEET_LABELS.tier] as Tier | undefined;
    if (tier === undefined || !TIERS.includes(tier) || r.labels[FLEET_LABELS.role] === 'standby') continue;
    const key = nsName(r.namespace, r.name);
    const spec = readSpec(r.manifest);
    const standby = standbys.get(key);
    jobs.push({
      name: r.name,
      namespace: r.namespace,
      az: r.az,
      tier,
      team: r.labels[FLEET_LABELS.team] ?? '',
      deployment: structuredClone(r.manifest),
      ...(standby && standby.az !== r.az
        ? { standby: { kind: readSpec(standby.manifest).state === 'running' ? 'hot' : 'cold', az: standby.az, namespace: standby.namespace, name: standby.name } }
        : {}),
      lineage: { consumes: topics(r.annotations[FLEET_ANNOTATIONS.consumes]), produces: topics(r.annotations[FLEET_ANNOTATIONS.produces]) },
      jars: jars(r.annotations[FLEET_ANNOTATIONS.jars]),
      resources: 'error' in spec.resources ? { cores: 0, memoryMiB: 0 } : spec.resources,
      stateSizeBytes: stateSizeBytes(key),
      checkpointPrefix: spec.checkpointDir?.key ?? `checkpoints/${key}`,
      savepointPrefix: spec.savepointDir?.key ?? `savepoints/${key}`,
    });
  }
  return jobs.sort((a, b) => (a.az === b.az ? (nsName(a.namespace, a.name) < nsName(b.namespace, b.name) ? -1 : 1) : a.az < b.az ? -1 : 1));
}

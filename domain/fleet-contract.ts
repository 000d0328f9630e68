/**
 * The fleet contract: the `az-evac.io/*` labels and annotations a platform team puts on its
 * FlinkDeployments, and how az-evac reads a fleet back from them. Pure. Catalog sync on a
 * real platform (platform/kube) and the simulator both list FlinkDeployments and call
 * readFleetJobs: tier, team and role from labels; lineage, jars and standby
 * pairing from annotations (FLEET_LABELS / FLEET_ANNOTATIONS);
 * snapshot prefixes from the checkpoint/savepoint dirs in flinkConfiguration; requested
 * resources from the pod resources; the job id from status.jobStatus.jobId (`jobIds`, whose
 * history catalog sync keeps across versions). Resources labelled `role=standby` are not jobs: they
 * are attached to their primary (annotation standby-for) as `standby` — hot when their
 * spec runs, cold when suspended. Resources without a tier label are not az-evac's.
 * The state size is not on the resource; it comes from the platform's metrics where it has
 * any (the simulator: the loaded fleet's sizes), else it is DEFAULT_STATE_BYTES marked
 * `stateSizeNominal` (Kubernetes; the RTO estimate reads the newest snapshot's `_metadata`
 * instead, domain/rto-estimate.ts). Shared by the simulator and the Kubernetes adapter
 * (platform/kube/kube-platform.ts).
 */
import { jobKey, TIERS, type FleetJob, type FlinkDeploymentManifest, type JarArtifact, type Tier } from './types.js';
import { readSpec } from './flink-spec.js';
import { mergeJobIds } from './snapshot-owner.js';

/** Labels az-evac reads from a FlinkDeployment (`kubectl get flinkdeployments -l az-evac.io/tier`). */
export const FLEET_LABELS = {
  tier: 'az-evac.io/tier',
  team: 'az-evac.io/team',
  /** `primary` or `standby`. */
  role: 'az-evac.io/role',
} as const;
/** Annotations az-evac reads from a FlinkDeployment. */
export const FLEET_ANNOTATIONS = {
  /** Comma list of topics. */
  consumes: 'az-evac.io/consumes',
  produces: 'az-evac.io/produces',
  /** JSON array of JarArtifact. */
  jars: 'az-evac.io/jars',
  /** `namespace/name` of the primary a standby stands in for. */
  standbyFor: 'az-evac.io/standby-for',
} as const;

/**
 * State size assumed for a job whose platform reports none, bytes (1 GiB). Neither the
 * FlinkDeployment nor the operator's status carries the state size (FlinkDeploymentStatus's
 * jobStatus has the checkpoint and savepoint locations and times, no sizes).
 */
export const DEFAULT_STATE_BYTES = 1024 ** 3;

/** One FlinkDeployment as a platform lists it: the AZ it lives in, its manifest and its status's job id. */
export interface FleetResource {
  az: string;
  manifest: FlinkDeploymentManifest;
  /** status.jobStatus.jobId, when the operator reports one (recorded in FleetJob.jobIds). */
  jobId?: string;
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

/**
 * Fleet jobs of `resources` (every FlinkDeployment of the reachable AZs), in AZ then name order.
 * @param stateSizeBytes the platform's state size of a job (`namespace/name`), bytes; undefined
 *   when it has none (the job gets DEFAULT_STATE_BYTES and `stateSizeNominal: true`)
 */
export function readFleetJobs(resources: FleetResource[], stateSizeBytes: (key: string) => number | undefined): FleetJob[] {
  const all = resources.map((r) => ({
    az: r.az,
    namespace: r.manifest.metadata.namespace ?? 'default',
    name: r.manifest.metadata.name,
    labels: r.manifest.metadata.labels ?? {},
    annotations: r.manifest.metadata.annotations ?? {},
    manifest: r.manifest,
    jobId: r.jobId,
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
    const key = jobKey({ namespace: r.namespace, name: r.name });
    const spec = readSpec(r.manifest);
    const standby = standbys.get(key);
    const stateSize = stateSizeBytes(key);
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
      stateSizeBytes: stateSize ?? DEFAULT_STATE_BYTES,
      ...(stateSize === undefined ? { stateSizeNominal: true } : {}),
      checkpointPrefix: spec.checkpointDir?.key ?? `checkpoints/${key}`,
      savepointPrefix: spec.savepointDir?.key ?? `savepoints/${key}`,
      jobIds: mergeJobIds([r.jobId]),
    });
  }
  return jobs.sort((a, b) => (a.az === b.az ? (jobKey({ namespace: a.namespace, name: a.name }) < jobKey({ namespace: b.namespace, name: b.name }) ? -1 : 1) : a.az < b.az ? -1 : 1));
}

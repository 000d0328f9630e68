/**
 * Turns one of the operator's example FlinkDeployments into a generated fleet job's
 * deployment for one AZ, and reads back what a FlinkDeployment requests. Pure.
 *
 * Field facts (docs/design.md#flink-and-operator-facts): FLIP-406 key names (Flink 1.20) in a flat string map,
 * `upgradeMode: savepoint` (never last-state across AZs), names ≤ 45 chars. Resources use
 * the operator's `resource: { cpu, memory }` form, memory as a Flink memory size in MiB
 * (`4096m`); TaskManager count = ceil(parallelism / taskmanager.numberOfTaskSlots)
 * (native mode) or `taskManager.replicas` when set (standalone mode).
 */
import { flattenFlinkConfiguration, readConfig, writeConfig } from '../domain/flink-config.js';
import type { AzProfile, FlinkDeploymentManifest, JarArtifact, JobKey, Tier } from '../domain/types.js';
import { FLEET_ANNOTATIONS, FLEET_LABELS } from '../domain/fleet-contract.js';

/** Memory requested per core, MiB. */
export const MIB_PER_CORE = 4096;

const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Shape of a job's JobManager and TaskManagers. Cores and MiB are per pod. */
export interface JobSizing {
  parallelism: number;
  slotsPerTaskManager: number;
  taskManagerCores: number;
  taskManagerMemoryMiB: number;
  jobManagerCores: number;
  jobManagerMemoryMiB: number;
}

/**
 * A sizing whose total request is close to (at least) `targetCores`: one core and
 * MIB_PER_CORE MiB per slot; 2-, 4- or 8-slot TaskManagers as the job grows; a 2-core
 * JobManager from 200 cores up.
 */
export function sizeForCores(targetCores: number): JobSizing {
  const jobManagerCores = targetCores >= 200 ? 2 : 1;
  const slots = targetCores <= 16 ? 2 : targetCores <= 96 ? 4 : 8;
  return {
    parallelism: Math.max(1, targetCores - jobManagerCores),
    slotsPerTaskManager: slots,
    taskManagerCores: slots,
    taskManagerMemoryMiB: slots * MIB_PER_CORE,
    jobManagerCores,
    jobManagerMemoryMiB: jobManagerCores * MIB_PER_CORE,
  };
}

/** Everything that makes a template one fleet job's deployment in one AZ. */
export interface FleetDeploymentSpec {
  name: string;
  namespace: string;
  tier: Tier;
  team: string;
  role: 'primary' | 'standby';
  /** Set for standbys: the primary's `namespace/name`. */
  standbyFor?: JobKey;
  state: 'running' | 'suspended';
  az: AzProfile;
  lineage: { consumes: string[]; produces: string[] };
  /** First jar is the job jar (jarURI); the rest go to `user.artifacts.artifact-list`. ≥ 1. */
  jars: JarArtifact[];
  checkpointPrefix: string;
  savepointPrefix: string;
  sizing: JobSizing;
  /** `execution.checkpointing.interval`, seconds; default 60. */
  checkpointIntervalSeconds?: number;
}

/**
 * The template rewritten for `spec.az`: name and namespace, az-evac labels and
 * annotations, image on the AZ's registry (sidecar images too), flat flinkConfiguration
 * with the AZ's `s3.endpoint` and snapshot directories in its state bucket, HA storage in
 * the state bucket when the template uses HA, zone affinity in the pod template (the
 * example's containers and volumes kept), jarURI in the AZ's artifact bucket, sizing,
 * `upgradeMode: savepoint` and `spec.state`. The template is not modified.
 */
export function renderFleetDeployment(template: FlinkDeploymentManifest, spec: FleetDeploymentSpec): FlinkDeploymentManifest {
  const { az, sizing } = spec;
  const src = JSON.parse(JSON.stringify(template.spec)) as FlinkDeploymentManifest['spec']; // a deep copy; faster than structuredClone here
  const [mainJar, ...extraJars] = spec.jars;
  if (!mainJar) throw new Error(`renderFleetDeployment: ${spec.namespace}/${spec.name}: jars is empty. Fix: give the job at least one jar`);

  let conf = flattenFlinkConfiguration(src.flinkConfiguration ?? {});
  conf = writeConfig(conf, 'checkpointDir', `s3://${az.stateBucket}/${spec.checkpointPrefix}`);
  conf = writeConfig(conf, 'savepointDir', `s3://${az.stateBucket}/${spec.savepointPrefix}`);
  conf = writeConfig(conf, 's3Endpoint', az.s3Endpoint);
  if (readConfig(conf, 'haType') !== undefined) {
    conf = writeConfig(conf, 'haStorageDir', `s3://${az.stateBucket}/ha/${spec.namespace}/${spec.name}`);
  }
  conf['taskmanager.numberOfTaskSlots'] = String(sizing.slotsPerTaskManager);
  conf['s3.path.style.access'] = 'true';
  conf['execution.checkpointing.interval'] = `${spec.checkpointIntervalSeconds ?? 60} s`;
  if (conf['pipeline.max-parallelism'] !== undefined) {
    const floor = 2 ** Math.ceil(Math.log2(sizing.parallelism));
    conf['pipeline.max-parallelism'] = String(Math.max(Number(conf['pipeline.max-parallelism']) || 0, floor));
  }
  if (extraJars.length > 0) {
    conf['user.artifacts.artifact-list'] = extraJars.map((j) => `s3://${az.artifactBucket}/${j.key}`).join(';');
  }

  const jobManager = withResource(src.jobManager, sizing.jobManagerCores, sizing.jobManagerMemoryMiB);
  const taskManager = withResource(src.taskManager, sizing.taskManagerCores, sizing.taskManagerMemoryMiB);
  if (src.mode === 'standalone') taskManager.replicas = Math.ceil(sizing.parallelism / sizing.slotsPerTaskManager);
  mirrorImages(jobManager.podTemplate, az.imageRegistry);
  mirrorImages(taskManager.podTemplate, az.imageRegistry);

  const job: Record<string, unknown> = { ...src.job };
  delete job.initialSavepointPath; // the example's local path; restores set their own
  Object.assign(job, {
    jarURI: `s3://${az.artifactBucket}/${mainJar.key}`,
    parallelism: sizing.parallelism,
    upgradeMode: 'savepoint',
    state: spec.state,
  });

  const annotations: Record<string, string> = {
    [FLEET_ANNOTATIONS.consumes]: spec.lineage.consumes.join(','),
    [FLEET_ANNOTATIONS.produces]: spec.lineage.produces.join(','),
    [FLEET_ANNOTATIONS.jars]: JSON.stringify(spec.jars),
  };
  if (spec.standbyFor !== undefined) annotations[FLEET_ANNOTATIONS.standbyFor] = spec.standbyFor;

  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: {
        ...template.metadata.labels,
        [FLEET_LABELS.tier]: spec.tier,
        [FLEET_LABELS.team]: spec.team,
        [FLEET_LABELS.role]: spec.role,
      },
      annotations,
    },
    spec: {
      ...src,
      image: `${az.imageRegistry}/${withoutRegistry(src.image ?? 'flink:2.2')}`,
      flinkConfiguration: conf,
      podTemplate: withZoneAffinity(src.podTemplate, az.zone, az.imageRegistry),
      jobManager,
      taskManager,
      job,
    },
  };
}


type PodSpecSection = Record<string, unknown> & { podTemplate?: Record<string, unknown>; replicas?: number };

function withResource(section: unknown, cores: number, memoryMiB: number): PodSpecSection {
  const out: PodSpecSection = { ...(section as PodSpecSection | undefined) };
  delete out.resources; // the examples' Kubernetes-style requests; one form only
  out.resource = { cpu: cores, memory: `${memoryMiB}m` };
  return out;
}

/** `docker.io/library/flink:2.2` → `library/flink:2.2`; `flink:2.2` unchanged. */
function withoutRegistry(image: string): string {
  const [first, ...rest] = image.split('/');
  const isRegistry = rest.length > 0 && first !== undefined && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isRegistry ? rest.join('/') : image;
}

/** Rewrites every container and init container image in a pod template to the AZ's registry, in place. */
function mirrorImages(podTemplate: Record<string, unknown> | undefined, registry: string): void {
  const podSpec = podTemplate?.spec as { containers?: unknown; initContainers?: unknown } | undefined;
  for (const list of [podSpec?.containers, podSpec?.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const container of list as Array<{ image?: unknown }>) {
      if (typeof container.image === 'string') container.image = `${registry}/${withoutRegistry(container.image)}`;
    }
  }
}

/** The (already copied) pod template, changed in place: required node affinity to `zone` (other affinity terms kept), mirrored images. */
function withZoneAffinity(podTemplate: Record<string, unknown> | undefined, zone: string, registry: string): Record<string, unknown> {
  const pod = podTemplate ?? {};
  mirrorImages(pod, registry);
  const podSpec = (pod.spec ??= {}) as Record<string, unknown>;
  const affinity = (podSpec.affinity ??= {}) as Record<string, unknown>;
  affinity.nodeAffinity = {
    ...(affinity.nodeAffinity as Record<string, unknown> | undefined),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: [zone] }] }],
    },
  };
  return pod;
}

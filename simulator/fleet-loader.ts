/**
 * Loads a generated fleet into the simulator, as if the platform had been running for a
 * while: every primary and hot standby RUNNING (capacity taken, HA ConfigMaps when HA is
 * on, checkpoint/savepoint history seeded and replicated), cold standbys CREATED, every
 * jar published to every AZ's repository and cached in the AZs whose resources use it.
 *
 * Two seeded traps, as on real platforms (docs/design.md#flink-and-operator-facts):
 * - for `incompleteReplicaFraction` of the primaries (default 3 %) the newest checkpoint's
 *   replica in the other AZ still lacks `_metadata` or a data file (it arrives 30–90 model
 *   s later);
 * - for `staleHaFraction` of the HA-enabled primaries (default 2 %) stale HA ConfigMaps of
 *   an earlier run are left in the other AZ, pointing at an old savepoint there: a first
 *   deploy that does not delete them silently restores from it.
 * Every namespace of the fleet exists in every AZ with the ServiceAccounts, Secrets,
 * ConfigMaps and claims its pods reference (a DR-ready platform; control calls remove them).
 * Loading resets the simulator first (resources, objects, events, faults, AZs down).
 */
import { jarRepositoryBucket, jobKey, type FleetJob, type FlinkDeploymentManifest, type JarArtifact } from '../domain/types.js';
import { distinctRefs, podReferences, type ObjectRef } from '../domain/target-readiness.js';
import type { GeneratedFleet } from './fleet-generator.js';
import { readSpec } from '../domain/flink-spec.js';
import { seededUniform } from './random.js';
import { createResource, manifestOf, nsName, type Resource } from './resources.js';
import type { Simulator } from './simulator.js';

/** Options of loadFleet. Fractions are 0..1. */
export interface LoadFleetOptions {
  incompleteReplicaFraction?: number;
  staleHaFraction?: number;
}

/** What was loaded. */
export interface LoadFleetResult {
  jobs: number;
  standbys: number;
  running: number;
  objects: number;
  /** Job keys whose newest replicated checkpoint is incomplete at load. */
  laggingReplicas: string[];
  /** Stale HA ConfigMaps left: AZ and job key. */
  staleHaConfigMaps: Array<{ az: string; key: string }>;
}

/** Load `fleet` (see the module doc). */
export function loadFleet(sim: Simulator, fleet: GeneratedFleet, options: LoadFleetOptions = {}): LoadFleetResult {
  sim.configure(fleet.platform, fleet.capacities);
  const azNames = fleet.platform.azs.map((a) => a.name);
  const now = sim.clock.epoch(sim.clock.now());
  const result: LoadFleetResult = { jobs: fleet.jobs.length, standbys: fleet.standbys.length, running: 0, objects: 0, laggingReplicas: [], staleHaConfigMaps: [] };

  const allJars = new Map<string, JarArtifact>();
  for (const job of fleet.jobs) for (const jar of job.jars) allJars.set(`${jar.key}|${jar.digest}`, jar);
  for (const az of fleet.platform.azs) {
    for (const jar of allJars.values()) {
      sim.stores.store(az.name).put(jarRepositoryBucket(az.artifactBucket), jar.key, { sizeBytes: jar.sizeBytes, digest: jar.digest, lastModifiedEpochSeconds: now - 86_400 });
    }
  }
  const cacheJars = (az: string, job: FleetJob): void => {
    const bucket = sim.profile(az).artifactBucket;
    for (const jar of job.jars) sim.stores.store(az).put(bucket, jar.key, { sizeBytes: jar.sizeBytes, digest: jar.digest, lastModifiedEpochSeconds: now - 3_600 });
  };
  const place = (r: Resource, laggingReplica?: string): void => {
    sim.cluster(r.az).resources.set(nsName(r.namespace, r.name), r);
    if (readSpec(manifestOf(r)).state === 'running') {
      sim.operator.adoptRunning(r, laggingReplica);
      if (r.run?.phase === 'running') result.running++;
    } else sim.operator.reconcile(r, false);
  };

  // A DR-ready platform: every namespace of the fleet in every AZ, holding every object the
  // fleet's pods there reference (ServiceAccounts, Secrets, ConfigMaps, claims).
  const manifests = [...fleet.jobs.map((j) => j.deployment), ...fleet.standbys.map((s) => s.manifest)];
  for (const [namespace, refs] of namespaceObjects(manifests)) {
    for (const az of azNames) sim.setKubeObjects(az, namespace, true, refs);
  }

  const primaries = new Map<string, Resource>();
  for (const job of fleet.jobs) {
    const key = jobKey(job);
    sim.stateSizes.set(key, job.stateSizeBytes);
    cacheJars(job.az, job);
    const other = job.standby?.az ?? azNames.find((a) => a !== job.az);
    const u = seededUniform(sim.seed, 'fleet-load', key);
    const lagging = other !== undefined && u() < (options.incompleteReplicaFraction ?? 0.03) ? other : undefined;
    if (lagging !== undefined) result.laggingReplicas.push(key);
    const r = createResource(job.az, job.deployment, job.namespace);
    place(r, lagging);
    primaries.set(key, r);
  }
  const jobsByKey = new Map(fleet.jobs.map((j) => [jobKey(j), j]));
  for (const s of fleet.standbys) {
    const job = jobsByKey.get(s.forJob);
    if (job) cacheJars(s.az, job);
    place(createResource(s.az, s.manifest, s.manifest.metadata.namespace ?? job?.namespace ?? 'default'));
  }

  for (const job of fleet.jobs) {
    const key = jobKey(job);
    const primary = primaries.get(key)!;
    const target = job.standby?.az ?? azNames.find((a) => a !== job.az);
    const oldest = primary.run?.track?.savepoints[0];
    const u = seededUniform(sim.seed, 'stale-ha', key);
    if (target === undefined || !oldest || !readSpec(job.deployment).haEnabled || u() >= (options.staleHaFraction ?? 0.02)) continue;
    if (sim.cluster(target).haConfigMaps.has(key)) continue; // a running hot standby owns live HA data
    sim.putHaConfigMaps(target, job.namespace, job.name, `s3://${sim.profile(target).stateBucket}/${oldest.dir}`);
    result.staleHaConfigMaps.push({ az: target, key });
  }
  result.objects = sim.stores.counts().objects;
  return result;
}

/** Per namespace of `manifests`, the distinct objects their pods reference (podReferences). */
export function namespaceObjects(manifests: readonly FlinkDeploymentManifest[]): Map<string, ObjectRef[]> {
  const byNamespace = new Map<string, ObjectRef[]>();
  for (const m of manifests) {
    const namespace = m.metadata.namespace ?? 'default';
    const refs = byNamespace.get(namespace) ?? [];
    refs.push(...podReferences(m.spec).refs);
    byNamespace.set(namespace, refs);
  }
  return new Map([...byNamespace].map(([ns, refs]) => [ns, distinctRefs(refs)]));
}

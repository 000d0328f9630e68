/**
 * Seeded generator of a realistic Flink fleet for the simulator, the demo, tests and
 * benchmarks. Pure given its inputs: the same options (seed, size, AZs, layout, templates)
 * give byte-identical output. Draws come from pure-rand's xoroshiro128+ via ./random.ts.
 *
 * What a fleet looks like (docs/design.md#tiers-capacity-and-lineage): tiers ≈ P0 5 %, P1 10 %, P2 60 %, P3 25 %;
 * ~20 teams, one namespace `flink-<team>` each; sizes skewed (most jobs 8–32 cores, some
 * 200–800; mean ≈ 69 cores, 4096 MiB per core); state 100 MB–500 GB log-normal, larger
 * for P0/P1; a shared jar pool of ≈ jobs/5 jars; topic lineage mostly from outside the
 * fleet, ≈ 20 % of jobs fed by fleet jobs of their tier or higher, a few P3 producers
 * feeding P0/P1 consumers and an occasional cycle (fleet-lineage.ts); hot standbys for P0,
 * cold for P1, ≈ 1 % of each missing (a readiness finding); AZ capacities tight enough
 * that an evacuation needs preemption (fleet-capacity.ts).
 */
import { createHash } from 'node:crypto';
import {
  TIERS,
  jobKey,
  type AzProfile,
  type Capacity,
  type FleetJob,
  type FlinkDeploymentManifest,
  type JarArtifact,
  type JobKey,
  type PlatformProfile,
  type StorageLayout,
  type Tier,
} from '../domain/types.js';
import { azCapacities } from './fleet-capacity.js';
import { renderFleetDeployment, sizeForCores, type FleetDeploymentSpec, type JobSizing } from './fleet-deployment.js';
import { producedTopics, wireLineage, type LineageNode } from './fleet-lineage.js';
import { logUniform, pick, popularIndex, seededUniform, shuffle, weightedIndex, type Uniform } from './random.js';

/** Options of generateFleet. */
export interface GenerateFleetOptions {
  /** Number of primary jobs, integer ≥ 1. */
  jobs: number;
  /** PRNG seed, a safe integer. */
  seed: number;
  /** AZ names, ≥ 2, distinct DNS labels; default `['az-a', 'az-b']`. */
  azs?: string[];
  /** Default `symmetric`. */
  layout?: StorageLayout;
  /** Application-mode FlinkDeployments to build jobs from (see loadExampleTemplates), ≥ 1. */
  templates: FlinkDeploymentManifest[];
  /**
   * Largest state of a job, bytes, in [STATE_BOUNDS.min, STATE_BOUNDS.max]; default STATE_BOUNDS.max
   * (500 GB). Draws above it are clamped to it, every other draw is unchanged (the demo's
   * replication-outage scene sizes its fleet with it: docs/protection.md "On the simulator").
   */
  maxStateBytes?: number;
  /**
   * Every job's `execution.checkpointing.interval`, model seconds, an integer ≥ 1; default 60.
   * A simulator writing through to S3 checkpoints no more often than S3_CHECKPOINT_FLOOR_SECONDS
   * (simulator/checkpointing.ts): the demo passes that floor then, so each spec says how often its
   * job checkpoints and what reads the spec (the RTO forecast's first checkpoint after a restore,
   * the start-up deadline) counts what the job does (default demo, S3: 120 s, where a 60 s spec
   * made the forecast expect each restoring job's first checkpoint up to 6 wall s too early).
   */
  checkpointIntervalSeconds?: number;
}

/** Bounds of a generated job's state, bytes: 100 MB–500 GB. */
export const STATE_BOUNDS = { min: 100e6, max: 500e9 } as const;

/** A standby copy of a P0 (hot: running) or P1 (cold: suspended) job, as deployed in `az`. */
export interface GeneratedStandby {
  az: string;
  forJob: JobKey;
  kind: 'hot' | 'cold';
  manifest: FlinkDeploymentManifest;
}

/** A generated fleet. */
export interface GeneratedFleet {
  platform: PlatformProfile;
  /** Primaries only, spread round-robin over the AZs. */
  jobs: FleetJob[];
  standbys: GeneratedStandby[];
  /** Allocatable (total, not free) cores and MiB per AZ, sized by azCapacities (fleet-capacity.ts). */
  capacities: Record<string, Capacity>;
}

const TIER_SHARE: Record<Tier, number> = { P0: 0.05, P1: 0.1, P2: 0.6, P3: 0.25 };
const MISSING_STANDBY_SHARE = 0.01;
const MIB = 1024 * 1024;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Team and relative size (how many jobs it owns). */
const TEAMS: ReadonlyArray<readonly [team: string, weight: number]> = [
  ['payments', 8], ['search', 7], ['ads-ranking', 9], ['fraud', 7], ['checkout', 5],
  ['recommendations', 8], ['identity', 3], ['logistics', 5], ['pricing', 5], ['inventory', 4],
  ['messaging', 4], ['notifications', 4], ['growth', 5], ['marketplace', 4], ['risk', 6],
  ['observability', 6], ['trust-safety', 3], ['maps', 2], ['billing', 4], ['data-platform', 7],
];
const PURPOSES = [
  'enricher', 'scoring', 'aggregator', 'sessionizer', 'dedup', 'joiner', 'alerting', 'etl', 'indexer',
  'feature-builder', 'router', 'anomaly-detector', 'ledger', 'reconciler', 'counter', 'cdc-sink',
  'rollup', 'ranker', 'filter', 'attribution',
];
/** Shared libraries, owned by data-platform. */
const LIBRARIES = [
  'kafka-connector', 'avro-serde', 'schema-registry-client', 'metrics-reporter', 'feature-store-client',
  'geo-udfs', 'protobuf-formats', 'pii-masking', 'json-udfs', 'iceberg-sink',
];
const LIBRARY_TEAM = 'data-platform';

/** A job before lineage, standbys and rendering are settled. */
interface Draft extends LineageNode {
  name: string;
  namespace: string;
  az: string;
  template: FlinkDeploymentManifest;
  sizing: JobSizing;
  stateSizeBytes: number;
  jars: JarArtifact[];
  standby?: { kind: 'hot' | 'cold'; az: string };
}

/**
 * A seeded fleet of `opts.jobs` primaries (see GeneratedFleet and the module doc).
 * @throws RangeError naming the option and the fix when an option is out of range
 */
export function generateFleet(opts: GenerateFleetOptions): GeneratedFleet {
  const azs = opts.azs ?? ['az-a', 'az-b'];
  const layout = opts.layout ?? 'symmetric';
  checkOptions(opts, azs, layout);
  const u = seededUniform('fleet-generator', opts.seed);
  const platform: PlatformProfile = { layout, azs: azs.map((az, i) => azProfile(az, i, layout)) };

  const tiers = shuffle(u, tierQuotas(opts.jobs));
  const pool = jarPool(u, Math.max(2, Math.round(opts.jobs / 5)));
  const counters = new Map<string, number>();
  const teamWeights = TEAMS.map(([, w]) => w);
  const drafts = tiers.map((tier, i): Draft => {
    const team = TEAMS[weightedIndex(u, teamWeights)]![0];
    const n = (counters.get(team) ?? 0) + 1;
    counters.set(team, n);
    const stem = `${pick(u, PURPOSES)}-${String(n).padStart(4, '0')}`;
    return {
      name: `${team}-${stem}`,
      namespace: `flink-${team}`,
      team,
      tier,
      az: azs[i % azs.length]!,
      template: pick(u, opts.templates),
      sizing: sizeForCores(drawCores(u)),
      stateSizeBytes: Math.min(opts.maxStateBytes ?? STATE_BOUNDS.max, drawStateSize(u, tier)),
      jars: drawJars(u, pool, team),
      consumes: [],
      produces: producedTopics(u, team, stem),
    };
  });
  wireLineage(u, drafts);
  assignStandbys(u, drafts, azs);

  const profiles = new Map(platform.azs.map((p) => [p.name, p]));
  const standbys: GeneratedStandby[] = [];
  const jobs = drafts.map((d): FleetJob => {
    const key = jobKey(d);
    const render = (az: string, role: 'primary' | 'standby', state: 'running' | 'suspended') =>
      renderFleetDeployment(d.template, { ...deploymentSpec(d, profiles.get(az)!, role, state, role === 'standby' ? key : undefined), checkpointIntervalSeconds: opts.checkpointIntervalSeconds ?? 60 });
    if (d.standby) {
      const state = d.standby.kind === 'hot' ? 'running' : 'suspended';
      standbys.push({ az: d.standby.az, forJob: key, kind: d.standby.kind, manifest: render(d.standby.az, 'standby', state) });
    }
    return {
      name: d.name,
      namespace: d.namespace,
      az: d.az,
      tier: d.tier,
      team: d.team,
      deployment: render(d.az, 'primary', 'running'),
      ...(d.standby ? { standby: { ...d.standby, namespace: d.namespace, name: d.name } } : {}),
      lineage: { consumes: d.consumes, produces: d.produces },
      jars: d.jars,
      resources: requests(d.sizing),
      stateSizeBytes: d.stateSizeBytes,
      checkpointPrefix: `checkpoints/${d.namespace}/${d.name}`,
      savepointPrefix: `savepoints/${d.namespace}/${d.name}`,
    };
  });
  return { platform, jobs, standbys, capacities: azCapacities(azs, jobs) };
}

function checkOptions(opts: GenerateFleetOptions, azs: string[], layout: StorageLayout): void {
  const fail = (what: string, fix: string) => {
    throw new RangeError(`generateFleet: ${what}. Fix: ${fix}`);
  };
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) fail(`opts.jobs must be an integer ≥ 1, got ${opts.jobs}`, 'pass e.g. jobs: 5000');
  if (!Number.isSafeInteger(opts.seed)) fail(`opts.seed must be a safe integer, got ${opts.seed}`, 'pass e.g. seed: 42');
  if (azs.length < 2 || azs.length > 26) fail(`opts.azs must list 2–26 AZs, got ${azs.length}`, "pass e.g. azs: ['az-a', 'az-b']");
  azs.forEach((az, i) => {
    if (!DNS_LABEL.test(az)) fail(`opts.azs[${i}] must be a DNS label like az-a, got ${JSON.stringify(az)}`, 'use lowercase letters, digits and -');
    if (azs.indexOf(az) !== i) fail(`opts.azs[${i}] repeats ${az}`, 'list each AZ once');
  });
  if (layout !== 'symmetric' && layout !== 'per-az-buckets') fail(`opts.layout must be symmetric or per-az-buckets, got ${String(layout)}`, 'pick one of the two');
  const cap = opts.maxStateBytes;
  if (cap !== undefined && !(cap >= STATE_BOUNDS.min && cap <= STATE_BOUNDS.max)) fail(`opts.maxStateBytes must be within ${STATE_BOUNDS.min}–${STATE_BOUNDS.max} bytes (100 MB–500 GB), got ${cap}`, 'pass e.g. maxStateBytes: 50e9, or leave it out for 500 GB');
  const interval = opts.checkpointIntervalSeconds;
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 1)) fail(`opts.checkpointIntervalSeconds must be an integer ≥ 1, got ${interval}`, 'pass e.g. checkpointIntervalSeconds: 120, or leave it out for 60');
  if (opts.templates.length === 0) fail('opts.templates is empty', 'pass loadExampleTemplates()');
  opts.templates.forEach((t, i) => {
    if (typeof t.spec?.job !== 'object' || t.spec.job === null) fail(`opts.templates[${i}] (${t.metadata?.name}) has no spec.job`, 'pass application-mode FlinkDeployments only');
  });
}

function azProfile(az: string, index: number, layout: StorageLayout): AzProfile {
  const suffix = layout === 'symmetric' ? '' : `-${az}`;
  return {
    name: az,
    zone: `us-east-1${String.fromCharCode(97 + index)}`,
    imageRegistry: `registry.${az}.flink.internal`,
    s3Endpoint: `http://s3.${az}.flink.internal`,
    stateBucket: `flink-state${suffix}`,
    artifactBucket: `flink-artifacts${suffix}`,
  };
}

function deploymentSpec(d: Draft, az: AzProfile, role: 'primary' | 'standby', state: 'running' | 'suspended', standbyFor?: JobKey): FleetDeploymentSpec {
  return {
    name: d.name,
    namespace: d.namespace,
    tier: d.tier,
    team: d.team,
    role,
    ...(standbyFor !== undefined ? { standbyFor } : {}),
    state,
    az,
    lineage: { consumes: d.consumes, produces: d.produces },
    jars: d.jars,
    checkpointPrefix: `checkpoints/${d.namespace}/${d.name}`,
    savepointPrefix: `savepoints/${d.namespace}/${d.name}`,
    sizing: d.sizing,
  };
}

/** Cores and MiB of JobManager + ceil(parallelism / slots) TaskManagers. */
function requests(s: JobSizing): Capacity {
  const taskManagers = Math.ceil(s.parallelism / s.slotsPerTaskManager);
  return {
    cores: s.jobManagerCores + taskManagers * s.taskManagerCores,
    memoryMiB: s.jobManagerMemoryMiB + taskManagers * s.taskManagerMemoryMiB,
  };
}

/** Exactly round(share × jobs) per tier (largest remainder), highest tier first. */
function tierQuotas(jobs: number): Tier[] {
  const exact = TIERS.map((t) => TIER_SHARE[t] * jobs);
  const counts = exact.map(Math.floor);
  const byRemainder = TIERS.map((_, i) => i).sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  const short = jobs - counts.reduce((sum, c) => sum + c, 0);
  for (let k = 0; k < short; k++) counts[byRemainder[k]!]!++;
  return TIERS.flatMap((t, i) => Array<Tier>(counts[i]!).fill(t));
}

/** Mostly 8–32 cores, some 33–200, a few 200–800 (mean ≈ 69). */
function drawCores(u: Uniform): number {
  const r = u();
  if (r < 0.7) return 8 + Math.floor(u() * 25);
  return Math.round(r < 0.92 ? logUniform(u, 33, 200) : logUniform(u, 200, 800));
}

/** Log-normal, median 40 GB for P0/P1 and 4 GB otherwise, clamped to 100 MB–500 GB. */
function drawStateSize(u: Uniform, tier: Tier): number {
  const median = tier === 'P0' || tier === 'P1' ? 40e9 : 4e9;
  const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return Math.round(Math.min(STATE_BOUNDS.max, Math.max(STATE_BOUNDS.min, median * Math.exp(1.5 * z))));
}

interface JarPool {
  libraries: JarArtifact[];
  byTeam: Map<string, JarArtifact[]>;
  teamJars: JarArtifact[];
}

/** `size` distinct jars: ≈ 10 % shared libraries (20–80 MiB), the rest team job jars (60–300 MiB). */
function jarPool(u: Uniform, size: number): JarPool {
  const keys = new Set<string>();
  const draw = (team: string, artifact: string, minMiB: number, maxMiB: number): JarArtifact => {
    let key: string;
    do key = `jars/${team}/${artifact}-${1 + Math.floor(u() * 6)}.${Math.floor(u() * 30)}.${Math.floor(u() * 20)}.jar`;
    while (keys.has(key));
    keys.add(key);
    const digest = `sha256:${createHash('sha256').update(key).digest('hex')}`;
    return { key, digest, sizeBytes: Math.round(logUniform(u, minMiB, maxMiB) * MIB) };
  };
  const libraryCount = Math.max(1, Math.round(size * 0.1));
  const libraries = Array.from({ length: libraryCount }, () => draw(LIBRARY_TEAM, pick(u, LIBRARIES), 20, 80));
  const teamWeights = TEAMS.map(([, w]) => w);
  const teamJars = Array.from({ length: size - libraryCount }, () => {
    const team = TEAMS[weightedIndex(u, teamWeights)]![0];
    return draw(team, `${pick(u, PURPOSES)}-job`, 60, 300);
  });
  const byTeam = new Map<string, JarArtifact[]>();
  for (const jar of teamJars) {
    const team = jar.key.split('/')[1]!;
    byTeam.set(team, [...(byTeam.get(team) ?? []), jar]);
  }
  return { libraries, byTeam, teamJars };
}

/** A job jar of the team (popular ones first) plus 0–2 shared libraries: 1–3 distinct jars. */
function drawJars(u: Uniform, pool: JarPool, team: string): JarArtifact[] {
  const own = pool.byTeam.get(team) ?? pool.teamJars;
  const jars = [own[popularIndex(u, own.length)]!];
  const extra = weightedIndex(u, [35, 45, 20]);
  for (let k = 0; k < extra; k++) {
    const lib = pool.libraries[popularIndex(u, pool.libraries.length)]!;
    if (!jars.includes(lib)) jars.push(lib);
  }
  return jars;
}

/** Hot standby for P0, cold for P1, in the next AZ (round robin); round(1 %) of each tier without one. */
function assignStandbys(u: Uniform, drafts: Draft[], azs: string[]): void {
  for (const [tier, kind] of [['P0', 'hot'], ['P1', 'cold']] as const) {
    const members = drafts.filter((d) => d.tier === tier);
    const missing = new Set(shuffle(u, [...members]).slice(0, Math.round(MISSING_STANDBY_SHARE * members.length)));
    for (const d of members) {
      if (!missing.has(d)) d.standby = { kind, az: azs[(azs.indexOf(d.az) + 1) % azs.length]! };
    }
  }
}

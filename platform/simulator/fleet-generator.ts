/**
 * Seeded generator of a realistic Flink fleet for the simulator, the demo, tests and
 * benchmarks. Pure given its inputs: the same options (seed, size, AZs, layout, templates)
 * give byte-identical output. Draws come from pure-rand's xoroshiro128+ via ./random.ts.
 *
 * What a fleet looks like (DESIGN.md §1–§2): tiers ≈ P0 5 %, P1 10 %, P2 60 %, P3 25 %;
 * ~20 teams, one namespace `flink-<team>` each; sizes skewed (most jobs 8–32 cores, some
 * 200–800; mean ≈ 69 cores, 4096 MiB per core); state 100 MB–500 GB log-normal, larger
 * for P0/P1; a shared jar pool of ≈ jobs/5 jars; topic lineage with a few P3 producers
 * feeding P0/P1 consumers and an occasional cycle; hot standbys for P0, cold for P1, ≈ 1 %
 * of each missing (a readiness finding).
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
} from '../../domain/types.js';
import { renderFleetDeployment, sizeForCores, type FleetDeploymentSpec, type JobSizing } from './fleet-deployment.js';
import { seededUniform, type Uniform } from './random.js';

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
}

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
  /**
   * Allocatable (total, not free) cores and MiB per AZ. Rule, for each AZ X:
   * own(X) = requests of X's primaries + X's hot standbys (cold standbys request nothing);
   * need(Y→X) = requests of Y's P0–P2 primaries that must start in X (all but P0s whose
   * hot standby already runs in X); allocatable(X) = own(X) + max(0, max over Y of
   * need(Y→X) − PREEMPTED_P3_SHARE × requests of X's P3 primaries).
   * So evacuating Y into X fits every P0–P2 job only after preempting some of X's P3
   * jobs, and Y's own P3 jobs do not fit (unless lineage lifts them).
   */
  capacities: Record<string, Capacity>;
}

/** Share of the target AZ's P3 requests that an evacuation must preempt (see GeneratedFleet.capacities). */
export const PREEMPTED_P3_SHARE = 0.1;

const TIER_SHARE: Record<Tier, number> = { P0: 0.05, P1: 0.1, P2: 0.6, P3: 0.25 };
const MISSING_STANDBY_SHARE = 0.01;
const P3_FEEDS_CRITICAL_SHARE = 0.02;
const CYCLE_SHARE = 0.001;
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
const SIDE_OUTPUTS = ['audit', 'dlq', 'metrics', 'changelog'];
/** Topics written outside Flink (ingestion), consumed by the fleet. */
const SOURCE_TOPICS = [
  'ingest.clickstream', 'ingest.payments-raw', 'ingest.orders-cdc', 'ingest.app-logs', 'ingest.device-telemetry',
  'ingest.ad-impressions', 'ingest.search-queries', 'ingest.user-events', 'ingest.inventory-cdc', 'ingest.shipments',
];
/** Shared libraries, owned by data-platform. */
const LIBRARIES = [
  'kafka-connector', 'avro-serde', 'schema-registry-client', 'metrics-reporter', 'feature-store-client',
  'geo-udfs', 'protobuf-formats', 'pii-masking', 'json-udfs', 'iceberg-sink',
];
const LIBRARY_TEAM = 'data-platform';

/** A job before lineage, standbys and rendering are settled. */
interface Draft {
  name: string;
  namespace: string;
  team: string;
  tier: Tier;
  az: string;
  template: FlinkDeploymentManifest;
  sizing: JobSizing;
  stateSizeBytes: number;
  jars: JarArtifact[];
  consumes: string[];
  produces: string[];
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
    const produces = [`${team}.${stem}`];
    if (u() < 0.3) produces.push(`${team}.${stem}-${pick(u, SIDE_OUTPUTS)}`);
    return {
      name: `${team}-${stem}`,
      namespace: `flink-${team}`,
      team,
      tier,
      az: azs[i % azs.length]!,
      template: pick(u, opts.templates),
      sizing: sizeForCores(drawCores(u)),
      stateSizeBytes: drawStateSize(u, tier),
      jars: drawJars(u, pool, team),
      consumes: [],
      produces,
    };
  });
  wireLineage(u, drafts);
  assignStandbys(u, drafts, azs);

  const profiles = new Map(platform.azs.map((p) => [p.name, p]));
  const standbys: GeneratedStandby[] = [];
  const jobs = drafts.map((d): FleetJob => {
    const key = jobKey(d);
    const render = (az: string, role: 'primary' | 'standby', state: 'running' | 'suspended') =>
      renderFleetDeployment(d.template, deploymentSpec(d, profiles.get(az)!, role, state, role === 'standby' ? key : undefined));
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
  return { platform, jobs, standbys, capacities: capacities(azs, jobs) };
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
  return Math.round(Math.min(500e9, Math.max(100e6, median * Math.exp(1.5 * z))));
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

/**
 * Consumed topics, 1–3 per job: ingestion topics or topics of earlier jobs, P0/P1 jobs
 * reading only P0–P2 producers, except ≈ 2 % of P0/P1 jobs (≥ 1 when there are P3 jobs)
 * that read a P3 producer's topic; ≈ 0.1 % of jobs (from 100 jobs up) close a P2/P3 cycle.
 */
function wireLineage(u: Uniform, drafts: Draft[]): void {
  const all: string[] = [];
  const nonP3: string[] = [];
  const producer = new Map<string, Draft>();
  for (const d of drafts) {
    const critical = d.tier === 'P0' || d.tier === 'P1';
    const count = 1 + weightedIndex(u, [50, 35, 15]);
    const candidates = critical ? nonP3 : all;
    for (let k = 0; k < count; k++) {
      const topic = candidates.length === 0 || u() < 0.25 ? pick(u, SOURCE_TOPICS) : pick(u, candidates);
      if (!d.consumes.includes(topic)) d.consumes.push(topic);
    }
    for (const topic of d.produces) {
      all.push(topic);
      if (d.tier !== 'P3') nonP3.push(topic);
      producer.set(topic, d);
    }
  }
  const p3 = drafts.filter((d) => d.tier === 'P3');
  const critical = drafts.filter((d) => d.tier === 'P0' || d.tier === 'P1');
  if (p3.length > 0) {
    const feeds = critical.length === 0 ? 0 : Math.max(1, Math.round(P3_FEEDS_CRITICAL_SHARE * critical.length));
    for (const consumer of shuffle(u, critical).slice(0, feeds)) addConsume(consumer, pick(u, p3).produces[0]!);
  }
  let cycles = drafts.length >= 100 ? Math.max(1, Math.round(CYCLE_SHARE * drafts.length)) : 0;
  for (const x of shuffle(u, drafts.filter((d) => d.tier === 'P2' || d.tier === 'P3'))) {
    if (cycles === 0) break;
    const y = x.consumes.map((t) => producer.get(t)).find((p) => p !== undefined && (p.tier === 'P2' || p.tier === 'P3'));
    if (!y) continue;
    addConsume(y, x.produces[0]!);
    cycles--;
  }
}

/** Adds `topic` to the job's consumes, replacing the last one when it already reads 3. */
function addConsume(d: Draft, topic: string): void {
  if (d.consumes.includes(topic)) return;
  if (d.consumes.length >= 3) d.consumes[d.consumes.length - 1] = topic;
  else d.consumes.push(topic);
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

function capacities(azs: string[], jobs: FleetJob[]): Record<string, Capacity> {
  const out: Record<string, Capacity> = {};
  for (const x of azs) {
    const own = { cores: 0, memoryMiB: 0 };
    const p3 = { cores: 0, memoryMiB: 0 };
    for (const job of jobs) {
      if (job.az === x) add(own, job.resources);
      if (job.az === x && job.tier === 'P3') add(p3, job.resources);
      if (job.standby?.kind === 'hot' && job.standby.az === x) add(own, job.resources);
    }
    const need = { cores: 0, memoryMiB: 0 };
    for (const y of azs.filter((a) => a !== x)) {
      const n = { cores: 0, memoryMiB: 0 };
      for (const job of jobs) {
        const promotedInX = job.standby?.kind === 'hot' && job.standby.az === x;
        if (job.az === y && job.tier !== 'P3' && !promotedInX) add(n, job.resources);
      }
      need.cores = Math.max(need.cores, n.cores);
      need.memoryMiB = Math.max(need.memoryMiB, n.memoryMiB);
    }
    out[x] = {
      cores: own.cores + Math.max(0, need.cores - Math.round(PREEMPTED_P3_SHARE * p3.cores)),
      memoryMiB: own.memoryMiB + Math.max(0, need.memoryMiB - Math.round(PREEMPTED_P3_SHARE * p3.memoryMiB)),
    };
  }
  return out;
}

function add(total: Capacity, more: Capacity): void {
  total.cores += more.cores;
  total.memoryMiB += more.memoryMiB;
}

function pick<T>(u: Uniform, items: readonly T[]): T {
  return items[Math.floor(u() * items.length)]!;
}

/** Index i with probability weights[i] / sum. */
function weightedIndex(u: Uniform, weights: readonly number[]): number {
  let r = u() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** An index in [0, n) skewed towards 0 (a few popular items, a long tail). */
function popularIndex(u: Uniform, n: number): number {
  return Math.floor(n * u() ** 3);
}

function logUniform(u: Uniform, min: number, max: number): number {
  return min * (max / min) ** u();
}

/** Fisher–Yates, in place; returns `items`. */
function shuffle<T>(u: Uniform, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

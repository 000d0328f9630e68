/**
 * A true lower bound of an evacuation on the simulator: no orchestrator, however perfect (zero
 * time for Temporal, activities and HTTP, any dispatch order), finishes the plan sooner on the
 * simulator's platform model (simulator/latency-model.ts, docs/simulator-model.md). Model
 * seconds; pure.
 *
 * Per job, its critical path alone: every phase of its deploy on an idle platform, the
 * operator's progress-check rounding included, then its state restore and the first checkpoint
 * after it (the engine counts a restored job RUNNING only then: docs/design.md#restored-means-restored;
 * checkpoint triggers come every interval from RUNNING, those during the restore are declined);
 * a hot-standby promotion costs nothing (a label flip on a job already RUNNING).
 *
 * Capacity: the simulator admits a deploy's pods all at once, at its apply, before the operator
 * reconciles (simulator/capacity.ts, simulator/operator.ts), and a job keeps them. The target's
 * free capacity grows only as the plan's preemptions end (each P3 stop-with-savepoint frees its
 * pods at its end, no sooner than its savepoint alone takes). Capacity is fungible: any freed
 * pod serves any job, so a preemption does not hold back the job the planner preempted it for
 * (an earlier bound charged `savepoint end + that job's path` and came out above the perfect
 * schedule: docs/benchmarks.md). What holds: when the last of a set of jobs gets its pods, the
 * capacity freed by then covers them all, so that is no sooner than T* = the first stop end
 * at which free + freed ≥ their demand (cores and MiB alike), and that job still has at least
 * the shortest path of the set to go.
 *
 * Tiers in admission order; tier t's jobs are dispatched no earlier than T_t (T_first = 0). Its
 * end is at least the largest of:
 * - T_t + the longest job path;
 * - the capacity term above over the tier's jobs that need pods (T* + their shortest path);
 * - T_t + Σ paths / window (a window slot holds one job from dispatch to RUNNING);
 * - per shared resource of the target AZ (operator reconcile threads, pod binding, image
 *   registry, object store): T_t + the shortest path before the resource +
 *   the tier's work on it / its capacity + the shortest path after it.
 * T_{t+1} = the bound on tier t's end (strict) or on its last dispatch (borrowIdleSlots): with
 * n jobs and window w < n, the last job waits for n − w completions, which take at least the
 * n − w shortest paths spread over w slots. The whole evacuation is also bound by the same
 * resource sums and capacity term over every tier's jobs from time 0.
 *
 * Assumptions (each makes the bound lower, never higher): every restoring job reads its
 * catalog state size; every job reads its jars from the target's jar cache, with or without
 * preload, and jar preload copies are not charged (the bound cannot know which jars the
 * target's cache holds already: without preload the simulator reads those from the cache too,
 * and an earlier bound that charged them to the repository came out above the perfect schedule,
 * a 200-job fleet's P0 at 172 s against 162 s, seed 11, tiers.yaml). So the bound is the same
 * with preload and without; what preload gains shows in the perfect schedule
 * (bench/perfect-schedule.ts).
 * Tested against every dispatch order of small fleets run on the simulator itself and against
 * the perfect schedule of a generated plan with preemptions (test/unit/lower-bound.test.ts).
 */
import type { Capacity, Catalog, FleetJob, Plan, PlannedJob, TiersPolicy } from '../domain/types.js';
import { jobKey } from '../domain/types.js';
import { readSpec } from '../domain/flink-spec.js';
import { aloneSeconds, DEFAULT_MODEL, savepointSeconds, type PlatformModel } from '../simulator/latency-model.js';
import { CHECKPOINTING } from '../simulator/checkpointing.js';

/** Inputs of the bound. */
export interface BoundInput {
  plan: Plan;
  /** The catalog the plan was made from (jobs of both AZs: the preempted ones are in the target). */
  catalog: Catalog;
  policy: TiersPolicy;
  /** Jars preloaded into the target's cache before the applies (the perfect schedule's; the bound reads every job's jars from the cache either way). */
  preload: boolean;
  /** The simulator's seed (its per-job draws). */
  seed: number;
  /** The simulator's platform model (default DEFAULT_MODEL). */
  model?: PlatformModel;
  /** The simulator's floor on checkpoint intervals (`--min-checkpoint-interval`: 120 s when writing through to S3, else 0, the default). */
  minCheckpointIntervalSeconds?: number;
}

/** Lower bound in model seconds: the whole evacuation, tier P0, and each tier's last job (trigger → RUNNING and restored). */
export interface Bound {
  seconds: number;
  p0Seconds: number;
  /** Per tier with admitted jobs: the bound on its end (its `tierEnd` below), model seconds from the first dispatch. */
  tiers: Partial<Record<string, number>>;
}

/** One job's share of the bound. */
interface JobCost {
  /** Critical path alone, dispatch → RUNNING and restored. */
  path: number;
  /** Capacity its pods take in the target (0 for a hot-standby promotion: its pods run already). */
  need: Capacity;
  /** Work on each shared resource, and the job's path before and after it. */
  uses: Array<{ resource: Resource; work: number; before: number; after: number }>;
}

type Resource = 'reconcile' | 'podBinding' | 'registry' | 'objectStore';

/**
 * Seconds from dispatch to RUNNING and restored of a deploy alone (latency-model.ts
 * `aloneSeconds`, with the operator's progress-check rounding), and its resource uses.
 */
function deployCost(model: PlatformModel, job: FleetJob, seed: number, minCheckpointIntervalSeconds: number): Omit<JobCost, 'need'> {
  const spec = readSpec(job.deployment);
  const jarBytes = job.jars.reduce((n, j) => n + j.sizeBytes, 0);
  // Jars from the cache (module doc): no read is charged to the repository.
  const a = aloneSeconds(model, { key: jobKey(job), seed, deployCount: 1, replicas: spec.taskManagerReplicas, jarBytes, preloaded: true, restoreBytes: job.stateSizeBytes });
  const pods = a.reconcile + a.podScheduling;
  const jmUp = pods + a.imagePull + a.jobManager;
  const running = jmUp + a.jarFetch + a.taskManagers + a.jobInit;
  const every = model.progressCheckIntervalSeconds;
  const seen = Math.max(running, jmUp + a.restReadyDelay) - a.reconcile;
  const observed = a.reconcile + (every > 0 ? Math.ceil(seen / every - 1e-9) * every : seen);
  // Checkpoint triggers at RUNNING + first + k × interval; the first after the restore completes.
  const interval = Math.max(spec.checkpointIntervalSeconds ?? CHECKPOINTING.defaultIntervalSeconds, minCheckpointIntervalSeconds);
  const first = model.firstCheckpointSeconds ?? interval;
  const checkpoint = a.stateRestore <= first ? first : first + interval * Math.ceil((a.stateRestore - first) / interval - 1e-9);
  const path = observed + (job.stateSizeBytes > 0 ? checkpoint : 0);
  const uses: JobCost['uses'] = [
    { resource: 'reconcile', work: a.reconcile, before: 0, after: path - a.reconcile },
    { resource: 'podBinding', work: a.podScheduling, before: a.reconcile, after: path - pods },
    { resource: 'registry', work: model.imageBytes, before: pods, after: path - pods - a.imagePull },
    { resource: 'objectStore', work: job.stateSizeBytes, before: observed, after: 0 },
  ];
  return { path, uses };
}

/** Capacity of each resource in work per second (reconcile: threads; pod binding: one server). */
function capacities(model: PlatformModel): Record<Resource, number> {
  return {
    reconcile: model.reconcileParallelism,
    podBinding: 1,
    registry: model.registryBytesPerSecond,
    objectStore: model.objectStoreReadBytesPerSecond,
  };
}

/** Max over resources of: shortest path before + Σ work / capacity + shortest path after. */
function resourceBound(costs: readonly JobCost[], capacity: Record<Resource, number>): number {
  const by = new Map<Resource, { work: number; before: number; after: number }>();
  for (const c of costs) {
    for (const u of c.uses) {
      const acc = by.get(u.resource) ?? { work: 0, before: Infinity, after: Infinity };
      acc.work += u.work;
      acc.before = Math.min(acc.before, u.before);
      acc.after = Math.min(acc.after, u.after);
      by.set(u.resource, acc);
    }
  }
  let bound = 0;
  for (const [resource, acc] of by) {
    const cap = capacity[resource];
    if (acc.work > 0 && cap !== Infinity) bound = Math.max(bound, acc.before + acc.work / cap + acc.after);
  }
  return bound;
}

/** Capacity the plan's preemptions free in the target: each stop's pods at its end, model s from the trigger, earliest first. */
interface Freed {
  at: number;
  capacity: Capacity;
}

/**
 * The capacity term (module doc): T* + the shortest path of `costs`' jobs that need pods, where
 * T* is the first instant `free` plus the capacity `freed` by then covers their whole demand;
 * 0 when `free` covers it at the trigger. Model seconds from the trigger.
 * @throws Error when even every preemption does not cover the demand (not a plan the planner makes)
 */
function capacityBound(costs: readonly JobCost[], free: Capacity, freed: readonly Freed[]): number {
  const needing = costs.filter((c) => c.need.cores > 0 || c.need.memoryMiB > 0);
  if (needing.length === 0) return 0;
  const demand = needing.reduce((d, c) => ({ cores: d.cores + c.need.cores, memoryMiB: d.memoryMiB + c.need.memoryMiB }), { cores: 0, memoryMiB: 0 });
  const have = { ...free };
  let at = 0;
  for (const f of freed) {
    if (have.cores >= demand.cores && have.memoryMiB >= demand.memoryMiB) break;
    have.cores += f.capacity.cores;
    have.memoryMiB += f.capacity.memoryMiB;
    at = f.at;
  }
  if (have.cores < demand.cores || have.memoryMiB < demand.memoryMiB) {
    throw new Error(`the admitted jobs need ${demand.cores} cores / ${demand.memoryMiB} MiB in the target, more than its ${free.cores} cores / ${free.memoryMiB} MiB free plus every preemption: pass the plan and the capacity it was made for`);
  }
  return at === 0 ? 0 : at + Math.min(...needing.map((c) => c.path));
}

/**
 * Compute the bound (module doc). Pure.
 * @throws Error naming the job when an admitted job is not in the catalog's source AZ
 */
export function lowerBound(input: BoundInput): Bound {
  const model = input.model ?? DEFAULT_MODEL;
  const capacity = capacities(model);
  const byKey = new Map<string, FleetJob[]>();
  for (const j of input.catalog.jobs) byKey.set(jobKey(j), [...(byKey.get(jobKey(j)) ?? []), j]);
  const inAz = (key: string, az: string): FleetJob | undefined => byKey.get(key)?.find((j) => j.az === az);
  // Each preemption frees its pods once its stop (with a savepoint, when that is its upgrade mode) ends.
  const freed: Freed[] = input.plan.preemptions.map((p) => {
    const victim = inAz(p.key, input.plan.targetAz);
    const spec = victim ? readSpec(victim.deployment) : undefined;
    const at = victim && spec?.upgradeMode === 'savepoint' && spec.savepointDir ? savepointSeconds(model, victim.stateSizeBytes) : 0;
    return { at, capacity: { cores: p.cores, memoryMiB: p.memoryMiB } };
  }).sort((a, b) => a.at - b.at);
  const free = input.plan.capacityBefore;
  const cost = (p: PlannedJob): JobCost => {
    if (p.strategy === 'promote-standby') return { path: 0, need: { cores: 0, memoryMiB: 0 }, uses: [] };
    const job = inAz(p.key, input.plan.sourceAz);
    if (!job) throw new Error(`admitted job ${p.key} is not in the catalog's ${input.plan.sourceAz}; pass the catalog the plan was made from`);
    return { ...deployCost(model, job, input.seed, input.minCheckpointIntervalSeconds ?? 0), need: { cores: p.cores, memoryMiB: p.memoryMiB } };
  };
  const all: JobCost[] = [];
  let tierStart = 0;
  let end = 0;
  let p0Seconds = 0;
  const tiers: Partial<Record<string, number>> = {};
  for (const tier of input.policy.admissionOrder) {
    const costs = input.plan.admitted.filter((p) => p.tier === tier).map(cost);
    if (costs.length === 0) continue;
    all.push(...costs);
    const window = input.policy.tiers[tier].maxConcurrency;
    const paths = costs.map((c) => c.path).sort((a, b) => a - b);
    const sum = paths.reduce((n, x) => n + x, 0);
    const tierEnd = Math.max(
      tierStart + paths.at(-1)!,
      capacityBound(costs, free, freed),
      tierStart + sum / Math.min(window, costs.length),
      tierStart + resourceBound(costs, capacity),
    );
    const waitFor = costs.length - window;
    const lastDispatch = waitFor > 0 ? tierStart + Math.max(paths[0]!, paths.slice(0, waitFor).reduce((n, x) => n + x, 0) / window) : tierStart;
    if (tier === 'P0') p0Seconds = tierEnd;
    tiers[tier] = tierEnd;
    end = Math.max(end, tierEnd);
    tierStart = input.policy.borrowIdleSlots ? lastDispatch : tierEnd;
  }
  return { seconds: Math.max(end, resourceBound(all, capacity), capacityBound(all, free, freed)), p0Seconds, tiers };
}

/**
 * The evacuation planner: which jobs of the failed AZ move to the target AZ, in what order,
 * with which strategy, what target-AZ P3 jobs to suspend for room, and what will not fit.
 * Pure and computed before anything is touched (docs/design.md#tiers-capacity-and-lineage; "decide, then act": docs/design.md#shape-of-the-code).
 *
 * Decisions (SRE defaults; each is documented where it is made):
 * - Order: tiers in `admissionOrder` by EFFECTIVE tier (after lineage lifting, lineage.ts),
 *   producers before consumers within a tier, then by name.
 * - Strategy comes from the job's CATALOG tier: a P3 producer lifted to P0 has no standby and
 *   is redeployed, at P0 priority. A P0/P1 job whose standby is absent falls back to
 *   `redeploy` with a non-blocking `no-standby` / `standby-missing` finding: a slow restore
 *   beats no restore.
 * - Capacity: a promoted hot standby already runs (and is counted) in the target AZ and
 *   charges nothing; every other strategy charges the job's cores and MiB (a cold standby has
 *   no pods). `PlannedJob.cores/memoryMiB` are the capacity charged.
 * - Blocking readiness problems (`manifest-invalid`, `jars-missing`, the target namespace's
 *   `target-namespace-missing` / `target-refs-missing`) put the job in
 *   `notAdmitted` with the reason, before capacity is assigned, so no capacity is spent on a
 *   job that will fail and nothing is silently skipped. Except for a P3 job that does not fit
 *   when its turn comes (P3 never preempts): it is not admitted for want of room, unchecked.
 * - Snapshot readiness (`no-snapshot-within-rpo`) is NOT decided here: it needs the target
 *   AZ's object store; the per-job workflow lists snapshots and calls chooseSnapshot.
 */
import { analyzeLineage, byLineageOrder, indexProducers, unresolvedLineage } from './lineage.js';
import { scopeFilter, type PlanScope } from './plan-scope.js';
import { PreemptionPool } from './preemption.js';
import { TIERS, jobKey } from './types.js';
import type {
  Capacity,
  Catalog,
  Finding,
  FleetJob,
  JarArtifact,
  JobKey,
  NotAdmitted,
  Plan,
  PlannedJob,
  Preemption,
  Strategy,
  Tier,
  TiersPolicy,
} from './types.js';

/** Everything the planner needs; no I/O happens in planning. */
export interface PlanInput {
  catalog: Catalog;
  tiers: TiersPolicy;
  sourceAz: string;
  targetAz: string;
  /** Free capacity of the target AZ now (cores, MiB), before any preemption. */
  targetFree: Capacity;
  scope?: PlanScope;
  /** Keys `namespace/name` of resources already in the target AZ (standbys found); omitted = not checked. */
  existingInTarget?: ReadonlySet<JobKey>;
  /** Jar digests (`sha256:…`) in the target AZ's artifact bucket or jar cache; omitted = not checked. */
  jarsInTarget?: ReadonlySet<string>;
  /** Renders and validates the job's target-AZ FlinkDeployment; returns errors (empty = valid). */
  validateManifest?: (job: FleetJob) => string[];
  /**
   * Readiness findings of the target namespace for a job that will be redeployed (its own
   * namespace, ServiceAccount, Secrets, ConfigMaps, volumes: target-readiness.ts); blocking
   * ones keep the job out of the plan. Omitted = not checked.
   */
  targetReadiness?: (job: FleetJob) => Finding[];
  /** Planning time, epoch seconds. The plan does not depend on it (snapshot age is judged per job later). */
  nowEpochSeconds: number;
}

/**
 * Plan the evacuation of `sourceAz` into `targetAz`.
 *
 * Every in-scope job (catalog jobs with `az === sourceAz`, filtered by scope) ends in exactly
 * one of `admitted` or `notAdmitted`. When a job does not fit the target's free capacity,
 * P3 jobs running in the target AZ (tier P3, P3 policy `preemptible`, not lifted by lineage)
 * are preempted for it, never for a P3 job; see preemption.ts for which ones.
 *
 * @throws Error naming the value and the fix for: an unknown sourceAz/targetAz (lists the
 *   known AZs), sourceAz === targetAz, a catalog without any job in sourceAz, a scope naming an unknown tier/team/job or a job that
 *   is not in the source AZ, a negative or non-finite targetFree, an admissionOrder that is
 *   not a permutation of P0..P3.
 */
export function planEvacuation(input: PlanInput): Plan {
  validateInput(input);
  const { catalog, tiers, sourceAz, targetAz } = input;
  const wanted = scopeFilter(catalog, sourceAz, input.scope);
  const inScope = catalog.jobs.filter((job) => job.az === sourceAz && wanted(job));
  const inScopeSet = new Set(inScope);
  const lineage = analyzeLineage(catalog.jobs.filter((job) => job.az !== sourceAz || inScopeSet.has(job)));
  const tierOf = (job: FleetJob): Tier => lineage.get(job)?.tier ?? job.tier;

  const byTier = new Map<Tier, FleetJob[]>(TIERS.map((t) => [t, []]));
  for (const job of inScope) byTier.get(tierOf(job))!.push(job);
  const ordered = tiers.admissionOrder.flatMap((t) => byTier.get(t)!.sort(byLineageOrder(lineage)));

  const pool = new PreemptionPool(
    tiers.tiers.P3.preemptible
      ? catalog.jobs.filter((job) => job.az === targetAz && job.tier === 'P3' && tierOf(job) === 'P3')
      : [],
  );
  const free: Capacity = { ...input.targetFree };
  const admitted: PlannedJob[] = [];
  const notAdmitted: NotAdmitted[] = [];
  const preemptions: Preemption[] = [];
  const findings: Finding[] = [];
  const admittedJobs: FleetJob[] = [];
  const targetPrimaries = new Set(catalog.jobs.filter((job) => job.az === targetAz).map(jobKey));

  for (const job of ordered) {
    const key = jobKey(job);
    const tier = tierOf(job);
    const strategy = resolveStrategy(job, input, findings);
    const need: Capacity =
      strategy === 'promote-standby' ? { cores: 0, memoryMiB: 0 } : { ...job.resources };
    // A P3 job never preempts: one that does not fit now is not admitted whatever its readiness,
    // so its manifest is not rendered nor its target namespace judged (a third of the renders
    // of the 5,000-job bench, all before the first dispatch); it is listed as not fitting below.
    const hopeless = tier === 'P3' && !fits(need, free);
    const blockers = hopeless ? [] : readinessBlockers(job, strategy, input, findings, targetPrimaries);
    if (blockers.length > 0) {
      notAdmitted.push({ key, tier, reason: blockers.join('; ') });
      continue;
    }
    if (!fits(need, free) && tier !== 'P3') {
      for (const victim of pool.take({ cores: need.cores - free.cores, memoryMiB: need.memoryMiB - free.memoryMiB })) {
        free.cores += victim.resources.cores;
        free.memoryMiB += victim.resources.memoryMiB;
        preemptions.push({ key: jobKey(victim), name: victim.name, namespace: victim.namespace, ...victim.resources, forJob: key });
      }
    }
    if (!fits(need, free)) {
      // N in "after preempting N P3 jobs" counts the plan's preemptions so far: nothing is
      // preempted for a job that would not fit anyway (preemption.ts).
      const reason =
        `does not fit: needs ${need.cores} cores / ${need.memoryMiB} MiB, ${free.cores} cores / ${free.memoryMiB} MiB ` +
        `free after preempting ${preemptions.length} P3 jobs` +
        (tier === 'P3' ? ' (P3 jobs never preempt others)' : '');
      notAdmitted.push({ key, tier, reason });
      // A P3 job that does not fit is what P3 means (preemptible, moved last if room is left):
      // informational, so a healthy fleet does not show blocking findings at rest.
      findings.push({
        job: key,
        code: 'does-not-fit',
        message: `${key} (${tier}) ${reason}. Fix: add capacity in ${targetAz} or narrow the scope.`,
        blocking: tier !== 'P3',
      });
      continue;
    }
    free.cores -= need.cores;
    free.memoryMiB -= need.memoryMiB;
    admittedJobs.push(job);
    const planned: PlannedJob = {
      key,
      name: job.name,
      namespace: job.namespace,
      tier,
      catalogTier: job.tier,
      strategy,
      cores: need.cores,
      memoryMiB: need.memoryMiB,
      jarDigests: [...new Set(job.jars.map((j) => j.digest))],
    };
    const liftedFor = lineage.get(job)?.liftedFor;
    if (liftedFor !== undefined) planned.liftedFor = liftedFor;
    admitted.push(planned);
  }

  const moved = new Set(admittedJobs);
  const preempted = new Set(preemptions.map((p) => p.key));
  const isLive = (job: FleetJob): boolean =>
    moved.has(job) || (job.az !== sourceAz && !(job.az === targetAz && preempted.has(jobKey(job))));
  for (const f of unresolvedLineage(admittedJobs, indexProducers(catalog.jobs), isLive)) findings.push(f);

  return {
    sourceAz,
    targetAz,
    catalogVersion: catalog.version,
    admitted,
    notAdmitted,
    preemptions,
    findings,
    capacityBefore: { ...input.targetFree },
    capacityAfter: free,
    jars: distinctJars(admittedJobs),
  };
}

/** One row of the plan summary (CLI table). */
export interface TierSummary {
  tier: Tier;
  admitted: number;
  notAdmitted: number;
  /** Target-AZ jobs preempted on behalf of this tier's admitted jobs. */
  preempted: number;
  /** Capacity charged in the target AZ by this tier's admitted jobs (0 for promoted hot standbys). */
  cores: number;
  memoryMiB: number;
}

/** Per-tier counts of a plan, one row per tier in P0..P3 order (effective tiers). */
export function summarizePlan(plan: Plan): TierSummary[] {
  const rows = new Map<Tier, TierSummary>(
    TIERS.map((tier) => [tier, { tier, admitted: 0, notAdmitted: 0, preempted: 0, cores: 0, memoryMiB: 0 }]),
  );
  const tierOfKey = new Map<JobKey, Tier>();
  for (const job of plan.admitted) {
    const row = rows.get(job.tier)!;
    row.admitted += 1;
    row.cores += job.cores;
    row.memoryMiB += job.memoryMiB;
    tierOfKey.set(job.key, job.tier);
  }
  for (const job of plan.notAdmitted) rows.get(job.tier)!.notAdmitted += 1;
  for (const p of plan.preemptions) {
    const tier = tierOfKey.get(p.forJob);
    if (tier !== undefined) rows.get(tier)!.preempted += 1;
  }
  return [...rows.values()];
}

/** What a job's plan will most likely ask of the target AZ, known before any platform read. */
export interface LikelyStrategies {
  /** Jobs that will be redeployed (their manifests rendered and CRD-validated), in admission order of their catalog tier. */
  redeploys: FleetJob[];
  /** Jobs that will restore from a snapshot (redeploys and cold-standby resumes: every strategy but a hot-standby promotion), in the same order. */
  restoring: FleetJob[];
}

/**
 * The strategy each of `jobs` will use unless the platform says otherwise, from the catalog
 * alone (resolveStrategy without `existingInTarget`): what planning can render and look up
 * while its platform reads are in flight (activities/plan.ts). A standby the reads then find
 * missing turns its job into a redeploy the planner renders itself; a job listed here that the
 * plan does not admit costs a render and maybe a lookup, nothing else.
 */
export function likelyStrategies(jobs: readonly FleetJob[], tiers: TiersPolicy, targetAz: string): LikelyStrategies {
  const rank = (job: FleetJob): number => tiers.admissionOrder.indexOf(job.tier);
  const ordered = [...jobs].sort((a, b) => rank(a) - rank(b));
  const redeploys: FleetJob[] = [];
  const restoring: FleetJob[] = [];
  for (const job of ordered) {
    const wanted = tiers.tiers[job.tier].strategy;
    const kind = wanted === 'promote-standby' ? 'hot' : 'cold';
    const standbyThere = wanted !== 'redeploy' && job.standby?.kind === kind && job.standby.az === targetAz;
    if (!standbyThere) redeploys.push(job);
    if (!standbyThere || wanted !== 'promote-standby') restoring.push(job);
  }
  return { redeploys, restoring };
}

/**
 * The strategy the job will really use. Standby tiers fall back to `redeploy` (non-blocking
 * finding) when the standby is not in the target AZ, or when `existingInTarget` was given and
 * lacks it.
 */
function resolveStrategy(job: FleetJob, input: PlanInput, findings: Finding[]): Strategy {
  const wanted = input.tiers.tiers[job.tier].strategy;
  if (wanted === 'redeploy') return wanted;
  const key = jobKey(job);
  const kind = wanted === 'promote-standby' ? 'hot' : 'cold';
  const standby = job.standby;
  const fallback = `falling back to redeploy from the newest cross-AZ snapshot (full start-up, slower than ${wanted})`;
  if (!standby || standby.kind !== kind || standby.az !== input.targetAz) {
    const has = standby ? ` (the catalog lists a ${standby.kind} standby in ${standby.az})` : '';
    findings.push({
      job: key,
      code: 'no-standby',
      message: `${key} is ${job.tier} (${wanted}) but has no ${kind} standby in ${input.targetAz}${has}; ${fallback}. Fix: create the ${kind} standby in ${input.targetAz}.`,
      blocking: false,
    });
    return 'redeploy';
  }
  const standbyKey = `${standby.namespace}/${standby.name}`;
  if (input.existingInTarget && !input.existingInTarget.has(standbyKey)) {
    findings.push({
      job: key,
      code: 'standby-missing',
      message: `${key}: the catalog's ${kind} standby ${standbyKey} was not found in ${input.targetAz}; ${fallback}. Fix: recreate the standby and re-sync the catalog.`,
      blocking: false,
    });
    return 'redeploy';
  }
  return wanted;
}

/**
 * Blocking readiness problems (each also pushed as a finding), as notAdmitted reasons.
 * The manifest and the target namespace are checked only for `redeploy` (the only strategy
 * that applies a rendered FlinkDeployment: a standby's own spec is not in the catalog); jars
 * only for strategies that start pods (a hot standby already runs).
 */
function readinessBlockers(job: FleetJob, strategy: Strategy, input: PlanInput, findings: Finding[], targetPrimaries: ReadonlySet<JobKey>): string[] {
  const key = jobKey(job);
  const reasons: string[] = [];
  // A redeploy applies the job under its own name: another primary of that name in the
  // target AZ would be overwritten (server-side apply replaces its spec).
  if (strategy === 'redeploy' && targetPrimaries.has(key)) {
    const why = `${key} already runs in ${input.targetAz} as another primary job of the catalog; redeploying would overwrite it`;
    reasons.push(why);
    findings.push({ job: key, code: 'name-clash', message: `${why}. Fix: rename one of the two jobs (or give this one a standby).`, blocking: true });
  }
  const errors = strategy === 'redeploy' && input.validateManifest ? input.validateManifest(job) : [];
  if (errors.length > 0) {
    reasons.push(`manifest invalid: ${errors.join('; ')}`);
    findings.push({
      job: key,
      code: 'manifest-invalid',
      message: `${key}: the FlinkDeployment rendered for ${input.targetAz} is invalid: ${errors.join('; ')}. Fix: correct the job spec in the catalog.`,
      blocking: true,
    });
  }
  for (const f of strategy === 'redeploy' && input.targetReadiness ? input.targetReadiness(job) : []) {
    findings.push(f);
    if (f.blocking) reasons.push(f.message);
  }
  const jars = input.jarsInTarget;
  const missing = jars && strategy !== 'promote-standby' ? job.jars.filter((j) => !jars.has(j.digest)) : [];
  if (missing.length > 0) {
    const list = missing.map((j) => `${j.key} (${j.digest})`).join(', ');
    reasons.push(`jars missing in ${input.targetAz}: ${list}`);
    findings.push({
      job: key,
      code: 'jars-missing',
      message: `${key} cannot start in ${input.targetAz}: jar(s) ${list} are in neither its artifact bucket nor its jar cache. Fix: replicate the jar(s) to ${input.targetAz}.`,
      blocking: true,
    });
  }
  return reasons;
}

function fits(need: Capacity, free: Capacity): boolean {
  return need.cores <= free.cores && need.memoryMiB <= free.memoryMiB;
}

function distinctJars(jobs: readonly FleetJob[]): JarArtifact[] {
  const byDigest = new Map<string, JarArtifact>();
  for (const job of jobs) for (const jar of job.jars) if (!byDigest.has(jar.digest)) byDigest.set(jar.digest, jar);
  return [...byDigest.values()];
}

/** Throws on inputs that cannot be planned; see planEvacuation. */
function validateInput(input: PlanInput): void {
  const { catalog, sourceAz, targetAz, targetFree } = input;
  const azs = catalog.platform.azs.map((a) => a.name);
  const known = `known AZs: ${azs.join(', ') || '(none)'}`;
  if (!azs.includes(sourceAz)) throw new Error(`sourceAz '${sourceAz}' is not an AZ of the catalog (${known}); use one of them`);
  if (!azs.includes(targetAz)) throw new Error(`targetAz '${targetAz}' is not an AZ of the catalog (${known}); use one of them`);
  if (sourceAz === targetAz) throw new Error(`sourceAz and targetAz are both '${sourceAz}'; pick a different, surviving target AZ (${known})`);
  if (!catalog.jobs.some((job) => job.az === sourceAz)) {
    throw new Error(`nothing to evacuate: catalog v${catalog.version} has no job in ${sourceAz}. Fix: check the AZ name, or run \`az-evac catalog sync\` while ${sourceAz} answers`);
  }
  for (const [k, v] of Object.entries(targetFree)) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`targetFree.${k} must be a finite number ≥ 0, got ${String(v)}; pass the target AZ's free capacity`);
  }
  const order = input.tiers.admissionOrder;
  if (order.length !== TIERS.length || !TIERS.every((t) => order.includes(t))) {
    throw new Error(`tiers.admissionOrder must list each of ${TIERS.join(', ')} once, got [${order.join(', ')}]; fix tiers.yaml`);
  }
}


/**
 * Planning activities: gather what the pure planner needs from the platform (target
 * capacity, standbys present, jars present, the target namespaces and the objects their jobs
 * reference, manifests rendered, CRD-validated and checked for source-AZ leftovers), run it,
 * assess each restoring job's protection toward the target AZ (the RPO an evacuation would pay
 * now, unprotected or not and why: domain/protection.ts, domain/rpo-now.ts), forecast each
 * admitted job's RTO (its newest snapshot's state size in the target AZ, the rates measured by
 * previous runs: domain/rto-estimate.ts), store the plan, and hand the workflow a small summary.
 * At the trigger the assessment and the forecast come after the plan (forecastPlan, once the
 * first tier has dispatched its jobs: domain/plan-forecast.ts). Also pages tier job lists.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import pRetry from 'p-retry';
import { recordsKey, redeployNonceFor, type EvacuationInput, type JobTask, type PlanSummary } from '../domain/evacuation.js';
import { catalogStaleness } from '../domain/catalog-freshness.js';
import { likelyStrategies, planEvacuation as plan, summarizePlan } from '../domain/planner.js';
import { scopeFilter } from '../domain/plan-scope.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { renderForTargetAz, sourceAzLeftoverProblem } from '../domain/render-deployment.js';
import { distinctRefs, podReferences, targetReadinessFindings, type NamespaceCheck, type ObjectRef } from '../domain/target-readiness.js';
import { preemptMark } from '../domain/fence.js';
import { enginePaceSince, readSched } from './engine-pace.js';
import type { EnginePace } from '../domain/engine-pace.js';
import { estimateRto, measuredRates, predictedMissFindings, SNAPSHOT_SIZING_BUDGET_SECONDS, type StateSizeFact } from '../domain/rto-estimate.js';
import { snapshotOwner } from '../domain/snapshot-owner.js';
import { newestSnapshotOf, unprotectedFindings } from '../domain/rpo-now.js';
import { assessProtection, NO_PROTECTION, type JobProtection } from '../domain/protection.js';
import { lastProtectionFailures } from './protection-pass.js';
import { jobKey, type Catalog, type FleetJob, type Plan, type SnapshotChoice, type Tier, type TiersPolicy } from '../domain/types.js';
import { planWithForecast, withForecast, type PlanForecast } from '../domain/plan-forecast.js';
import type { StoredPlan } from '../platform/ports.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { retryTransient } from '../platform/transient-retry.js';
import { actingRun, suspendMarked } from './fencing.js';
import { azProfile, planIndex } from './job-context.js';
import { loadRtoHistory } from './rto-samples.js';
import { activityLog } from './log.js';
import { PLANNING_READ_BACKOFF, planningReadsDeadline, type ReadsDeadline } from '../domain/plan-deadline.js';

/** Platform look-ups in flight at once while planning. */
const LOOKUP_CONCURRENCY = 32;

/**
 * Wall seconds a plan preview (`az-evac plan`, the console, a drill's readiness step) spends on
 * snapshot lookups for RPO now and the RTO forecast: it acts on nothing, so it can afford to
 * size more jobs than planning at the trigger does.
 */
const PREVIEW_SIZING_BUDGET_SECONDS = 20;

/**
 * Wall seconds this planning may spend on snapshot lookups (one per restoring job) when it makes
 * the forecast with the plan: called by the evacuateAz workflow (runs recorded before the
 * forecast moved after the first tier) SNAPSHOT_SIZING_BUDGET_SECONDS, since every second of it
 * comes before the first job, P0's hot-standby promotions included, is dispatched; in a preview
 * PREVIEW_SIZING_BUDGET_SECONDS. Lookups not started by then are skipped, and their
 * jobs' forecasts use the catalog's size and say so.
 */
function sizingBudgetSeconds(): number {
  let caller: string | undefined;
  try {
    caller = Context.current().info.workflowType;
  } catch {
    caller = undefined; // called outside an activity: a preview
  }
  return caller === 'evacuateAz' ? SNAPSHOT_SIZING_BUDGET_SECONDS : PREVIEW_SIZING_BUDGET_SECONDS;
}

/** Options of planEvacuation. */
export interface PlanOptions {
  /**
   * 'with-plan' (default: previews, evacuations recorded before the forecast moved): the plan is
   * stored with its forecast (snapshot lookups, protection, RTO forecast). 'after-first-tier'
   * (the evacuateAz workflow, patched 'forecast-after-first-tier'): stored without it
   * (StoredPlan.pendingForecast) for forecastPlan to add once the first tier is dispatched, so
   * that none of it comes before P0's hot-standby promotions. Every admission decision and every
   * blocking finding is made and stored before anything acts either way.
   */
  forecast?: 'with-plan' | 'after-first-tier';
}

/** A retryable failure of a platform read (a 5xx, a 429, a timeout, an AZ not answering): worth another try. */
const transientFailure = (err: unknown): err is ApplicationFailure => err instanceof ApplicationFailure && !err.nonRetryable;

/**
 * One platform read of planning (`what` names it in errors and heartbeats): platformCall, which
 * retries a 503/429/timeout a few times in place and classifies the error, itself retried with
 * back-off (p-retry, PLANNING_READ_BACKOFF: 0.5 s doubling to 5 s, randomized) while it fails
 * retryably and `deadline.untilMs` has not passed (domain/plan-deadline.ts). Each retry
 * heartbeats what is retried and why, so a plan waiting on a sick API server shows it in the
 * activity's heartbeat details. `fn` must be idempotent (every port read is).
 * @throws a non-retryable failure (403, 404 of something that must exist, 422, ...) at once;
 *   when the deadline passes with the read still failing, its last failure: non-retryable and
 *   naming the deadline when `deadline.final` (the evacuation's planning deadline), else as it was
 */
async function planningRead<T>(what: string, fn: () => Promise<T>, deadline: ReadsDeadline): Promise<T> {
  const activity = Context.current();
  try {
    return await pRetry(() => platformCall(what, fn), {
      ...PLANNING_READ_BACKOFF,
      retries: Infinity,
      maxRetryTime: Math.max(0, deadline.untilMs - Date.now()),
      signal: activity.cancellationSignal,
      shouldRetry: ({ error }) => transientFailure(error),
      onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
        if (transientFailure(error) && retryDelay > 0) activity.heartbeat(`${error.message}: read ${attemptNumber} failed, retrying in ${(retryDelay / 1000).toFixed(1)} s`);
      },
    });
  } catch (err) {
    if (!transientFailure(err) || !deadline.final) throw err;
    throw ApplicationFailure.create({
      type: err.type ?? undefined, nonRetryable: true, cause: err,
      message: `${err.message} (still failing at planning's deadline, ${new Date(deadline.untilMs).toISOString()}: the evacuation's planningDeadlineSeconds, domain/plan-deadline.ts)`,
    });
  }
}

/** Jobs rendered between two looks at the event loop while the platform reads are in flight (~1 ms each). */
const RENDER_SLICE = 10;

/**
 * Call `fn` on each of `items` in slices of RENDER_SLICE, yielding to the event loop between
 * slices (setImmediate), so that CPU work overlaps the answers of reads in flight instead of
 * holding them back until it is all done; stops early once `stop()` is true.
 */
async function inSlices<T>(items: readonly T[], fn: (item: T) => void, stop: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < items.length && !stop(); i += RENDER_SLICE) {
    for (const item of items.slice(i, i + RENDER_SLICE)) fn(item);
    await yieldToEventLoop();
  }
}

/** The request's scope as a filter of source-AZ jobs; a scope the planner will refuse selects none here. */
function inRequestedScope(catalog: Catalog, input: EvacuationInput): (job: FleetJob) => boolean {
  try {
    return scopeFilter(catalog, input.sourceAz, input.scope);
  } catch {
    return () => false; // planEvacuation (domain/planner.ts) throws with the reason
  }
}

async function loadCatalog(deps: ActivityDeps, version: number | undefined): Promise<Catalog> {
  if (version !== undefined) return deps.catalogs.get(version);
  const latest = await deps.catalogs.latest();
  if (!latest) {
    throw terminal('NoCatalog', 'no fleet catalog has been synced yet, and without one the jobs of an AZ whose API server is gone are unknown (--force-stale-catalog cannot help). ' +
      'Fix: run `az-evac catalog sync` (or start the catalog sync schedule) before evacuating');
  }
  return latest;
}

/** Snapshot lookups of one planning (findSnapshot in the target AZ's replica), LOOKUP_CONCURRENCY in flight. */
interface SnapshotLookups {
  /** The job's lookup, queued on first call; resolves undefined when it did not start while lookups were open. */
  lookUp(job: FleetJob): Promise<SnapshotChoice | Error | undefined>;
  /** From now on a queued lookup starts only for one of `jobs` (the plan's admitted restoring jobs). */
  only(jobs: ReadonlySet<FleetJob>): void;
  /** Every lookup queued so far, ended. */
  settled(): Promise<unknown>;
}

/**
 * Lookups of each job's newest restorable snapshot in `targetAz` whatever its age (findSnapshot
 * with no RPO, as protection looks), as of `nowEpochSeconds`; a lookup starts only while `open()`.
 * A failed lookup resolves to its error (a forecast never fails for one).
 */
function snapshotLookups(deps: ActivityDeps, targetAz: string, layout: Catalog['platform']['layout'], nowEpochSeconds: number, open: () => boolean): SnapshotLookups {
  const limit = pLimit(LOOKUP_CONCURRENCY);
  const lookups = new Map<FleetJob, Promise<SnapshotChoice | Error | undefined>>();
  let wanted: ReadonlySet<FleetJob> | undefined;
  return {
    lookUp(job) {
      let found = lookups.get(job);
      if (!found) {
        found = limit(async () => {
          if (!open() || (wanted && !wanted.has(job))) return undefined;
          try {
            return await retryTransient(() => deps.objects.findSnapshot(targetAz, snapshotOwner(job), { layout, nowEpochSeconds }));
          } catch (err) {
            return err instanceof Error ? err : new Error(String(err));
          }
        });
        lookups.set(job, found);
      }
      return found;
    },
    only(jobs) {
      wanted = jobs;
    },
    settled: () => Promise.all(lookups.values()),
  };
}

/** What the forecast reads besides the plan, started beside planning's platform reads (a rejection is handled where awaited). */
interface ForecastReads {
  /** The last protection pass's failed savepoints and refused copies, by job key. */
  failures: ReturnType<typeof lastProtectionFailures>;
  /** RTO samples of previous runs (activities/rto-samples.ts). */
  history: ReturnType<typeof loadRtoHistory>;
}

/** `{ pace }` when there is one (a stored plan carries no undefined field). */
const paceOf = (pace: EnginePace | undefined): { pace?: EnginePace } => (pace ? { pace } : {});

function readForecastInputs(deps: ActivityDeps): ForecastReads {
  const history = loadRtoHistory(deps.reports);
  history.catch(() => undefined);
  return { failures: lastProtectionFailures(deps), history };
}

/** Everything makeForecast needs: the plan just made, what it was made from, and the lookups (queued or not yet). */
interface ForecastInput {
  plan: Plan;
  catalog: Catalog;
  policy: TiersPolicy;
  /** The source AZ's jobs in the catalog. */
  inScope: FleetJob[];
  sourceAz: string;
  targetAz: string;
  /** The trigger, epoch seconds: snapshot ages are judged at it. */
  nowEpochSeconds: number;
  /** Digests of the plan's jars found in the target AZ's jar cache while planning. */
  jarsInCache: ReadonlySet<string>;
  /** The lookup budget in force, wall seconds (named in a job's "not looked up"). */
  sizingSeconds: number;
  lookups: SnapshotLookups;
  reads: ForecastReads;
  /** The worker's pace over the plan's own work (domain/engine-pace.ts), read when the forecast is estimated; undefined: none. */
  pace: () => EnginePace | undefined;
}

/**
 * RPO now and predicted RTO of a plan (domain/plan-forecast.ts): each admitted restoring job's
 * newest restorable snapshot in the target AZ's replica. Its age is the RPO an evacuation would
 * pay now, and with the tier's protection policy it says whether the job is protected and why
 * not (domain/protection.ts). Within the tier's RPO it is also the start step's choice, whose
 * size the forecast uses. Neither ever stops a plan: a failed lookup leaves the job unprotected
 * with the store's error and the catalog's size; one not started while the lookups were open is
 * listed as not looked up. Heartbeats after the lookups.
 */
async function makeForecast(activity: Context, f: ForecastInput): Promise<PlanForecast> {
  const { plan: result, policy, lookups } = f;
  const byKey = new Map(f.inScope.map((j) => [jobKey(j), j]));
  const snapshotState = new Map<string, StateSizeFact>();
  const assessed: JobProtection[] = [];
  const notLookedUp: string[] = [];
  const protectionPolicy = policy.protection ?? NO_PROTECTION;
  // The last protection pass's failed savepoints and refused copies: their reason joins the job's unprotected reason.
  const failures = await f.reads.failures;
  const restoring = result.admitted.filter((p) => p.strategy !== 'promote-standby');
  lookups.only(new Set(restoring.map((p) => byKey.get(p.key)!)));
  await Promise.all(restoring.map(async (p) => {
    const rpoSeconds = policy.tiers[p.tier].rpoSeconds;
    const lookup = await lookups.lookUp(byKey.get(p.key)!);
    if (lookup === undefined) {
      snapshotState.set(p.key, { unread: `not looked up: planning spends at most ${f.sizingSeconds} s on snapshot lookups` });
      notLookedUp.push(p.key);
      return;
    }
    const lastFailure = failures.get(p.key);
    const job = { job: p.key, tier: p.tier, az: f.sourceAz, rpoSeconds, otherAzs: { [f.targetAz]: newestSnapshotOf(lookup) }, ...(lastFailure ? { lastFailure } : {}) };
    assessed.push(assessProtection(job, protectionPolicy, f.catalog.platform, f.nowEpochSeconds));
    if (lookup instanceof Error) snapshotState.set(p.key, { unread: `snapshot lookup failed: ${lookup.message}` });
    else if (lookup.kind === 'none') snapshotState.set(p.key, { unread: `no restorable snapshot within the RPO: ${lookup.reason}` });
    else if (lookup.ageSeconds > rpoSeconds) snapshotState.set(p.key, { unread: `no restorable snapshot within the RPO: the newest, ${lookup.snapshot.path}, is ${Math.round(lookup.ageSeconds)} s old, beyond the RPO of ${rpoSeconds} s` });
    else if (lookup.snapshot.stateBytes === undefined) snapshotState.set(p.key, { unread: '_metadata not read' });
    else snapshotState.set(p.key, { bytes: lookup.snapshot.stateBytes, snapshotPath: lookup.snapshot.path, ageSeconds: lookup.ageSeconds });
  }));
  // Lookups queued for jobs the plan did not admit end without a read.
  await lookups.settled();
  activity.heartbeat('snapshots looked up');
  const planOrder = new Map(result.admitted.map((p, i) => [p.key, i]));
  const inPlanOrder = (a: string, b: string): number => planOrder.get(a)! - planOrder.get(b)!;
  const protection = { jobs: assessed.sort((a, b) => inPlanOrder(a.job, b.job)), notLookedUp: notLookedUp.sort(inPlanOrder) };
  const history = await f.reads.history;
  const rto = estimateRto({
    plan: result, jobs: f.inScope, policy, rates: measuredRates(history.samples, undefined, history.runs), snapshotState, jarsInCache: f.jarsInCache, pace: f.pace(),
    preemptedStateBytes: new Map(f.catalog.jobs.filter((j) => j.az === f.targetAz).map((j) => [jobKey(j), j.stateSizeBytes])),
  });
  activity.heartbeat('forecast made');
  return { rto, protection, findings: [...unprotectedFindings(protection.jobs), ...predictedMissFindings(rto)] };
}

/** Build the planning activities over `deps`. */
export function createPlanActivities(deps: ActivityDeps) {
  return {
    /**
     * Plan an evacuation and store the plan under its id: with its forecast, or without it for
     * forecastPlan to add (`options.forecast`, PlanOptions). Every admission decision and blocking
     * finding is in the stored plan either way.
     * @returns a summary small enough for a workflow payload (`findings` counts the plan's findings as stored)
     * @throws non-retryable 'NoCatalog' without a catalog, 'StaleCatalog' in an emergency when the
     *   catalog is older than the tightest RPO in scope (unless `forceStaleCatalog`), 'InvalidPolicy'
     *   for a bad tiers.yaml or request; a platform read's failure: a non-retryable one (403, 422)
     *   at once, a transient one (5xx, 429, timeout) only once it has been retried until the
     *   planning deadline (planningRead; non-retryable then when the activity has a deadline)
     */
    async planEvacuation(input: EvacuationInput, options: PlanOptions = {}): Promise<PlanSummary> {
      const activity = Context.current();
      // The worker's CPU contention over this plan's own work scales the forecast's engine terms (domain/engine-pace.ts).
      const schedAtStart = readSched();
      // Transient API errors of the reads below are retried until (just before) the planning deadline.
      const reads = planningReadsDeadline(activity.info, Date.now());
      const catalog = await loadCatalog(deps, input.catalogVersion);
      let policy;
      try {
        policy = await deps.loadTiers();
      } catch (err) {
        throw terminal('InvalidPolicy', err instanceof Error ? err.message : String(err));
      }
      // Age at the trigger (when the button was pressed), not at planning time.
      const stale = catalogStaleness(catalog, policy, input.scope?.tiers, input.triggeredAtMs ?? Date.now());
      if (stale && input.mode === 'emergency' && !input.forceStaleCatalog) throw terminal('StaleCatalog', `emergency evacuation refused: ${stale.message}`);
      const source = azProfile(catalog, input.sourceAz);
      const target = azProfile(catalog, input.targetAz);
      const inScope = catalog.jobs.filter((j) => j.az === source.name);
      const limit = pLimit(LOOKUP_CONCURRENCY);
      const forecastNow = (options.forecast ?? 'with-plan') === 'with-plan';
      // What the forecast and the protection assessment need besides the plan, read beside the
      // platform reads (a rejection is handled where it is awaited).
      const forecastReads = forecastNow ? readForecastInputs(deps) : undefined;
      const capacity = planningRead(`capacity of ${target.name}`, () => deps.cluster.capacity(target.name), reads);

      // Standbys, jars and the target namespaces are independent reads: all at once, 32 in flight
      // in all (they come before the first dispatch: the engine's time, docs/design.md#predicted-rto).
      const standbys = inScope.flatMap((j) => (j.standby && j.standby.az === target.name ? [j.standby] : []));
      const existingInTarget = new Set<string>();
      const checkingStandbys = Promise.all(standbys.map((s) => limit(async () => {
        const status = await planningRead(`standby ${s.namespace}/${s.name}`, () => deps.cluster.getDeployment(target.name, s.namespace, s.name), reads);
        if (status) existingInTarget.add(`${s.namespace}/${s.name}`);
      })));

      const jars = new Map(inScope.flatMap((j) => j.jars).map((jar) => [jar.digest, jar]));
      const jarsInTarget = new Set<string>();
      const jarsInCache = new Set<string>();
      const checkingJars = Promise.all([...jars.values()].map((jar) => limit(async () => {
        const inCache = await planningRead(`jar ${jar.key}`, () => deps.objects.hasArtifact(target.name, jar, 'cache'), reads);
        const present = inCache || await planningRead(`jar ${jar.key}`, () => deps.objects.hasArtifact(target.name, jar, 'repository'), reads);
        if (inCache) jarsInCache.add(jar.digest);
        if (present) jarsInTarget.add(jar.digest);
      })));

      // The target namespaces (domain/target-readiness.ts): one metadata-only read per
      // namespace and per distinct object the jobs there reference. A job whose spec cannot be
      // read contributes nothing here; rendering it fails and reports why. A missing namespace or
      // object is an answer (a blocking finding of its jobs), a 403 marks objects unchecked
      // (platform/kube/target-objects.ts); a 5xx, 429 or stall is retried until the deadline.
      const refsByNamespace = new Map<string, ObjectRef[]>();
      for (const j of inScope) {
        const refs = refsByNamespace.get(j.namespace) ?? [];
        try {
          refs.push(...podReferences(j.deployment.spec).refs);
        } catch { /* reported by the manifest check */ }
        refsByNamespace.set(j.namespace, refs);
      }
      const namespaceChecks = new Map<string, NamespaceCheck>();
      const checkingNamespaces = Promise.all([...refsByNamespace].map(([ns, refs]) => limit(async () => {
        namespaceChecks.set(ns, await planningRead(`namespace ${ns} in ${target.name}`, () => deps.cluster.checkObjects(target.name, ns, distinctRefs(refs)), reads));
      })));

      const nonce = redeployNonceFor(input.evacuationId);
      const renderAndCheck = (job: FleetJob): string[] => {
        const manifest = renderForTargetAz({
          job, source, target, layout: catalog.platform.layout,
          restore: { path: `s3://${target.stateBucket}/${job.savepointPrefix}/savepoint-000000-000000000000` },
          evacuationId: input.evacuationId, nonce,
        });
        const result = deps.validateManifest(manifest);
        // The start step refuses a manifest that still names the source AZ: say so before the trigger.
        const leftover = sourceAzLeftoverProblem(manifest, source, catalog.platform.layout);
        return [...(result.ok ? [] : result.errors), ...(leftover ? [leftover] : [])];
      };
      // While those reads wait on the platform, the CPU renders and CRD-validates the manifests
      // of the jobs that will be redeployed (likelyStrategies, domain/planner.ts), in slices so
      // that the reads' answers are taken in between: the plan at the trigger, and with it P0's
      // hot-standby promotions, pays the longer of the two instead of their sum. A job whose
      // render throws is left to the planner, which renders it again and refuses the plan with why.
      const likely = likelyStrategies(inScope.filter(inRequestedScope(catalog, input)), policy, target.name);
      const manifestChecks = new Map<FleetJob, string[]>();
      let readsFailed = false;
      // P3 jobs are rendered by the planner, and only those that fit (planEvacuation: P3 never preempts).
      const checkingManifests = inSlices(likely.redeploys.filter((j) => j.tier !== 'P3'), (job) => {
        try {
          manifestChecks.set(job, renderAndCheck(job));
        } catch { /* rendered again by the planner */ }
      }, () => readsFailed);
      let targetFree;
      try {
        [targetFree] = await Promise.all([capacity, checkingStandbys, checkingJars, checkingNamespaces]);
      } catch (err) {
        readsFailed = true; // this attempt ends here: stop rendering for it
        throw err;
      }
      activity.heartbeat('standbys, jars and target namespaces checked');
      const readsDoneAtMs = Date.now();

      // RPO now and predicted RTO (makeForecast): the lookups start once the platform reads are
      // done (not to slow them) and go on while the renders do; the budget counts from then, and
      // none starts once the plan is made and the budget spent. Made after the first tier is
      // dispatched instead (forecastPlan), none of it comes before P0's hot-standby promotions.
      const nowEpochSeconds = (input.triggeredAtMs ?? Date.now()) / 1000;
      const sizingSeconds = sizingBudgetSeconds();
      const sizingEndsAt = readsDoneAtMs + sizingSeconds * 1000;
      let planMade = false;
      const lookups = snapshotLookups(deps, target.name, catalog.platform.layout, nowEpochSeconds, () => !planMade || Date.now() <= sizingEndsAt);
      // Queued now in admission order, so they run while the rest of the manifests are rendered;
      // except P3's, queued once the plan has admitted them (a P3 job never preempts: at the
      // 5,000-job bench 1,207 of 1,208 did not fit).
      if (forecastNow) for (const job of likely.restoring) if (job.tier !== 'P3') void lookups.lookUp(job);

      await checkingManifests;

      let result;
      try {
        result = plan({
          catalog, tiers: policy, sourceAz: input.sourceAz, targetAz: input.targetAz, targetFree,
          scope: input.scope, existingInTarget, jarsInTarget, nowEpochSeconds: Date.now() / 1000,
          // A job redeployed that was not expected to be (its standby is missing) is rendered now.
          validateManifest: (job) => manifestChecks.get(job) ?? renderAndCheck(job),
          targetReadiness: (job) => targetReadinessFindings(job, source.name, target.name, job.namespace, namespaceChecks.get(job.namespace)),
        });
      } catch (err) {
        throw terminal('InvalidPolicy', err instanceof Error ? err.message : String(err));
      } finally {
        planMade = true;
      }
      activity.heartbeat('manifests rendered and checked, plan made');
      let forecast: PlanForecast | undefined;
      if (forecastReads) {
        forecast = await makeForecast(activity, {
          plan: result, catalog, policy, inScope, sourceAz: source.name, targetAz: target.name, nowEpochSeconds, jarsInCache, sizingSeconds, lookups, reads: forecastReads,
          pace: () => enginePaceSince(schedAtStart),
        });
      }
      const stored: StoredPlan = forecast
        ? { request: input, policy, plan: planWithForecast(result, forecast) }
        : { request: input, policy, plan: result, pendingForecast: { jarsInCache: [...jarsInCache], ...paceOf(enginePaceSince(schedAtStart)) } };
      if (stale && input.mode === 'emergency') {
        stored.plan.findings.push({ job: `catalog v${catalog.version}`, code: 'catalog-stale', blocking: false, message: `evacuating from a stale catalog, forced by ${input.requestedBy ?? 'the request'}: ${stale.message}` });
      }
      await deps.evacuations.putPlan(recordsKey(input), stored);
      deps.metrics?.recordFindings(stored.plan.findings);
      if (forecast) {
        deps.metrics?.recordForecast(forecast.rto);
        deps.metrics?.recordProtection(forecast.protection.jobs);
      }
      activityLog({ evacuationId: input.evacuationId }).info('plan stored', { admitted: result.admitted.length, notAdmitted: result.notAdmitted.length, blockingFindings: result.findings.filter((f) => f.blocking).length, forecast: forecastNow ? 'made' : 'after the first tier' });

      const tiers = summarizePlan(result).map((row) => ({ tier: row.tier, jobs: row.admitted, cores: row.cores, memoryMiB: row.memoryMiB }));
      return {
        catalogVersion: catalog.version, catalogTakenAt: catalog.takenAt, policy, tiers,
        notAdmitted: result.notAdmitted.length, preemptions: result.preemptions.length,
        jars: result.jars.length, jarBytes: result.jars.reduce((n, j) => n + j.sizeBytes, 0),
        blockingFindings: stored.plan.findings.filter((f) => f.blocking).length, findings: stored.plan.findings.length,
      };
    },

    /**
     * Make and store the forecast of a plan stored without it (planEvacuation with forecast
     * 'after-first-tier': StoredPlan.pendingForecast): each admitted restoring job's snapshot
     * lookup for RPO now, its protection and the RTO forecast (makeForecast), the lookups within
     * SNAPSHOT_SIZING_BUDGET_SECONDS of this activity's start (the evacuation's second tier waits
     * for this activity, so every second of lookups is a second more of its RTO, as it was of
     * P0's when planning at the trigger made them). Stored apart (putForecast); every
     * later getPlan returns the plan with it. Idempotent: a plan that has its forecast is left as is.
     * @returns how many findings the plan has with its forecast
     * @throws the store's failures (retryable ones retried by Temporal); non-retryable 'UnknownJob'
     *   when the plan's catalog no longer names its AZs
     */
    async forecastPlan(evacuationId: string): Promise<{ findings: number }> {
      const activity = Context.current();
      const stored = await deps.evacuations.getPlan(evacuationId);
      if (!stored.pendingForecast) return { findings: stored.plan.findings.length };
      const { plan: planned, policy, request } = stored;
      const catalog = await deps.catalogs.get(planned.catalogVersion);
      const source = azProfile(catalog, planned.sourceAz);
      const target = azProfile(catalog, planned.targetAz);
      const nowEpochSeconds = (request.triggeredAtMs ?? Date.now()) / 1000;
      const sizingEndsAt = Date.now() + SNAPSHOT_SIZING_BUDGET_SECONDS * 1000;
      const forecast = await makeForecast(activity, {
        plan: planned, catalog, policy, inScope: catalog.jobs.filter((j) => j.az === source.name), sourceAz: source.name, targetAz: target.name,
        nowEpochSeconds, jarsInCache: new Set(stored.pendingForecast.jarsInCache), sizingSeconds: SNAPSHOT_SIZING_BUDGET_SECONDS, pace: () => stored.pendingForecast?.pace,
        lookups: snapshotLookups(deps, target.name, catalog.platform.layout, nowEpochSeconds, () => Date.now() <= sizingEndsAt),
        reads: readForecastInputs(deps),
      });
      await deps.evacuations.putForecast(evacuationId, forecast);
      const merged = withForecast(stored, forecast);
      deps.metrics?.recordFindings(merged.plan.findings);
      deps.metrics?.recordForecast(forecast.rto);
      deps.metrics?.recordProtection(forecast.protection.jobs);
      activityLog({ evacuationId: request.evacuationId }).info('forecast stored', { predictedMisses: forecast.rto.jobs.filter((j) => j.misses).length, notLookedUp: forecast.protection.notLookedUp.length });
      return { findings: merged.plan.findings.length };
    },

    /**
     * Admitted jobs of `tier` in admission order, as seen by one shard: the shard's jobs
     * `offset`..`offset+limit`, where shard k of n owns tier indices k, k + n, k + 2n, …
     */
    async loadTierJobs(evacuationId: string, tier: Tier, offset: number, limit: number, shard = { index: 0, count: 1 }): Promise<JobTask[]> {
      const stored = await deps.evacuations.getPlan(evacuationId);
      const all = planIndex(stored).byTier.get(tier) ?? [];
      const out: JobTask[] = [];
      for (let i = shard.index + offset * shard.count; i < all.length && out.length < limit; i += shard.count) {
        const task = all[i];
        if (task) out.push(task);
      }
      return out;
    },

    /**
     * Suspend the plan's P3 preemptions in the target AZ (idempotent: suspending a suspended
     * or absent job is a no-op), each with az-evac's preemption annotations in the same patch
     * and an AzEvacPreempted Event (best effort): by which evacuation run, when, for which job.
     * @returns how many jobs were suspended
     */
    async preemptJobs(evacuationId: string): Promise<{ suspended: number }> {
      const stored = await deps.evacuations.getPlan(evacuationId);
      const az = stored.plan.targetAz;
      const run = actingRun(stored);
      const limit = pLimit(LOOKUP_CONCURRENCY);
      let suspended = 0;
      await Promise.all(stored.plan.preemptions.map((p) => limit(async () => {
        const mark = preemptMark(run, Date.now(), p.forJob, p.cores);
        const copy = { az, namespace: p.namespace, name: p.name };
        const status = await platformCall(`preempt ${p.key} in ${az}`, () => suspendMarked(deps, copy, mark, `${evacuationId}/preempted/${p.key}`));
        if (status) suspended += 1;
        Context.current().heartbeat(suspended);
      })));
      return { suspended };
    },
  };
}

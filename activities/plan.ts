/**
 * Planning activities: gather what the pure planner needs from the platform (target
 * capacity, standbys present, jars present, the target namespaces and the objects their jobs
 * reference, manifests rendered, CRD-validated and checked for source-AZ leftovers), run it,
 * assess each restoring job's protection toward the target AZ (the RPO an evacuation would pay
 * now, unprotected or not and why: domain/protection.ts, domain/rpo-now.ts), forecast each admitted job's RTO (its newest snapshot's state size in the
 * target AZ, the rates measured by previous runs: domain/rto-estimate.ts), store the plan, and hand the
 * workflow a small summary. Also pages tier job lists.
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
import { estimateRto, measuredRates, predictedMissFindings, SNAPSHOT_SIZING_BUDGET_SECONDS, type StateSizeFact } from '../domain/rto-estimate.js';
import { snapshotOwner } from '../domain/snapshot-owner.js';
import { newestSnapshotOf, unprotectedFindings } from '../domain/rpo-now.js';
import { assessProtection, NO_PROTECTION, type JobProtection } from '../domain/protection.js';
import { lastProtectionFailures } from './protection-pass.js';
import { jobKey, type Catalog, type FleetJob, type SnapshotChoice, type Tier } from '../domain/types.js';
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
 * Wall seconds this planning may spend on snapshot lookups (one per restoring job): at the
 * trigger (called by the evacuateAz workflow) SNAPSHOT_SIZING_BUDGET_SECONDS, since every
 * second of it comes before the first job, P0's hot-standby promotions included, is dispatched;
 * in a preview PREVIEW_SIZING_BUDGET_SECONDS. Lookups not started by then are skipped, and their
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

/** Build the planning activities over `deps`. */
export function createPlanActivities(deps: ActivityDeps) {
  return {
    /**
     * Plan an evacuation and store the plan under its id.
     * @returns a summary small enough for a workflow payload
     * @throws non-retryable 'NoCatalog' without a catalog, 'StaleCatalog' in an emergency when the
     *   catalog is older than the tightest RPO in scope (unless `forceStaleCatalog`), 'InvalidPolicy'
     *   for a bad tiers.yaml or request; a platform read's failure: a non-retryable one (403, 422)
     *   at once, a transient one (5xx, 429, timeout) only once it has been retried until the
     *   planning deadline (planningRead; non-retryable then when the activity has a deadline)
     */
    async planEvacuation(input: EvacuationInput): Promise<PlanSummary> {
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
      // What the forecast and the protection assessment need besides the plan, read beside the
      // platform reads (a rejection is handled where it is awaited).
      const failuresRead = lastProtectionFailures(deps);
      const historyRead = loadRtoHistory(deps.reports);
      historyRead.catch(() => undefined);
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

      // RPO now and predicted RTO: each restoring job's newest restorable snapshot in the target
      // AZ's replica, whatever its age (findSnapshot with no RPO, as protection looks). Its age is
      // the RPO an evacuation would pay now, and with the tier's protection policy it says whether
      // the job is protected and why not (domain/protection.ts). Within the tier's RPO it is also
      // the start step's choice, whose size the forecast uses. Neither ever stops a plan: a failed
      // lookup leaves the job unprotected with the store's error and the catalog's size; one not
      // started within the budget is listed as not looked up. The lookups start once the platform
      // reads are done (not to slow them) and go on while the renders do; the budget counts from
      // then, and none starts once the plan is made and the budget spent.
      const nowEpochSeconds = (input.triggeredAtMs ?? Date.now()) / 1000;
      const sizingSeconds = sizingBudgetSeconds();
      const sizingEndsAt = readsDoneAtMs + sizingSeconds * 1000;
      let planMade = false;
      const lookupsOpen = (): boolean => !planMade || Date.now() <= sizingEndsAt;
      const lookupLimit = pLimit(LOOKUP_CONCURRENCY);
      /** Once the plan is made: the jobs whose lookups are still wanted (admitted and restoring). */
      let wanted: Set<FleetJob> | undefined = undefined;
      const lookups = new Map<FleetJob, Promise<SnapshotChoice | Error | undefined>>();
      /** The job's lookup, queued on first call; undefined when it did not start before lookups closed. */
      const lookUp = (job: FleetJob): Promise<SnapshotChoice | Error | undefined> => {
        let found = lookups.get(job);
        if (!found) {
          found = lookupLimit(async () => {
            if (!lookupsOpen() || (wanted && !wanted.has(job))) return undefined;
            try {
              return await retryTransient(() => deps.objects.findSnapshot(target.name, snapshotOwner(job), { layout: catalog.platform.layout, nowEpochSeconds }));
            } catch (err) {
              return err instanceof Error ? err : new Error(String(err));
            }
          });
          lookups.set(job, found);
        }
        return found;
      };
      // Queued now in admission order, so they run while the rest of the manifests are rendered.
      for (const job of likely.restoring) void lookUp(job);

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
      const byKey = new Map(inScope.map((j) => [jobKey(j), j]));
      const snapshotState = new Map<string, StateSizeFact>();
      const assessed: JobProtection[] = [];
      const notLookedUp: string[] = [];
      const protectionPolicy = policy.protection ?? NO_PROTECTION;
      // The last protection pass's failed savepoints and refused copies: their reason joins the job's unprotected reason.
      const failures = await failuresRead;
      const restoring = result.admitted.filter((p) => p.strategy !== 'promote-standby');
      wanted = new Set(restoring.map((p) => byKey.get(p.key)!));
      await Promise.all(restoring.map(async (p) => {
        const rpoSeconds = policy.tiers[p.tier].rpoSeconds;
        const lookup = await lookUp(byKey.get(p.key)!);
        if (lookup === undefined) {
          snapshotState.set(p.key, { unread: `not looked up: planning spends at most ${sizingSeconds} s on snapshot lookups` });
          notLookedUp.push(p.key);
          return;
        }
        const lastFailure = failures.get(p.key);
        const job = { job: p.key, tier: p.tier, az: source.name, rpoSeconds, otherAzs: { [target.name]: newestSnapshotOf(lookup) }, ...(lastFailure ? { lastFailure } : {}) };
        assessed.push(assessProtection(job, protectionPolicy, catalog.platform, nowEpochSeconds));
        if (lookup instanceof Error) snapshotState.set(p.key, { unread: `snapshot lookup failed: ${lookup.message}` });
        else if (lookup.kind === 'none') snapshotState.set(p.key, { unread: `no restorable snapshot within the RPO: ${lookup.reason}` });
        else if (lookup.ageSeconds > rpoSeconds) snapshotState.set(p.key, { unread: `no restorable snapshot within the RPO: the newest, ${lookup.snapshot.path}, is ${Math.round(lookup.ageSeconds)} s old, beyond the RPO of ${rpoSeconds} s` });
        else if (lookup.snapshot.stateBytes === undefined) snapshotState.set(p.key, { unread: '_metadata not read' });
        else snapshotState.set(p.key, { bytes: lookup.snapshot.stateBytes, snapshotPath: lookup.snapshot.path, ageSeconds: lookup.ageSeconds });
      }));
      // Lookups queued for jobs the plan did not admit end without a read.
      await Promise.all(lookups.values());
      activity.heartbeat('snapshots looked up');
      const planOrder = new Map(result.admitted.map((p, i) => [p.key, i]));
      const inPlanOrder = (a: string, b: string): number => planOrder.get(a)! - planOrder.get(b)!;
      result.protection = { jobs: assessed.sort((a, b) => inPlanOrder(a.job, b.job)), notLookedUp: notLookedUp.sort(inPlanOrder) };
      result.findings.push(...unprotectedFindings(result.protection.jobs));
      const history = await historyRead;
      result.rto = estimateRto({ plan: result, jobs: inScope, policy, rates: measuredRates(history.samples, undefined, history.runs), snapshotState, jarsInCache, pace: enginePaceSince(schedAtStart),
        preemptedStateBytes: new Map(catalog.jobs.filter((j) => j.az === target.name).map((j) => [jobKey(j), j.stateSizeBytes])) });
      result.findings.push(...predictedMissFindings(result.rto));
      if (stale && input.mode === 'emergency') {
        result.findings.push({ job: `catalog v${catalog.version}`, code: 'catalog-stale', blocking: false, message: `evacuating from a stale catalog, forced by ${input.requestedBy ?? 'the request'}: ${stale.message}` });
      }
      activity.heartbeat('forecast made');
      await deps.evacuations.putPlan(recordsKey(input), { request: input, policy, plan: result });
      deps.metrics?.recordFindings(result.findings);
      deps.metrics?.recordForecast(result.rto);
      deps.metrics?.recordProtection(result.protection.jobs);
      activityLog({ evacuationId: input.evacuationId }).info('plan stored', { admitted: result.admitted.length, notAdmitted: result.notAdmitted.length, blockingFindings: result.findings.filter((f) => f.blocking).length });

      const tiers = summarizePlan(result).map((row) => ({ tier: row.tier, jobs: row.admitted, cores: row.cores, memoryMiB: row.memoryMiB }));
      return {
        catalogVersion: catalog.version, catalogTakenAt: catalog.takenAt, policy, tiers,
        notAdmitted: result.notAdmitted.length, preemptions: result.preemptions.length,
        jars: result.jars.length, jarBytes: result.jars.reduce((n, j) => n + j.sizeBytes, 0),
        blockingFindings: result.findings.filter((f) => f.blocking).length, findings: result.findings.length,
      };
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

/**
 * evacuateAz: plan → preload jars (in the background) → preempt P3 → tiers in admission
 * order, the plan's forecast made once the first has dispatched its jobs → report. One
 * workflow per evacuation, with a deterministic id (evacuationIdFor) so two presses of the
 * button join one run.
 *
 * Shape for 5,000 jobs (docs/design.md#temporal-limits): this workflow has four tier children; each tier
 * child windows its per-job children; payloads carry job keys and counts only.
 *
 * Bounded history (docs/temporal.md#bounded-histories): its events do not grow with the job
 * count, so it never continues as new (its AZ holds and tiers stay its children): the tiers
 * tell it only "dispatched" and their result (clients read live counters from the tiers,
 * client/evacuation-client.ts progress), and the jars are preloaded in at most
 * MAX_PRELOAD_CALLS calls. Controls (pause, resume, abort) cost events per press, not per job.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  type ActivityOptions,
  type ChildWorkflowHandle,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createActivities } from '../activities/index.js';
import {
  fenceWorkflowId,
  recordsKey,
  tierWorkflowId,
  type FencePassResult,
  type EvacuationInput,
  type EvacuationProgress,
  type EvacuationResult,
  type TierProgress,
} from '../domain/evacuation.js';
import { messageOf } from '../domain/error-message.js';
import { evacuationFailureMessage } from '../domain/outcome-message.js';
import { mayOverrideHold } from '../domain/az-hold.js';
import { evacuationSummary, fencingSummary, tierSummary } from '../domain/run-summary.js';
import type { Tier } from '../domain/types.js';
import { abortSignal, abortUpdate, pauseUpdate, progressQuery, resumeUpdate, tierDispatchedSignal, tierProgressSignal } from './messages.js';
import { fenceSourceAz, sealFencesSignal } from './fence-source.js';
import { BOUNDED_HISTORIES, evacuateTier } from './tier.js';
import { continueAsNewAfterEvents } from '../domain/history-budget.js';
import { sendControl, targetClosed } from './control-signal.js';
import { FAILURES_CLOSE_AS_FAILURES, outcomeFailure } from './outcome-failure.js';
import { takeAzHolds, withAzHolds, type HeldAzs } from './az-hold.js';
import { searchAttributesOf } from './search-attributes.js';
import { planningDeadlineSeconds, type PlanningDeadlineOption } from '../domain/plan-deadline.js';

type Activities = ReturnType<typeof createActivities>;

const planning = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '60s',
  retry: { initialInterval: '1s', maximumInterval: '15s', maximumAttempts: 5 },
});

/**
 * Options of the planning activity at the trigger (patched 'planning-deadline'; runs recorded
 * before it keep `planning`'s 5 attempts): retried without an attempt limit until the planning
 * deadline, `deadlineSeconds` after it is first scheduled (domain/plan-deadline.ts), so that API
 * trouble of a minute delays an emergency instead of ending it. Inside an attempt the platform
 * reads retry transient errors with back-off until just before the deadline and heartbeat each
 * retry (activities/plan.ts planningRead): a stuck attempt shows what it waits on, and a dead
 * worker is noticed within the 60 s heartbeat timeout.
 */
function planningOptions(deadlineSeconds: number): ActivityOptions {
  return {
    scheduleToCloseTimeout: `${deadlineSeconds}s`,
    startToCloseTimeout: `${deadlineSeconds}s`,
    heartbeatTimeout: '60s',
    retry: { initialInterval: '1s', maximumInterval: '15s', maximumAttempts: Number.POSITIVE_INFINITY },
  };
}

/** Patch id: the plan's forecast is made by forecastPlan once the first tier is started (activities/plan.ts PlanOptions). */
export const FORECAST_AFTER_FIRST_TIER = 'forecast-after-first-tier';

/** Jars per preload activity call, at least: progress is visible between calls. */
const PRELOAD_CHUNK = 16;
/** Preload activity calls at most (more jars: bigger chunks), so the history does not grow with the fleet. */
const MAX_PRELOAD_CALLS = 64;

/** Model seconds between two fencing passes while the source AZ is away (÷ time scale, at least 1 wall second). */

/**
 * Start the fencing follow-up of an evacuation run (workflows/fence-source.ts), one per run
 * (its id names the run's records, whose fences it works on): at the start of an emergency,
 * or at the end of another mode when fences are left open. A follow-up already running
 * under that id (this run's, after a retried start) is joined.
 * @param sealed true when no new fence record can appear any more (the evacuation has ended)
 */
async function startFencing(input: EvacuationInput, intervalSeconds: number, sealed = false): Promise<void> {
  try {
    await startChild(fenceSourceAz, {
      workflowId: fenceWorkflowId(recordsKey(input)),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: searchAttributesOf({ kind: 'fencing', run: input.evacuationId, mode: input.mode, sourceAz: input.sourceAz }),
      staticSummary: fencingSummary(input),
      args: [{ evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), sourceAz: input.sourceAz, intervalSeconds, sealed }],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Evacuate the source AZ's jobs into the target AZ.
 * @returns the result of a successful evacuation (every admitted P0–P2 job RUNNING)
 * @throws ApplicationFailure EvacuationFailed / EvacuationAborted (non-retryable) once the report
 *   is written when it did not succeed or was aborted: the counts and RTOs missed in the message,
 *   the EvacuationResult as its detail (read it with settledResult)
 */
export async function evacuateAz(request: EvacuationInput & PlanningDeadlineOption): Promise<EvacuationResult> {
  // The AZ holds are let go on every way out, a thrown refusal (a stale catalog) included, so a
  // start right after finds them free.
  return withAzHolds((held) => evacuate(request, held));
}

/** The evacuation itself; `held.holds` gets the AZ holds it takes. */
async function evacuate(request: EvacuationInput & PlanningDeadlineOption, held: HeldAzs): Promise<EvacuationResult> {
  // This run's identity: its records (plan, outcomes, fences, report) are keyed by it, so a
  // later run of the same id never reads them. patched: runs recorded before it replay without.
  const input: EvacuationInput = patched('per-run-records') ? { ...request, runId: workflowInfo().firstExecutionRunId } : request;
  // Bad input fails before anything is held or touched.
  let planningDeadline: number | undefined;
  try {
    continueAsNewAfterEvents(input.continueAsNewAfterEvents);
    // patched: runs recorded before planning had a deadline plan with 5 attempts, as they did.
    if (patched('planning-deadline')) planningDeadline = planningDeadlineSeconds(request);
  } catch (err) {
    throw ApplicationFailure.create({ type: 'BadInput', message: messageOf(err), nonRetryable: true });
  }
  const records = recordsKey(input);
  const runIdOf = input.runId ? { runId: input.runId } : {};
  const preload = input.preload ?? true;
  const startedAtMs = Date.now();
  const progress: EvacuationProgress = {
    evacuationId: input.evacuationId, ...runIdOf, sourceAz: input.sourceAz, targetAz: input.targetAz, mode: input.mode,
    phase: 'planning', paused: false, startedAtMs, elapsedSeconds: 0,
    preload: { state: preload ? 'running' : 'off', jars: 0, jarsDone: 0, bytesDone: 0 }, tiers: [],
  };
  const running = new Set<Tier>();
  const startedTiers = new Map<Tier, ChildWorkflowHandle<typeof evacuateTier>>();
  const dispatched = new Set<Tier>();
  const finished = (): boolean => progress.phase === 'done' || progress.phase === 'failed';
  /** Controls apply while jobs may still be dispatched: not once the report is being written, nor after an abort. */
  const notControllable = (): boolean => finished() || progress.phase === 'aborted' || progress.phase === 'reporting';

  upsertSearchAttributes(searchAttributesOf({ kind: 'evacuation', run: input.evacuationId, mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz }));

  const tell = async (action: 'pause' | 'resume' | 'abort', by: string, reason?: string): Promise<void> => {
    await Promise.all([...running].map((tier) => {
      // By workflow id: the tier's current run, also after it continued as new.
      const handle = startedTiers.get(tier);
      return handle && sendControl(getExternalWorkflowHandle(handle.workflowId), { action, by, reason });
    }));
  };
  setHandler(progressQuery, () => ({ ...progress, elapsedSeconds: (Date.now() - startedAtMs) / 1000 }));
  setHandler(pauseUpdate, async ({ by }) => {
    progress.paused = true;
    log.info('paused', { evacuationId: input.evacuationId, by });
    await tell('pause', by);
    return progress;
  }, { validator: (_req: { by: string; reason?: string }) => {
    if (notControllable()) throw new Error(`evacuation ${input.evacuationId} is ${progress.phase}; nothing to pause`);
    if (progress.paused) throw new Error(`evacuation ${input.evacuationId} is already paused; use resume`);
  } });
  setHandler(resumeUpdate, async ({ by }) => {
    progress.paused = false;
    log.info('resumed', { evacuationId: input.evacuationId, by });
    await tell('resume', by);
    return progress;
  }, { validator: (_req: { by: string }) => {
    if (notControllable()) throw new Error(`evacuation ${input.evacuationId} is ${progress.phase}; nothing to resume`);
    if (!progress.paused) throw new Error(`evacuation ${input.evacuationId} is not paused`);
  } });
  let abortRequest: { by: string; reason: string } | undefined;
  const abort = async ({ by, reason }: { by: string; reason: string }): Promise<EvacuationProgress> => {
    abortRequest = { by, reason };
    progress.abortedBy = `${by}: ${reason}`;
    progress.phase = 'aborted';
    log.warn('abort requested', { evacuationId: input.evacuationId, by, reason });
    await tell('abort', by, reason);
    return progress;
  };
  setHandler(abortSignal, async (req) => {
    // A tier that finished meanwhile cannot be signalled; the others have been told.
    if (!notControllable()) await abort(req).catch(() => undefined);
  });
  setHandler(abortUpdate, abort, { validator: ({ reason }) => {
    if (!reason || reason.trim() === '') throw new Error('abort needs a reason (e.g. --reason "source AZ recovered")');
    if (notControllable()) throw new Error(`evacuation ${input.evacuationId} is already ${progress.phase}; nothing left to abort`);
  } });
  // Tiers recorded before histories were bounded signal their live counters (replay, upgrades).
  setHandler(tierProgressSignal, ({ tier, counts, done }) => {
    const t = progress.tiers.find((x) => x.tier === tier);
    if (!t) return;
    Object.assign(t, counts);
    if (done && t.state !== 'done') {
      t.state = 'done';
      t.endedAtMs = Date.now();
    }
  });
  setHandler(tierDispatchedSignal, ({ tier }) => { dispatched.add(tier); });

  // One evacuation at a time per AZ: a drill's evacuation runs under the drill's holds.
  // patched: runs recorded before holds existed replay without them.
  const holds = !input.heldBy && patched('az-holds')
    ? await takeAzHolds({
      workflowId: input.evacuationId, kind: 'evacuation', mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz,
      sinceMs: Date.now(), ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    }, !!input.overrideRunning && mayOverrideHold(input.mode), input.taskQueue)
    : undefined;
  held.holds = holds;
  if (holds?.refusal) throw ApplicationFailure.create({ type: 'AzBusy', message: holds.refusal, nonRetryable: true });
  if (holds && holds.overridden.length > 0) progress.runsBeside = holds.overridden.map((h) => `${h.kind} ${h.workflowId} (${h.sourceAz} → ${h.targetAz})`);

  // The plan's forecast (snapshot lookups for RPO now, the RTO forecast: informational, never
  // blocking) is made once the first tier is dispatched, not before P0's hot-standby promotions.
  // patched: runs recorded before plan with their forecast, as they did.
  const forecastLater = patched(FORECAST_AFTER_FIRST_TIER);
  const plan = await planning.planEvacuation.executeWithOptions(
    { summary: `plan ${evacuationSummary(input)}`, ...(planningDeadline !== undefined ? planningOptions(planningDeadline) : {}) },
    forecastLater ? [input, { forecast: 'after-first-tier' }] : [input],
  );
  progress.plan = plan;
  log.info('planned', { evacuationId: input.evacuationId, mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz, jobs: plan.tiers.reduce((n, t) => n + t.jobs, 0), jars: plan.jars, preemptions: plan.preemptions });
  // Guarantee 2: source copies that cannot be suspended now are fenced when their AZ answers again.
  // patched: evacuations recorded before the fencing follow-up existed replay without it.
  const fencing = input.mode === 'emergency' && patched('fencing-follow-up') ? startFencing(input, plan.policy.fenceIntervalSeconds) : undefined;
  progress.preload.jars = plan.jars;
  progress.tiers = plan.policy.admissionOrder.map((tier): TierProgress => ({
    tier, state: 'waiting', planned: plan.tiers.find((t) => t.tier === tier)?.jobs ?? 0,
    running: 0, succeeded: 0, failed: 0, skipped: 0,
    rtoTargetSeconds: plan.policy.tiers[tier].rtoSeconds,
  }));
  if (progress.phase !== 'aborted') progress.phase = 'evacuating';

  const preloading = preload ? (async () => {
    // patched: evacuations recorded before histories were bounded replay with their chunks.
    const chunk = patched(BOUNDED_HISTORIES) ? Math.max(PRELOAD_CHUNK, Math.ceil(plan.jars / MAX_PRELOAD_CALLS)) : PRELOAD_CHUNK;
    for (let offset = 0; offset < plan.jars; offset += chunk) {
      const r = await planning.preloadJars.executeWithOptions({ summary: `copy jars ${offset + 1}–${Math.min(offset + chunk, plan.jars)} of ${plan.jars} into ${input.targetAz}'s jar cache` }, [records, offset, chunk]);
      progress.preload.jarsDone += r.jars;
      progress.preload.bytesDone += r.copiedBytes;
    }
    progress.preload.state = 'done';
  })().catch(() => { progress.preload.state = 'failed'; }) : Promise.resolve();
  // Preemption frees target capacity; only tiers that need new capacity wait for it.
  // A failed preemption does not stop the evacuation: jobs that then find no room fail
  // at start-up with the operator's reason, and the report lists the preemption error.
  let preemptionError: string | undefined;
  const preempting = plan.preemptions > 0
    ? planning.preemptJobs.executeWithOptions({ summary: `suspend ${plan.preemptions} preemptible P3 job(s) in ${input.targetAz} to free capacity` }, [records]).then(() => undefined, (err: unknown) => {
      preemptionError = err instanceof Error ? err.message : String(err);
    })
    : Promise.resolve();

  const results: Promise<unknown>[] = [];
  const tierFailures: Partial<Record<Tier, string>> = {};
  /** The forecast, started once the first tier has dispatched its jobs; every later tier starts after it ends. */
  let forecasting: Promise<void> | undefined;
  for (const tp of progress.tiers) {
    if (tp.planned === 0) { tp.state = 'done'; continue; }
    // A failed forecast does not stop the evacuation: its jobs start with the deadlines of a
    // plan without one (domain/startup-deadline.ts), and the report has no forecast.
    if (forecasting) await forecasting;
    if (plan.policy.tiers[tp.tier].strategy !== 'promote-standby') await preempting;
    const aborted = progress.phase === 'aborted';
    const paused = progress.paused;
    tp.state = 'running';
    tp.startedAtMs = Date.now();
    log.info('tier started', { evacuationId: input.evacuationId, tier: tp.tier, jobs: tp.planned });
    const handle = await startChild(evacuateTier, {
      workflowId: tierWorkflowId(input.evacuationId, tp.tier),
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: searchAttributesOf({ kind: 'tier', run: input.evacuationId, tier: tp.tier, mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz }),
      staticSummary: tierSummary({ ...input, tier: tp.tier, jobs: tp.planned, rtoTargetSeconds: tp.rtoTargetSeconds }),
      args: [{
        evacuationId: input.evacuationId, ...runIdOf, tier: tp.tier, sourceAz: input.sourceAz, targetAz: input.targetAz,
        mode: input.mode, preload, jobs: tp.planned, policy: plan.policy,
        paused, aborted, ...(aborted ? { abortedBy: progress.abortedBy } : {}),
        ...(input.continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: input.continueAsNewAfterEvents } : {}),
      }],
    });
    startedTiers.set(tp.tier, handle);
    running.add(tp.tier);
    // A pause, resume or abort accepted while the child was starting was not sent to it
    // (`tell` reaches running tiers only): hand it over now.
    // A tier that has already ended has nothing left to control (sendControl).
    if (abortRequest && !aborted) await sendControl(handle, { action: 'abort', ...abortRequest });
    else if (progress.paused !== paused) await sendControl(handle, { action: progress.paused ? 'pause' : 'resume', by: 'evacuation' });
    const tier = tp.tier;
    // A tier workflow that fails (an engine fault: its jobs' own failures are outcomes) ends
    // its tier here, so lower tiers and the report still come; its jobs without an outcome
    // are reported failed with this reason.
    results.push(handle.result().then((counts) => { Object.assign(tp, counts); }, (err: unknown) => {
      tierFailures[tier] = messageOf(err, 8);
    }).then(() => {
      running.delete(tier);
      tp.state = 'done';
      tp.endedAtMs ??= Date.now();
      log.info('tier ended', { evacuationId: input.evacuationId, tier, succeeded: tp.succeeded, failed: tp.failed, skipped: tp.skipped, ...(tierFailures[tier] ? { error: tierFailures[tier] } : {}) });
    }));
    // Strict order unless a lower tier may borrow the slots this tier leaves idle once it
    // has dispatched everything: no lower-tier job ever takes a slot a higher one waits for.
    await condition(() => tp.state === 'done' || (plan.policy.borrowIdleSlots && dispatched.has(tier)));
    // The first tier has dispatched its jobs: now the forecast, before the next tier starts.
    if (forecastLater && !forecasting) {
      forecasting = planning.forecastPlan.executeWithOptions({ summary: `forecast RPO now and RTO of ${evacuationSummary(input)}` }, [records]).then(({ findings }) => {
        progress.plan = { ...plan, findings };
      }, (err: unknown) => {
        log.warn('forecast failed: the later tiers start without it', { evacuationId: input.evacuationId, error: messageOf(err) });
      });
    }
  }
  await Promise.all(results);
  if (forecasting) await forecasting;
  await preloading;
  await preempting;

  const wasAborted = progress.phase === 'aborted';
  progress.phase = 'reporting';
  // Every start step has ended: seal the fencing follow-up and take stock for the report.
  let fences: (FencePassResult & { followUpWorkflowId?: string }) | undefined;
  if (fencing) {
    await fencing;
    const followUpWorkflowId = fenceWorkflowId(records);
    // A follow-up that has already closed (terminated by an operator) needs no seal; the
    // pass below still takes stock of what is pending for the report.
    await getExternalWorkflowHandle(followUpWorkflowId).signal(sealFencesSignal).catch((err: unknown) => {
      if (!targetClosed(err)) throw err;
    });
    fences = { ...(await planning.fencePending.executeWithOptions({ summary: `take stock of ${input.sourceAz}'s fences for the report` }, [records])), followUpWorkflowId };
  } else if (patched('fence-observed')) {
    // A live source was fenced job by job: a fence whose stop was not seen in time (requested,
    // not observed) is looked at again now, and left to a follow-up if still open.
    const pass = await planning.fencePending.executeWithOptions({ summary: `look again at fences in ${input.sourceAz} not yet seen stopped` }, [records]);
    const open = pass.pending.length > 0 || pass.notObserved.length > 0;
    if (open) await startFencing(input, plan.policy.fenceIntervalSeconds, true);
    fences = { ...pass, ...(open ? { followUpWorkflowId: fenceWorkflowId(records) } : {}) };
  }
  const failedTiers = Object.keys(tierFailures).length > 0;
  const report = await planning.writeReport.executeWithOptions({ summary: `write the report of ${input.evacuationId}` }, [{ ...input, startedAtMs, endedAtMs: Date.now(), abortedBy: progress.abortedBy, preemptionError, fences, ...(failedTiers ? { tierFailures } : {}) }]);
  progress.reportFile = report.reportFile;
  progress.phase = wasAborted ? 'aborted' : failedTiers ? 'failed' : 'done';
  log.info('evacuation ended', { evacuationId: input.evacuationId, phase: progress.phase, success: report.success, reportFile: report.reportFile, ...(progress.abortedBy ? { abortedBy: progress.abortedBy } : {}) });
  // Updates accepted before the report (a pause that is still telling its tiers) finish first.
  await condition(allHandlersFinished);
  const result: EvacuationResult = {
    evacuationId: input.evacuationId, ...runIdOf, phase: progress.phase, reportFile: report.reportFile,
    tiers: progress.tiers, success: report.success && !wasAborted,
  };
  // A failed or aborted evacuation closes as Failed, its result inside (workflows/outcome-failure.ts);
  // the report, the fencing seal and every handler are done by now.
  if (!result.success && patched(FAILURES_CLOSE_AS_FAILURES)) {
    const message = evacuationFailureMessage({
      ...input, tiers: report.tiers, ...(progress.abortedBy ? { abortedBy: progress.abortedBy } : {}), ...(failedTiers ? { tierFailures } : {}),
    });
    throw outcomeFailure(wasAborted ? 'EvacuationAborted' : 'EvacuationFailed', message, result);
  }
  return result;
}

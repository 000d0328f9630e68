/**
 * drill: runs a runbook's steps in order and records each step's outcome (drillStatus
 * query). An approval gate waits for the drillDecision Update (or its timeout); the
 * evacuation runs as a child evacuateAz workflow; drillAbort stops after the current step.
 *
 * Cleanup always runs, in a non-cancellable scope, after a failed step, a rejection, an
 * abort or a cancellation of the workflow, and at the end of a successful drill whose
 * failback step has run: active faults are lifted first (the source AZ must answer again
 * before anything moves back), then the drilled jobs are failed back unless the failback
 * step already did it. So no drill leaves jobs stranded in the target AZ.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  isCancellation,
  condition,
  patched,
  executeChild,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { drillEvacuationId, type DrillInput, type DrillResult, type DrillStatus, type DrillStepRecord, type CleanupRecord } from '../domain/drill.js';
import { failbackWorkflowId, type EvacuationInput, type EvacuationResult } from '../domain/evacuation.js';
import { stepKind, type FaultStep, type RunbookStep } from '../domain/runbook.js';
import { messageOf } from '../domain/error-message.js';
import { drillFailureMessage } from '../domain/outcome-message.js';
import { evacuationDetails, evacuationSummary, failbackSummary } from '../domain/run-summary.js';
import { drillAbortUpdate, drillDecisionUpdate, drillStatusQuery } from './drill-messages.js';
import { CATALOG_SYNC_ACTIVITY } from './catalog-sync.js';
import { evacuateAz } from './evacuate-az.js';
import { failbackDrill } from './failback.js';
import { abortSignal } from './messages.js';
import { FAILURES_CLOSE_AS_FAILURES, outcomeFailure, settledResult } from './outcome-failure.js';
import { releaseAzHolds, takeAzHolds } from './az-hold.js';
import { searchAttributesOf } from './search-attributes.js';

type Activities = ReturnType<typeof createActivities>;

const retry = { initialInterval: '1s', maximumInterval: '15s', maximumAttempts: 5 };
const acts = proxyActivities<Activities>({ startToCloseTimeout: '10m', heartbeatTimeout: '60s', retry });
/** Verification waits for checkpoints in the target AZ: long, heartbeating. */
const slow = proxyActivities<Activities>({ startToCloseTimeout: '30m', heartbeatTimeout: '60s', retry });
/** Catalog syncs: timed for a 40,000-job fleet, heartbeating (catalog-sync.ts). */
const catalog = proxyActivities<Activities>(CATALOG_SYNC_ACTIVITY);

/** Failback jobs in flight at once. */
const FAILBACK_WINDOW = 20;

/** A step stopped the drill. */
class StepStop extends Error {
  constructor(readonly state: 'failed' | 'rejected' | 'aborted', message: string) {
    super(message);
  }
}

/**
 * Run a drill from its runbook.
 * @returns the result of a drill that passed
 * @throws ApplicationFailure DrillFailed / DrillRejected / DrillAborted (non-retryable) after
 *   cleanup and report when it did not pass: the step that stopped it in the message, the
 *   DrillResult as its detail (read it with settledResult)
 */
export async function drill(input: DrillInput): Promise<DrillResult> {
  const { runbook } = input;
  const drillId = workflowInfo().workflowId;
  const status: DrillStatus = {
    drillId, runbook: runbook.name, sourceAz: runbook.sourceAz, targetAz: runbook.targetAz, phase: 'running',
    requestedBy: input.requestedBy, startedAtMs: Date.now(), decisions: [], cleanup: [],
    steps: runbook.steps.map((s, index) => ({ index, kind: stepKind(s), state: 'pending' })),
  };
  upsertSearchAttributes(searchAttributesOf({ kind: 'drill', run: drillEvacuationId(drillId), mode: 'drill', sourceAz: runbook.sourceAz, targetAz: runbook.targetAz }));

  let decision: { decision: 'approve' | 'reject'; by: string; comment?: string } | undefined;
  let abortedBy: string | undefined;
  let evacuation: ChildWorkflowHandle<typeof evacuateAz> | undefined;
  let evacuationDone = false;
  let failedBack = false;
  const activeFaults: FaultStep[] = [];
  const finished = (): boolean => !['running', 'awaiting-approval'].includes(status.phase);

  setHandler(drillStatusQuery, () => status);
  setHandler(drillDecisionUpdate, (d) => {
    decision = d;
    status.decisions.push({ index: status.approval!.index, decision: d.decision, by: d.by, ...(d.comment ? { comment: d.comment } : {}), atMs: Date.now() });
    return status;
  }, { validator: (d) => {
    if (!status.approval) throw new Error(`drill ${drillId} has no open approval gate (phase ${status.phase})`);
    if (d.decision !== 'approve' && d.decision !== 'reject') throw new Error(`decision must be approve or reject, got ${String(d.decision)}`);
    if (!d.by || d.by.trim() === '') throw new Error('a decision needs who made it (by)');
  } });
  setHandler(drillAbortUpdate, async ({ by, reason }) => {
    abortedBy = `${by}: ${reason}`;
    status.abortedBy = abortedBy;
    if (evacuation && !evacuationDone) await evacuation.signal(abortSignal, { by, reason: `drill aborted: ${reason}` });
    return status;
  }, { validator: ({ reason }) => {
    if (!reason || reason.trim() === '') throw new Error('abort needs a reason (e.g. --reason "target AZ is busy")');
    if (finished()) throw new Error(`drill ${drillId} is already ${status.phase}`);
    if (abortedBy) throw new Error(`drill ${drillId} is already being aborted (${abortedBy})`);
  } });

  const evacuationId = drillEvacuationId(drillId);
  /** The evacuation's run (its result's runId), whose records verify reads. */
  let evacuationRunId: string | undefined;

  /** One step: its work, returning a summary; throws StepStop to end the drill. */
  const runStep = async (step: RunbookStep, rec: DrillStepRecord): Promise<string> => {
    if ('readiness' in step) {
      const limits = step.readiness;
      const synced = await catalog.syncCatalog.executeWithOptions({ summary: 'catalog sync for the readiness check' }, []);
      const plan = await acts.planEvacuation.executeWithOptions({ summary: `readiness: plan ${runbook.sourceAz} → ${runbook.targetAz} without acting` }, [{
        evacuationId: `${evacuationId}.readiness`, sourceAz: runbook.sourceAz, targetAz: runbook.targetAz, mode: 'drill',
        catalogVersion: synced.version, scope: evacuateScope(), requestedBy: input.requestedBy, triggeredAtMs: Date.now(),
      }]);
      const jobs = plan.tiers.reduce((n, t) => n + t.jobs, 0);
      const summary = `${jobs} job(s) plannable, ${plan.notAdmitted} not admitted, ${plan.findings} finding(s) (${plan.blockingFindings} blocking) on catalog v${plan.catalogVersion}`;
      const over = [
        limits.maxFindings !== undefined && plan.findings > limits.maxFindings ? `findings ${plan.findings} > ${limits.maxFindings}` : '',
        plan.blockingFindings > (limits.maxBlockingFindings ?? 0) ? `blocking findings ${plan.blockingFindings} > ${limits.maxBlockingFindings ?? 0}` : '',
        limits.maxNotAdmitted !== undefined && plan.notAdmitted > limits.maxNotAdmitted ? `not admitted ${plan.notAdmitted} > ${limits.maxNotAdmitted}` : '',
      ].filter(Boolean);
      if (over.length > 0) throw new StepStop('failed', `${summary}: ${over.join(', ')}`);
      return summary;
    }
    if ('approval' in step) {
      const timeoutMs = step.approval.timeoutSeconds * 1000;
      decision = undefined;
      status.approval = { index: rec.index, prompt: step.approval.prompt, deadlineMs: Date.now() + timeoutMs };
      status.phase = 'awaiting-approval';
      const decided = await condition(() => decision !== undefined || abortedBy !== undefined, timeoutMs);
      delete status.approval;
      status.phase = 'running';
      if (abortedBy) throw new StepStop('aborted', `aborted while awaiting approval (${abortedBy})`);
      if (!decided || !decision) throw new StepStop('rejected', `no decision within ${step.approval.timeoutSeconds}s: treated as a rejection`);
      const d: { decision: 'approve' | 'reject'; by: string; comment?: string } = decision;
      const said = `${d.by}${d.comment ? ` ("${d.comment}")` : ''}`;
      if (d.decision === 'reject') throw new StepStop('rejected', `rejected by ${said}`);
      return `approved by ${said}`;
    }
    if ('fault' in step) {
      activeFaults.push(step.fault);
      return acts.drillFault.executeWithOptions({ summary: `inject fault ${JSON.stringify(step.fault)}` }, [{ drillId, sourceAz: runbook.sourceAz, targetAz: runbook.targetAz, fault: step.fault, teardown: false }]);
    }
    if ('evacuate' in step) {
      const synced = await catalog.syncCatalog.executeWithOptions({ summary: `catalog sync before the evacuation ${runbook.sourceAz} → ${runbook.targetAz}` }, []);
      status.evacuationId = evacuationId;
      // Started outside the drill's cancellation scope: cancelling the drill aborts the
      // evacuation with a signal (jobs in flight finish) instead of cancelling it mid-step.
      const request = {
        evacuationId, sourceAz: runbook.sourceAz, targetAz: runbook.targetAz, mode: step.evacuate.mode ?? 'drill',
        catalogVersion: synced.version, scope: evacuateScope(), preload: step.evacuate.preload ?? true,
        requestedBy: `drill ${drillId} (${input.requestedBy})`, triggeredAtMs: Date.now(), heldBy: drillId,
      } satisfies EvacuationInput;
      evacuation = await CancellationScope.nonCancellable(() => startChild(evacuateAz, {
        workflowId: evacuationId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [request],
        typedSearchAttributes: searchAttributesOf({ kind: 'evacuation', run: evacuationId, mode: request.mode, sourceAz: request.sourceAz, targetAz: request.targetAz }),
        staticSummary: `${evacuationSummary(request)} (drill ${drillId})`,
        staticDetails: evacuationDetails(request),
      }));
      if (abortedBy) await evacuation.signal(abortSignal, { by: 'drill', reason: `drill aborted: ${abortedBy}` });
      const result = await awaitEvacuation();
      status.evacuationReportFile = result.reportFile;
      if (result.runId) evacuationRunId = result.runId;
      const t = result.tiers;
      const summary = `${result.phase}: ${t.reduce((n, x) => n + x.succeeded, 0)} RUNNING, ${t.reduce((n, x) => n + x.failed, 0)} failed, ${t.reduce((n, x) => n + x.skipped, 0)} skipped of ${t.reduce((n, x) => n + x.planned, 0)} planned`;
      if (result.phase === 'aborted') throw new StepStop('aborted', summary);
      if (!result.success) throw new StepStop('failed', summary);
      return summary;
    }
    if ('verify' in step) {
      const checks = await slow.verifyDrill.executeWithOptions({ summary: `verify ${evacuationId} against the runbook's targets` }, [{ evacuationId, ...(evacuationRunId ? { runId: evacuationRunId } : {}), reportFile: status.evacuationReportFile!, targets: step.verify }]);
      rec.checks = checks;
      const failed = checks.filter((c) => !c.passed);
      const summary = `${checks.length - failed.length}/${checks.length} checks passed${failed.length ? `; failed: ${failed.map((c) => c.detail).join('; ')}` : ''}`;
      if (failed.length > 0) throw new StepStop('failed', summary);
      return summary;
    }
    if ('failback' in step) {
      const summary = await failback(step.failback.sourceAzTimeoutSeconds ?? 600);
      return summary;
    }
    return 'report written at the end of the drill';
  };

  /** The evacuate step's scope, for readiness and the evacuation alike. */
  function evacuateScope() {
    const e = runbook.steps.find((s): s is { evacuate: NonNullable<Extract<RunbookStep, { evacuate: unknown }>['evacuate']> } => 'evacuate' in s)?.evacuate;
    if (!e || (!e.tiers && !e.teams && !e.jobs)) return undefined;
    return { tiers: e.tiers, teams: e.teams, jobs: e.jobs };
  }

  async function awaitEvacuation(): Promise<EvacuationResult> {
    try {
      return await settledResult(evacuation!.result());
    } finally {
      evacuationDone = true;
    }
  }

  /** Lift faults, wait for the source AZ, fail every drilled job back (child failbackDrill), resume preempted jobs. */
  async function failback(sourceAzTimeoutSeconds: number): Promise<string> {
    const lifted = await liftFaults();
    await acts.awaitAzUp.executeWithOptions({ summary: `wait for ${runbook.sourceAz} to answer (at most ${sourceAzTimeoutSeconds} s) before failback` }, [{ az: runbook.sourceAz, timeoutSeconds: sourceAzTimeoutSeconds }]);
    const r = await executeChild(failbackDrill, {
      workflowId: failbackWorkflowId(evacuationId),
      args: [{ drillId: evacuationId, window: FAILBACK_WINDOW, drillOwned: true, requestedBy: `drill ${drillId} (${input.requestedBy})` }],
      typedSearchAttributes: searchAttributesOf({ kind: 'failback', run: evacuationId }),
      staticSummary: failbackSummary(evacuationId),
    });
    failedBack = true;
    const summary = `${lifted ? `${lifted}; ` : ''}${r.restoredFromTarget} job(s) restored in ${runbook.sourceAz} from fresh savepoints, ${r.restoredOwn} from their own snapshots, ${r.untouched} never stopped; ${r.removed} drill copies deleted in ${runbook.targetAz}; ${r.preemptedResumed} preempted job(s) resumed`;
    if (r.failed.length > 0) throw new StepStop('failed', `${summary}; ${r.failed.length} failed: ${r.failed.slice(0, 5).map((f) => `${f.key}: ${f.reason}`).join('; ')}`);
    return summary;
  }

  async function liftFaults(): Promise<string> {
    const done: string[] = [];
    while (activeFaults.length > 0) {
      const fault = activeFaults[activeFaults.length - 1]!;
      done.push(await acts.drillFault.executeWithOptions({ summary: `lift fault ${JSON.stringify(fault)}` }, [{ drillId, sourceAz: runbook.sourceAz, targetAz: runbook.targetAz, fault, teardown: true }]));
      activeFaults.pop();
    }
    return done.join('; ');
  }

  // One drill or evacuation at a time per AZ: a drill whose AZs are in use is rejected before
  // its first step, naming the one that runs. patched: drills recorded before holds replay without.
  const holds = patched('az-holds')
    ? await takeAzHolds({
      workflowId: drillId, kind: 'drill', mode: 'drill', sourceAz: runbook.sourceAz, targetAz: runbook.targetAz,
      sinceMs: Date.now(), requestedBy: input.requestedBy,
    }, false, input.taskQueue)
    : undefined;
  if (holds?.refusal) status.refused = holds.refusal;
  let stop: StepStop | undefined = holds?.refusal ? new StepStop('rejected', holds.refusal) : undefined;
  for (const [i, step] of runbook.steps.entries()) {
    const rec = status.steps[i]!;
    if (stop) break;
    if (abortedBy) { stop = new StepStop('aborted', `aborted (${abortedBy})`); break; }
    rec.state = 'running';
    rec.startedAtMs = Date.now();
    try {
      rec.summary = await runStep(step, rec);
      rec.state = 'passed';
    } catch (err) {
      stop = err instanceof StepStop ? err
        : isCancellation(err) ? new StepStop('aborted', 'drill workflow cancelled')
          : new StepStop('failed', messageOf(err));
      rec.state = stop.state;
      rec.summary = rec.summary ?? stop.message;
      if (!(err instanceof StepStop)) rec.summary = stop.message;
    } finally {
      rec.endedAtMs = Date.now();
    }
    if (stop) break;
  }
  for (const rec of status.steps) if (rec.state === 'pending') rec.state = 'not-run';

  // Cleanup: never cancelled, so a cancelled or aborted drill still leaves nothing behind.
  await CancellationScope.nonCancellable(async () => {
    status.phase = 'cleaning-up';
    if (evacuation && !evacuationDone) {
      await evacuation.signal(abortSignal, { by: 'drill', reason: stop?.message ?? 'drill stopped' }).catch(() => undefined);
      await awaitEvacuation().catch(() => undefined);
    }
    if (evacuation && !failedBack) {
      const rec: CleanupRecord = { kind: 'failback', state: 'running' };
      status.cleanup.push(rec);
      try {
        rec.summary = await failback(600);
        rec.state = 'passed';
      } catch (err) {
        rec.state = 'failed';
        rec.summary = messageOf(err);
      }
    }
    if (activeFaults.length > 0) {
      const rec: CleanupRecord = { kind: 'fault-teardown', state: 'running' };
      status.cleanup.push(rec);
      try {
        rec.summary = await liftFaults();
        rec.state = 'passed';
      } catch (err) {
        rec.state = 'failed';
        rec.summary = messageOf(err);
      }
    }
    // The final phase becomes visible together with the report files (watchers stop at it).
    const phase = stop ? stop.state : status.cleanup.some((c) => c.state === 'failed') ? 'failed' : 'passed';
    const files = await acts.writeDrillReport.executeWithOptions({ summary: `write the drill report (${phase})` }, [{ ...status, phase }]);
    Object.assign(status, { phase, reportFile: files.json, reportHtmlFile: files.html });
  });
  await releaseAzHolds(holds);
  const result: DrillResult = { ...status, passed: status.phase === 'passed' };
  // A drill that did not pass closes as Failed, its result inside (workflows/outcome-failure.ts),
  // after its cleanup and report.
  if (!result.passed && patched(FAILURES_CLOSE_AS_FAILURES)) {
    const type = result.phase === 'aborted' ? 'DrillAborted' : result.phase === 'rejected' ? 'DrillRejected' : 'DrillFailed';
    throw outcomeFailure(type, drillFailureMessage(result), result);
  }
  return result;
}


/**
 * The evacuation report: pure assembly from the stored plan and the recorded job
 * outcomes. Every in-scope job appears exactly once: admitted jobs with their recorded
 * outcome (or `failed: no outcome recorded`, never dropped), jobs the plan could not
 * admit as `skipped` with the planner's reason.
 *
 * Clock: durations are wall seconds of the worker. Under a simulator time scale X the
 * targets (RTO, RPO) are divided by X, so achieved vs target stays meaningful.
 */
import { stopsWithSavepoint, type EvacuationMode, type FenceRecord, type FenceState, type JobOutcome } from './evacuation.js';
import type { JobRtoForecast, Plan, Strategy, Tier, TiersPolicy } from './types.js';
import { TIERS } from './types.js';
import { secondsSinceTrigger as secondsSince, tierRto } from './tier-rto.js';
import { median } from './rto-estimate.js';
import { tierRpoNow } from './rpo-now.js';

/** One tier's line of the report. Seconds on the report's clock. */
export interface TierReport {
  tier: Tier;
  jobs: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Trigger → last job of the tier RUNNING, seconds (null when none ran): domain/tier-rto.ts tierRto, as the console shows it. */
  rtoSeconds: number | null;
  rtoTargetSeconds: number;
  /** Oldest snapshot restored from in this tier, seconds (null when none restored). */
  worstRpoSeconds: number | null;
  rpoTargetSeconds: number;
  rtoMet: boolean;
  /**
   * What the plan found before acting (Plan.protection, domain/rpo-now.ts): the worst RPO an
   * emergency evacuation would have paid at that moment (seconds, null when no job of the tier
   * had a restorable snapshot in the target AZ), and the jobs unprotected. In a drill or planned move, whose
   * jobs restore from the savepoint they stopped with, this is what the night would have cost.
   * Absent when the plan has no RPO-now or no restoring job of the tier.
   */
  rpoAtPlan?: { worstAgeSeconds: number | null; unprotected: number };
  /** Planned moves and drills (stopsWithSavepoint): the tier's stop-with-savepoint figures (plannedFigures). */
  planned?: PlannedFigures;
}

/**
 * A tier's figures in a planned move, seconds on the report's clock, each the worst (largest)
 * over the tier's jobs that ended RUNNING after a stop-with-savepoint (null when none did):
 * trigger → the source's savepoint reported, that savepoint → RUNNING in the target AZ
 * (replication, deploy, start-up), and trigger → RUNNING.
 */
export interface PlannedFigures {
  /** Jobs of the tier stopped with a savepoint (moved or not). */
  stopped: number;
  toSavepointSeconds: number | null;
  savepointToRunningSeconds: number | null;
  totalSeconds: number | null;
}

/** One job's line. Step times are seconds since the trigger. */
export interface JobReport {
  name: string;
  namespace: string;
  tier: Tier;
  catalogTier?: Tier;
  strategy: Strategy;
  outcome: JobOutcome['outcome'];
  reason?: string;
  snapshotPath?: string;
  snapshotAgeSeconds?: number;
  /** Planned moves: the savepoint the source was stopped with (see JobOutcome.savepointPath). */
  savepointPath?: string;
  jobId?: string;
  /**
   * How the source copy was fenced, as last known when the report was written (the job's own
   * fence step, or a later fencing pass: see FenceState). `requested` means "fence requested,
   * not observed": the source copy may still run.
   */
  fence?: FenceState;
  /** The fence in words (fenceWords), e.g. "fence requested, not observed". */
  fenceText?: string;
  /** What was last seen of the source copy, and when (seconds since the trigger). */
  fenceSeen?: { seen: string; atSeconds: number };
  /** The workflow whose history holds the job's activities (JobOutcome.workflowId: its shard); absent for runs with a workflow per job. */
  workflowId?: string;
  /** Trigger → the job was dispatched (its workflow started, in runs with a workflow per job), seconds. */
  startSeconds?: number;
  /** Trigger → RUNNING, seconds (running jobs only). */
  rtoSeconds?: number;
  /**
   * What showed the job's restore ended before it counted RUNNING (JobOutcome.restore), and
   * for `checkpoint-after-restore`, trigger → that first checkpoint after the restore, seconds.
   */
  restore?: JobOutcome['restore'];
  restoreVerifiedSeconds?: number;
  /** The start-up deadline the job had once deployed, and why (JobOutcome.startupDeadline: wall seconds after its apply). */
  startupDeadline?: JobOutcome['startupDeadline'];
  /**
   * The plan's forecast of this job (Plan.rto, domain/rto-estimate.ts), beside `rtoSeconds`
   * achieved: trigger → RUNNING predicted (`seconds`), its parts and its inputs. Absent for
   * jobs not admitted and in plans without a forecast.
   */
  predicted?: Pick<JobRtoForecast, 'seconds' | 'misses' | 'parts' | 'inputs'>;
  steps: Record<string, { startSeconds: number; endSeconds: number; attempts: number }>;
}

/** The whole report (`--report-json`). */
export interface EvacuationReport {
  evacuationId: string;
  /** The run reported on (EvacuationInput.runId): its records are under recordsKey(). */
  runId?: string;
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  requestedBy?: string;
  catalogVersion: number;
  /** Which clock durations are in; `timeScale` model seconds pass per wall second. */
  clock: 'wall';
  timeScale: number;
  startedAt: string;
  wallSeconds: number;
  abortedBy?: string;
  preemptionError?: string;
  /** Tiers whose workflow failed (an engine fault, not a job's), with the failure's message; their jobs without an outcome say so. */
  tierFailures?: Partial<Record<Tier, string>>;
  /**
   * Fences not done when their target copy started (guarantee 2), as of the report:
   * `pending` are in a source AZ that did not answer (not even requested yet); `notObserved`
   * were requested (the suspend accepted) but not seen stopped — fence requested, not
   * observed: they may still run; the follow-up workflow `followUpWorkflowId` (when one runs)
   * suspends the pending ones when their AZ answers and keeps looking at the others;
   * `fencedLater` were seen stopped after the fact.
   */
  fencing?: { pending: string[]; notObserved: string[]; fencedLater: string[]; followUpWorkflowId?: string };
  /** All P0–P2 jobs in scope ended RUNNING in the target AZ (and nothing was aborted). */
  success: boolean;
  tiers: TierReport[];
  preemptions: Array<{ key: string; cores: number; forJob: string }>;
  findings: Plan['findings'];
  jobs: JobReport[];
}

/** Inputs of buildReport; times are epoch ms. */
export interface ReportInput {
  evacuationId: string;
  runId?: string;
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  requestedBy?: string;
  startedAtMs: number;
  endedAtMs: number;
  abortedBy?: string;
  preemptionError?: string;
  /** Tiers whose workflow failed, with the failure's message. */
  tierFailures?: Partial<Record<Tier, string>>;
  /** The evacuation's last fencing pass (with its follow-up's id when one runs). */
  fences?: { pending: string[]; notObserved: string[]; fencedLater: string[]; followUpWorkflowId?: string };
  /** The run's fence records at the end (fences not done when their target copy started), one per job key. */
  fenceRecords?: FenceRecord[];
  plan: Plan;
  policy: TiersPolicy;
  outcomes: JobOutcome[];
}


/** A fence state in the report's words. */
export function fenceWords(state: FenceState): string {
  switch (state) {
    case 'stopped': return 'fenced: source copy seen stopped';
    case 'absent': return 'fenced: no source copy';
    case 'requested': return 'fence requested, not observed: the source copy may still run';
    case 'unreachable': return 'fence pending: source API unreachable, not requested yet';
  }
}

/** A fence record's state as the job line's FenceState. */
function recordFence(r: FenceRecord): FenceState {
  return r.state === 'pending' ? 'unreachable' : r.state;
}

/** Assemble the report. Pure. */
export function buildReport(input: ReportInput): EvacuationReport {
  const t0 = input.startedAtMs;
  const byKey = new Map(input.outcomes.map((o) => [o.key, o]));
  const fenceByKey = new Map((input.fenceRecords ?? []).map((r) => [r.key, r]));
  const forecastByKey = new Map((input.plan.rto?.jobs ?? []).map((f) => [f.key, f]));
  const predictedOf = (key: string): Pick<JobReport, 'predicted'> => {
    const f = forecastByKey.get(key);
    return f ? { predicted: { seconds: f.seconds, misses: f.misses, parts: f.parts, inputs: f.inputs } } : {};
  };
  const jobs: JobReport[] = input.plan.admitted.map((p) => {
    const o = byKey.get(p.key);
    if (!o) {
      const tierFailure = input.tierFailures?.[p.tier];
      const reason = tierFailure ? `no outcome recorded: the ${p.tier} tier workflow failed (${tierFailure})` : 'no outcome recorded for this job';
      return { name: p.name, namespace: p.namespace, tier: p.tier, strategy: p.strategy, outcome: 'failed', reason, ...predictedOf(p.key), steps: {} };
    }
    const steps: JobReport['steps'] = {};
    for (const [name, s] of Object.entries(o.steps)) {
      steps[name] = { startSeconds: secondsSince(t0, s.startedAtMs), endSeconds: secondsSince(t0, s.endedAtMs), attempts: s.attempts };
    }
    const line: JobReport = { name: p.name, namespace: p.namespace, tier: p.tier, strategy: o.strategy, outcome: o.outcome, startSeconds: secondsSince(t0, o.startedAtMs), steps };
    if (p.catalogTier !== p.tier) line.catalogTier = p.catalogTier;
    if (o.reason) line.reason = o.reason;
    if (o.snapshotPath) line.snapshotPath = o.snapshotPath;
    if (o.snapshotAgeSeconds !== undefined) line.snapshotAgeSeconds = Math.round(o.snapshotAgeSeconds * 100) / 100;
    if (o.savepointPath) line.savepointPath = o.savepointPath;
    if (o.jobId) line.jobId = o.jobId;
    if (o.workflowId) line.workflowId = o.workflowId;
    // A fence record is newer than the job's own fence step: a later pass saw it stop (or not).
    const record = fenceByKey.get(p.key);
    const fence = record ? recordFence(record) : o.fence;
    const seen = record?.seen ?? o.fenceSeen;
    if (fence) {
      line.fence = fence;
      line.fenceText = fenceWords(fence);
    }
    if (seen) line.fenceSeen = { seen: seen.seen, atSeconds: secondsSince(t0, seen.atMs) };
    if (o.outcome === 'running') line.rtoSeconds = secondsSince(t0, o.endedAtMs);
    if (o.restore) line.restore = o.restore;
    if (o.restore?.kind === 'checkpoint-after-restore') line.restoreVerifiedSeconds = secondsSince(t0, o.restore.checkpointAtMs);
    if (o.startupDeadline) line.startupDeadline = o.startupDeadline;
    Object.assign(line, predictedOf(p.key));
    return line;
  });
  for (const n of input.plan.notAdmitted) {
    const [namespace = '', name = ''] = n.key.split('/');
    jobs.push({ name, namespace, tier: n.tier, strategy: input.policy.tiers[n.tier].strategy, outcome: 'skipped', reason: `not admitted: ${n.reason}`, steps: {} });
  }

  const rpoAtPlan = new Map(tierRpoNow(input.plan.protection?.jobs ?? []).map((t) => [t.tier, { worstAgeSeconds: t.worstAgeSeconds, unprotected: t.unprotected }]));
  const tiers: TierReport[] = TIERS.map((tier) => {
    const mine = jobs.filter((j) => j.tier === tier);
    const rtos = mine.flatMap((j) => (j.rtoSeconds !== undefined ? [j.rtoSeconds] : []));
    const rpos = mine.flatMap((j) => (j.snapshotAgeSeconds !== undefined ? [j.snapshotAgeSeconds] : []));
    const policy = input.policy.tiers[tier];
    const rto = tierRto(rtos, policy.rtoSeconds);
    return {
      tier, jobs: mine.length,
      succeeded: mine.filter((j) => j.outcome === 'running').length,
      failed: mine.filter((j) => j.outcome === 'failed').length,
      skipped: mine.filter((j) => j.outcome === 'skipped').length,
      rtoSeconds: rto.seconds, rtoTargetSeconds: rto.targetSeconds,
      worstRpoSeconds: rpos.length ? Math.max(...rpos) : null,
      rpoTargetSeconds: policy.rpoSeconds,
      rtoMet: rto.met,
      ...(rpoAtPlan.has(tier) ? { rpoAtPlan: rpoAtPlan.get(tier)! } : {}),
      ...(stopsWithSavepoint(input.mode) ? { planned: plannedFigures(mine) } : {}),
    };
  });
  const critical = jobs.filter((j) => j.tier !== 'P3');
  return {
    evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), sourceAz: input.sourceAz, targetAz: input.targetAz, mode: input.mode,
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    catalogVersion: input.plan.catalogVersion, clock: 'wall', timeScale: input.policy.timeScale,
    startedAt: new Date(t0).toISOString(), wallSeconds: secondsSince(t0, input.endedAtMs),
    ...(input.abortedBy ? { abortedBy: input.abortedBy } : {}),
    ...(input.preemptionError ? { preemptionError: input.preemptionError } : {}),
    ...(input.tierFailures && Object.keys(input.tierFailures).length > 0 ? { tierFailures: input.tierFailures } : {}),
    ...(input.fences ? {
      fencing: {
        pending: input.fences.pending, notObserved: input.fences.notObserved, fencedLater: input.fences.fencedLater,
        ...(input.fences.followUpWorkflowId ? { followUpWorkflowId: input.fences.followUpWorkflowId } : {}),
      },
    } : {}),
    success: !input.abortedBy && Object.keys(input.tierFailures ?? {}).length === 0 && critical.every((j) => j.outcome === 'running'),
    tiers,
    preemptions: input.plan.preemptions.map((p) => ({ key: p.key, cores: p.cores, forJob: p.forJob })),
    findings: input.plan.findings,
    jobs,
  };
}

/** A tier's planned-move figures from its job lines (see PlannedFigures). Pure. */
export function plannedFigures(jobs: JobReport[]): PlannedFigures {
  const stopped = jobs.filter((j) => j.steps.savepoint !== undefined && j.savepointPath !== undefined);
  const moved = stopped.filter((j) => j.outcome === 'running' && j.rtoSeconds !== undefined);
  const worst = (values: number[]): number | null => (values.length ? Math.round(Math.max(...values) * 100) / 100 : null);
  return {
    stopped: stopped.length,
    toSavepointSeconds: worst(moved.map((j) => j.steps.savepoint!.endSeconds)),
    savepointToRunningSeconds: worst(moved.map((j) => j.rtoSeconds! - j.steps.savepoint!.endSeconds)),
    totalSeconds: worst(moved.map((j) => j.rtoSeconds!)),
  };
}

/** One job's predicted vs achieved time to RUNNING (seconds on the report's clock). */
export interface PredictionRow {
  key: string;
  tier: Tier;
  predictedSeconds: number;
  /** null when the job did not end RUNNING. */
  achievedSeconds: number | null;
  rtoTargetSeconds: number;
  predictedMiss: boolean;
  achievedMiss: boolean;
  stateBytes: number;
  stateFrom: NonNullable<JobReport['predicted']>['inputs']['stateFrom'];
}

/** How well the plan's forecast matched the run. */
export interface PredictionSummary {
  /** Jobs with a forecast. */
  jobs: number;
  predictedMisses: number;
  achievedMisses: number;
  /** Median of |achieved − predicted| over the jobs that ended RUNNING, seconds (null when none did). */
  medianErrorSeconds: number | null;
  /** Rows, worst first: predicted or achieved misses, then by the largest |achieved − predicted|. */
  rows: PredictionRow[];
}

/** The report's predicted-beside-achieved view, for its renderings (HTML, terminal). Pure. */
export function predictionSummary(report: Pick<EvacuationReport, 'jobs' | 'tiers'>): PredictionSummary {
  const target = new Map(report.tiers.map((t) => [t.tier, t.rtoTargetSeconds]));
  const rows: PredictionRow[] = report.jobs.flatMap((j) => {
    if (!j.predicted) return [];
    const rtoTargetSeconds = target.get(j.tier) ?? 0;
    const achievedSeconds = j.outcome === 'running' && j.rtoSeconds !== undefined ? j.rtoSeconds : null;
    return [{
      key: `${j.namespace}/${j.name}`, tier: j.tier, predictedSeconds: j.predicted.seconds, achievedSeconds, rtoTargetSeconds,
      predictedMiss: j.predicted.misses, achievedMiss: achievedSeconds !== null && achievedSeconds > rtoTargetSeconds,
      stateBytes: j.predicted.inputs.stateBytes, stateFrom: j.predicted.inputs.stateFrom,
    }];
  });
  const error = (r: PredictionRow): number => (r.achievedSeconds === null ? Infinity : Math.abs(r.achievedSeconds - r.predictedSeconds));
  const missing = (r: PredictionRow): number => (r.predictedMiss || r.achievedMiss ? 1 : 0);
  rows.sort((a, b) => missing(b) - missing(a) || error(b) - error(a) || (a.key < b.key ? -1 : 1));
  const errors = rows.filter((r) => r.achievedSeconds !== null).map(error);
  return {
    jobs: rows.length,
    predictedMisses: rows.filter((r) => r.predictedMiss).length,
    achievedMisses: rows.filter((r) => r.achievedMiss).length,
    medianErrorSeconds: errors.length === 0 ? null : Math.round(median(errors) * 100) / 100,
    rows,
  };
}

/**
 * What the console shows of a running or finished evacuation, beyond the workflow's progress
 * query: each finished tier's RTO achieved (domain/tier-rto.ts, the report's definition, from
 * the recorded job outcomes: frozen once the tier is done), the failed jobs with their
 * reasons as recorded so far, the verdict once the report is written (domain/verdict.ts) and
 * links into the Temporal UI. Pure.
 */
import { jobWorkflowId, tierWorkflowId, type EvacuationProgress, type JobOutcome, type TierProgress } from '../domain/evacuation.js';
import type { EvacuationReport } from '../domain/report.js';
import { secondsSinceTrigger, tierRto, type TierRto } from '../domain/tier-rto.js';
import type { Tier } from '../domain/types.js';
import { verdictOf, type Verdict } from '../domain/verdict.js';

/** Where the Temporal UI is: its base URL (AZ_EVAC_TEMPORAL_UI_URL) and the namespace the workflows run in. */
export interface TemporalUi {
  baseUrl: string;
  namespace: string;
}

/**
 * The Temporal UI page of workflow `workflowId` (its latest run: the UI's
 * /namespaces/<ns>/workflows/<id> route redirects there, see docs/operating.md "Console").
 * @returns undefined when no UI is configured
 */
export function temporalUiLink(ui: TemporalUi | undefined, workflowId: string): string | undefined {
  if (!ui?.baseUrl) return undefined;
  return `${ui.baseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** One tier as the console shows it. */
export interface TierView extends TierProgress {
  /** The tier's RTO achieved (trigger → its last job RUNNING), once the tier is done; null before (the page shows time since the trigger). */
  rto: TierRto | null;
  /** The tier workflow in the Temporal UI. */
  temporalUrl?: string;
}

/** A failed job with its reason. */
export interface FailedJob {
  key: string;
  tier: Tier;
  reason: string;
  /** The workflow that ran its steps in the Temporal UI: its shard (JobOutcome.workflowId), or its own job workflow in older runs. */
  temporalUrl?: string;
}

/** The progress answer of the console's API and event stream. */
export interface ProgressView extends Omit<EvacuationProgress, 'tiers'> {
  tiers: TierView[];
  /** Failed jobs whose outcome is recorded (shards record outcomes in batches: `count` may trail the tiers' failed counters until then). */
  failedJobs: { count: number; items: FailedJob[] };
  /** Once the report is written: how it went (never `success` beside a failed job, a missed RTO or an abort). */
  verdict: Verdict | null;
  /** The evacuation workflow in the Temporal UI. */
  temporalUrl?: string;
}

/**
 * Combine the progress query's answer with the recorded outcomes and the report.
 * @param outcomes the run's recorded outcomes (recordsKey), any order; [] when none yet
 * @param report the finished run's report, when written
 * @param maxFailed most failed jobs listed (the count is complete)
 */
export function progressView(p: EvacuationProgress, outcomes: readonly JobOutcome[], report: EvacuationReport | undefined, ui: TemporalUi | undefined, maxFailed = 50): ProgressView {
  const tiers = p.tiers.map((t): TierView => {
    const running = outcomes.filter((o) => o.tier === t.tier && o.outcome === 'running').map((o) => secondsSinceTrigger(p.startedAtMs, o.endedAtMs));
    const link = temporalUiLink(ui, tierWorkflowId(p.evacuationId, t.tier));
    return { ...t, rto: t.state === 'done' ? tierRto(running, t.rtoTargetSeconds) : null, ...(link ? { temporalUrl: link } : {}) };
  });
  const failed = outcomes.filter((o) => o.outcome === 'failed').sort((a, b) => a.endedAtMs - b.endedAtMs);
  const items = failed.slice(0, maxFailed).map((o): FailedJob => {
    // The shard workflow that ran its steps; runs with a workflow per job name none.
    const link = temporalUiLink(ui, o.workflowId ?? jobWorkflowId(p.evacuationId, o.key));
    return { key: o.key, tier: o.tier, reason: o.reason ?? 'no reason recorded', ...(link ? { temporalUrl: link } : {}) };
  });
  const verdict = report ? verdictOf({ success: report.success, aborted: report.abortedBy !== undefined, tiers: report.tiers.map((t) => ({ met: t.rtoMet })) }) : null;
  const link = temporalUiLink(ui, p.evacuationId);
  return { ...p, tiers, failedJobs: { count: failed.length, items }, verdict, ...(link ? { temporalUrl: link } : {}) };
}

/**
 * Outcome recording and the final report: outcomes are batched into the evacuation
 * store by the tier workflows; the report is assembled from the store (never from
 * workflow payloads) and written as JSON and HTML into the report store (deps.reports).
 */
import { recordsKey, type EvacuationInput, type FencePassResult, type JobOutcome } from '../domain/evacuation.js';
import { buildReport, type TierReport } from '../domain/report.js';
import { renderReportHtml } from '../domain/report-html.js';
import type { Tier } from '../domain/types.js';
import type { ActivityDeps } from './deps.js';
import { recordRtoSamples } from './rto-samples.js';
import { activityLog } from './log.js';

/** Build the report activities over `deps`. */
export function createReportActivities(deps: ActivityDeps) {
  return {
    /** Record a batch of job outcomes (idempotent: a retried batch overwrites itself). */
    async recordOutcomes(evacuationId: string, outcomes: JobOutcome[]): Promise<void> {
      await deps.evacuations.putOutcomes(evacuationId, outcomes);
    },

    /**
     * Assemble and write the report: JSON (`<recordsKey>.report.json`), and the HTML people
     * look at beside it (`<recordsKey>.report.html`, see domain/report-html.ts); then its
     * measured jobs join the RTO estimate's samples (activities/rto-samples.ts).
     * @returns the JSON report's reference (ReportStore), whether every P0–P2 job ended RUNNING, and the tier lines
     */
    async writeReport(input: EvacuationInput & { startedAtMs: number; endedAtMs: number; abortedBy?: string; preemptionError?: string; tierFailures?: Partial<Record<Tier, string>>; fences?: FencePassResult & { followUpWorkflowId?: string } }): Promise<{ reportFile: string; success: boolean; tiers: TierReport[] }> {
      const records = recordsKey(input);
      const stored = await deps.evacuations.getPlan(records);
      const outcomes = await deps.evacuations.listOutcomes(records);
      const fenceRecords = input.fences ? await deps.evacuations.listFences(records) : [];
      const report = buildReport({
        evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), sourceAz: input.sourceAz, targetAz: input.targetAz, mode: input.mode,
        requestedBy: input.requestedBy, startedAtMs: input.startedAtMs, endedAtMs: input.endedAtMs,
        abortedBy: input.abortedBy, preemptionError: input.preemptionError, tierFailures: input.tierFailures, fences: input.fences,
        plan: stored.plan, policy: stored.policy, outcomes, fenceRecords,
      });
      await deps.reports.put(`${records}.report.html`, await renderReportHtml(report));
      const reportFile = await deps.reports.put(`${records}.report.json`, JSON.stringify(report));
      deps.metrics?.recordReport(report);
      // Its jobs measure the platform's rates for the next plans' RTO forecasts.
      await recordRtoSamples(deps.reports, report, stored.policy, stored.plan.rto?.pace?.factor);
      activityLog({ evacuationId: input.evacuationId }).info('report written', { reportFile, success: report.success, aborted: input.abortedBy !== undefined });
      return { reportFile, success: report.success, tiers: report.tiers };
    },
  };
}

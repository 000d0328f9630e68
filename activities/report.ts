/**
 * Outcome recording and the final report: outcomes are batched into the evacuation
 * store by the tier workflows; the report is assembled from the store (never from
 * workflow payloads) and written as JSON next to the other evacuation files.
 */
import { join } from 'node:path';
import { recordsKey, type EvacuationInput, type FencePassResult, type JobOutcome } from '../domain/evacuation.js';
import { buildReport, type TierReport } from '../domain/report.js';
import { renderReportHtml, reportHtmlFileOf } from '../domain/report-html.js';
import { writeJsonAtomic, writeTextAtomic } from '../platform/json-files.js';
import type { ActivityDeps } from './deps.js';

/** Report file of an evacuation in `reportDir`. */
function reportFileOf(reportDir: string, evacuationId: string): string {
  return join(reportDir, `${encodeURIComponent(evacuationId)}.report.json`);
}

/** Build the report activities over `deps`. */
export function createReportActivities(deps: ActivityDeps) {
  return {
    /** Record a batch of job outcomes (idempotent: a retried batch overwrites itself). */
    async recordOutcomes(evacuationId: string, outcomes: JobOutcome[]): Promise<void> {
      await deps.evacuations.putOutcomes(evacuationId, outcomes);
    },

    /**
     * Assemble and write the report: JSON, and the HTML people look at beside it
     * (`<id>.report.html`, see domain/report-html.ts).
     * @returns the report file, whether every P0–P2 job ended RUNNING, and the tier lines
     */
    async writeReport(input: EvacuationInput & { startedAtMs: number; endedAtMs: number; abortedBy?: string; preemptionError?: string; fences?: FencePassResult & { followUpWorkflowId: string } }): Promise<{ reportFile: string; success: boolean; tiers: TierReport[] }> {
      const records = recordsKey(input);
      const stored = await deps.evacuations.getPlan(records);
      const outcomes = await deps.evacuations.listOutcomes(records);
      const report = buildReport({
        evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), sourceAz: input.sourceAz, targetAz: input.targetAz, mode: input.mode,
        requestedBy: input.requestedBy, startedAtMs: input.startedAtMs, endedAtMs: input.endedAtMs,
        abortedBy: input.abortedBy, preemptionError: input.preemptionError, fences: input.fences,
        plan: stored.plan, policy: stored.policy, outcomes,
      });
      const reportFile = reportFileOf(deps.reportDir, records);
      await writeJsonAtomic(reportFile, report);
      await writeTextAtomic(reportHtmlFileOf(reportFile), await renderReportHtml(report));
      return { reportFile, success: report.success, tiers: report.tiers };
    },
  };
}

/**
 * Terminal rendering of an evacuation report: per-tier table (jobs, succeeded, failed,
 * skipped, RTO achieved vs target, worst RPO paid, the RPO an emergency would have paid when
 * planned and the jobs then unprotected), the plan's predicted time to RUNNING
 * beside the achieved one, then failures and skips with reasons.
 */
import Table from 'cli-table3';
import { predictionSummary, type EvacuationReport, type TierReport } from '../domain/report.js';

const fmt = (s: number | null): string => (s === null ? '-' : `${s.toFixed(1)}s`);

/** The worst RPO an emergency would have paid when planned, with the unprotected jobs then; `-` without. */
export function rpoAtPlanText(t: TierReport): string {
  const r = t.rpoAtPlan;
  if (!r) return '-';
  return `${fmt(r.worstAgeSeconds)}${r.unprotected ? ` (${r.unprotected} unprotected)` : ''}`;
}

/** Human summary of `report`; at most `maxReasons` failed/skipped jobs are listed. */
export function reportText(report: EvacuationReport, maxReasons = 15): string {
  const lines: string[] = [];
  const scale = report.timeScale !== 1 ? ` (simulator at ${report.timeScale}× speed: wall seconds, targets scaled by 1/${report.timeScale})` : '';
  lines.push(`Evacuation ${report.evacuationId}: ${report.sourceAz} → ${report.targetAz}, ${report.mode}, catalog v${report.catalogVersion}`);
  lines.push(`Wall time ${report.wallSeconds.toFixed(1)}s${scale}`);
  if (report.abortedBy) lines.push(`ABORTED by ${report.abortedBy}`);
  for (const [tier, error] of Object.entries(report.tierFailures ?? {})) lines.push(`${tier} TIER WORKFLOW FAILED: ${error}`);
  const table = new Table({ head: ['tier', 'jobs', 'running', 'failed', 'skipped', 'RTO', 'RTO target', 'worst RPO', 'RPO target', 'RPO at plan'] });
  for (const t of report.tiers) {
    table.push([t.tier, t.jobs, t.succeeded, t.failed, t.skipped, `${fmt(t.rtoSeconds)}${t.rtoMet ? '' : ' MISSED'}`, fmt(t.rtoTargetSeconds), fmt(t.worstRpoSeconds), fmt(t.rpoTargetSeconds), rpoAtPlanText(t)]);
  }
  lines.push(table.toString());
  const predicted = predictionSummary(report);
  if (predicted.jobs > 0) {
    lines.push(`Predicted vs achieved (${predicted.jobs} jobs): ${predicted.predictedMisses} predicted to miss their tier's RTO, ${predicted.achievedMisses} missed it; median |achieved − predicted| ${predicted.medianErrorSeconds === null ? '-' : fmt(predicted.medianErrorSeconds)}.`);
    const misses = predicted.rows.filter((x) => x.predictedMiss || x.achievedMiss);
    for (const r of misses.slice(0, maxReasons)) {
      lines.push(`  ${r.tier} ${r.key}: predicted ${fmt(r.predictedSeconds)}, achieved ${r.achievedSeconds === null ? 'not RUNNING' : fmt(r.achievedSeconds)}, target ${fmt(r.rtoTargetSeconds)} (${(r.stateBytes / 1024 ** 3).toFixed(2)} GiB of state from ${r.stateFrom})`);
    }
    if (misses.length > maxReasons) lines.push(`  … and ${misses.length - maxReasons} more (see the JSON report)`);
  }
  if (report.preemptions.length) lines.push(`Preempted ${report.preemptions.length} P3 job(s) in ${report.targetAz} (${report.preemptions.reduce((n, p) => n + p.cores, 0)} cores freed).`);
  const unfenced = report.jobs.filter((j) => j.fence === 'unreachable').length;
  if (unfenced) lines.push(`${unfenced} source copie(s) in ${report.sourceAz} could not be fenced (API unreachable): suspend them there before anything resumes them.`);
  const unobserved = report.jobs.filter((j) => j.fence === 'requested');
  if (unobserved.length) {
    lines.push(`${unobserved.length} source copie(s) in ${report.sourceAz}: fence requested, not observed (suspend accepted, not seen stopped; they may still run${report.fencing?.followUpWorkflowId ? `; ${report.fencing.followUpWorkflowId} keeps looking` : ''}):`);
    for (const j of unobserved.slice(0, maxReasons)) lines.push(`  ${j.tier} ${j.namespace}/${j.name}: ${j.fenceSeen?.seen ?? 'not seen'}`);
    if (unobserved.length > maxReasons) lines.push(`  … and ${unobserved.length - maxReasons} more (see the JSON report)`);
  }
  const bad = report.jobs.filter((j) => j.outcome !== 'running');
  if (bad.length) {
    lines.push(`${bad.length} job(s) not RUNNING in ${report.targetAz}:`);
    for (const j of bad.slice(0, maxReasons)) lines.push(`  ${j.tier} ${j.namespace}/${j.name}: ${j.outcome}: ${j.reason ?? 'no reason recorded'}`);
    if (bad.length > maxReasons) lines.push(`  … and ${bad.length - maxReasons} more (see the JSON report)`);
  }
  lines.push(report.success ? 'RESULT: every P0–P2 job is RUNNING in the target AZ.' : 'RESULT: NOT every P0–P2 job is RUNNING in the target AZ.');
  return lines.join('\n');
}

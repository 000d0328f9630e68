/**
 * Terminal rendering of a plan: per-tier table (admitted, not admitted, cores, the slowest
 * predicted time to RUNNING against the tier's RTO, the worst RPO an evacuation would pay now
 * against the tier's RPO and the unprotected jobs), the rates the prediction used, the
 * preemptions, what will not fit, and readiness findings, before anything is touched.
 */
import Table from 'cli-table3';
import { summarizePlan } from '../domain/planner.js';
import { tierRpoNow, type TierRpoNow } from '../domain/rpo-now.js';
import type { Plan, RateSource, Tier } from '../domain/types.js';

const source = (s: RateSource): string => (s.from === 'default' ? 'default' : `measured, ${s.jobs} jobs`);

/** `<slowest predicted>s / <target>s`, with `MISS (n)` when n jobs are predicted past the target; `-` without a forecast. */
function predictedCell(plan: Plan, tier: Tier): string {
  const jobs = plan.rto?.jobs.filter((j) => j.tier === tier) ?? [];
  if (jobs.length === 0) return '-';
  const misses = jobs.filter((j) => j.misses).length;
  return `${Math.max(...jobs.map((j) => j.seconds))}s / ${jobs[0]!.rtoTargetSeconds}s${misses ? ` MISS (${misses})` : ''}`;
}

/**
 * `<worst age>s / <RPO>s` of the tier's jobs (`none` when no job has a restorable snapshot in the
 * target AZ), with `UNPROTECTED (n)` when n are (domain/rpo-now.ts); `-` when no restoring job of
 * the tier was looked up.
 */
function rpoNowCell(rows: readonly TierRpoNow[], tier: Tier): string {
  const t = rows.find((r) => r.tier === tier);
  if (!t) return '-';
  const worst = t.worstAgeSeconds === null ? 'none' : `${Math.round(t.worstAgeSeconds)}s`;
  return `${worst} / ${t.rpoTargetSeconds}s${t.unprotected ? ` UNPROTECTED (${t.unprotected})` : ''}`;
}

/** Human view of `plan`; lists at most `maxRows` not-admitted jobs and findings. */
export function planText(plan: Plan, maxRows = 15): string {
  const lines = [`Plan ${plan.sourceAz} → ${plan.targetAz} from catalog v${plan.catalogVersion}`];
  const table = new Table({ head: ['tier', 'admitted', 'cores', 'memory GiB', 'lifted in', 'not admitted', 'predicted RTO / target', 'RPO now / target'] });
  const rpo = tierRpoNow(plan.protection?.jobs ?? []);
  for (const row of summarizePlan(plan)) {
    const lifted = plan.admitted.filter((p) => p.tier === row.tier && p.catalogTier !== p.tier).length;
    table.push([row.tier, row.admitted, row.cores, Math.round(row.memoryMiB / 1024), lifted, row.notAdmitted, predictedCell(plan, row.tier), rpoNowCell(rpo, row.tier)]);
  }
  lines.push(table.toString());
  if (plan.protection) {
    const count = (s: string): number => plan.protection!.jobs.filter((j) => j.state === s).length;
    lines.push(`RPO now (the age of each restoring job's newest restorable snapshot in ${plan.targetAz}): ${count('protected')} protected, ` +
      `${count('unprotected')} unprotected ('unprotected' findings say why), ${count('not-required')} in tiers protection does not cover, ` +
      `${plan.protection.notLookedUp.length} not looked up in time.`);
  }
  if (plan.rto) {
    const r = plan.rto.rates;
    const misses = plan.rto.jobs.filter((j) => j.misses).length;
    lines.push(`Predicted RTO: ${misses} job(s) predicted to miss their tier's RTO (predicted-rto-miss findings); rates: start-up ${r.startupSeconds}s (${source(r.startupFrom)}), ` +
      `restore ${Math.round(r.restoreBytesPerSecond / 2 ** 20)} MiB/s (${source(r.restoreFrom)}), promotion ${r.promoteSeconds}s (${source(r.promoteFrom)})` +
      `${plan.rto.timeScale === 1 ? '' : `; seconds at time scale ${plan.rto.timeScale}`}.`);
  }
  lines.push(`Target capacity free: ${plan.capacityBefore.cores} cores / ${Math.round(plan.capacityBefore.memoryMiB / 1024)} GiB before, ${plan.capacityAfter.cores} cores / ${Math.round(plan.capacityAfter.memoryMiB / 1024)} GiB after.`);
  lines.push(`Jars to preload: ${plan.jars.length} distinct (${(plan.jars.reduce((n, j) => n + j.sizeBytes, 0) / 2 ** 30).toFixed(1)} GiB).`);
  lines.push(`Preempt ${plan.preemptions.length} P3 job(s) in ${plan.targetAz} (${plan.preemptions.reduce((n, p) => n + p.cores, 0)} cores).`);
  if (plan.notAdmitted.length) {
    lines.push(`Will NOT move ${plan.notAdmitted.length} job(s):`);
    for (const n of plan.notAdmitted.slice(0, maxRows)) lines.push(`  ${n.tier} ${n.key}: ${n.reason}`);
    if (plan.notAdmitted.length > maxRows) lines.push(`  … and ${plan.notAdmitted.length - maxRows} more (--json for all)`);
  }
  if (plan.findings.length) {
    lines.push(`Readiness findings: ${plan.findings.length} (${plan.findings.filter((f) => f.blocking).length} blocking)`);
    for (const f of plan.findings.slice(0, maxRows)) lines.push(`  ${f.blocking ? 'BLOCKING ' : ''}${f.code} ${f.job}: ${f.message}`);
    if (plan.findings.length > maxRows) lines.push(`  … and ${plan.findings.length - maxRows} more (--json for all)`);
  }
  return lines.join('\n');
}

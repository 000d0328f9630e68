/**
 * Checks of the guarantees an evacuation makes (docs/guarantees.md), read from the
 * stored plan, the JSON report and the simulator, for the fault tests:
 *  1. no job lost: every in-scope job has exactly one recorded outcome, with a reason unless RUNNING;
 *  2. no job RUNNING in two AZs: a moved job's source copy is not RUNNING while its target copy is
 *     (checked only while the source AZ answers, where only a job the report says "fence
 *     requested, not observed" may run in both; while it is down, its unfenced copies must be
 *     listed as pending fences in the report);
 *  3. nothing applied twice: per resource in the target AZ at most one create, one nonce
 *     redeploy, one spec change and one deploy (simulator counters).
 * And for a real evacuation's failback, failbackProblems: nothing lost, each job RUNNING once and
 * in the source AZ, nothing rewound or deployed twice.
 * Also records one row of the fault table (docs/guarantees.md) per test in `.az-evac/fault-figures.jsonl`.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvacuationReport } from '../../domain/report.js';
import type { JobKey, Plan } from '../../domain/types.js';
import type { FailbackResult } from '../../workflows/failback.js';
import { EvacuationHarness, SOURCE_AZ, TARGET_AZ, reportKey } from './evacuation-harness.js';

/** Outcome counts of a report. */
export interface OutcomeCounts {
  jobs: number;
  running: number;
  failed: number;
  skipped: number;
}

/** Count a report's outcomes. */
export function outcomeCounts(report: EvacuationReport): OutcomeCounts {
  const n = (k: string): number => report.jobs.filter((j) => j.outcome === k).length;
  return { jobs: report.jobs.length, running: n('running'), failed: n('failed'), skipped: n('skipped') };
}

/**
 * Problems with guarantee 1 (pure): every job the plan put in scope (admitted or not) has
 * exactly one outcome in the report, RUNNING, or FAILED / SKIPPED with a reason; no other job has one.
 * @returns one `G1 <key>: ...` line per problem, empty when it holds
 */
export function outcomeProblems(plan: Pick<Plan, 'admitted' | 'notAdmitted'>, report: EvacuationReport): string[] {
  const problems: string[] = [];
  const inScope = new Set<JobKey>([...plan.admitted.map((p) => p.key), ...plan.notAdmitted.map((n) => n.key)]);
  const seen = new Map<JobKey, number>();
  for (const j of report.jobs) seen.set(reportKey(j), (seen.get(reportKey(j)) ?? 0) + 1);
  for (const key of inScope) if (seen.get(key) !== 1) problems.push(`G1 ${key}: ${seen.get(key) ?? 0} outcomes`);
  for (const key of seen.keys()) if (!inScope.has(key)) problems.push(`G1 ${key}: outcome for a job not in scope`);
  for (const j of report.jobs) {
    if (!['running', 'failed', 'skipped'].includes(j.outcome)) problems.push(`G1 ${reportKey(j)}: outcome ${j.outcome}`);
    if (j.outcome !== 'running' && !j.reason) problems.push(`G1 ${reportKey(j)}: ${j.outcome} without a reason`);
  }
  return problems;
}

/**
 * Problems with guarantees 1–3 for evacuation `id` (empty when all hold).
 * @param sourceUp whether the source AZ answers now (guarantee 2 is checked on the simulator then)
 */
export async function guaranteeProblems(h: EvacuationHarness, id: string, report: EvacuationReport, sourceUp: boolean): Promise<string[]> {
  // 1. Exactly one outcome per in-scope job.
  const problems = outcomeProblems((await h.plan(id)).plan, report);

  // 2. No job RUNNING in both AZs.
  const all = await h.sim.client.listDeployments();
  const running = new Set(all.filter((d) => d.status.jobStatus?.state === 'RUNNING' && d.status.lifecycleState !== 'SUSPENDED')
    .map((d) => `${d.az}|${d.manifest.metadata.namespace ?? 'default'}/${d.manifest.metadata.name}`));
  const source = h.sourceJobs();
  const pending = new Set(report.fencing?.pending ?? []);
  for (const j of report.jobs) {
    const job = source.get(reportKey(j));
    if (!job) continue;
    // A hot standby that was not promoted runs beside its primary by design.
    if (j.strategy === 'promote-standby' && j.outcome !== 'running') continue;
    const inTarget = running.has(`${TARGET_AZ}|${h.targetOf(job, j.strategy).key}`);
    const inSource = running.has(`${SOURCE_AZ}|${reportKey(j)}`);
    if (!inTarget || !inSource) continue;
    // Guarantee 2 as stated: a fence the source's operator never acted on is reported "fence
    // requested, not observed", never as fenced; such a job may run in both AZs.
    if (sourceUp) {
      if (j.fence !== 'requested') problems.push(`G2 ${reportKey(j)}: RUNNING in ${SOURCE_AZ} and ${TARGET_AZ} (fence reported ${j.fence ?? 'none'})`);
    } else if (!pending.has(reportKey(j))) problems.push(`G2 ${reportKey(j)}: source copy in the down ${SOURCE_AZ} is not listed as a pending fence`);
  }

  // 3. Nothing applied twice in the target AZ.
  const counters = (await h.sim.client.stats({ az: TARGET_AZ })).counters[TARGET_AZ] ?? {};
  for (const [key, c] of Object.entries(counters)) {
    if (c.created > 1 || c.redeploys > 1 || c.specChanges > 1 || c.deploys > 1) problems.push(`G3 ${key}: ${JSON.stringify(c)}`);
  }
  return problems;
}

/** Redeploys (nonce changes) and creates in the target AZ, summed: each moved job costs at most one. */
export async function targetApplies(h: EvacuationHarness): Promise<{ created: number; redeploys: number; deploys: number }> {
  const counters = Object.values((await h.sim.client.stats({ az: TARGET_AZ })).counters[TARGET_AZ] ?? {});
  return {
    created: counters.reduce((n, c) => n + c.created, 0),
    redeploys: counters.reduce((n, c) => n + c.redeploys, 0),
    deploys: counters.reduce((n, c) => n + c.deploys, 0),
  };
}

/** One row of the fault table of docs/guarantees.md. */
export interface FaultFigure {
  fault: string;
  /** Rate or moment, e.g. `30 % of API calls`, `at 50 %`. */
  when: string;
  suite: 'default' | 'slow';
  /** Where it ran: the simulator (default) or the two local kube-apiservers. */
  platform?: 'simulator' | 'real apiservers';
  outcomes: OutcomeCounts;
  wallSeconds: number;
  /** Wall seconds of the same fleet without the fault, when measured in the same file. */
  baselineSeconds?: number;
  note?: string;
}

const FIGURES = join(dirname(fileURLToPath(import.meta.url)), '../../.az-evac/fault-figures.jsonl');

/** Append a row to `.az-evac/fault-figures.jsonl` (not in git; the docs/guarantees.md table is built from it). */
export async function recordFigure(row: FaultFigure): Promise<void> {
  await mkdir(dirname(FIGURES), { recursive: true });
  await appendFile(FIGURES, `${JSON.stringify({ ...row, at: new Date().toISOString() })}\n`);
}

/**
 * Problems with the guarantees of a real evacuation's failback (docs/guarantees.md row 5;
 * empty when all hold), read from the simulator after failback `fb` of the evacuation
 * `report` describes:
 *  1. nothing lost: every job the evacuation moved is back or listed failed with a reason;
 *  2. each job RUNNING exactly once, in the source AZ: RUNNING in az-a, and its copy in az-b
 *     not RUNNING (a hot standby labelled standby again runs beside it by design);
 *  3. nothing rewinds, nothing twice: each stateful job restored in az-a from exactly the
 *     savepoint its az-b run (the evacuation's job id) was stopped with, and at most one
 *     redeploy and one deploy per az-a resource since `before` (its counters then).
 */
export async function failbackProblems(
  h: EvacuationHarness, report: EvacuationReport, fb: FailbackResult, before: Record<string, { redeploys: number; deploys: number }>,
): Promise<string[]> {
  const problems: string[] = [];
  const failed = new Map(fb.failed.map((f) => [f.key, f.reason]));
  const source = new Map((await h.sim.client.listDeployments(SOURCE_AZ)).map((d) => [`${d.manifest.metadata.namespace ?? 'default'}/${d.manifest.metadata.name}`, d]));
  const target = await h.targetDeployments();
  const jobs = h.sourceJobs();
  const counters = (await h.sim.client.stats({ az: SOURCE_AZ })).counters[SOURCE_AZ] ?? {};
  for (const j of report.jobs.filter((x) => x.outcome === 'running')) {
    const key = reportKey(j);
    if (failed.has(key)) {
      if (!failed.get(key)) problems.push(`F1 ${key}: failed without a reason`);
      continue;
    }
    const s = source.get(key);
    if (s?.status.jobStatus?.state !== 'RUNNING' || s.status.lifecycleState === 'SUSPENDED') problems.push(`F1 ${key}: not RUNNING in ${SOURCE_AZ} (${s ? `${s.status.lifecycleState}/${s.status.jobStatus?.state}` : 'absent'})`);
    const t = target.get(h.targetOf(jobs.get(key)!, j.strategy).key);
    const standbyAgain = j.strategy === 'promote-standby' && t?.manifest.metadata.labels?.['az-evac.io/role'] === 'standby';
    if (t?.status.jobStatus?.state === 'RUNNING' && t.status.lifecycleState !== 'SUSPENDED' && !standbyAgain) problems.push(`F2 ${key}: RUNNING in ${TARGET_AZ} too (${h.targetOf(jobs.get(key)!, j.strategy).key})`);
    const stateless = j.snapshotPath === undefined && j.strategy !== 'promote-standby';
    const from = s?.status.jobStatus?.restoredFrom;
    if (!stateless && !(j.jobId && from?.includes(`/savepoint-${j.jobId.slice(0, 6)}-`))) problems.push(`F3 ${key}: restored from ${String(from)}, not a savepoint of its ${TARGET_AZ} run ${String(j.jobId)}`);
    const c = counters[key];
    const b = before[key] ?? { redeploys: 0, deploys: 0 };
    if (c && (c.redeploys - b.redeploys > 1 || c.deploys - b.deploys > 1)) problems.push(`F3 ${key}: ${c.redeploys - b.redeploys} redeploys, ${c.deploys - b.deploys} deploys in ${SOURCE_AZ} during the failback`);
  }
  return problems;
}

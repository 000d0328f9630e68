/**
 * Drills: the shapes the drill workflow, its activities, the CLI and the console share
 * (input, per-step outcomes, status, result) and the pure verification of an evacuation
 * report against a runbook's targets. Payload-sized: ids, counts and short summaries.
 */
import type { EvacuationReport } from './report.js';
import type { Runbook, StepKind, VerifyStep } from './runbook.js';
import { TIERS, type Tier } from './types.js';

/** Input of the drill workflow. */
export interface DrillInput {
  runbook: Runbook;
  /** File the runbook was read from (for the report). */
  runbookFile: string;
  /** Who started it: a user, or `schedule:<id>`. */
  requestedBy: string;
  /**
   * Task queue of the deployment that started it, which scopes its AZ holds
   * (domain/az-hold.ts azHoldWorkflowId). Set by the client so a replay on another queue
   * names the same holds; absent: the workflow's own task queue.
   */
  taskQueue?: string;
}

/** State of one step or cleanup action. */
export type StepState = 'pending' | 'running' | 'passed' | 'failed' | 'rejected' | 'aborted' | 'not-run';

/** Recorded outcome of one runbook step. Times are epoch ms (workflow clock). */
export interface DrillStepRecord {
  index: number;
  kind: StepKind;
  state: StepState;
  startedAtMs?: number;
  endedAtMs?: number;
  /** One line: what happened, with numbers. */
  summary?: string;
  /** Verification checks (verify step). */
  checks?: VerifyCheck[];
}

/** A cleanup action run after an abort, a rejection or a failed step (or to finish a drill). */
export interface CleanupRecord {
  kind: 'fault-teardown' | 'failback';
  state: StepState;
  summary?: string;
}

/** Overall phase of a drill. */
export type DrillPhase = 'running' | 'awaiting-approval' | 'cleaning-up' | 'passed' | 'failed' | 'rejected' | 'aborted';

/** Answer of the drill status query. */
export interface DrillStatus {
  drillId: string;
  runbook: string;
  sourceAz: string;
  targetAz: string;
  phase: DrillPhase;
  requestedBy: string;
  startedAtMs: number;
  steps: DrillStepRecord[];
  cleanup: CleanupRecord[];
  /** The open approval gate: its prompt and deadline (epoch ms). */
  approval?: { index: number; prompt: string; deadlineMs: number };
  /** Who decided each gate, and how. */
  decisions: Array<{ index: number; decision: 'approve' | 'reject'; by: string; comment?: string; atMs: number }>;
  abortedBy?: string;
  /** Why the drill was rejected before its first step: one of its AZs is in use (domain/az-hold.ts azBusyMessage). */
  refused?: string;
  /** Id of the drill's evacuation (child workflow and report). */
  evacuationId?: string;
  evacuationReportFile?: string;
  /** The drill's JSON and HTML reports, written when it ends. */
  reportFile?: string;
  reportHtmlFile?: string;
}

/** Result of the drill workflow: the final status plus the verdict. */
export interface DrillResult extends DrillStatus {
  /** Every step passed, cleanup included, and the targets were met. */
  passed: boolean;
}

/** An approve or reject of the open gate. */
export interface DrillDecision {
  decision: 'approve' | 'reject';
  by: string;
  comment?: string;
}

/** One verification check against a target. */
export interface VerifyCheck {
  name: string;
  passed: boolean;
  /** Achieved vs target, e.g. `P2 RTO 41.2s ≤ 54.0s`. */
  detail: string;
}

/**
 * Evacuation id of a drill: its workflow id (a schedule's run ids contain `:`) made into a
 * Kubernetes label value (≤ 63 characters of letters, digits, `-`, `_`, `.`), since the
 * id labels every resource the evacuation deploys. Unique per drill id.
 */
export function drillEvacuationId(drillId: string): string {
  const clean = drillId.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  const id = `${clean}.evac`;
  if (id.length <= 63) return id;
  let h = 2166136261;
  for (let i = 0; i < drillId.length; i++) h = Math.imul(h ^ drillId.charCodeAt(i), 16777619);
  return `${clean.slice(0, 49).replace(/[^A-Za-z0-9]+$/, '')}-${(h >>> 0).toString(16).padStart(8, '0')}.evac`;
}

/**
 * Checks an evacuation report against the verify step's targets (pure). Targets given in
 * model seconds are divided by the report's time scale (its durations are wall seconds).
 * Checks: RTO per tier with jobs, worst RPO per tier, and (requireRunning) every admitted
 * P0–P2 job RUNNING in the target AZ. The live checkpoint check is done by the activity.
 */
export function verifyReport(report: EvacuationReport, targets: VerifyStep): VerifyCheck[] {
  const scale = report.timeScale || 1;
  const checks: VerifyCheck[] = [];
  for (const t of report.tiers) {
    if (t.jobs === 0) continue;
    const rtoTarget = targets.rtoSeconds?.[t.tier] !== undefined ? targets.rtoSeconds[t.tier]! / scale : t.rtoTargetSeconds;
    checks.push(t.rtoSeconds === null
      ? { name: `${t.tier} RTO`, passed: t.succeeded === 0 && t.jobs === t.skipped, detail: `${t.tier}: no job reached RUNNING (${t.failed} failed, ${t.skipped} skipped)` }
      : { name: `${t.tier} RTO`, passed: t.rtoSeconds <= rtoTarget, detail: `${t.tier} RTO ${t.rtoSeconds.toFixed(1)}s ${t.rtoSeconds <= rtoTarget ? '≤' : '>'} target ${rtoTarget.toFixed(1)}s` });
    const rpoTarget = targets.maxRpoSeconds !== undefined ? targets.maxRpoSeconds / scale : t.rpoTargetSeconds;
    if (t.worstRpoSeconds !== null) {
      checks.push({ name: `${t.tier} RPO`, passed: t.worstRpoSeconds <= rpoTarget, detail: `${t.tier} worst RPO ${t.worstRpoSeconds.toFixed(1)}s ${t.worstRpoSeconds <= rpoTarget ? '≤' : '>'} limit ${rpoTarget.toFixed(1)}s` });
    }
  }
  if (targets.requireRunning ?? true) {
    const must = report.jobs.filter((j) => mustRun(j.tier));
    const notRunning = must.filter((j) => j.outcome !== 'running');
    checks.push({
      name: 'P0–P2 RUNNING',
      passed: notRunning.length === 0,
      detail: notRunning.length === 0
        ? `${must.length} P0–P2 job(s) RUNNING in ${report.targetAz}`
        : `${notRunning.length} of ${must.length} P0–P2 job(s) not RUNNING in ${report.targetAz}: ${notRunning.slice(0, 5).map((j) => `${j.namespace}/${j.name} (${j.outcome}${j.reason ? `: ${j.reason}` : ''})`).join('; ')}${notRunning.length > 5 ? '; …' : ''}`,
    });
  }
  return checks;
}

/** Tiers whose jobs must all run after an evacuation (P3 is best effort). */
function mustRun(tier: Tier): boolean {
  return TIERS.indexOf(tier) < TIERS.indexOf('P3');
}

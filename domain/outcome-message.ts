/**
 * One line saying why a run's outcome is a failure, with its counts: the message of the
 * failure a failed evacuation, job or drill closes with (workflows/outcome-failure.ts), which
 * the Temporal UI shows beside the run. Pure; counts as in the run's result and report.
 */
import type { DrillResult } from './drill.js';
import type { EvacuationMode, JobOutcome } from './evacuation.js';
import type { TierReport } from './report.js';
import type { Tier } from './types.js';

/** `1000` → `1,000`: the counts read as in the report. */
export function countText(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const seconds = (s: number): string => `${Math.round(s * 10) / 10} s`;

/** What an evacuation's failure message is made of: the report's tiers, its abort and tier failures. */
export interface EvacuationOutcome {
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  /** The report's tiers: counts (jobs = admitted), RTO achieved and target, wall seconds. */
  tiers: Array<Pick<TierReport, 'tier' | 'jobs' | 'succeeded' | 'failed' | 'skipped' | 'rtoSeconds' | 'rtoTargetSeconds' | 'rtoMet'>>;
  /** `who: reason` of an abort. */
  abortedBy?: string;
  /** Tiers whose workflow failed (an engine fault), with the error. */
  tierFailures?: Partial<Record<Tier, string>>;
}

/**
 * The message of a failed or aborted evacuation, e.g. `emergency evacuation az-a → az-b failed:
 * 12 of 1,000 jobs failed, 3 skipped, 985 RUNNING; P1 RTO missed (45 s, target 30 s)`; an abort
 * says `aborted by alice: source AZ recovered` instead of `failed`. Counts as in the report.
 */
export function evacuationFailureMessage(o: EvacuationOutcome): string {
  const sum = (f: (t: EvacuationOutcome['tiers'][number]) => number): number => o.tiers.reduce((n, t) => n + f(t), 0);
  const skipped = sum((t) => t.skipped);
  const counts = [
    `${countText(sum((t) => t.failed))} of ${countText(sum((t) => t.jobs))} jobs failed`,
    ...(skipped > 0 ? [`${countText(skipped)} skipped`] : []),
    `${countText(sum((t) => t.succeeded))} RUNNING`,
  ].join(', ');
  const missed = o.tiers.filter((t) => t.jobs > 0 && !t.rtoMet).map((t) => `${t.tier} RTO missed (${t.rtoSeconds === null ? 'no job RUNNING' : seconds(t.rtoSeconds)}, target ${seconds(t.rtoTargetSeconds)})`);
  const engine = Object.entries(o.tierFailures ?? {}).map(([tier, err]) => `tier ${tier} workflow failed: ${err}`);
  const head = `${o.mode} evacuation ${o.sourceAz} → ${o.targetAz} ${o.abortedBy ? `aborted by ${o.abortedBy}` : 'failed'}`;
  return `${head}: ${[counts, ...missed, ...engine].join('; ')}`;
}

/** The message of a failed job: `P1 job ns/name (redeploy) failed: <reason>`. */
export function jobFailureMessage(o: Pick<JobOutcome, 'tier' | 'key' | 'strategy' | 'reason'>): string {
  return `${o.tier} job ${o.key} (${o.strategy}) failed: ${o.reason ?? 'no reason recorded'}`;
}

/**
 * The message of a drill that did not pass: its phase, the step that stopped it with the
 * step's summary, and any cleanup that failed, e.g. `drill nightly failed at step 3 (evacuate):
 * done: 40 RUNNING, 2 failed, 0 skipped of 42 planned`.
 */
export function drillFailureMessage(r: Pick<DrillResult, 'runbook' | 'phase' | 'steps' | 'cleanup' | 'refused'>): string {
  const stopped = r.steps.find((s) => s.state === 'failed' || s.state === 'rejected' || s.state === 'aborted');
  const at = stopped ? ` at step ${stopped.index + 1} (${stopped.kind})${stopped.summary ? `: ${stopped.summary}` : ''}`
    : r.refused ? ` before its first step: ${r.refused}` : '';
  const cleanup = r.cleanup.filter((c) => c.state === 'failed').map((c) => `cleanup ${c.kind} failed${c.summary ? `: ${c.summary}` : ''}`);
  return [`drill ${r.runbook} ${r.phase}${at}`, ...cleanup].join('; ');
}

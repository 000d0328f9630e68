/**
 * The engine-at-scale targets (issue 12) checked against benchmark rows, so a run says which
 * it meets with the numbers it measured. A target is checked only on rows of its kind (size,
 * time scale, platform model); rows of other kinds are not evidence for it. Pure.
 *
 * - null platform: ≥ 100 jobs/s dispatched and completed, ≤ 8 history events per job;
 * - 20,000 jobs at time scale 5: every P0–P2 job RUNNING, no history above 10,000 events,
 *   ratio to the true lower bound ≤ 1.15;
 * - 5,000 jobs at time scale 1: ratio ≤ 1.05, every P0 hot-standby promotion done ≤ 10 s
 *   after the trigger;
 * - preload on vs off at 1,000 jobs: P2 RTO with preload at least 2× shorter.
 */

/** The row fields the targets read (bench/run.ts BenchRow). */
export interface TargetRow {
  jobs: number;
  timeScale: number;
  platformModel: string;
  preload: boolean;
  /** Jobs whose steps started, and trigger → report, wall s. */
  dispatched: number;
  wallSeconds: number;
  eventsPerJob: number;
  p0to2Jobs: number;
  p0to2Running: number;
  largestHistoryEvents: number;
  /** null when the bound is 0 (null platform). */
  ratio: number | null;
  p0StandbyRtoSeconds: number | null;
  p2RtoSeconds: number | null;
}

/** One target checked on one row (or a pair of rows for preload). */
export interface TargetCheck {
  target: string;
  /** What was measured, in words with numbers. */
  measured: string;
  met: boolean;
}

const ofSize = (rows: readonly TargetRow[], jobs: number, timeScale: number): TargetRow[] =>
  rows.filter((r) => r.jobs === jobs && r.timeScale === timeScale && r.platformModel !== 'null');

/** Check every target that `rows` hold evidence for (none for a target without a row of its kind). */
export function checkTargets(rows: readonly TargetRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const r of rows.filter((x) => x.platformModel === 'null')) {
    // Dispatched and completed: the jobs whose steps started, over trigger → report (P3 jobs not admitted do not count).
    const rate = Math.round((r.dispatched / r.wallSeconds) * 100) / 100;
    checks.push({ target: `null platform, ${r.jobs} jobs: ≥ 100 jobs/s dispatched and completed`, measured: `${r.dispatched} jobs in ${r.wallSeconds} s: ${rate} jobs/s`, met: rate >= 100 });
    checks.push({ target: `null platform, ${r.jobs} jobs: ≤ 8 events/job`, measured: `${r.eventsPerJob} events/job`, met: r.eventsPerJob <= 8 });
  }
  for (const r of ofSize(rows, 20_000, 5)) {
    checks.push({ target: '20,000 jobs, time scale 5: every P0–P2 RUNNING', measured: `${r.p0to2Running}/${r.p0to2Jobs}`, met: r.p0to2Running === r.p0to2Jobs });
    checks.push({ target: '20,000 jobs, time scale 5: no history above 10,000 events', measured: `largest ${r.largestHistoryEvents}`, met: r.largestHistoryEvents <= 10_000 });
    checks.push({ target: '20,000 jobs, time scale 5: ratio to the bound ≤ 1.15', measured: `${r.ratio}`, met: r.ratio !== null && r.ratio <= 1.15 });
  }
  for (const r of ofSize(rows, 5_000, 1)) {
    checks.push({ target: '5,000 jobs, time scale 1: ratio to the bound ≤ 1.05', measured: `${r.ratio}`, met: r.ratio !== null && r.ratio <= 1.05 });
    const p = r.p0StandbyRtoSeconds;
    checks.push({ target: '5,000 jobs, time scale 1: every P0 promotion ≤ 10 s', measured: p === null ? 'no promotion' : `last at ${p} s`, met: p !== null && p <= 10 });
  }
  for (const timeScale of new Set(rows.filter((r) => r.jobs === 1_000).map((r) => r.timeScale))) {
    const pair = ofSize(rows, 1_000, timeScale);
    const on = pair.find((r) => r.preload)?.p2RtoSeconds;
    const off = pair.find((r) => !r.preload)?.p2RtoSeconds;
    if (on == null || off == null) continue;
    const speedup = Math.round((off / on) * 100) / 100;
    checks.push({ target: `1,000 jobs, time scale ${timeScale}: P2 RTO with preload ≥ 2× shorter`, measured: `${on} s on, ${off} s off (${speedup}×)`, met: speedup >= 2 });
  }
  return checks;
}

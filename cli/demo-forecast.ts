/**
 * The demo's forecast before the trigger (issue 12: "the plan says before the trigger which jobs
 * cannot, and why"): the lines it prints from a plan preview made while the source AZ still
 * answers (per tier the slowest predicted time to RUNNING against the RTO, then every job
 * predicted to miss with its largest part and its state), and, once the report is in, how that
 * forecast compares with what happened (misses predicted before the trigger, misses that came
 * unannounced). Pure: the demo (cli/demo.ts) does the I/O.
 */
import type { EvacuationReport } from '../domain/report.js';
import { paceWords } from '../domain/rto-estimate.js';
import type { JobRtoForecast, Plan, Tier } from '../domain/types.js';

/** The tiers an RTO target is checked for (P3 is preemptible and best effort). */
const CHECKED: readonly Tier[] = ['P0', 'P1', 'P2'];

const s = (x: number): string => `${x.toFixed(1)}s`;

/** `largest part: restore 30.0s (465.66 GiB from the newest snapshot's _metadata)`: why one job is predicted late. */
export function missReason(j: JobRtoForecast): string {
  const p = j.parts;
  const named: Array<[string, number]> = [
    ['engine before its dispatch', p.dispatchWait], ['start step', p.startStep ?? 0], ['queue', p.queue ?? 0], ['capacity wait', p.capacity ?? 0],
    [j.strategy === 'promote-standby' ? 'promotion' : 'start-up', p.startup], ['jar fetch', p.jarFetch], ['restore', p.restore],
    ['first checkpoint', p.checkpoint ?? 0],
  ];
  const [name, seconds] = named.reduce((a, b) => (b[1] > a[1] ? b : a));
  const engine = p.dispatchWait + (p.startStep ?? 0);
  const platform = j.seconds - engine;
  const state = j.inputs.stateFrom === 'none' ? 'no state' : `${(j.inputs.stateBytes / 1024 ** 3).toFixed(2)} GiB of state from the ${j.inputs.stateFrom === 'snapshot' ? "newest snapshot's _metadata" : j.inputs.stateFrom === 'catalog' ? 'catalog' : 'nominal default'}`;
  const capacity = p.capacity ? `; its pods wait ${s(p.capacity)} for capacity a preempted P3 job frees once its stop-with-savepoint ends` : '';
  const cause = platform > j.rtoTargetSeconds
    ? `the platform alone needs ${s(platform)} (start-up, restore, first checkpoint) > ${s(j.rtoTargetSeconds)}`
    : `the engine's ${s(engine)} before the apply (planning, tier start, start step) + the platform's ${s(platform)} (start-up, restore, first checkpoint)`;
  return `largest part ${name} ${s(seconds)}; ${cause}${capacity}; ${state}`;
}

/**
 * The forecast of `plan` as the demo prints it before the trigger: one line per tier with jobs
 * (slowest predicted / target, misses), then the jobs predicted to miss, at most `maxPerTier`
 * per tier (the rest counted). Without a forecast: one line saying so.
 */
export function forecastLines(plan: Pick<Plan, 'rto'>, maxPerTier = 10): string[] {
  const rto = plan.rto;
  if (!rto) return ['The plan has no RTO forecast.'];
  const clock = rto.timeScale === 1 ? '' : ` (wall seconds at time scale ${rto.timeScale}, targets scaled)`;
  const lines: string[] = [];
  const tiers = CHECKED.map((tier) => ({ tier, jobs: rto.jobs.filter((j) => j.tier === tier) })).filter((t) => t.jobs.length > 0);
  const misses = tiers.flatMap((t) => t.jobs.filter((j) => j.misses));
  const pace = rto.rates.engine?.pace;
  lines.push(`Forecast before the trigger${clock}: ${tiers.map((t) => `${t.tier} slowest ${s(Math.max(...t.jobs.map((j) => j.seconds)))} / RTO ${s(t.jobs[0]!.rtoTargetSeconds)}${t.jobs.some((j) => j.misses) ? ` (${t.jobs.filter((j) => j.misses).length} of ${t.jobs.length} predicted to miss)` : ''}`).join(', ')}.`);
  if (pace) lines.push(`  The engine's default terms ${paceWords(pace)}.`);
  if (misses.length === 0) {
    lines.push('  No P0–P2 job is predicted to miss its tier\'s RTO.');
    return lines;
  }
  for (const t of tiers) {
    const late = t.jobs.filter((j) => j.misses).sort((a, b) => b.seconds - a.seconds);
    for (const j of late.slice(0, maxPerTier)) lines.push(`  ${t.tier} ${j.key}${j.parts.capacity ? ' (or whichever deploy of the tier asks for capacity as late)' : ''}: predicted ${s(j.seconds)} > ${s(j.rtoTargetSeconds)}: ${missReason(j)}`);
    if (late.length > maxPerTier) lines.push(`  ${t.tier}: … and ${late.length - maxPerTier} more predicted to miss`);
  }
  return lines;
}

/** How the forecast before the trigger compares with the report. */
export interface ForecastCheck {
  /** P0–P2 jobs predicted to miss before the trigger. */
  predicted: number;
  /** P0–P2 admitted jobs that missed their tier's RTO (not RUNNING, or RUNNING after it). */
  missed: number;
  /** Of `missed`, predicted before the trigger. */
  missedAndPredicted: number;
  /**
   * Of the misses not predicted by name, those a predicted capacity wait of the same tier stands
   * for: which deploy waits for a preempted job's pods depends on the order the deploys ask, so a
   * tier's capacity-wait predictions that did not miss count for as many of its other misses.
   */
  byCapacity: number;
  /** Missed without having been predicted, by name or by a capacity wait of its tier (keys). */
  unannounced: string[];
  /** Predicted to miss, and made it (keys). */
  falseAlarms: string[];
}

/**
 * Compare the forecast before the trigger (`plan.rto`) with the report: an admitted P0–P2 job
 * misses when it is not RUNNING or RUNNING after its tier's target; a job the forecast does not
 * know (not admitted in the preview) counts as unannounced when it misses.
 */
export function checkForecast(plan: Pick<Plan, 'rto'>, report: Pick<EvacuationReport, 'jobs' | 'tiers'>): ForecastCheck {
  const predictedMiss = new Map((plan.rto?.jobs ?? []).filter((j) => CHECKED.includes(j.tier)).map((j) => [j.key, j.misses]));
  const target = new Map(report.tiers.map((t) => [t.tier, t.rtoTargetSeconds]));
  // Jobs the plan did not admit are its "Will NOT move" list, not RTO misses.
  const missed = report.jobs.filter((j) => CHECKED.includes(j.tier) && !(j.outcome === 'skipped' && j.reason?.startsWith('not admitted')))
    .filter((j) => !(j.outcome === 'running' && j.rtoSeconds !== undefined && j.rtoSeconds <= (target.get(j.tier) ?? Infinity)))
    .map((j) => `${j.namespace}/${j.name}`);
  const announced = missed.filter((k) => predictedMiss.get(k) === true);
  const missedSet = new Set(missed);
  const tierOf = new Map(report.jobs.map((j) => [`${j.namespace}/${j.name}`, j.tier]));
  const falseAlarms = (plan.rto?.jobs ?? []).filter((j) => CHECKED.includes(j.tier) && j.misses && !missedSet.has(j.key));
  // A tier's capacity-wait predictions that made it stand for that many of its unannounced misses.
  const spare = new Map<string, number>();
  for (const j of falseAlarms) if (j.parts.capacity) spare.set(j.tier, (spare.get(j.tier) ?? 0) + 1);
  let byCapacity = 0;
  const unannounced = missed.filter((k) => predictedMiss.get(k) !== true).filter((k) => {
    const tier = tierOf.get(k)!;
    const left = spare.get(tier) ?? 0;
    if (left === 0) return true;
    spare.set(tier, left - 1);
    byCapacity++;
    return false;
  });
  return {
    predicted: [...predictedMiss.values()].filter(Boolean).length, missed: missed.length,
    missedAndPredicted: announced.length, byCapacity, unannounced, falseAlarms: falseAlarms.map((j) => j.key),
  };
}

/** The demo's closing line on its forecast, e.g. `Forecast before the trigger: 12 P0–P2 jobs predicted to miss; 10 missed, all of them predicted.` */
export function forecastCheckLine(c: ForecastCheck): string {
  const head = `Forecast before the trigger: ${c.predicted} P0–P2 job(s) predicted to miss their RTO (${c.falseAlarms.length} of them made it); ${c.missed} missed`;
  const capacity = c.byCapacity > 0 ? ` (${c.byCapacity} of them as the tier's predicted capacity wait: another deploy than the one named asked last)` : '';
  if (c.missed === 0) return `${head}.`;
  if (c.unannounced.length === 0) return `${head}, every one of them predicted${capacity}.`;
  return `${head}, ${c.missedAndPredicted + c.byCapacity} of them predicted${capacity}; NOT predicted: ${c.unannounced.slice(0, 5).join(', ')}${c.unannounced.length > 5 ? ` and ${c.unannounced.length - 5} more` : ''}.`;
}

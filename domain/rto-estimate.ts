/**
 * Predicted RTO: each admitted job's time from the trigger to RUNNING in the target AZ,
 * estimated before anything is touched, with the inputs it rests on, so `plan`, readiness and
 * the report can say which jobs will miss their tier's RTO and why. Pure.
 *
 * Model (docs/design.md#predicted-rto), per job, in the platform's seconds:
 *   dispatch wait + start-up + jar fetch + state restore
 * - dispatch wait: when the job's workflow starts. Tiers in admission order; a tier's jobs go
 *   into `maxConcurrency` slots in plan order, each slot taking the next job when its previous
 *   one is predicted RUNNING; the next tier starts when the previous one has dispatched its
 *   last job (`borrowIdleSlots`) or finished (strict). Planning, preemption and the engine's
 *   own overhead before the first dispatch are not counted.
 * - start-up: scheduling, JobManager and TaskManager start, job submission (RtoRates.startupSeconds);
 *   a hot standby's promotion instead (RtoRates.promoteSeconds), which restores nothing and
 *   fetches no jar.
 * - jar fetch: the job's jar bytes at the cache rate when every jar is already in the target
 *   AZ's jar cache, else at the repository rate.
 * - state restore: state bytes / RtoRates.restoreBytesPerSecond. State bytes come from the
 *   newest restorable snapshot's `_metadata` in the target AZ's replica when it was read, else
 *   the catalog's size (the platform's metric), else the nominal DEFAULT_STATE_BYTES, and the
 *   inputs say which.
 * Rates are measured from previous runs' jobs when there are any (measuredRates), else
 * DEFAULT_RTO_RATES. Seconds are then divided by the policy's timeScale, onto the engine's
 * clock that the tier targets and the report use.
 */
import type { EvacuationReport } from './report.js';
import { jobKey, type Finding, type FleetJob, type JobKey, type JobRtoForecast, type Plan, type RtoForecast, type RtoRates, type Strategy, type TiersPolicy } from './types.js';

const MiB = 1024 * 1024;

/**
 * Rates used when no previous run measured them. Sources (docs/design.md#predicted-rto):
 * start-up 120 s is the field reports' "about 2 min from apply to RUNNING in the usual case"
 * (docs/design.md#field-reports); the restore rate (200 MiB/s per job, i.e. the field reports'
 * "about 5 min for a savepoint redeploy of large state" for ~35 GiB), the promotion (10 s) and
 * the jar rates (200 MiB/s from the cache, 25 MiB/s from the HDD-backed repository, the
 * simulator's figures) are assumptions, to be replaced by measurements from the first drills.
 */
export const DEFAULT_RTO_RATES: RtoRates = {
  startupSeconds: 120,
  startupFrom: { from: 'default' },
  restoreBytesPerSecond: 200 * MiB,
  restoreFrom: { from: 'default' },
  promoteSeconds: 10,
  promoteFrom: { from: 'default' },
  cacheBytesPerSecond: 200 * MiB,
  repositoryBytesPerSecond: 25 * MiB,
};

/**
 * One job of a previous run, as measured: what the rates are fitted to. Kept across runs in
 * the report store (activities/rto-samples.ts).
 */
export interface RtoSample {
  strategy: Strategy;
  /** Platform seconds from the job's dispatch (its workflow started) to RUNNING. */
  seconds: number;
  /** State bytes restored (0 when it restored nothing). */
  stateBytes: number;
  /** Platform seconds its forecast gave the jar fetch (subtracted before fitting). */
  jarSeconds: number;
}

/** Samples kept across runs (newest last); older ones are dropped. */
export const MAX_RTO_SAMPLES = 1000;

/**
 * What planning learnt of a job's state size in the target AZ: the bytes its newest
 * restorable snapshot's `_metadata` records (and that snapshot's `s3://…` path), or why none
 * was read (no snapshot within the RPO, the lookup failed, the lookup budget ran out).
 */
export type StateSizeFact = { bytes: number; snapshotPath: string; ageSeconds?: number } | { unread: string };

/** Inputs of estimateRto. */
export interface EstimateInput {
  plan: Pick<Plan, 'admitted'>;
  /** The catalog's jobs (at least the plan's admitted ones), for state size and jars. */
  jobs: readonly FleetJob[];
  policy: TiersPolicy;
  rates: RtoRates;
  /** State sizes read from each job's newest restorable snapshot in the target AZ, or why not (by job key); a job without one falls back to the catalog. */
  snapshotState: ReadonlyMap<JobKey, StateSizeFact>;
  /** Jar digests already in the target AZ's jar cache (preloaded). */
  jarsInCache: ReadonlySet<string>;
}

/**
 * Forecast every admitted job of the plan (module doc for the model).
 * @returns the forecast (jobs in plan order, seconds on the engine's clock rounded to 0.01 s)
 * @throws Error naming the job when an admitted job is not among `jobs` (plan and catalog disagree)
 */
export function estimateRto(input: EstimateInput): RtoForecast {
  const { policy, rates } = input;
  const byKey = new Map(input.jobs.map((j) => [jobKey(j), j]));
  const scale = policy.timeScale;
  const round = (platformSeconds: number): number => Math.round((platformSeconds / scale) * 100) / 100;
  const out: JobRtoForecast[] = [];
  let tierStart = 0;
  for (const tier of policy.admissionOrder) {
    const planned = input.plan.admitted.filter((p) => p.tier === tier);
    if (planned.length === 0) continue;
    const slots: number[] = Array.from({ length: Math.min(policy.tiers[tier].maxConcurrency, planned.length) }, () => tierStart);
    let lastDispatch = tierStart;
    let tierEnd = tierStart;
    for (const p of planned) {
      const job = byKey.get(p.key);
      if (!job) throw new Error(`admitted job ${p.key} is not in the catalog given to the RTO estimate; pass the catalog the plan was made from`);
      const promote = p.strategy === 'promote-standby';
      const fact = promote ? undefined : input.snapshotState.get(p.key);
      const snap = fact && 'bytes' in fact ? fact : undefined;
      const stateBytes = promote ? 0 : snap ? snap.bytes : job.stateSizeBytes;
      const stateFrom = promote ? 'none' : snap ? 'snapshot' : job.stateSizeNominal ? 'default' : 'catalog';
      const jarBytes = promote ? 0 : job.jars.reduce((n, j) => n + j.sizeBytes, 0);
      const inCache = job.jars.every((j) => input.jarsInCache.has(j.digest));
      const jarsFrom = promote || job.jars.length === 0 ? 'none' : inCache ? 'cache' : 'repository';
      const startup = promote ? rates.promoteSeconds : rates.startupSeconds;
      const jarFetch = jarBytes / (inCache ? rates.cacheBytesPerSecond : rates.repositoryBytesPerSecond);
      const restore = stateBytes / rates.restoreBytesPerSecond;
      let best = 0;
      for (let i = 1; i < slots.length; i++) if (slots[i]! < slots[best]!) best = i;
      const dispatch = slots[best]!;
      const end = dispatch + startup + jarFetch + restore;
      slots[best] = end;
      lastDispatch = Math.max(lastDispatch, dispatch);
      tierEnd = Math.max(tierEnd, end);
      const rtoTargetSeconds = policy.tiers[tier].rtoSeconds;
      const seconds = round(end);
      out.push({
        key: p.key, tier, strategy: p.strategy, seconds, rtoTargetSeconds, misses: seconds > rtoTargetSeconds,
        parts: { dispatchWait: round(dispatch), startup: round(startup), jarFetch: round(jarFetch), restore: round(restore) },
        inputs: {
          stateBytes, stateFrom,
          ...(snap ? { snapshotPath: snap.snapshotPath, ...(snap.ageSeconds !== undefined ? { snapshotAgeSeconds: snap.ageSeconds } : {}) } : {}),
          ...(fact && 'unread' in fact ? { stateNote: `no snapshot size: ${fact.unread}` } : {}), jarBytes, jarsFrom,
        },
      });
    }
    tierStart = policy.borrowIdleSlots ? lastDispatch : tierEnd;
  }
  return { rates, timeScale: scale, jobs: out };
}

/**
 * The informational `predicted-rto-miss` findings of a forecast: one per job predicted past its
 * tier's RTO, naming the estimate, its parts and inputs, and what would bring it in.
 */
export function predictedMissFindings(forecast: RtoForecast): Finding[] {
  const r = forecast.rates;
  const rates = `rates: start-up ${r.startupSeconds}s (${sourceWords(r.startupFrom)}), restore ${(r.restoreBytesPerSecond / MiB).toFixed(0)} MiB/s (${sourceWords(r.restoreFrom)}), promotion ${r.promoteSeconds}s (${sourceWords(r.promoteFrom)})`;
  const clock = forecast.timeScale === 1 ? '' : ` (seconds at time scale ${forecast.timeScale})`;
  return forecast.jobs.filter((j) => j.misses).map((j) => {
    const i = j.inputs;
    const state = i.stateFrom === 'none' ? 'no state restored' : `${gib(i.stateBytes)} of state from ${stateWords(i.stateFrom)}${i.snapshotPath ? ` ${i.snapshotPath}` : ''}${i.stateNote ? ` (${i.stateNote})` : ''}`;
    const jars = i.jarsFrom === 'none' ? 'no jar fetched' : `${gib(i.jarBytes)} of jars from the ${i.jarsFrom}`;
    return {
      job: j.key,
      code: 'predicted-rto-miss',
      blocking: false,
      message: `${j.key} (${j.tier}, ${j.strategy}) is predicted RUNNING after ${j.seconds}s, past its ${j.tier} RTO of ${j.rtoTargetSeconds}s${clock}: ` +
        `dispatch wait ${j.parts.dispatchWait}s + start-up ${j.parts.startup}s + jar fetch ${j.parts.jarFetch}s + restore ${j.parts.restore}s; ` +
        `${state}, ${jars}; ${rates}. Fix: give the job a standby, shrink or split its state, preload its jars, or raise the ${j.tier} RTO in tiers.yaml.`,
    };
  });
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function stateWords(from: JobRtoForecast['inputs']['stateFrom']): string {
  switch (from) {
    case 'snapshot': return "the newest snapshot's _metadata";
    case 'catalog': return "the platform's size at catalog sync";
    case 'default': return 'the nominal default (no size known)';
    case 'none': return 'nothing';
  }
}

function sourceWords(s: RtoRates['startupFrom']): string {
  return s.from === 'default' ? 'documented default' : `measured over ${s.jobs} jobs of previous runs`;
}

/**
 * The measurable jobs of a finished run's report: those that ended RUNNING and carry their
 * forecast, with their dispatch → RUNNING time in platform seconds (report seconds × its
 * timeScale) and the state bytes they restored (0 when they restored no snapshot).
 */
export function samplesOf(report: Pick<EvacuationReport, 'jobs' | 'timeScale'>): RtoSample[] {
  return report.jobs.flatMap((j) => {
    const p = j.predicted;
    if (j.outcome !== 'running' || j.rtoSeconds === undefined || j.startSeconds === undefined || !p) return [];
    const seconds = (j.rtoSeconds - j.startSeconds) * report.timeScale;
    if (!(seconds >= 0)) return [];
    return [{ strategy: j.strategy, seconds, stateBytes: j.snapshotPath ? p.inputs.stateBytes : 0, jarSeconds: p.parts.jarFetch * report.timeScale }];
  });
}

/**
 * Rates measured from previous runs' jobs, each falling back to `defaults` where the samples
 * say nothing about it:
 * - promotion: the median of the hot-standby samples' seconds;
 * - restoring starts (others), less their jar fetch: a least-squares line over state bytes
 *   (start-up = intercept, restore rate = 1 / slope) when there are ≥ 3 samples whose largest
 *   state is at least twice the smallest and the line has a positive slope and a non-negative
 *   intercept; otherwise the default restore rate and start-up = the median of (seconds − restore
 *   at the default rate), at least 0.
 * Samples with non-finite or negative numbers are ignored.
 */
export function measuredRates(samples: readonly RtoSample[], defaults: RtoRates = DEFAULT_RTO_RATES): RtoRates {
  const ok = samples.filter((s) => [s.seconds, s.stateBytes, s.jarSeconds].every((v) => Number.isFinite(v) && v >= 0));
  const rates: RtoRates = { ...defaults };
  const promotes = ok.filter((s) => s.strategy === 'promote-standby').map((s) => s.seconds);
  if (promotes.length > 0) {
    rates.promoteSeconds = round2(median(promotes));
    rates.promoteFrom = { from: 'measured', jobs: promotes.length };
  }
  const starts = ok.filter((s) => s.strategy !== 'promote-standby').map((s) => ({ x: s.stateBytes, y: Math.max(0, s.seconds - s.jarSeconds) }));
  if (starts.length === 0) return rates;
  const fit = starts.length >= 3 ? leastSquares(starts) : undefined;
  const xs = starts.map((s) => s.x);
  const spread = Math.min(...xs) * 2 <= Math.max(...xs) && Math.max(...xs) > 0;
  if (fit && spread && fit.slope > 0 && fit.intercept >= 0) {
    rates.startupSeconds = round2(fit.intercept);
    rates.restoreBytesPerSecond = Math.round(1 / fit.slope);
    rates.startupFrom = { from: 'measured', jobs: starts.length };
    rates.restoreFrom = { from: 'measured', jobs: starts.length };
  } else {
    rates.startupSeconds = round2(Math.max(0, median(starts.map((s) => s.y - s.x / defaults.restoreBytesPerSecond))));
    rates.startupFrom = { from: 'measured', jobs: starts.length };
  }
  return rates;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Median of `values` (not empty; the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function leastSquares(points: Array<{ x: number; y: number }>): { slope: number; intercept: number } | undefined {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

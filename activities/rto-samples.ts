/**
 * The measurements the RTO estimate is fitted to (domain/rto-estimate.ts measuredRates), kept
 * across runs as one JSON document in the report store (`rto-samples.json`): each finished
 * evacuation or drill appends its jobs (samplesOf; the newest MAX_RTO_SAMPLES are kept) and
 * its engine overhead (runSampleOf; the newest MAX_RTO_RUNS runs), and planning reads them.
 * Two runs ending at the same moment may each write over the other's samples (last writer
 * wins): the rates then come from one of them, never from a broken document.
 */
import { PlatformError } from '../platform/errors.js';
import type { ReportStore } from '../platform/ports.js';
import type { EvacuationReport } from '../domain/report.js';
import type { TiersPolicy } from '../domain/types.js';
import { MAX_RTO_RUNS, MAX_RTO_SAMPLES, runSampleOf, samplesOf, type RtoRunSample, type RtoSample } from '../domain/rto-estimate.js';

/** Name of the samples document in the report store. */
export const RTO_SAMPLES_NAME = 'rto-samples.json';

/** What previous runs measured: their jobs and their engine overhead, oldest first. */
export interface RtoHistory {
  samples: RtoSample[];
  runs: RtoRunSample[];
}

/**
 * The samples recorded so far, oldest first; empty lists when none was ever written or the
 * document is not one of samples (a hand-edited or foreign file: the estimate then uses its
 * defaults). Documents written before run samples existed have no `runs`.
 * @throws whatever the store throws other than not-found
 */
export async function loadRtoHistory(reports: ReportStore): Promise<RtoHistory> {
  let body: string;
  try {
    body = await reports.read(reports.refOf(RTO_SAMPLES_NAME));
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return { samples: [], runs: [] };
    throw err;
  }
  try {
    const parsed = JSON.parse(body) as { samples?: unknown; runs?: unknown } | null;
    return {
      samples: Array.isArray(parsed?.samples) ? (parsed.samples as RtoSample[]) : [],
      runs: Array.isArray(parsed?.runs) ? (parsed.runs as RtoRunSample[]) : [],
    };
  } catch {
    return { samples: [], runs: [] };
  }
}

/**
 * Append the measurable jobs of `report` and its engine overhead to the samples, keeping the
 * newest MAX_RTO_SAMPLES jobs and MAX_RTO_RUNS runs.
 * @param policy the run's tiers policy (its admission order and borrowIdleSlots say when each tier could start)
 * @param pace the worker's pace the run's plan measured (Plan.rto.pace.factor, domain/engine-pace.ts), kept with its run sample
 */
export async function recordRtoSamples(reports: ReportStore, report: EvacuationReport, policy?: Pick<TiersPolicy, 'admissionOrder' | 'borrowIdleSlots'>, pace?: number): Promise<void> {
  const fresh = samplesOf(report);
  const run = policy ? runSampleOf(report, policy.admissionOrder, policy.borrowIdleSlots, pace) : undefined;
  if (fresh.length === 0 && !run) return;
  const before = await loadRtoHistory(reports);
  const samples = [...before.samples, ...fresh].slice(-MAX_RTO_SAMPLES);
  const runs = [...before.runs, ...(run ? [run] : [])].slice(-MAX_RTO_RUNS);
  await reports.put(RTO_SAMPLES_NAME, JSON.stringify({ samples, runs }));
}

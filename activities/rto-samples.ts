/**
 * The measured jobs the RTO estimate's rates are fitted to (domain/rto-estimate.ts
 * measuredRates), kept across runs as one JSON document in the report store
 * (`rto-samples.json`): each finished evacuation or drill appends its jobs (samplesOf), the
 * newest MAX_RTO_SAMPLES are kept, and planning reads them. Two runs ending at the same moment
 * may each write over the other's samples (last writer wins): the rates then come from
 * one of them, never from a broken document.
 */
import { PlatformError } from '../platform/errors.js';
import type { ReportStore } from '../platform/ports.js';
import type { EvacuationReport } from '../domain/report.js';
import { MAX_RTO_SAMPLES, samplesOf, type RtoSample } from '../domain/rto-estimate.js';

/** Name of the samples document in the report store. */
export const RTO_SAMPLES_NAME = 'rto-samples.json';

/**
 * The samples recorded so far, oldest first; [] when none was ever written or the document is
 * not a list of samples (a hand-edited or foreign file: the estimate then uses its defaults).
 * @throws whatever the store throws other than not-found
 */
export async function loadRtoSamples(reports: ReportStore): Promise<RtoSample[]> {
  let body: string;
  try {
    body = await reports.read(reports.refOf(RTO_SAMPLES_NAME));
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return [];
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(body);
    const list = (parsed as { samples?: unknown }).samples;
    return Array.isArray(list) ? (list as RtoSample[]) : [];
  } catch {
    return [];
  }
}

/** Append the measurable jobs of `report` to the samples, keeping the newest MAX_RTO_SAMPLES. */
export async function recordRtoSamples(reports: ReportStore, report: EvacuationReport): Promise<void> {
  const fresh = samplesOf(report);
  if (fresh.length === 0) return;
  const samples = [...(await loadRtoSamples(reports)), ...fresh].slice(-MAX_RTO_SAMPLES);
  await reports.put(RTO_SAMPLES_NAME, JSON.stringify({ samples }));
}

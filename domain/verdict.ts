/**
 * The verdict of a finished evacuation, shared by the HTML report and the console,
 * so that nothing shows green beside a failed job, a missed RTO or an abort. Pure.
 */
import type { TierRto } from './tier-rto.js';

/** How a finished evacuation went, for colours and headlines: never green beside a failure or a miss. */
export type Verdict = 'success' | 'rto-missed' | 'failed' | 'aborted';

/**
 * The verdict of a finished evacuation.
 * - `aborted`: someone aborted it (whatever ran);
 * - `failed`: a P0–P2 job did not end RUNNING, or a tier workflow failed (`success` false);
 * - `rto-missed`: every P0–P2 job RUNNING, but at least one tier missed its RTO target;
 * - `success`: every P0–P2 job RUNNING within its tier's RTO.
 * @param o.success EvacuationReport.success; o.aborted whether it was aborted; o.tiers each tier's TierRto
 */
export function verdictOf(o: { success: boolean; aborted: boolean; tiers: ReadonlyArray<Pick<TierRto, 'met'>> }): Verdict {
  if (o.aborted) return 'aborted';
  if (!o.success) return 'failed';
  return o.tiers.every((t) => t.met) ? 'success' : 'rto-missed';
}

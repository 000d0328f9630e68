/**
 * The load continuous protection puts on the platform in steady state, to size it before
 * turning it on (docs/protection.md#load-on-the-platform-and-how-to-size-it). Pure.
 *
 * Model, per job of a protected tier (tiers.yaml `protection.tiers`) running in AZ `a`:
 * - Protection acts when the newest restorable snapshot in another AZ is older than
 *   `refreshAtRpoFraction × rpoSeconds` (domain/protection.ts), so a job that needs protection
 *   savepoints gets one per refresh interval `T = refreshAtRpoFraction × rpoSeconds`.
 * - It needs them when its checkpoints do not restore in some other AZ: under the
 *   `per-az-buckets` layout (only savepoints are relocatable: docs/flink-snapshots.md), or when
 *   the object store of `a` does not replicate into that AZ (`notReplicated`: checkpoints never
 *   get there). Under `symmetric` with replication, replicated checkpoints keep it fresh and
 *   protection takes none. Savepoints the operator takes on its own (periodic savepoints) are not
 *   counted: the figures are an upper bound.
 * - Each savepoint writes the job's whole state (canonical and native savepoints are
 *   self-contained: FLINK-5763; Flink docs "Savepoints"), and is shipped (copied whole) into
 *   every other AZ that does not replicate from `a`.
 * - Savepoints in flight per AZ, on average (Little's law: arrival rate × time each takes), are
 *   Σ savepointSeconds / T over the AZ's jobs, with savepointSeconds = base + state / write
 *   rate; protection keeps up only if that stays below `savepointsAtOncePerAz`.
 * Seconds and bytes are the platform's; rates are inputs (measure your own: the simulator's
 * defaults are assumptions, docs/simulator-model.md).
 */
import { replicates, type ProtectionPolicy } from './protection.js';
import { TIERS, type PlatformProfile, type Tier, type TierPolicy } from './types.js';

/** One job as the load model sees it. */
export interface LoadJob {
  tier: Tier;
  az: string;
  /** Bytes of state a savepoint writes. */
  stateBytes: number;
}

/** How long one savepoint takes: `baseSeconds + stateBytes / bytesPerSecond`. */
export interface SavepointRate {
  baseSeconds: number;
  /** > 0. */
  bytesPerSecond: number;
}

/** One protected tier's steady-state load. */
export interface TierLoad {
  tier: Tier;
  /** Jobs of the tier that need protection savepoints (of `jobs` in the tier). */
  protectedJobs: number;
  jobs: number;
  /** The refresh interval, seconds: refreshAtRpoFraction × rpoSeconds. */
  refreshSeconds: number;
  savepointsPerMinute: number;
  /** Bytes savepoints write per refresh interval (one protection cycle of the tier). */
  savepointBytesPerCycle: number;
  /** Bytes shipped (S3 copies into AZs that do not replicate) per refresh interval. */
  shippedBytesPerCycle: number;
}

/** One AZ's steady-state savepoint load. */
export interface AzLoad {
  az: string;
  savepointsPerMinute: number;
  /** Savepoints in flight on average (Σ seconds each takes / refresh interval). */
  meanSavepointsInFlight: number;
  /** protection.savepointsAtOncePerAz. */
  savepointsAtOnce: number;
  /** meanSavepointsInFlight < savepointsAtOnce: protection keeps up (it falls behind otherwise). */
  keepsUp: boolean;
}

/** The whole fleet's steady-state protection load. */
export interface ProtectionLoad {
  tiers: TierLoad[];
  azs: AzLoad[];
  savepointsPerMinute: number;
  /** Bytes savepoints write per hour, and bytes shipped per hour, across the fleet. */
  savepointBytesPerHour: number;
  shippedBytesPerHour: number;
}

/**
 * The steady-state load protection puts on `platform` for `jobs` (module doc for the model).
 * @throws Error naming the value when a job's AZ is not in `platform`, its state bytes are
 *   negative or not finite, or the rate is not > 0
 */
export function protectionLoad(
  jobs: readonly LoadJob[],
  tiers: Record<Tier, Pick<TierPolicy, 'rpoSeconds'>>,
  policy: Pick<ProtectionPolicy, 'tiers' | 'refreshAtRpoFraction' | 'savepointsAtOncePerAz'>,
  platform: Pick<PlatformProfile, 'layout' | 'azs' | 'notReplicated'>,
  rate: SavepointRate,
): ProtectionLoad {
  if (!(rate.bytesPerSecond > 0) || !(rate.baseSeconds >= 0)) throw new Error(`protectionLoad: savepoint rate ${JSON.stringify(rate)} must have bytesPerSecond > 0 and baseSeconds ≥ 0`);
  const names = platform.azs.map((a) => a.name);
  const tierRows = new Map<Tier, TierLoad>();
  const azRows = new Map<string, AzLoad>(names.map((az) => [az, { az, savepointsPerMinute: 0, meanSavepointsInFlight: 0, savepointsAtOnce: policy.savepointsAtOncePerAz, keepsUp: true }]));
  for (const tier of policy.tiers) {
    tierRows.set(tier, { tier, protectedJobs: 0, jobs: 0, refreshSeconds: policy.refreshAtRpoFraction * tiers[tier].rpoSeconds, savepointsPerMinute: 0, savepointBytesPerCycle: 0, shippedBytesPerCycle: 0 });
  }
  for (const job of jobs) {
    if (!names.includes(job.az)) throw new Error(`protectionLoad: job in AZ ${job.az}, which the platform does not have (${names.join(', ')})`);
    if (!(job.stateBytes >= 0) || !Number.isFinite(job.stateBytes)) throw new Error(`protectionLoad: state bytes ${job.stateBytes} of a job in ${job.az} must be a finite number ≥ 0`);
    const row = tierRows.get(job.tier);
    if (!row) continue;
    row.jobs += 1;
    const unreplicated = names.filter((az) => az !== job.az && !replicates(platform, job.az, az));
    if (platform.layout !== 'per-az-buckets' && unreplicated.length === 0) continue;
    row.protectedJobs += 1;
    row.savepointsPerMinute += 60 / row.refreshSeconds;
    row.savepointBytesPerCycle += job.stateBytes;
    row.shippedBytesPerCycle += job.stateBytes * unreplicated.length;
    const az = azRows.get(job.az)!;
    az.savepointsPerMinute += 60 / row.refreshSeconds;
    az.meanSavepointsInFlight += (rate.baseSeconds + job.stateBytes / rate.bytesPerSecond) / row.refreshSeconds;
  }
  for (const az of azRows.values()) az.keepsUp = az.meanSavepointsInFlight < az.savepointsAtOnce;
  const tierList = TIERS.flatMap((t) => (tierRows.has(t) ? [tierRows.get(t)!] : []));
  const perHour = (f: (t: TierLoad) => number): number => tierList.reduce((n, t) => n + f(t) * (3600 / t.refreshSeconds), 0);
  return {
    tiers: tierList,
    azs: [...azRows.values()],
    savepointsPerMinute: tierList.reduce((n, t) => n + t.savepointsPerMinute, 0),
    savepointBytesPerHour: perHour((t) => t.savepointBytesPerCycle),
    shippedBytesPerHour: perHour((t) => t.shippedBytesPerCycle),
  };
}

/**
 * Continuous protection (docs/protection.md): does each job keep a restorable snapshot in every
 * other AZ inside its tier's RPO, right now, and if not, what should protection do about it.
 * Pure: the caller looks the snapshots up (ObjectStorePort.findSnapshot in each AZ, with no RPO
 * so the newest restorable one is found whatever its age) and passes the answers in.
 *
 * Facts it rests on (docs/flink-snapshots.md, docs/design.md#relocatability):
 * - under the `per-az-buckets` layout only savepoints restore in another AZ (checkpoints hold
 *   absolute paths into the source bucket); snapshot choice already refuses the others, so an
 *   answer of `findSnapshot` here is what an evacuation would restore from;
 * - the RPO an evacuation pays is the age of the snapshot it restores from, so the RPO a job
 *   would pay now, out of its AZ, is the age of the newest restorable snapshot in the AZ it
 *   would go to; with more than one other AZ, the worst of them (protection must hold for
 *   whichever AZ survives);
 * - where the object stores replicate from the job's AZ to another (PlatformProfile
 *   `notReplicated` does not list the pair), a savepoint taken in the source reaches the other
 *   AZ by itself; where they do not, protection ships it with S3 copies.
 */
import { JOBS_PER_SHARD } from './evacuation.js';
import { TIERS, type JobKey, type PlatformProfile, type SnapshotCandidate, type Tier } from './types.js';

/** Binary format of the savepoints protection takes (FlinkStateSnapshot spec.savepoint.formatType). */
export type SavepointFormat = 'native' | 'canonical';

/**
 * The protection block of tiers.yaml (domain/tiers-policy.ts parses it). Times in seconds.
 */
export interface ProtectionPolicy {
  /** Tiers that must keep a restorable snapshot in every other AZ no older than their RPO (e.g. P1, P2). Others need none. */
  tiers: Tier[];
  /**
   * Act once the newest restorable snapshot in another AZ is older than this fraction of the
   * RPO, in (0, 1]: e.g. 0.5 takes a savepoint at half the RPO, so that it is taken and shipped
   * before the RPO is crossed.
   */
  refreshAtRpoFraction: number;
  /** Savepoints protection keeps in flight at once per AZ (per cluster: JobManager and object-store load); integer ≥ 1. */
  savepointsAtOncePerAz: number;
  /**
   * Format of the savepoints it takes. `native` (Flink ≥ 1.15, FLIP-203): the state backend's
   * own files, fast to take and restore; `canonical`: the backend-independent format, the only
   * one before Flink 1.15. protection falls back to canonical for a job whose Flink is older.
   */
  savepointFormat: SavepointFormat;
  /** How long one savepoint may take before it counts as failed, seconds > 0. */
  savepointTimeoutSeconds: number;
  /** Attempts per savepoint before the job is reported unprotected with the operator's reason (≥ 1), and the first back-off between them, seconds (doubling). */
  retry: { attempts: number; initialBackoffSeconds: number };
  /**
   * Shipped copies kept per job and target AZ: the newest `keepPerJob`, at least 1. A copy
   * an evacuation still needs (expiredShipments `needed`) is never expired.
   */
  retention: { keepPerJob: number };
}

/** Protection when tiers.yaml has no `protection` block: no tier is protected, nothing is taken or shipped. */
export const NO_PROTECTION: Readonly<ProtectionPolicy> = {
  tiers: [],
  refreshAtRpoFraction: 0.5,
  savepointsAtOncePerAz: 2,
  savepointFormat: 'native',
  savepointTimeoutSeconds: 600,
  retry: { attempts: 3, initialBackoffSeconds: 30 },
  retention: { keepPerJob: 2 },
};

/** Whether the object store of `from` replicates the state bucket into `to`'s (PlatformProfile.notReplicated). */
export function replicates(platform: Pick<PlatformProfile, 'notReplicated'>, from: string, to: string): boolean {
  return !(platform.notReplicated ?? []).some((p) => p.from === from && p.to === to);
}

/** The newest restorable snapshot of a job in one AZ, as `findSnapshot` (no RPO) answered. */
export type NewestSnapshot =
  | { kind: 'snapshot'; path: string; snapshotKind: 'checkpoint' | 'savepoint'; completedAtEpochSeconds: number }
  | { kind: 'none'; reason: string }
  /** The AZ's store did not answer: `reason` says what failed. */
  | { kind: 'unknown'; reason: string };

/** What protection knows of one job (what `assessProtection` takes). */
export interface ProtectionInput {
  job: JobKey;
  tier: Tier;
  /** AZ the job runs in. */
  az: string;
  /** The tier's RPO, seconds > 0. */
  rpoSeconds: number;
  /** The newest restorable snapshot in each AZ other than `az` (the target of an evacuation out of `az`). */
  otherAzs: Record<string, NewestSnapshot>;
  /** The newest complete savepoint of the job in its own AZ (what can be shipped), if any. */
  sourceSavepoint?: { path: string; completedAtEpochSeconds: number };
  /**
   * What failed for the job in the last protection pass, after its retries: its savepoint (the
   * operator's reason) or a copy the store refused (`ship`: the store's reason). Absent `step`
   * (records before copies were kept): a savepoint.
   */
  lastFailure?: { step?: 'savepoint' | 'ship'; reason: string; atEpochSeconds: number };
}

/** Protection state of a job in one other AZ. */
export interface AzProtection {
  az: string;
  /** Path of the newest restorable snapshot there, when there is one. */
  newestPath?: string;
  /** Its age at `now`, seconds (clamped at 0); absent when there is none. */
  ageSeconds?: number;
  /** Inside the RPO. */
  withinRpo: boolean;
  /** Why not inside the RPO, when not. */
  reason?: string;
}

/** What protection should do for one job now. */
export type ProtectionAction =
  /** Nothing: every other AZ is fresh enough, the tier needs no protection, or a replicated savepoint is on its way. */
  | { kind: 'none' }
  /** Take a savepoint in the job's AZ: the newest restorable snapshot elsewhere (and in its own AZ) is too old. */
  | { kind: 'savepoint'; reason: string }
  /** Copy this savepoint of the job's AZ into these AZs' state buckets (their stores do not replicate from it). */
  | { kind: 'ship'; path: string; toAzs: string[]; reason: string };

/** A job's protection right now (per job and tier). */
export interface JobProtection {
  job: JobKey;
  tier: Tier;
  az: string;
  rpoSeconds: number;
  /**
   * `protected`: a restorable snapshot within the RPO in every other AZ; `unprotected`: not
   * (see `reason`); `not-required`: the tier needs no protection (it may still be inside its RPO).
   */
  state: 'protected' | 'unprotected' | 'not-required';
  /** Why unprotected: the first other AZ's reason, plus the last pass's failed savepoint (the operator's reason) or refused copy (the store's) when there is one. */
  reason?: string;
  /**
   * The RPO an evacuation out of `az` would pay now, seconds: the age of the newest
   * restorable snapshot in the worst other AZ. Absent when some other AZ has none (the
   * evacuation would apply the tier's onNoSnapshot) or did not answer.
   */
  rpoNowSeconds?: number;
  /** Per other AZ, in AZ name order. */
  azs: AzProtection[];
  action: ProtectionAction;
}

/**
 * Assess one job against the protection policy at `nowEpochSeconds`: per other AZ the newest
 * restorable snapshot and its age, the RPO an evacuation would pay now, protected or not and
 * why, and the action protection should take.
 *
 * Action: nothing for a tier outside `policy.tiers`. Otherwise an other AZ is "due" when its
 * newest restorable snapshot is older than `refreshAtRpoFraction × rpoSeconds` (or there is
 * none). For the due AZs: when the job's own newest savepoint is fresh (within that same
 * threshold) and newer than what they hold, the unreplicated ones get it shipped and the
 * replicated ones wait for replication; otherwise a new savepoint is taken. An AZ whose store
 * did not answer is unprotected (reason says why) and never due: nothing can be shipped to it.
 *
 * @param platform which AZ pairs replicate (`notReplicated`)
 * @throws Error naming the field when `rpoSeconds` ≤ 0, `nowEpochSeconds` is not finite, or
 *   `otherAzs` is empty or names the job's own AZ
 */
export function assessProtection(
  input: ProtectionInput,
  policy: Pick<ProtectionPolicy, 'tiers' | 'refreshAtRpoFraction'>,
  platform: Pick<PlatformProfile, 'notReplicated'>,
  nowEpochSeconds: number,
): JobProtection {
  if (!(input.rpoSeconds > 0)) throw new Error(`assessProtection: ${input.job}: rpoSeconds must be > 0, got ${input.rpoSeconds}. Fix: set tiers.${input.tier}.rpoSeconds > 0 in tiers.yaml`);
  if (!Number.isFinite(nowEpochSeconds)) throw new Error(`assessProtection: nowEpochSeconds must be finite, got ${nowEpochSeconds}`);
  const names = Object.keys(input.otherAzs).sort();
  if (names.length === 0 || names.includes(input.az))
    throw new Error(`assessProtection: ${input.job}: otherAzs must name at least one AZ other than its own (${input.az}), got [${names.join(', ')}]`);
  const rpo = input.rpoSeconds;
  const azs = names.map((az) => azProtection(az, input.otherAzs[az]!, rpo, nowEpochSeconds));
  const ages = azs.map((a) => a.ageSeconds);
  const rpoNowSeconds = ages.every((a) => a !== undefined) ? Math.max(...ages) : undefined;
  const required = policy.tiers.includes(input.tier);
  const outside = azs.find((a) => !a.withinRpo);
  const failure = input.lastFailure
    ? `; last ${input.lastFailure.step === 'ship' ? 'copy' : 'savepoint'} failed ${Math.round(nowEpochSeconds - input.lastFailure.atEpochSeconds)} s ago: ${input.lastFailure.reason}`
    : '';
  const base = { job: input.job, tier: input.tier, az: input.az, rpoSeconds: rpo, ...(rpoNowSeconds !== undefined ? { rpoNowSeconds } : {}), azs };
  if (!required) return { ...base, state: 'not-required', action: { kind: 'none' } };
  const state = outside ? 'unprotected' : 'protected';
  const reason = outside ? `${outside.az}: ${outside.reason}${failure}` : undefined;
  return { ...base, state, ...(reason !== undefined ? { reason } : {}), action: actionFor(input, azs, rpo * policy.refreshAtRpoFraction, platform, nowEpochSeconds) };
}

function azProtection(az: string, newest: NewestSnapshot, rpo: number, now: number): AzProtection {
  if (newest.kind === 'unknown') return { az, withinRpo: false, reason: `store did not answer: ${newest.reason}` };
  if (newest.kind === 'none') return { az, withinRpo: false, reason: `no restorable snapshot: ${newest.reason}` };
  const ageSeconds = Math.max(0, now - newest.completedAtEpochSeconds);
  const withinRpo = ageSeconds <= rpo;
  return {
    az, newestPath: newest.path, ageSeconds, withinRpo,
    ...(withinRpo ? {} : { reason: `newest restorable ${newest.snapshotKind} ${newest.path} is ${Math.round(ageSeconds)} s old, beyond the RPO of ${rpo} s` }),
  };
}

function actionFor(input: ProtectionInput, azs: AzProtection[], threshold: number, platform: Pick<PlatformProfile, 'notReplicated'>, now: number): ProtectionAction {
  const due = azs.filter((a) => input.otherAzs[a.az]!.kind !== 'unknown' && (a.ageSeconds === undefined || a.ageSeconds > threshold));
  if (due.length === 0) return { kind: 'none' };
  const src = input.sourceSavepoint;
  const srcAge = src ? Math.max(0, now - src.completedAtEpochSeconds) : undefined;
  const dueNames = due.map((a) => a.az).join(', ');
  const fresh = src !== undefined && srcAge! <= threshold && due.every((a) => a.ageSeconds === undefined || srcAge! < a.ageSeconds);
  if (!fresh) {
    const own = src ? `its newest savepoint in ${input.az} is ${Math.round(srcAge!)} s old` : `it has no savepoint in ${input.az}`;
    return { kind: 'savepoint', reason: `newest restorable snapshot in ${dueNames} is past ${Math.round(threshold)} s (refresh point of the ${input.rpoSeconds} s RPO) and ${own}` };
  }
  const toAzs = due.filter((a) => !replicates(platform, input.az, a.az)).map((a) => a.az);
  if (toAzs.length === 0) return { kind: 'none' }; // replication brings the fresh savepoint
  return { kind: 'ship', path: src.path, toAzs, reason: `${toAzs.join(', ')} do${toAzs.length === 1 ? 'es' : ''} not replicate from ${input.az}; its savepoint ${src.path} is ${Math.round(srcAge!)} s old` };
}

/** A job whose action is `savepoint`, as the protection pass queues it. */
export interface DueSavepoint {
  job: JobKey;
  az: string;
  tier: Tier;
  /** Seconds past the refresh point (overdueSeconds); Infinity when some other AZ has nothing restorable. */
  overdueSeconds: number;
}

/**
 * The order in which due savepoints are taken: the most overdue first, the higher tier first on
 * a tie, then by job key. The protection workflow takes them in this order per AZ, at most
 * ProtectionPolicy.savepointsAtOncePerAz at a time.
 */
export function savepointOrder<T extends DueSavepoint>(due: readonly T[]): T[] {
  return [...due].sort((a, b) => b.overdueSeconds - a.overdueSeconds || TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
}

/**
 * The savepoint format a job gets: `native` needs Flink ≥ 1.15 (FLIP-203, where native
 * savepoints were introduced); older jobs, or a job whose spec.flinkVersion is absent or
 * unreadable, get `canonical`, which every version restores.
 * @param flinkVersion spec.flinkVersion of the FlinkDeployment, e.g. `v1_20`, `v2_1`
 */
export function savepointFormatFor(flinkVersion: string | undefined, wanted: SavepointFormat): SavepointFormat {
  if (wanted === 'canonical') return 'canonical';
  const m = /^v(\d+)_(\d+)$/.exec(flinkVersion ?? '');
  if (!m) return 'canonical';
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 1 || minor >= 15 ? 'native' : 'canonical';
}

/**
 * Seconds a job is past its refresh point (Infinity when some due AZ has nothing restorable),
 * to order savepoint triggers (savepointOrder).
 */
export function overdueSeconds(p: JobProtection, refreshAtRpoFraction: number): number {
  const threshold = p.rpoSeconds * refreshAtRpoFraction;
  const known = p.azs.filter((a) => !a.reason?.startsWith('store did not answer'));
  if (known.some((a) => a.ageSeconds === undefined)) return Number.POSITIVE_INFINITY;
  return Math.max(0, ...known.map((a) => a.ageSeconds! - threshold));
}

/** A savepoint copy protection shipped into a target AZ's state bucket. */
export interface Shipment {
  /** `s3://<target bucket>/<savepoint dir key>`. */
  path: string;
  completedAtEpochSeconds: number;
}

/**
 * Which shipped copies of one job in one target AZ retention expires: all but the newest
 * `keepPerJob` (by completion time, then path), never the newest restorable snapshot there
 * (`newestRestorable`, what an evacuation would restore from now) and never one in `needed`
 * (paths an evacuation, drill or job still restores from, e.g. a resumed standby's
 * initialSavepointPath). Paths are compared as given.
 * @throws Error when `keepPerJob` is not an integer ≥ 1
 */
export function expiredShipments(shipped: readonly Shipment[], keepPerJob: number, newestRestorable: string | undefined, needed: ReadonlySet<string>): Shipment[] {
  if (!Number.isInteger(keepPerJob) || keepPerJob < 1) throw new Error(`expiredShipments: keepPerJob must be an integer ≥ 1, got ${keepPerJob}. Fix: set protection.retention.keepPerJob ≥ 1 in tiers.yaml`);
  const newestFirst = [...shipped].sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds || (a.path < b.path ? -1 : 1));
  return newestFirst.slice(keepPerJob).filter((s) => s.path !== newestRestorable && !needed.has(s.path));
}

/**
 * The job's newest savepoint in its own AZ that protection may ship: complete (`_metadata`
 * present), a savepoint, and the job's own (not a copy shipped into that AZ), the newest by
 * completion time. Both the assessment and the ship step choose with it, the ship step again
 * right before copying: a savepoint retention replaced since the assessment is not shipped,
 * its successor is.
 * @param listed ObjectStorePort.listSnapshots of the job in its own AZ (any order)
 * @returns undefined when it has none
 */
export function newestOwnSavepoint(listed: readonly SnapshotCandidate[]): { path: string; completedAtEpochSeconds: number } | undefined {
  let best: SnapshotCandidate | undefined;
  for (const c of listed) {
    if (c.kind !== 'savepoint' || !c.hasMetadata || c.shippedFrom !== undefined) continue;
    if (!best || c.completedAtEpochSeconds > best.completedAtEpochSeconds || (c.completedAtEpochSeconds === best.completedAtEpochSeconds && c.path > best.path)) best = c;
  }
  return best ? { path: best.path, completedAtEpochSeconds: best.completedAtEpochSeconds } : undefined;
}

/** One shard of a protection pass: jobs of one AZ and one tier, at most JOBS_PER_SHARD. */
export interface ProtectionShard {
  az: string;
  tier: Tier;
  /** Indices of its jobs in the catalog's `jobs`, ascending. */
  indices: number[];
}

/**
 * How a protection pass splits a catalog into shards: per AZ (in `azs` order), per tier (P0
 * first), runs of at most JOBS_PER_SHARD (50) jobs in catalog order. Pure and deterministic, so a
 * shard workflow finds its jobs again from the catalog version and its index alone (no job list
 * travels through a payload). Unlike the evacuation's shardLayout there is no cap on the number
 * of shards: a pass runs its shards a few at a time per AZ (protectionLanes), not all at once,
 * and a cap would let a shard, and its history, grow with the fleet.
 * @param jobs the catalog's jobs (only `az` and `tier` are read)
 * @param azs the platform's AZ names; a job in an AZ not listed is sharded after them, by AZ name
 */
export function protectionShards(jobs: ReadonlyArray<{ az: string; tier: Tier }>, azs: readonly string[]): ProtectionShard[] {
  const groups = new Map<string, ProtectionShard[]>();
  const key = (az: string, tier: Tier): string => `${az}\u0000${tier}`;
  jobs.forEach((j, i) => {
    const list = groups.get(key(j.az, j.tier)) ?? [];
    if (list.length === 0 || list.at(-1)!.indices.length >= JOBS_PER_SHARD) list.push({ az: j.az, tier: j.tier, indices: [] });
    list.at(-1)!.indices.push(i);
    groups.set(key(j.az, j.tier), list);
  });
  const extra = [...new Set(jobs.map((j) => j.az))].filter((az) => !azs.includes(az)).sort();
  return [...azs, ...extra].flatMap((az) => TIERS.flatMap((tier) => groups.get(key(az, tier)) ?? []));
}

/**
 * The lanes a protection pass runs one AZ's shards in, so that the per-AZ bound
 * `savepointsAtOncePerAz` holds across the whole fleet, not per shard: min(atOnce, shards)
 * lanes, each running that AZ's shards one after the other with its share of the bound as the
 * shard's savepoints at once (the shares add up to `atOnce`, each ≥ 1). A shard window sized by
 * the bound, rather than every shard at once with a fraction of a slot: a shard's share is
 * always a whole savepoint, and a finished shard hands its lane to the next.
 * @param atOnce ProtectionPolicy.savepointsAtOncePerAz, an integer ≥ 1
 * @param shards the AZ's shards, ≥ 0
 * @returns savepoints at once per lane (empty when there are no shards)
 * @throws Error naming the value when `atOnce` is not an integer ≥ 1
 */
export function protectionLanes(atOnce: number, shards: number): number[] {
  if (!Number.isInteger(atOnce) || atOnce < 1) throw new Error(`protectionLanes: savepointsAtOncePerAz must be an integer ≥ 1, got ${atOnce}. Fix: set protection.savepointsAtOncePerAz ≥ 1 in tiers.yaml`);
  const lanes = Math.min(atOnce, shards);
  return Array.from({ length: lanes }, (_, k) => Math.floor(atOnce / lanes) + (k < atOnce % lanes ? 1 : 0));
}

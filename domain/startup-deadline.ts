/**
 * A job's start-up deadline: how long after its apply a deployed job may take to count RUNNING
 * in the target AZ (restored means restored: docs/design.md#restored-means-restored) before it
 * fails `StartupTimeout`. The tier's `startupTimeoutSeconds` is one job's start-up; a restoring
 * job also reads its state from the target AZ's object store, whose read bandwidth every restore
 * of the evacuation shares, so its deadline grows by the time its restore takes when the most
 * restores the evacuation can run at once share that bandwidth
 * (docs/design.md#start-up-deadline-and-the-restore-queue). Pure.
 *
 * The restore time is computed with the forecast's rates (domain/rto-estimate.ts: the per-job
 * restore rate, measured or default, and the AZ's object-store read bandwidth), not a second
 * rate model.
 */
import { DEFAULT_PLATFORM_LIMITS, restoreCapBytesPerSecond, SAVEPOINT_BASE_SECONDS, stopWithSavepointSeconds } from './rto-estimate.js';
import type { PlannedJob, RtoRates, TiersPolicy } from './types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A job's start-up deadline and why it is what it is. Wall seconds (the engine's clock, as the tier's start-up timeout). */
export interface StartupDeadline {
  /** Apply → deadline, wall seconds: `timeoutSeconds` + `capacitySeconds` + `restoreSeconds` + `checkpointSeconds`. */
  seconds: number;
  /** The tier's start-up timeout, wall seconds (tiers.yaml startupTimeoutSeconds ÷ time scale). */
  timeoutSeconds: number;
  /** Wall seconds added for the job's restore at its share of the AZ's object-store read bandwidth (whole seconds, rounded up); 0 when it restores nothing. */
  restoreSeconds: number;
  /**
   * Wall seconds added for the first checkpoint after the restore (one checkpoint interval ÷ time
   * scale, rounded up): a restoring job counts RUNNING only once that checkpoint completes
   * (docs/design.md#restored-means-restored), and Flink takes it one interval after the job runs.
   * 0 when it restores nothing.
   */
  checkpointSeconds: number;
  /**
   * Wall seconds added for the capacity the plan's preemptions free (preemptionWait): a deploy
   * that finds the target AZ full waits until a preempted P3 job's stop-with-savepoint has ended.
   * Absent when the plan preempts nothing.
   */
  capacitySeconds?: number;
  /** The computation in words, e.g. `600s start-up timeout + 1624s restore: 40.00 GiB (…) at 23.5 MiB/s, az-b's 64.0 GiB/s object-store read bandwidth shared by up to 2791 restores at once`. */
  why: string;
}

/** Inputs of startupDeadline. */
export interface StartupDeadlineInput {
  /** The tier's start-up timeout, wall seconds; > 0. */
  startupTimeoutSeconds: number;
  /** Whether the job restores state (it was deployed with a snapshot path). */
  restoring: boolean;
  /** State bytes it restores (≥ 0; ignored when not restoring), and where that figure came from, in words. */
  stateBytes: number;
  stateFrom: string;
  /** The job's checkpoint interval, platform seconds (its spec's `execution.checkpointing.interval`, else the forecast's default); ≥ 0. */
  checkpointIntervalSeconds: number;
  /** The forecast's rates (Plan.rto.rates, else DEFAULT_RTO_RATES): platform seconds and bytes/s. */
  rates: RtoRates;
  /** Model seconds per wall second (TiersPolicy.timeScale); > 0. */
  timeScale: number;
  /** The most restores the evacuation runs at once in the target AZ (restoresAtOnce); integer ≥ 1. */
  restoresAtOnce: number;
  /** The target AZ, for the words. */
  targetAz: string;
  /** What the plan's preemptions may make the deploy wait for capacity (preemptionWait); absent: nothing. */
  capacityWait?: CapacityWait;
}

/** How long a deploy may wait for capacity freed by the plan's preemptions, and why. */
export interface CapacityWait {
  /** Wall seconds, whole (rounded up). */
  seconds: number;
  /** E.g. `capacity freed by preempting ns/p3-job (192.40 GiB stop-with-savepoint: 5s + state at 200.0 MiB/s ÷ time scale 10)`. */
  why: string;
}


/**
 * The longest a deploy may wait for capacity that the plan's preemptions free: the target AZ
 * frees a preempted P3 job's pods only once its stop-with-savepoint has ended (the operator stops
 * a job with `upgradeMode: savepoint` that way; docs/simulator-model.md "Capacity"), and which
 * deploy gets those pods depends on the order the deploys ask for them, so any deploy of the
 * evacuation may be the one that waits for the slowest: SAVEPOINT_BASE_SECONDS + its state at
 * the forecast's per-job restore rate (a savepoint writes the state at the rate a restore reads
 * it, as the simulator's model takes it), ÷ time scale. On the default demo (time scale 10) a
 * 192 GiB P3 job among the 10 preempted: 100 wall s, where the start-up timeout gives 60 s in
 * all: small P2 jobs applied last waited for it, one failed StartupTimeout 67 s after its apply,
 * RUNNING and still without its first checkpoint.
 * @param preempted the plan's preemptions with their state bytes (the target AZ's catalog entry; 0 when unknown)
 * @returns undefined when nothing is preempted
 */
export function preemptionWait(preempted: ReadonlyArray<{ key: string; stateBytes: number }>, rates: RtoRates, timeScale: number): CapacityWait | undefined {
  if (preempted.length === 0) return undefined;
  const rate = rates.restoreBytesPerSecond;
  if (!(Number.isFinite(rate) && rate > 0)) throw new Error(`restore rate is ${rate} bytes/s; it must be a finite number > 0 (the forecast's restoreBytesPerSecond)`);
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new Error(`time scale is ${timeScale}; it must be a finite number > 0 (tiers.yaml timeScale)`);
  const slowest = preempted.reduce((a, b) => (b.stateBytes > a.stateBytes ? b : a));
  const bytes = Number.isFinite(slowest.stateBytes) && slowest.stateBytes > 0 ? slowest.stateBytes : 0;
  const seconds = Math.ceil(stopWithSavepointSeconds(bytes, rates) / timeScale);
  const clock = timeScale === 1 ? '' : ` ÷ time scale ${timeScale}`;
  return {
    seconds,
    why: `capacity freed by preempting ${slowest.key} (${(bytes / GiB).toFixed(2)} GiB stop-with-savepoint: ${SAVEPOINT_BASE_SECONDS}s + state at ${fmtMiB(rate)} MiB/s${clock})`,
  };
}

/**
 * The most jobs of an evacuation in flight at once in the target AZ, hence the most restores
 * reading its object store at once: a job holds its tier's concurrency slot from dispatch until
 * it is RUNNING (restore proven) or failed, so a tier has at most min(maxConcurrency, its
 * admitted jobs) in flight. With `borrowIdleSlots` a tier starts while earlier ones still have
 * jobs in flight, so every tier may overlap: the sum over tiers; strictly one tier after the
 * other: the largest tier's. Every admitted job counts, hot standbys included (a promotion that
 * falls back to a redeploy restores).
 * @param admitted the plan's admitted jobs
 * @returns an integer ≥ 1
 */
export function restoresAtOnce(admitted: readonly Pick<PlannedJob, 'tier'>[], policy: Pick<TiersPolicy, 'tiers' | 'borrowIdleSlots'>): number {
  const perTier = new Map<string, number>();
  for (const p of admitted) perTier.set(p.tier, (perTier.get(p.tier) ?? 0) + 1);
  const inFlight = [...perTier].map(([tier, n]) => Math.min(n, policy.tiers[tier as PlannedJob['tier']].maxConcurrency));
  const most = policy.borrowIdleSlots ? inFlight.reduce((a, b) => a + b, 0) : Math.max(0, ...inFlight);
  return Math.max(1, most);
}

/**
 * The start-up deadline of a job just applied:
 *
 *     seconds = startupTimeoutSeconds + capacitySeconds + restoreSeconds + checkpointSeconds
 *     capacitySeconds = capacityWait.seconds (preemptionWait; 0 without preemptions)
 *     restoreSeconds = stateBytes ÷ min(job's restore rate alone, AZ read bandwidth ÷ restoresAtOnce) ÷ timeScale
 *     checkpointSeconds = checkpointIntervalSeconds ÷ timeScale
 *
 * (restoreSeconds 0 when the job restores nothing). The object store shares its bandwidth
 * max-min fairly among the restores reading it (docs/design.md#predicted-rto), and at most
 * `restoresAtOnce` of this evacuation's restores read at once, so the job's restore progresses
 * at least at that share all along: restoreSeconds bounds its restore time under the forecast's
 * rates, whatever the order the restores start in. A job that never becomes RUNNING still fails,
 * at most `seconds` after its apply.
 * @throws Error naming the value and the fix when a number is out of range
 */
export function startupDeadline(input: StartupDeadlineInput): StartupDeadline {
  const { startupTimeoutSeconds: timeout, timeScale, restoresAtOnce: atOnce } = input;
  if (!(Number.isFinite(timeout) && timeout > 0)) throw new Error(`start-up timeout is ${timeout} s; it must be a finite number > 0 (tiers.yaml startupTimeoutSeconds ÷ timeScale)`);
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new Error(`time scale is ${timeScale}; it must be a finite number > 0 (tiers.yaml timeScale)`);
  if (!(Number.isInteger(atOnce) && atOnce >= 1)) throw new Error(`restores at once is ${atOnce}; it must be an integer ≥ 1 (restoresAtOnce of the plan)`);
  if (!(Number.isFinite(input.checkpointIntervalSeconds) && input.checkpointIntervalSeconds >= 0)) {
    throw new Error(`checkpoint interval is ${input.checkpointIntervalSeconds} s; it must be a finite number ≥ 0 (the job's execution.checkpointing.interval)`);
  }
  const wait = input.capacityWait;
  if (wait && !(Number.isInteger(wait.seconds) && wait.seconds >= 0)) throw new Error(`capacity wait is ${wait.seconds} s; it must be a whole number ≥ 0 (preemptionWait)`);
  const head = `${fmt(timeout)}s start-up timeout${wait ? ` + ${wait.seconds}s for ${wait.why}` : ''}`;
  const base = timeout + (wait?.seconds ?? 0);
  const capacity = wait ? { capacitySeconds: wait.seconds } : {};
  if (!input.restoring) return { seconds: base, timeoutSeconds: timeout, restoreSeconds: 0, checkpointSeconds: 0, ...capacity, why: `${head} (restores nothing)` };
  const checkpointSeconds = Math.ceil(input.checkpointIntervalSeconds / timeScale);
  const tail = input.checkpointIntervalSeconds === 0 ? '' : ` + ${checkpointSeconds}s for the first checkpoint after it (checkpoint interval ${fmt(input.checkpointIntervalSeconds)}s${timeScale === 1 ? '' : ` ÷ time scale ${timeScale}`})`;
  if (input.stateBytes === 0) {
    return { seconds: base + checkpointSeconds, timeoutSeconds: timeout, restoreSeconds: 0, checkpointSeconds, ...capacity, why: `${head} (no state to restore)${tail}` };
  }
  if (!(Number.isFinite(input.stateBytes) && input.stateBytes > 0)) throw new Error(`state size is ${input.stateBytes} bytes; it must be a finite number ≥ 0 (the catalog's stateSizeBytes or the snapshot's _metadata)`);
  const alone = restoreCapBytesPerSecond(input.rates, input.stateBytes);
  if (!(Number.isFinite(alone) && alone > 0)) throw new Error(`restore rate is ${alone} bytes/s; it must be a finite number > 0 (the forecast's restoreBytesPerSecond)`);
  const bandwidth = (input.rates.platform ?? DEFAULT_PLATFORM_LIMITS).objectStoreReadBytesPerSecond;
  const shared = bandwidth > 0 ? bandwidth / atOnce : Infinity;
  const share = Math.min(alone, shared);
  const restoreSeconds = Math.ceil(input.stateBytes / share / timeScale);
  const store = bandwidth > 0
    ? `${input.targetAz}'s ${(bandwidth / GiB).toFixed(1)} GiB/s object-store read bandwidth shared by up to ${atOnce} restores at once`
    : `no object-store bandwidth limit for ${input.targetAz}`;
  const rate = share < alone ? `at ${fmtMiB(share)} MiB/s (${store}; ${fmtMiB(alone)} MiB/s alone)` : `at ${fmtMiB(share)} MiB/s, its rate alone (${store})`;
  const clock = timeScale === 1 ? '' : `, ÷ time scale ${timeScale}`;
  return {
    seconds: base + restoreSeconds + checkpointSeconds, timeoutSeconds: timeout, restoreSeconds, checkpointSeconds, ...capacity,
    why: `${head} + ${restoreSeconds}s restore: ${(input.stateBytes / GiB).toFixed(2)} GiB (${input.stateFrom}) ${rate}${clock}${tail}`,
  };
}

function fmt(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(1);
}

function fmtMiB(bytesPerSecond: number): string {
  return (bytesPerSecond / MiB).toFixed(1);
}

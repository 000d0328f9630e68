/**
 * How often a tier's shards send their routine progress signal (`shardProgress`) to the tier
 * workflow. Pure: no I/O.
 *
 * Every signal is an event in the tier's history and, worse, a signal that arrives while the
 * tier's run tries to continue as new makes that workflow task fail: the server refuses to
 * close a run while new events wait unhandled (workflow task failure cause `UNHANDLED_COMMAND`,
 * temporal api `enums/v1/failed_cause.proto`; the scenario is temporalio/omes#12), and the run
 * tries again with the new signals handled. Measured at 20,000 jobs (docs/benchmarks.md): 100 shards of the P2 tier each
 * signalling every 2 s (~10.7 signals/s in all) made the tier's continue-as-new fail 64 times in a
 * row and its history grow to 12,042 events past its 4,000-event budget.
 *
 * So the gap grows with the tier's shard count: the tier hears about one routine signal a second
 * whatever its size. Urgent signals (a shard has dispatched every job: a lower tier may borrow the
 * idle slots) and the final one are not spaced (workflows/progress-reporter.ts). The cost: a big
 * tier's per-shard counters, as the tier's query and the console show them, are up to this many
 * ms old (100 s at 100 shards).
 */

/** Shortest gap between two routine progress signals of one shard, ms (small tiers). */
export const MIN_SHARD_PROGRESS_EVERY_MS = 2_000;

/** Routine progress signals a tier hears per second from all its shards together, at most (big tiers). */
export const TIER_PROGRESS_SIGNALS_PER_SECOND = 1;

/**
 * Shortest gap between two routine progress signals of one shard, ms:
 * max(MIN_SHARD_PROGRESS_EVERY_MS, shards / TIER_PROGRESS_SIGNALS_PER_SECOND × 1000).
 * @param shards the tier's shard count (ShardInput.shards, ≥ 1)
 * @throws Error naming the value when `shards` is not a positive integer
 */
export function shardProgressEveryMs(shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards = ${String(shards)} is not a positive integer (a tier's shard count, domain/evacuation.ts shardLayout)`);
  return Math.max(MIN_SHARD_PROGRESS_EVERY_MS, Math.ceil((shards / TIER_PROGRESS_SIGNALS_PER_SECOND) * 1000));
}

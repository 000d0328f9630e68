/**
 * Job outcomes a shard workflow has settled but not yet recorded: they go into the evacuation
 * store in batches through the recordOutcomes activity, one batch after the other, so the
 * store sees them in settle order and the history gains one activity per batch, not per job.
 * Used by the shard (workflows/shard-jobs.ts) and by the child-per-job shard kept for replay
 * (workflows/tier-shard.ts).
 */
import type { JobOutcome } from '../domain/evacuation.js';

/** Outcomes recorded per activity call. */
const FLUSH_AT = 200;

export class OutcomeBuffer {
  private pending: JobOutcome[] = [];
  private flushing: Promise<void> = Promise.resolve();

  /** @param record records one batch (the recordOutcomes activity); its failure fails the next awaited flush */
  constructor(private readonly record: (batch: JobOutcome[]) => Promise<void>) {}

  /** Outcomes added and not yet handed to a flush. */
  get size(): number {
    return this.pending.length;
  }

  /** Keep one settled outcome for the next flush. */
  add(outcome: JobOutcome): void {
    this.pending.push(outcome);
  }

  /** Start a flush in the background once FLUSH_AT (200) outcomes are waiting. */
  flushWhenFull(): void {
    if (this.pending.length >= FLUSH_AT) void this.flush();
  }

  /**
   * Record every outcome waiting, after the flushes already under way.
   * @returns resolves once this batch (and every earlier one) is recorded
   * @throws the recordOutcomes failure of this or an earlier batch
   */
  flush(): Promise<void> {
    if (this.pending.length === 0) return this.flushing;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(() => this.record(batch));
    // Flushes run in the background: a batch that failed for good fails the shard at its next
    // awaited flush. Marked handled now, since an unhandled rejection would fail the workflow
    // task over and over instead (a hang).
    this.flushing.catch(() => undefined);
    return this.flushing;
  }
}

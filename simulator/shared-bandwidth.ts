/**
 * A bandwidth shared by the transfers running through it (an AZ's jar repository, image
 * registry or object store): max-min fair sharing of `totalBytesPerSecond` among the running
 * transfers, each also capped by its own bytes per second (what one download or restore
 * reaches alone). N equal transfers each get min(cap, total / N); when some are capped lower,
 * the rest share what they leave. Rates are recomputed whenever a transfer starts or ends, and
 * one scheduler event waits for the next completion (model seconds; bytes).
 *
 * Simplification: a transfer whose requester went away (a deploy replaced or suspended) runs
 * to its end and keeps its share meanwhile.
 */
import type { Scheduler } from './scheduler.js';

/** Seconds left below which a transfer counts as done. */
const SLACK_SECONDS = 1e-3;

interface Transfer {
  remaining: number;
  cap: number;
  rate: number;
  started: number;
  done: (seconds: number) => void;
}

/** One shared bandwidth in one AZ. */
export class SharedBandwidth {
  /** Running transfers, ascending by cap (water-filling order). */
  private transfers: Transfer[] = [];
  private updatedAt = 0;
  private token = 0;

  /**
   * @param totalBytesPerSecond > 0; Infinity: no shared limit (each transfer at its cap)
   * @throws Error naming the value when it is not > 0
   */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly az: string,
    readonly totalBytesPerSecond: number,
  ) {
    if (!(totalBytesPerSecond > 0)) throw new Error(`shared bandwidth of ${az} is ${totalBytesPerSecond} bytes/s; it must be > 0 (Infinity for no limit)`);
  }

  /** Transfers running now. */
  running(): number {
    return this.transfers.length;
  }

  /**
   * Move `bytes` at most `capBytesPerSecond` (> 0; Infinity: only the shared limit); `done`
   * gets the model seconds it took. No bytes, or no limit at all: `done(0)` at once.
   */
  transfer(bytes: number, capBytesPerSecond: number, done: (seconds: number) => void): void {
    if (bytes <= 0 || (capBytesPerSecond === Infinity && this.totalBytesPerSecond === Infinity)) return done(0);
    const now = this.scheduler.now();
    this.advance(now);
    const t: Transfer = { remaining: bytes, cap: capBytesPerSecond, rate: 0, started: now, done };
    const i = this.transfers.findIndex((x) => x.cap > capBytesPerSecond);
    if (i < 0) this.transfers.push(t);
    else this.transfers.splice(i, 0, t);
    this.reschedule(now);
  }

  /** Bytes done since the last update at the rates then, then the rates of the transfers now running. */
  private advance(now: number): void {
    const dt = Math.max(0, now - this.updatedAt);
    for (const t of this.transfers) t.remaining -= t.rate * dt;
    this.updatedAt = now;
  }

  /** Max-min fair rates (transfers sorted by cap): each takes min(cap, what is left / transfers left). */
  private share(): void {
    let left = this.totalBytesPerSecond;
    this.transfers.forEach((t, i) => {
      t.rate = Math.min(t.cap, left / (this.transfers.length - i));
      left -= t.rate;
    });
  }

  private reschedule(now: number): void {
    this.share();
    let next = Infinity;
    for (const t of this.transfers) next = Math.min(next, t.remaining / t.rate);
    if (next === Infinity) return;
    const token = ++this.token;
    this.scheduler.at(now + Math.max(SLACK_SECONDS, next), [this.az], () => {
      if (token === this.token) this.settle();
    });
  }

  /**
   * Finish every transfer with at most a millisecond left (model times are epoch seconds: a
   * double resolves ~0.2 µs there, so a smaller slack could leave a transfer that never ends),
   * then share again.
   */
  private settle(): void {
    const now = this.scheduler.now();
    this.advance(now);
    const finished = this.transfers.filter((t) => t.remaining <= t.rate * SLACK_SECONDS);
    this.transfers = this.transfers.filter((t) => t.remaining > t.rate * SLACK_SECONDS);
    this.reschedule(now);
    for (const t of finished) t.done(now - t.started);
  }
}

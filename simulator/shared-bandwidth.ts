/**
 * A bandwidth shared by the transfers running through it (an AZ's jar repository, image
 * registry or object store): max-min fair sharing of `totalBytesPerSecond` among the running
 * transfers, each also capped by its own bytes per second (what one download or restore
 * reaches alone). N equal transfers each get min(cap, total / N); when some are capped lower,
 * the rest share what they leave. Rates are recomputed whenever a transfer starts or ends, and
 * one scheduler event waits for the next completion (model seconds; bytes).
 *
 * Transfers of one cap always get one rate (water-filling gives equal caps equal shares), so
 * they are kept per cap: one counter of the bytes each of them has moved and a heap of the
 * counter values at which they end. A start or an end costs O(caps + log n), not O(n): the
 * object store of a 2,000-job window carries thousands of restores and checkpoint writes at
 * once (the 20,000-job bench's simulator spent 97 % of its time re-sharing them one by one).
 *
 * Simplification: a transfer whose requester went away (a deploy replaced or suspended) runs
 * to its end and keeps its share meanwhile.
 */
import { Heap } from 'heap-js';
import type { Scheduler } from './scheduler.js';

/** Seconds left below which a transfer counts as done. */
const SLACK_SECONDS = 1e-3;

interface Transfer {
  /** The group's `moved` at which this transfer has moved all its bytes. */
  endsAt: number;
  started: number;
  /** Arrival order, to end transfers that end together in the order they started. */
  seq: number;
  done: (seconds: number) => void;
}

/** The running transfers of one cap: they move at one rate. */
interface CapGroup {
  cap: number;
  rate: number;
  /** Bytes each transfer of the group has moved since the group was last empty. */
  moved: number;
  running: Heap<Transfer>;
}

/** One shared bandwidth in one AZ. */
export class SharedBandwidth {
  /** Groups ascending by cap (water-filling order). */
  private groups: CapGroup[] = [];
  private count = 0;
  private seq = 0;
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
    return this.count;
  }

  /**
   * Move `bytes` at most `capBytesPerSecond` (> 0; Infinity: only the shared limit); `done`
   * gets the model seconds it took. No bytes, or no limit at all: `done(0)` at once.
   */
  transfer(bytes: number, capBytesPerSecond: number, done: (seconds: number) => void): void {
    if (bytes <= 0 || (capBytesPerSecond === Infinity && this.totalBytesPerSecond === Infinity)) return done(0);
    const now = this.scheduler.now();
    this.advance(now);
    let g = this.groups.find((x) => x.cap === capBytesPerSecond);
    if (!g) {
      g = { cap: capBytesPerSecond, rate: 0, moved: 0, running: new Heap<Transfer>((x, y) => x.endsAt - y.endsAt || x.seq - y.seq) };
      const i = this.groups.findIndex((x) => x.cap > capBytesPerSecond);
      if (i < 0) this.groups.push(g);
      else this.groups.splice(i, 0, g);
    }
    g.running.push({ endsAt: g.moved + bytes, started: now, seq: this.seq++, done });
    this.count++;
    this.reschedule(now);
  }

  /** Bytes moved since the last update at the rates then. */
  private advance(now: number): void {
    const dt = Math.max(0, now - this.updatedAt);
    for (const g of this.groups) g.moved += g.rate * dt;
    this.updatedAt = now;
  }

  /** Max-min fair rates (groups ascending by cap): each transfer takes min(cap, what is left / transfers left). */
  private share(): void {
    let left = this.totalBytesPerSecond;
    let n = this.count;
    for (const g of this.groups) {
      const k = g.running.size();
      if (k === 0) continue;
      g.rate = Math.min(g.cap, left / n);
      left -= g.rate * k;
      n -= k;
    }
  }

  private reschedule(now: number): void {
    this.share();
    let next = Infinity;
    for (const g of this.groups) {
      const first = g.running.peek();
      if (first) next = Math.min(next, (first.endsAt - g.moved) / g.rate);
    }
    if (next === Infinity) return;
    const token = ++this.token;
    this.scheduler.at(now + Math.max(SLACK_SECONDS, next), [this.az], () => {
      if (token === this.token) this.settle();
    });
  }

  /**
   * Finish every transfer with at most a millisecond left (model times are epoch seconds: a
   * double resolves ~0.2 µs there, so a smaller slack could leave a transfer that never ends),
   * then share again. Empty groups are dropped.
   */
  private settle(): void {
    const now = this.scheduler.now();
    this.advance(now);
    const finished: Transfer[] = [];
    for (const g of this.groups) {
      for (let t = g.running.peek(); t && t.endsAt - g.moved <= g.rate * SLACK_SECONDS; t = g.running.peek()) finished.push(g.running.pop()!);
    }
    this.count -= finished.length;
    this.groups = this.groups.filter((g) => g.running.size() > 0);
    this.reschedule(now);
    finished.sort((x, y) => x.seq - y.seq);
    for (const t of finished) t.done(now - t.started);
  }
}

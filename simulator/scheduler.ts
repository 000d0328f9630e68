/**
 * Model time and the simulator's single event loop.
 *
 * Model time runs `timeScale` times faster than wall time (X = 10: a 60 s model interval
 * takes 6 s of wall time) and starts at the wall epoch when the clock is created. Durations
 * are model seconds; every TIMESTAMP the simulator exposes (object last-modified, snapshot
 * completion, job start) is the WALL epoch of that model instant (`epoch()`), so an age
 * measured against `Date.now()` is a wall age: × timeScale gives the model age (the
 * engine scales RPOs and timeouts by 1 / timeScale the same way). All due
 * work — start-ups completing, checkpoints, replication arrivals — sits in one binary heap
 * ordered by model time and is drained by one timer tick (default every 250 ms wall), not
 * one timer per job, so 5,000 jobs × 2 AZs stay cheap.
 *
 * Events name the AZs they touch; while any of them is down the event is parked and, when
 * the AZ comes back, re-queued with the model time it still had to wait (a down AZ makes
 * no progress).
 */
import { Heap } from 'heap-js';

/** Wall clock in milliseconds (injectable for tests). */
export type WallClock = () => number;

/** Converts between wall and model time. */
export class ModelClock {
  private readonly wallStart: number;

  /**
   * @param timeScale model seconds per wall second (> 0)
   * @param wall wall clock, ms
   * @param startEpochSeconds model epoch at creation (default: the wall epoch now)
   */
  constructor(
    readonly timeScale: number,
    private readonly wall: WallClock = () => performance.now(),
    private readonly startEpochSeconds = Math.floor(Date.now() / 1000),
  ) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`timeScale ${timeScale} must be a finite number > 0`);
    this.wallStart = wall();
  }

  /** Model now, epoch seconds (fractional). */
  now(): number {
    return this.startEpochSeconds + ((this.wall() - this.wallStart) / 1000) * this.timeScale;
  }

  /** Wall epoch seconds of the model instant `model` (what timestamps show). */
  epoch(model: number): number {
    return this.startEpochSeconds + (model - this.startEpochSeconds) / this.timeScale;
  }

  /** Wall milliseconds that `modelSeconds` take. */
  wallMs(modelSeconds: number): number {
    return (modelSeconds * 1000) / this.timeScale;
  }
}

interface Event {
  at: number;
  seq: number;
  azs: readonly string[];
  run: () => void;
}

/** Priority queue of model-time events drained by one tick. */
export class Scheduler {
  private readonly heap = new Heap<Event>((a, b) => a.at - b.at || a.seq - b.seq);
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly down = new Map<string, { since: number; parked: Event[] }>();
  /** Due time of the event running now (undefined outside runDue). */
  private current: number | undefined;

  constructor(readonly clock: ModelClock) {}

  /**
   * Model now for scheduling: inside a running event its due time (so chained steps keep their
   * exact model times whatever the tick's lateness), else the clock's now.
   */
  now(): number {
    return this.current ?? this.clock.now();
  }

  /** Run `run` at model time `at` (epoch seconds), when none of `azs` is down. */
  at(at: number, azs: readonly string[], run: () => void): void {
    this.heap.push({ at, seq: this.seq++, azs, run });
  }

  /** Run `run` after `delaySeconds` of model time. */
  after(delaySeconds: number, azs: readonly string[], run: () => void): void {
    this.at(this.now() + Math.max(0, delaySeconds), azs, run);
  }

  /**
   * Run `run` now when `delaySeconds` ≤ 0 and none of `azs` is down (a zero-delay step of the
   * null platform model happens in the same call), else like `after`.
   */
  afterOrNow(delaySeconds: number, azs: readonly string[], run: () => void): void {
    if (delaySeconds <= 0 && !azs.some((az) => this.down.has(az))) run();
    else this.after(delaySeconds, azs, run);
  }

  /** Resolve after `delaySeconds` of model time (for held HTTP requests). */
  sleep(delaySeconds: number, azs: readonly string[] = []): Promise<void> {
    return new Promise((resolve) => this.after(delaySeconds, azs, resolve));
  }

  /** Events queued (parked ones included). */
  pending(): number {
    let n = this.heap.length;
    for (const d of this.down.values()) n += d.parked.length;
    return n;
  }

  isDown(az: string): boolean {
    return this.down.has(az);
  }

  /** Mark an AZ down (its events park) or up (parked events resume with their remaining delay). */
  setDown(az: string, isDown: boolean): void {
    const now = this.clock.now();
    if (isDown) {
      if (!this.down.has(az)) this.down.set(az, { since: now, parked: [] });
      return;
    }
    const entry = this.down.get(az);
    if (!entry) return;
    this.down.delete(az);
    for (const e of entry.parked) this.heap.push({ ...e, at: now + Math.max(0, e.at - entry.since) });
  }

  /** Run every event due at model time now (events scheduled while running run too when due). */
  runDue(): number {
    const now = this.clock.now();
    let ran = 0;
    while ((this.heap.peek()?.at ?? Infinity) <= now) {
      const e = this.heap.pop()!;
      const downAz = e.azs.find((az) => this.down.has(az));
      if (downAz !== undefined) {
        this.down.get(downAz)!.parked.push(e);
        continue;
      }
      this.current = e.at;
      try {
        e.run();
      } finally {
        this.current = undefined;
      }
      ran++;
    }
    return ran;
  }

  /** Start the tick (every `tickMs` wall ms). */
  start(tickMs = 250): void {
    this.stop();
    this.timer = setInterval(() => this.runDue(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Drop every queued event (reset). */
  clear(): void {
    this.heap.clear();
    this.down.clear();
  }
}

/**
 * A FIFO queue in front of `servers` identical servers (model seconds): a request waits until
 * a server is free, holds it for its service time, then `done` is called. The operator's
 * reconcile threads of one AZ (servers = `kubernetes.operator.reconcile.parallelism`) and the
 * kube-scheduler binding one AZ's pods (one server, service time = pods / pods per second) are
 * such queues.
 */
import type { Scheduler } from './scheduler.js';

interface Request {
  seconds: number;
  queuedAt: number;
  done: (waitedSeconds: number) => void;
}

/** FIFO queue with `servers` servers in one AZ. */
export class ServerQueue {
  private busy = 0;
  private readonly waiting: Request[] = [];

  /**
   * @param servers ≥ 1, or Infinity (no queueing)
   * @throws Error naming the value when `servers` is not ≥ 1
   */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly az: string,
    readonly servers: number,
  ) {
    if (!(servers >= 1)) throw new Error(`server queue of ${az} has ${servers} servers; it needs ≥ 1 (Infinity for no limit)`);
  }

  /** Requests waiting for a free server. */
  queued(): number {
    return this.waiting.length;
  }

  /** Servers busy now. */
  inService(): number {
    return this.busy;
  }

  /**
   * Serve a request taking `seconds` (≥ 0) once a server is free; `done(waited)` gets the
   * seconds it queued. Zero seconds on a free server: `done(0)` at once.
   */
  submit(seconds: number, done: (waitedSeconds: number) => void): void {
    this.waiting.push({ seconds: Math.max(0, seconds), queuedAt: this.scheduler.now(), done });
    this.pump();
  }

  private pump(): void {
    while (this.busy < this.servers && this.waiting.length > 0) {
      const r = this.waiting.shift()!;
      const waited = this.scheduler.now() - r.queuedAt;
      this.busy++;
      this.scheduler.afterOrNow(r.seconds, [this.az], () => {
        this.busy--;
        r.done(waited);
        this.pump();
      });
    }
  }
}

/**
 * The list-then-watch loop of the simulator's stand-ins on real kube-apiservers (the
 * FlinkDeployment operator stand-in, kube-operator.ts, and the FlinkStateSnapshot one,
 * kube-snapshots.ts), one per AZ, the way a controller's informer keeps up with a resource:
 *
 * - list every object and hand each to `handle` in order, then watch from there for
 *   WATCH_SECONDS (`ADDED`, `MODIFIED`, `DELETED` handed to `handle` one at a time, in order);
 * - when the watch ends, list again (a simulator reset, e.g. a fleet load, is picked up);
 * - a list or watch that fails (the cluster stops answering) is retried after RELIST_PAUSE_MS;
 * - a `handle` that fails ends the watch (it must not reject: an unhandled rejection kills
 *   the process), and the loop lists again, after RELIST_PAUSE_MS when `pauseAfterFailedHandler`,
 *   so the object is handled again from the list instead of waiting for the watch's timeout.
 * `stop()` aborts every watch; the loops end.
 */
import { Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AzApis } from '../platform/kube/az-apis.js';

/** Seconds one watch runs before the loop lists again. */
export const WATCH_SECONDS = 60;
/** Wall ms before listing again after a failed list, watch or (when asked) handler. */
export const RELIST_PAUSE_MS = 2000;

/** What one stand-in watches and how it handles an object. */
export interface ListWatchSpec<T> {
  /** Watch path, e.g. `/apis/flink.apache.org/v1beta1/flinkdeployments` (every namespace). */
  path: string;
  /** Every object of the AZ's cluster. */
  list(apis: AzApis): Promise<T[]>;
  /** Handle one listed or watched object; the watch phases it is not given are ignored. */
  handle(apis: AzApis, phase: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): Promise<void> | void;
  /** Wait RELIST_PAUSE_MS before listing again after a failed `handle`. */
  pauseAfterFailedHandler: boolean;
  /** Debug log lines: a failed list/watch, a failed `handle` of a watched object. */
  messages: { listWatchFailed: string; handleFailed: string };
}

/** One list+watch loop per AZ of `apis`. */
export class KubeListWatch<T> {
  private running = false;
  private readonly aborts = new Set<AbortController>();

  constructor(
    private readonly apis: Map<string, AzApis>,
    private readonly log: Logger,
    private readonly spec: ListWatchSpec<T>,
  ) {}

  /** Whether the loops run (between start and stop). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Start one list+watch loop per AZ. */
  start(): void {
    this.running = true;
    for (const a of this.apis.values()) void this.loop(a);
  }

  /** Stop every watch. */
  stop(): void {
    this.running = false;
    for (const c of this.aborts) c.abort();
  }

  private async loop(apis: AzApis): Promise<void> {
    while (this.running) {
      try {
        const items = await this.spec.list(apis);
        for (const obj of items) await this.spec.handle(apis, 'ADDED', obj);
        await this.watch(apis);
      } catch (err) {
        this.log.debug({ az: apis.az, err: String(err) }, this.spec.messages.listWatchFailed);
        await new Promise((r) => setTimeout(r, RELIST_PAUSE_MS));
      }
    }
  }

  private watch(apis: AzApis): Promise<void> {
    return new Promise((resolve) => {
      let queue = Promise.resolve();
      let controller: AbortController | undefined;
      let handleFailed = false;
      new Watch(apis.kc)
        .watch(
          this.spec.path,
          { timeoutSeconds: WATCH_SECONDS, allowWatchBookmarks: false },
          (phase: string, obj: T) => {
            const failed = (err: unknown): void => {
              this.log.debug({ az: apis.az, err: String(err) }, this.spec.messages.handleFailed);
              handleFailed = true;
              controller?.abort();
            };
            if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') {
              queue = queue.then(() => this.spec.handle(apis, phase, obj)).catch(failed);
            }
          },
          () => void queue.then(async () => {
            if (controller) this.aborts.delete(controller);
            if (handleFailed && this.spec.pauseAfterFailedHandler) await new Promise((r) => setTimeout(r, RELIST_PAUSE_MS));
            resolve();
          }),
        )
        .then(
          (c) => {
            controller = c;
            this.aborts.add(c);
            if (!this.running || handleFailed) c.abort();
          },
          () => resolve(),
        );
    });
  }
}

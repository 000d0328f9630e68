/**
 * The shared resources of each AZ that a mass evacuation queues on, sized by the platform
 * model (latency-model.ts, docs/simulator-model.md): the operator's reconcile threads, the
 * kube-scheduler's binding rate, the image registry, the HDD-backed jar repository, the
 * object store that restores (and shipped copies) read and the one savepoints write. Created
 * per AZ on first use.
 */
import type { PlatformModel } from './latency-model.js';
import type { Scheduler } from './scheduler.js';
import { ServerQueue } from './server-queue.js';
import { SharedBandwidth } from './shared-bandwidth.js';

/** One AZ's shared resources. */
export interface AzResources {
  /** Operator reconcile threads (`reconcileParallelism` servers). */
  reconcile: ServerQueue;
  /** kube-scheduler: one server, a deploy's pods take pods / `podsBoundPerSecond`. */
  podBinding: ServerQueue;
  registry: SharedBandwidth;
  repository: SharedBandwidth;
  /** Reads: restores and shipped copies (`objectStoreReadBytesPerSecond`). */
  objectStore: SharedBandwidth;
  /** Writes: savepoints (`objectStoreWriteBytesPerSecond`; see AzBottlenecks.savepoint). */
  objectStoreWrite: SharedBandwidth;
}

/** The shared resources of every AZ. */
export class AzBottlenecks {
  private readonly byAz = new Map<string, AzResources>();

  constructor(
    private readonly scheduler: Scheduler,
    readonly model: PlatformModel,
  ) {}

  /** The AZ's resources (created idle on first use). */
  of(az: string): AzResources {
    let r = this.byAz.get(az);
    if (!r) {
      const m = this.model;
      r = {
        reconcile: new ServerQueue(this.scheduler, az, m.reconcileParallelism),
        podBinding: new ServerQueue(this.scheduler, az, 1),
        registry: new SharedBandwidth(this.scheduler, az, m.registryBytesPerSecond),
        repository: new SharedBandwidth(this.scheduler, az, m.repositoryBytesPerSecond),
        objectStore: new SharedBandwidth(this.scheduler, az, m.objectStoreReadBytesPerSecond),
        objectStoreWrite: new SharedBandwidth(this.scheduler, az, m.objectStoreWriteBytesPerSecond),
      };
      this.byAz.set(az, r);
    }
    return r;
  }

  /**
   * A savepoint of `stateBytes` written in `az` (every kind: a stop's, an upgrade's, a periodic
   * one, protection's): `savepointBaseSeconds`, then the state at `savepointBytesPerSecond` alone,
   * sharing the AZ's `objectStoreWrite` with every other savepoint being written there (max-min
   * fair: N at once each get min(500 MiB/s, 21 GiB/s / N) in the default model). `done` gets the
   * model seconds it took in all; the null model calls it in the same call.
   */
  savepoint(az: string, stateBytes: number, done: (seconds: number) => void): void {
    const started = this.scheduler.now();
    this.scheduler.afterOrNow(this.model.savepointBaseSeconds, [az], () =>
      this.of(az).objectStoreWrite.transfer(stateBytes, this.model.savepointBytesPerSecond, () => done(this.scheduler.now() - started)));
  }

  /** Forget every queue and transfer (the scheduler's events were dropped). */
  clear(): void {
    this.byAz.clear();
  }
}

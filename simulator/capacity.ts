/**
 * Pod capacity of each AZ: allocatable cores and MiB, what scheduled pods take, and the
 * pods waiting (Pending) for capacity. A deploy's pods are scheduled all at once or not
 * at all; when capacity frees, waiting deploys are admitted first-fit in arrival order
 * (like the Kubernetes scheduler retrying Pending pods). Nodes never scale up here: a
 * deploy that does not fit waits until something is suspended.
 */
import type { Capacity } from '../domain/types.js';

interface Waiting {
  owner: object;
  request: Capacity;
  admit: () => void;
}

/** Capacity bookkeeping for every AZ. */
export class CapacityLedger {
  private readonly allocatable = new Map<string, Capacity>();
  private readonly used = new Map<string, Capacity>();
  private readonly waiting = new Map<string, Waiting[]>();

  /** Set the AZ's allocatable cores and MiB (usage kept). */
  setAllocatable(az: string, capacity: Capacity): void {
    this.allocatable.set(az, { ...capacity });
    if (!this.used.has(az)) this.used.set(az, { cores: 0, memoryMiB: 0 });
  }

  /** Allocatable minus what scheduled pods request (may be negative only if allocatable shrank). */
  free(az: string): Capacity {
    const a = this.allocatable.get(az) ?? { cores: 0, memoryMiB: 0 };
    const u = this.used.get(az) ?? { cores: 0, memoryMiB: 0 };
    return { cores: a.cores - u.cores, memoryMiB: a.memoryMiB - u.memoryMiB };
  }

  /** Deploys waiting for capacity in the AZ. */
  pendingCount(az: string): number {
    return this.waiting.get(az)?.length ?? 0;
  }

  /**
   * Ask for `request` on behalf of `owner`: when it fits, take it and call `admit` now;
   * otherwise queue and call `admit` once it fits. @returns true when admitted now.
   */
  request(az: string, owner: object, request: Capacity, admit: () => void): boolean {
    if (this.fits(az, request)) {
      this.take(az, request, 1);
      admit();
      return true;
    }
    const list = this.waiting.get(az) ?? [];
    list.push({ owner, request, admit });
    this.waiting.set(az, list);
    return false;
  }

  /** Give back what `owner` took (`scheduled`) or drop its queued request, then admit waiting deploys. */
  release(az: string, owner: object, request: Capacity, scheduled: boolean): void {
    if (scheduled) this.take(az, request, -1);
    else this.waiting.set(az, (this.waiting.get(az) ?? []).filter((w) => w.owner !== owner));
    this.admitWaiting(az);
  }

  /** Forget everything. */
  clear(): void {
    this.allocatable.clear();
    this.used.clear();
    this.waiting.clear();
  }

  private admitWaiting(az: string): void {
    const list = this.waiting.get(az) ?? [];
    const still: Waiting[] = [];
    const admitted: Waiting[] = [];
    for (const w of list) {
      if (this.fits(az, w.request)) {
        this.take(az, w.request, 1);
        admitted.push(w);
      } else still.push(w);
    }
    this.waiting.set(az, still);
    for (const w of admitted) w.admit();
  }

  private fits(az: string, r: Capacity): boolean {
    const f = this.free(az);
    return r.cores <= f.cores && r.memoryMiB <= f.memoryMiB;
  }

  private take(az: string, r: Capacity, sign: 1 | -1): void {
    const u = this.used.get(az) ?? { cores: 0, memoryMiB: 0 };
    this.used.set(az, { cores: u.cores + sign * r.cores, memoryMiB: u.memoryMiB + sign * r.memoryMiB });
  }
}

/**
 * SharedBandwidth keeps its running transfers per cap (one rate a cap): it must end every
 * transfer when per-transfer max-min water-filling (the model it replaced, written out below
 * as the reference) ends it, whatever the mix of caps, sizes and start times.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ModelClock, Scheduler } from '../../simulator/scheduler.js';
import { SharedBandwidth } from '../../simulator/shared-bandwidth.js';

const MiB = 1024 * 1024;

interface Start {
  at: number;
  bytes: number;
  cap: number;
}

/**
 * Reference: every transfer on its own, rates by water-filling over the transfers sorted by
 * cap, stepped from one event (a start or an end) to the next. @returns each transfer's seconds
 */
function reference(total: number, starts: readonly Start[]): number[] {
  const took: number[] = new Array<number>(starts.length).fill(NaN);
  const pending = starts.map((s, i) => ({ ...s, i })).sort((a, b) => a.at - b.at || a.i - b.i);
  let running: { i: number; left: number; cap: number; at: number }[] = [];
  let now = 0;
  while (pending.length > 0 || running.length > 0) {
    running.sort((a, b) => a.cap - b.cap);
    let left = total;
    const rates = running.map((t, k) => {
      const r = Math.min(t.cap, left / (running.length - k));
      left -= r;
      return r;
    });
    const nextEnd = Math.min(...running.map((t, k) => t.left / rates[k]!));
    const nextStart = pending.length > 0 ? pending[0]!.at - now : Infinity;
    const dt = Math.min(nextEnd, nextStart);
    running.forEach((t, k) => (t.left -= rates[k]! * dt));
    now += dt;
    running = running.filter((t) => {
      if (t.left > 1) return true; // bytes
      took[t.i] = now - t.at;
      return false;
    });
    while (pending.length > 0 && pending[0]!.at <= now + 1e-9) {
      const s = pending.shift()!;
      running.push({ i: s.i, left: s.bytes, cap: s.cap, at: s.at });
    }
  }
  return took;
}

/** The transfers run through SharedBandwidth on a manual model clock. @returns each transfer's seconds */
function simulated(total: number, starts: readonly Start[]): number[] {
  let wallMs = 0;
  const scheduler = new Scheduler(new ModelClock(1, () => wallMs, 0));
  const store = new SharedBandwidth(scheduler, 'az-b', total);
  const took: number[] = new Array<number>(starts.length).fill(NaN);
  const order = starts.map((s, i) => ({ ...s, i })).sort((a, b) => a.at - b.at || a.i - b.i);
  for (let ms = 0; ms <= 2_000_000 && (order.length > 0 || store.running() > 0); ms += 10) {
    wallMs = ms;
    scheduler.runDue();
    while (order.length > 0 && order[0]!.at * 1000 <= ms) {
      const s = order.shift()!;
      store.transfer(s.bytes, s.cap, (sec) => (took[s.i] = sec));
    }
  }
  return took;
}

describe('shared bandwidth kept per cap', () => {
  it('ends every transfer when per-transfer water-filling does (mixed caps, sizes, start times)', () => {
    const start = fc.record({
      at: fc.integer({ min: 0, max: 20 }).map((s) => s / 2),
      bytes: fc.integer({ min: 1, max: 400 }).map((m) => m * MiB),
      cap: fc.constantFrom(50 * MiB, 120 * MiB, 500 * MiB, Infinity),
    });
    fc.assert(
      fc.property(fc.constantFrom(100 * MiB, 300 * MiB, 1000 * MiB), fc.array(start, { minLength: 1, maxLength: 40 }), (total, starts) => {
        const want = reference(total, starts);
        const got = simulated(total, starts);
        got.forEach((s, i) => expect(s).toBeCloseTo(want[i]!, 1));
      }),
      { numRuns: 60 },
    );
  });

  it('ends 5,000 concurrent transfers of two caps, each after its share', () => {
    const total = 1000 * MiB;
    const starts: Start[] = Array.from({ length: 5000 }, (_, i) => ({ at: 0, bytes: (i % 2 === 0 ? 10 : 20) * MiB, cap: i % 2 === 0 ? 50 * MiB : 500 * MiB }));
    const got = simulated(total, starts);
    expect(got.filter((s) => Number.isNaN(s))).toHaveLength(0);
    // 5,000 transfers share 1,000 MiB/s (0.2 MiB/s each): the 10 MiB ones end at 50 s, the
    // 20 MiB ones have 10 MiB left and share it 2,500 ways (0.4 MiB/s): 25 s more.
    expect(got[0]).toBeCloseTo(50, 1);
    expect(got[1]).toBeCloseTo(75, 1);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RTO_RATES, SAVEPOINT_BASE_SECONDS } from '../../domain/rto-estimate.js';
import { preemptionWait, restoresAtOnce, startupDeadline, type StartupDeadlineInput } from '../../domain/startup-deadline.js';
import type { RtoRates, Tier, TiersPolicy } from '../../domain/types.js';
import { ModelClock, Scheduler } from '../../simulator/scheduler.js';
import { SharedBandwidth } from '../../simulator/shared-bandwidth.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const policy = (borrowIdleSlots: boolean): Pick<TiersPolicy, 'tiers' | 'borrowIdleSlots'> => ({
  borrowIdleSlots,
  tiers: Object.fromEntries((['P0', 'P1', 'P2', 'P3'] as const).map((t, i) => [t, { maxConcurrency: [500, 500, 2000, 500][i] }])) as unknown as TiersPolicy['tiers'],
});
const jobs = (counts: Partial<Record<Tier, number>>): Array<{ tier: Tier }> =>
  Object.entries(counts).flatMap(([tier, n]) => Array.from({ length: n }, () => ({ tier: tier as Tier })));

/** The 5,000-job bench's target AZ: P1 state of 40 GiB, the default rates (200 MiB/s alone, 64 GiB/s per AZ), 600 s start-up timeout. */
const base: StartupDeadlineInput = {
  startupTimeoutSeconds: 600, restoring: true, stateBytes: 40 * GiB, stateFrom: 'the catalog', checkpointIntervalSeconds: 0, rates: DEFAULT_RTO_RATES, timeScale: 1, restoresAtOnce: 1, targetAz: 'az-b',
};

describe('restores at once', () => {
  it('is the sum over tiers of min(maxConcurrency, admitted) when tiers borrow idle slots, the largest tier strictly', () => {
    const admitted = jobs({ P0: 291, P1: 505, P2: 2997 });
    expect(restoresAtOnce(admitted, policy(true))).toBe(291 + 500 + 2000);
    expect(restoresAtOnce(admitted, policy(false))).toBe(2000);
    expect(restoresAtOnce([], policy(true))).toBe(1);
  });
});

describe('start-up deadline', () => {
  it('is the start-up timeout alone for a job that restores nothing', () => {
    const d = startupDeadline({ ...base, restoring: false, restoresAtOnce: 2791 });
    expect(d).toMatchObject({ seconds: 600, timeoutSeconds: 600, restoreSeconds: 0 });
    expect(d.why).toBe('600s start-up timeout (restores nothing)');
    expect(startupDeadline({ ...base, restoring: false, checkpointIntervalSeconds: 300 }).seconds).toBe(600);
  });

  it('gives a restoring job one checkpoint interval more: it counts RUNNING at the first checkpoint after its restore', () => {
    const without = startupDeadline({ ...base, timeScale: 10, startupTimeoutSeconds: 60 });
    const d = startupDeadline({ ...base, timeScale: 10, startupTimeoutSeconds: 60, checkpointIntervalSeconds: 300 });
    expect(d.checkpointSeconds).toBe(30);
    expect(d.seconds).toBe(60 + d.restoreSeconds + 30);
    expect(d.seconds - without.seconds).toBe(30);
    expect(d.why).toContain('+ 30s for the first checkpoint after it (checkpoint interval 300s ÷ time scale 10)');
    // Nothing to restore still waits for that checkpoint.
    expect(startupDeadline({ ...base, stateBytes: 0, checkpointIntervalSeconds: 45 })).toMatchObject({ seconds: 645, restoreSeconds: 0, checkpointSeconds: 45 });
    expect(() => startupDeadline({ ...base, checkpointIntervalSeconds: -1 })).toThrow(/checkpoint interval is -1 s; it must be a finite number ≥ 0/);
  });

  it('grows by the restore at the job\'s share of the AZ bandwidth: 2,791 restores at once give a 40 GiB job 1,745 s more', () => {
    const d = startupDeadline({ ...base, restoresAtOnce: 2791 });
    const share = (64 * GiB) / 2791; // 23.5 MiB/s, below the 200 MiB/s alone
    expect(d.restoreSeconds).toBe(Math.ceil((40 * GiB) / share));
    expect(d.restoreSeconds).toBe(1745);
    expect(d.seconds).toBe(600 + 1745);
    expect(d.why).toBe("600s start-up timeout + 1745s restore: 40.00 GiB (the catalog) at 23.5 MiB/s (az-b's 64.0 GiB/s object-store read bandwidth shared by up to 2791 restores at once; 200.0 MiB/s alone)");
  });

  it('uses the job\'s own rate when the AZ bandwidth is not the limit, and the time scale onto wall seconds', () => {
    const alone = startupDeadline({ ...base, restoresAtOnce: 10 });
    expect(alone.restoreSeconds).toBe(Math.ceil((40 * GiB) / (200 * MiB))); // 205 s
    expect(alone.why).toContain('at 200.0 MiB/s, its rate alone');
    const scaled = startupDeadline({ ...base, restoresAtOnce: 10, startupTimeoutSeconds: 120, timeScale: 5 });
    expect(scaled.restoreSeconds).toBe(Math.ceil((40 * GiB) / (200 * MiB) / 5));
    expect(scaled.seconds).toBe(120 + scaled.restoreSeconds);
    expect(scaled.why).toContain('÷ time scale 5');
  });

  it('rejects out-of-range numbers, naming the value and the fix', () => {
    expect(() => startupDeadline({ ...base, startupTimeoutSeconds: 0 })).toThrow(/start-up timeout is 0 s; it must be a finite number > 0 \(tiers.yaml startupTimeoutSeconds/);
    expect(() => startupDeadline({ ...base, timeScale: Number.NaN })).toThrow(/time scale is NaN; it must be a finite number > 0/);
    expect(() => startupDeadline({ ...base, restoresAtOnce: 0 })).toThrow(/restores at once is 0; it must be an integer ≥ 1/);
    expect(() => startupDeadline({ ...base, stateBytes: -1 })).toThrow(/state size is -1 bytes; it must be a finite number ≥ 0/);
  });

  it('bounds every restore of the simulator\'s max-min fair object store when at most `restoresAtOnce` run at once, whatever their sizes and order', () => {
    // The platform model the simulator runs (simulator/shared-bandwidth.ts): slots each run restores back to back, as the engine's concurrency slots do.
    const rates: RtoRates = { ...DEFAULT_RTO_RATES, restoreBytesPerSecond: 200 * MiB, restoreFrom: { from: 'measured', jobs: 10 }, platform: { ...DEFAULT_RTO_RATES.platform!, objectStoreReadBytesPerSecond: 1000 * MiB } };
    const restore = fc.record({ mib: fc.integer({ min: 1, max: 3000 }), gapTenths: fc.integer({ min: 0, max: 30 }) });
    fc.assert(fc.property(fc.array(fc.array(restore, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), (slots) => {
      let wallMs = 0;
      const scheduler = new Scheduler(new ModelClock(1, () => wallMs, 0));
      const store = new SharedBandwidth(scheduler, 'az-b', 1000 * MiB);
      const took: Array<{ seconds: number; allowed: number }> = [];
      const runSlot = (queue: typeof slots[number]): void => {
        const [next, ...rest] = queue;
        if (!next) return;
        scheduler.after(next.gapTenths / 10, [], () => store.transfer(next.mib * MiB, 200 * MiB, (seconds) => {
          took.push({ seconds, allowed: startupDeadline({ ...base, rates, stateBytes: next.mib * MiB, restoresAtOnce: slots.length }).restoreSeconds });
          runSlot(rest);
        }));
      };
      slots.forEach(runSlot);
      const total = slots.flat().length;
      for (let step = 0; took.length < total; step++) {
        if (step > 200_000) throw new Error('restores did not end');
        wallMs += 100;
        scheduler.runDue();
      }
      for (const t of took) expect(t.seconds).toBeLessThanOrEqual(t.allowed + 0.2); // the 0.1 s clock steps
    }), { numRuns: 60 });
  });
});

describe('capacity freed by preemptions', () => {
  // The default demo's 10 preemptions in az-b: one of 192.4 GiB among small ones.
  const preempted = [
    { key: 'flink-logistics/logistics-alerting-0022', stateBytes: 1.0 * GiB },
    { key: 'flink-checkout/checkout-etl-0015', stateBytes: 192.4 * GiB },
    { key: 'flink-ads-ranking/ads-ranking-indexer-0019', stateBytes: 16.4 * GiB },
  ];

  it("waits for the slowest preempted job's stop-with-savepoint: base + its state at the per-job rate, on the engine's clock", () => {
    const wait = preemptionWait(preempted, DEFAULT_RTO_RATES, 10)!;
    expect(wait.seconds).toBe(Math.ceil((SAVEPOINT_BASE_SECONDS + (192.4 * GiB) / (200 * MiB)) / 10)); // 100 s at time scale 10
    expect(wait.seconds).toBe(100);
    expect(wait.why).toBe('capacity freed by preempting flink-checkout/checkout-etl-0015 (192.40 GiB stop-with-savepoint: 5s + state at 200.0 MiB/s ÷ time scale 10)');
    expect(preemptionWait([], DEFAULT_RTO_RATES, 10)).toBeUndefined();
    expect(preemptionWait([{ key: 'a/b', stateBytes: Number.NaN }], DEFAULT_RTO_RATES, 1)!.seconds).toBe(SAVEPOINT_BASE_SECONDS);
  });

  it('gives every deploy that time on top of its start-up timeout, restoring or not: a small job applied last may wait for it', () => {
    // The demo's failed P2 job: 1.64 GiB, 60 s start-up timeout at time scale 10, 120 s checkpoints.
    const demo = { ...base, startupTimeoutSeconds: 60, stateBytes: 1.64 * GiB, checkpointIntervalSeconds: 120, timeScale: 10, restoresAtOnce: 368 };
    const without = startupDeadline(demo);
    const capacityWait = preemptionWait(preempted, DEFAULT_RTO_RATES, 10)!;
    const withWait = startupDeadline({ ...demo, capacityWait });
    expect(withWait.seconds).toBe(without.seconds + 100);
    expect(withWait.capacitySeconds).toBe(100);
    expect(without.capacitySeconds).toBeUndefined();
    expect(withWait.why).toMatch(/^60s start-up timeout \+ 100s for capacity freed by preempting flink-checkout\/checkout-etl-0015 \(192\.40 GiB stop-with-savepoint: .*\) \+ 1s restore: /);
    const stateless = startupDeadline({ ...demo, restoring: false, capacityWait });
    expect(stateless.seconds).toBe(60 + 100);
    expect(() => startupDeadline({ ...demo, capacityWait: { seconds: 1.5, why: 'x' } })).toThrow(/capacity wait is 1\.5 s; it must be a whole number ≥ 0/);
  });
});

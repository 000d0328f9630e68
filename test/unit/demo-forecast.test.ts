/**
 * The demo's forecast before the trigger (cli/demo-forecast.ts): every P0–P2 job predicted to
 * miss is named with why (the platform alone, or the engine before its apply), and the closing
 * line says which misses came unannounced.
 */
import { describe, expect, it } from 'vitest';
import { checkForecast, forecastCheckLine, forecastLines } from '../../cli/demo-forecast.js';
import type { EvacuationReport, JobReport } from '../../domain/report.js';
import { DEFAULT_RTO_RATES } from '../../domain/rto-estimate.js';
import type { JobRtoForecast, Plan } from '../../domain/types.js';

const GiB = 1024 ** 3;

function forecast(key: string, tier: 'P0' | 'P1' | 'P2', seconds: number, target: number, parts: Partial<JobRtoForecast['parts']> = {}, stateBytes = 0): JobRtoForecast {
  const all = { dispatchWait: 0, startStep: 0, queue: 0, startup: 0, jarFetch: 0, restore: 0, checkpoint: 0, ...parts };
  return {
    key, tier, strategy: tier === 'P0' ? 'promote-standby' : 'redeploy', seconds, rtoTargetSeconds: target, misses: seconds > target, parts: all,
    inputs: { stateBytes, stateFrom: stateBytes > 0 ? 'snapshot' : 'none', jarBytes: 0, jarsFrom: 'none' },
  };
}

const plan = (jobs: JobRtoForecast[]): Pick<Plan, 'rto'> => ({
  rto: { jobs, timeScale: 10, rates: {} as NonNullable<Plan['rto']>['rates'] },
});

function line(key: string, tier: 'P0' | 'P1' | 'P2' | 'P3', outcome: JobReport['outcome'], rtoSeconds?: number, reason?: string): JobReport {
  const [namespace, name] = key.split('/') as [string, string];
  return { namespace, name, tier, strategy: 'redeploy', outcome, steps: {}, ...(rtoSeconds !== undefined ? { rtoSeconds } : {}), ...(reason ? { reason } : {}) };
}

const tiers = [{ tier: 'P0', rtoTargetSeconds: 6 }, { tier: 'P1', rtoTargetSeconds: 42 }, { tier: 'P2', rtoTargetSeconds: 54 }] as EvacuationReport['tiers'];

describe('forecastLines', () => {
  it('names every job predicted to miss with its largest part, and whether the platform alone or the engine makes it late', () => {
    const lines = forecastLines(plan([
      forecast('pay/hot', 'P0', 6.9, 6, { dispatchWait: 5.9, startup: 1 }),
      forecast('pay/big', 'P1', 61, 42, { dispatchWait: 7, startStep: 2, startup: 12, restore: 30, checkpoint: 10 }, 465 * GiB),
      forecast('pay/ok', 'P1', 30, 42, { dispatchWait: 7, startup: 23 }),
      forecast('ads/late', 'P2', 58, 54, { dispatchWait: 11, startStep: 20, startup: 12, restore: 5, checkpoint: 10 }, 20 * GiB),
    ]));
    expect(lines[0]).toBe('Forecast before the trigger (wall seconds at time scale 10, targets scaled): P0 slowest 6.9s / RTO 6.0s (1 of 1 predicted to miss), P1 slowest 61.0s / RTO 42.0s (1 of 2 predicted to miss), P2 slowest 58.0s / RTO 54.0s (1 of 1 predicted to miss).');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe("  P0 pay/hot: predicted 6.9s > 6.0s: largest part engine before its dispatch 5.9s; the engine's 5.9s before the apply (planning, tier start, start step) + the platform's 1.0s (start-up, restore, first checkpoint); no state");
    expect(lines[2]).toMatch(/^ {2}P1 pay\/big: predicted 61\.0s > 42\.0s: largest part restore 30\.0s; the platform alone needs 52\.0s \(start-up, restore, first checkpoint\) > 42\.0s; 465\.00 GiB of state from the newest snapshot's _metadata$/);
    expect(lines[3]).toContain("P2 ads/late: predicted 58.0s > 54.0s: largest part start step 20.0s; the engine's 31.0s before the apply (planning, tier start, start step) + the platform's 27.0s");
  });

  it("names a job's wait for a preempted P3 job's pods, and how the measured pace scaled the engine's default terms", () => {
    const rates = { ...DEFAULT_RTO_RATES, engine: { ...DEFAULT_RTO_RATES.engine!, pace: { factor: 2.4, runSeconds: 3, waitSeconds: 4.2, windowSeconds: 12.34, reference: 1.2 } } };
    const lines = forecastLines({ rto: { jobs: [forecast('ads/last', 'P2', 90, 54, { dispatchWait: 6, startStep: 3, capacity: 40, startup: 12, restore: 1, checkpoint: 28 }, 8 * GiB)], timeScale: 10, rates } });
    expect(lines[1]).toBe("  The engine's default terms scaled ×2.00 by the worker's pace (2.4 wall s per CPU s over the plan's 12.3 s; 1.2 when the defaults were measured).");
    expect(lines[2]).toBe("  P2 ads/last (or whichever deploy of the tier asks for capacity as late): predicted 90.0s > 54.0s: largest part capacity wait 40.0s; the platform alone needs 81.0s (start-up, restore, first checkpoint) > 54.0s; its pods wait 40.0s for capacity a preempted P3 job frees once its stop-with-savepoint ends; 8.00 GiB of state from the newest snapshot's _metadata");
  });

  it('says when nothing is predicted to miss, and counts what it does not list', () => {
    expect(forecastLines(plan([forecast('a/b', 'P2', 40, 54)]))[1]).toBe("  No P0–P2 job is predicted to miss its tier's RTO.");
    const many = forecastLines(plan(Array.from({ length: 13 }, (_, i) => forecast(`a/j${i}`, 'P2', 60 + i, 54, { startup: 60 + i }))), 10);
    expect(many.filter((l) => l.startsWith('  P2 a/'))).toHaveLength(10);
    expect(many.at(-1)).toBe('  P2: … and 3 more predicted to miss');
    expect(forecastLines({})).toEqual(['The plan has no RTO forecast.']);
  });
});

describe('checkForecast', () => {
  it('counts the misses and names those the forecast did not announce; not-admitted jobs and P3 are not RTO misses', () => {
    const before = plan([forecast('a/late', 'P2', 60, 54), forecast('a/surprise', 'P2', 40, 54), forecast('a/fine', 'P2', 40, 54), forecast('a/false-alarm', 'P1', 50, 42)]);
    const report = {
      tiers,
      jobs: [
        line('a/late', 'P2', 'running', 58), line('a/surprise', 'P2', 'running', 55), line('a/fine', 'P2', 'running', 50),
        line('a/false-alarm', 'P1', 'running', 40), line('a/failed', 'P2', 'failed'),
        line('a/not-admitted', 'P2', 'skipped', undefined, 'not admitted: does not fit'), line('a/p3', 'P3', 'running', 500),
      ],
    };
    const c = checkForecast(before, report);
    expect(c).toEqual({ predicted: 2, missed: 3, missedAndPredicted: 1, byCapacity: 0, unannounced: ['a/surprise', 'a/failed'], falseAlarms: ['a/false-alarm'] });
    expect(forecastCheckLine(c)).toBe('Forecast before the trigger: 2 P0–P2 job(s) predicted to miss their RTO (1 of them made it); 3 missed, 1 of them predicted; NOT predicted: a/surprise, a/failed.');
    const all = checkForecast(before, { tiers, jobs: [line('a/late', 'P2', 'running', 58)] });
    expect(forecastCheckLine(all)).toBe('Forecast before the trigger: 2 P0–P2 job(s) predicted to miss their RTO (1 of them made it); 1 missed, every one of them predicted.');
  });

  it("counts a tier's predicted capacity wait that made it for another of its misses: which deploy waits for a preempted job's pods depends on the order they ask", () => {
    const before = plan([forecast('a/waits', 'P2', 90, 54, { capacity: 40 }), forecast('a/other', 'P2', 40, 54), forecast('a/p1', 'P1', 30, 42)]);
    const c = checkForecast(before, { tiers, jobs: [line('a/waits', 'P2', 'running', 40), line('a/other', 'P2', 'running', 95), line('a/p1', 'P1', 'running', 50)] });
    // a/other asked last and waited instead of a/waits; the P1 miss is not a capacity wait of its tier.
    expect(c).toEqual({ predicted: 1, missed: 2, missedAndPredicted: 0, byCapacity: 1, unannounced: ['a/p1'], falseAlarms: ['a/waits'] });
    expect(forecastCheckLine(c)).toBe("Forecast before the trigger: 1 P0–P2 job(s) predicted to miss their RTO (1 of them made it); 2 missed, 1 of them predicted (1 of them as the tier's predicted capacity wait: another deploy than the one named asked last); NOT predicted: a/p1.");
    expect(forecastLines(before)[1]).toMatch(/^ {2}P2 a\/waits \(or whichever deploy of the tier asks for capacity as late\): predicted 90\.0s > 54\.0s: largest part capacity wait 40\.0s/);
  });
});

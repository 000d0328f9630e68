import { describe, expect, it } from 'vitest';
import { checkTargets, type TargetRow } from '../../bench/targets.js';

const row = (o: Partial<TargetRow>): TargetRow => ({
  jobs: 500, timeScale: 5, platformModel: 'default', preload: true, dispatched: 380, wallSeconds: 38, eventsPerJob: 20, p0to2Jobs: 10, p0to2Running: 10,
  largestHistoryEvents: 300, ratio: 1.1, p0StandbyRtoSeconds: 2, p2RtoSeconds: 100, ...o,
});

describe('checkTargets', () => {
  it('checks the null platform on null-platform rows only, both limits', () => {
    const checks = checkTargets([row({ platformModel: 'null', dispatched: 400, wallSeconds: 4, eventsPerJob: 9 }), row({ dispatched: 5000, wallSeconds: 1, eventsPerJob: 1 })]);
    expect(checks.map((c) => [c.target, c.met])).toEqual([['null platform, 500 jobs: ≥ 100 jobs/s dispatched and completed', true], ['null platform, 500 jobs: ≤ 8 events/job', false]]);
  });

  it('counts only dispatched jobs in the null platform rate, not the P3 jobs left out', () => {
    expect(checkTargets([row({ platformModel: 'null', jobs: 2000, dispatched: 1485, wallSeconds: 19.35 })])[0]).toMatchObject({ met: false, measured: '1485 jobs in 19.35 s: 76.74 jobs/s' });
  });

  it('fails the 20,000-job target on one job not RUNNING, a history past 10,000 events or a ratio above 1.15', () => {
    const met = (o: Partial<TargetRow>) => checkTargets([row({ jobs: 20_000, timeScale: 5, ...o })]).map((c) => c.met);
    expect(met({ ratio: 1.15 })).toEqual([true, true, true]);
    expect(met({ p0to2Running: 9 })).toEqual([false, true, true]);
    expect(met({ largestHistoryEvents: 10_001 })).toEqual([true, false, true]);
    expect(met({ ratio: 1.16 })).toEqual([true, true, false]);
    // The same size at another time scale is not evidence for it.
    expect(checkTargets([row({ jobs: 20_000, timeScale: 10 })])).toEqual([]);
  });

  it('fails the 5,000-job target on a late or missing promotion', () => {
    expect(checkTargets([row({ jobs: 5_000, timeScale: 1, ratio: 1.05, p0StandbyRtoSeconds: 10 })]).every((c) => c.met)).toBe(true);
    expect(checkTargets([row({ jobs: 5_000, timeScale: 1, p0StandbyRtoSeconds: 10.5 })])[1]).toMatchObject({ met: false, measured: 'last at 10.5 s' });
    expect(checkTargets([row({ jobs: 5_000, timeScale: 1, p0StandbyRtoSeconds: null })])[1]).toMatchObject({ met: false, measured: 'no promotion' });
  });

  it('pairs preload on and off at 1,000 jobs of one time scale', () => {
    const pair = (on: number, off: number) => checkTargets([row({ jobs: 1_000, p2RtoSeconds: on }), row({ jobs: 1_000, preload: false, p2RtoSeconds: off })]);
    expect(pair(50, 100)).toEqual([{ target: '1,000 jobs, time scale 5: P2 RTO with preload ≥ 2× shorter', measured: '50 s on, 100 s off (2×)', met: true }]);
    expect(pair(60, 100)[0]).toMatchObject({ met: false, measured: '60 s on, 100 s off (1.67×)' });
    expect(checkTargets([row({ jobs: 1_000, p2RtoSeconds: 50 })])).toEqual([]);
  });
});

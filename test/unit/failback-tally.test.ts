/** Failback tallies (domain/failback-tally.ts): what a shard hands to the failback instead of per-job results. */
import { describe, expect, it } from 'vitest';
import { addResult, emptyTally, mergeTallies } from '../../domain/failback-tally.js';

describe('failback tally', () => {
  it('counts each result by action and by what was done in the target AZ, and keeps the last RUNNING time', () => {
    const t = emptyTally();
    addResult(t, { action: 'restored-from-target', target: 'deleted', runningAtMs: 2_000 });
    addResult(t, { action: 'restored-own', target: 'standby-restarted', runningAtMs: 1_000 });
    addResult(t, { action: 'untouched', target: 'none' });
    expect(t).toEqual({ moved: 3, restoredFromTarget: 1, restoredOwn: 1, untouched: 1, removed: 1, standbys: 1, failed: [], lastRunningAtMs: 2_000 });
  });

  it('merges shards: sums, every failure once, the latest RUNNING time; nothing restored leaves it absent', () => {
    const a = { ...emptyTally(), moved: 2, restoredOwn: 2, failed: [{ key: 'ns/a', reason: 'x' }], lastRunningAtMs: 5 };
    const b = { ...emptyTally(), moved: 1, untouched: 1, failed: [{ key: 'ns/b', reason: 'y' }], lastRunningAtMs: 9 };
    expect(mergeTallies([a, b])).toEqual({ moved: 3, restoredFromTarget: 0, restoredOwn: 2, untouched: 1, removed: 0, standbys: 0, failed: [{ key: 'ns/a', reason: 'x' }, { key: 'ns/b', reason: 'y' }], lastRunningAtMs: 9 });
    expect(mergeTallies([emptyTally(), emptyTally()]).lastRunningAtMs).toBeUndefined();
  });
});

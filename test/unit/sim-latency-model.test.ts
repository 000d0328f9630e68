import { describe, expect, it } from 'vitest';
import { contentionSlowdown, LATENCY, startupSeconds, type StartupInput } from '../../simulator/latency-model.js';

const MiB = 1024 * 1024;
const base: StartupInput = {
  key: 'ns/job',
  stateSizeBytes: 0,
  jarBytes: 200 * MiB,
  preloaded: false,
  concurrentRepoDownloads: 1,
  replicas: 4,
  restored: false,
  seed: 1,
  deployCount: 1,
};

describe('latency model', () => {
  it('is deterministic for the same seed, key and deploy count, and varies otherwise', () => {
    expect(startupSeconds(base)).toEqual(startupSeconds({ ...base }));
    expect(startupSeconds({ ...base, deployCount: 2 }).total).not.toBe(startupSeconds(base).total);
    expect(startupSeconds({ ...base, key: 'ns/other' }).total).not.toBe(startupSeconds(base).total);
  });

  it('makes a repository jar fetch about 10x slower under heavy contention', () => {
    const alone = startupSeconds(base).phases.jarFetch;
    const busy = startupSeconds({ ...base, concurrentRepoDownloads: 200 }).phases.jarFetch;
    expect(busy / alone).toBeCloseTo(LATENCY.maxContentionSlowdown, 5);
    expect(contentionSlowdown(1)).toBe(1);
    expect(contentionSlowdown(8)).toBeGreaterThan(1);
    expect(contentionSlowdown(8)).toBeLessThan(contentionSlowdown(20));
  });

  it('fetches a preloaded jar from the cache much faster, whatever the contention', () => {
    const cached = startupSeconds({ ...base, preloaded: true, concurrentRepoDownloads: 200 }).phases.jarFetch;
    expect(cached).toBeLessThan(startupSeconds(base).phases.jarFetch / 5);
  });

  it('changes only the jar phase when preloading (same draws): a lower bound for the same plan', () => {
    const slow = startupSeconds({ ...base, concurrentRepoDownloads: 50 });
    const fast = startupSeconds({ ...base, preloaded: true });
    expect(fast.phases.jobManager).toBe(slow.phases.jobManager);
    expect(fast.phases.jobInit).toBe(slow.phases.jobInit);
    expect(fast.total).toBeLessThan(slow.total);
  });

  it('lands near the field numbers: ~2 min typical, ~5 min for a big-state savepoint redeploy', () => {
    const typical = Array.from({ length: 50 }, (_, i) => startupSeconds({ ...base, preloaded: true, key: `ns/j${i}` }).total);
    const mean = typical.reduce((a, b) => a + b, 0) / typical.length;
    expect(mean).toBeGreaterThan(90);
    expect(mean).toBeLessThan(150);
    const big = startupSeconds({ ...base, preloaded: true, restored: true, stateSizeBytes: 200 * 1024 ** 3 }).total;
    expect(big).toBeGreaterThan(240);
    expect(big).toBeLessThan(450);
    expect(startupSeconds({ ...base, restored: false, stateSizeBytes: 200 * 1024 ** 3 }).phases.stateRestore).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { aloneSeconds, DEFAULT_MODEL, fixedPhases, NULL_MODEL, platformModelNamed, savepointSeconds, type DeployShape } from '../../simulator/latency-model.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const base: DeployShape = { key: 'ns/job', seed: 1, deployCount: 1, replicas: 4, jarBytes: 100 * MiB, preloaded: true, restoreBytes: 0 };
const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
/** Apply → RUNNING alone (the rest-ready delay overlaps the start-up; the restore comes after RUNNING). */
const toRunning = (d: DeployShape): number => {
  const { restReadyDelay: _ready, stateRestore: _restore, ...phases } = aloneSeconds(DEFAULT_MODEL, d);
  return sum(phases);
};

describe('platform model', () => {
  it('draws the same phases for the same seed, key and deploy count, and others otherwise', () => {
    expect(fixedPhases(DEFAULT_MODEL, 1, 'ns/a', 1, 4)).toEqual(fixedPhases(DEFAULT_MODEL, 1, 'ns/a', 1, 4));
    expect(fixedPhases(DEFAULT_MODEL, 1, 'ns/a', 2, 4)).not.toEqual(fixedPhases(DEFAULT_MODEL, 1, 'ns/a', 1, 4));
    expect(fixedPhases(DEFAULT_MODEL, 1, 'ns/b', 1, 4)).not.toEqual(fixedPhases(DEFAULT_MODEL, 1, 'ns/a', 1, 4));
  });

  it('puts one job alone at about 2 min from apply to RUNNING (field reports), ~5 min with a big restore', () => {
    const alone = Array.from({ length: 50 }, (_, i) => toRunning({ ...base, key: `ns/j${i}` }));
    const mean = alone.reduce((a, b) => a + b, 0) / alone.length;
    expect(mean).toBeGreaterThan(100);
    expect(mean).toBeLessThan(140);
    const big = aloneSeconds(DEFAULT_MODEL, { ...base, restoreBytes: 200 * GiB });
    expect(toRunning(base) + big.stateRestore).toBeGreaterThan(240);
    expect(toRunning(base) + big.stateRestore).toBeLessThan(450);
    expect(big.stateRestore).toBe(DEFAULT_MODEL.restoreMaxSecondsAlone);
  });

  it('reads a jar from the cache much faster than from the repository', () => {
    const cached = aloneSeconds(DEFAULT_MODEL, base).jarFetch;
    const repo = aloneSeconds(DEFAULT_MODEL, { ...base, preloaded: false }).jarFetch;
    expect(repo / cached).toBeCloseTo(DEFAULT_MODEL.cacheBytesPerSecond / DEFAULT_MODEL.repositoryBytesPerSecondPerDownload, 6);
  });

  it('makes jar downloads 10x slower at the load of a mass evacuation: 400 at once share the repository', () => {
    const perDownload = DEFAULT_MODEL.repositoryBytesPerSecond / 400;
    expect(DEFAULT_MODEL.repositoryBytesPerSecondPerDownload / perDownload).toBeCloseTo(10, 6);
  });

  it('grows stop-with-savepoint time with the state', () => {
    expect(savepointSeconds(DEFAULT_MODEL, 0)).toBe(DEFAULT_MODEL.savepointBaseSeconds);
    expect(savepointSeconds(DEFAULT_MODEL, 10 * GiB)).toBeCloseTo(DEFAULT_MODEL.savepointBaseSeconds + (10 * GiB) / DEFAULT_MODEL.savepointBytesPerSecond, 6);
  });

  it('null model: nothing takes time', () => {
    expect(sum(aloneSeconds(NULL_MODEL, { ...base, preloaded: false, restoreBytes: 100 * GiB }))).toBe(0);
    expect(savepointSeconds(NULL_MODEL, 100 * GiB)).toBe(0);
    expect(platformModelNamed('null')).toBe(NULL_MODEL);
    expect(() => platformModelNamed('fast')).toThrow(/platform model "fast" is unknown; use one of default, null/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JOBS_PER_SHARD, MAX_SHARDS, evacuationIdFor, redeployNonceFor, shardLayout } from '../../domain/evacuation.js';

describe('shardLayout', () => {
  it('splits jobs and slots exactly, every shard with at least one slot and at most JOBS_PER_SHARD-ish jobs', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 5_000 }), (jobs, window) => {
      const l = shardLayout(jobs, window);
      const ks = Array.from({ length: l.shards }, (_, k) => k);
      expect(ks.reduce((n, k) => n + l.jobsOf(k), 0)).toBe(jobs);
      expect(ks.reduce((n, k) => n + l.slotsOf(k), 0)).toBe(window);
      expect(ks.every((k) => l.slotsOf(k) >= 1)).toBe(true);
      expect(l.shards).toBeLessThanOrEqual(Math.max(1, Math.min(window, MAX_SHARDS)));
      if (l.shards < MAX_SHARDS && l.shards < window) expect(Math.max(...ks.map(l.jobsOf))).toBeLessThanOrEqual(JOBS_PER_SHARD);
    }));
  });

  it('uses one shard for a small tier and many for a large one', () => {
    expect(shardLayout(30, 500).shards).toBe(1);
    expect(shardLayout(1_500, 1_500).shards).toBe(30);
    expect(shardLayout(1_500, 5).shards).toBe(5);
  });
});

describe('ids and nonces', () => {
  it('names one evacuation per source, target and mode, so a second press joins the first', () => {
    expect(evacuationIdFor({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency' })).toBe(evacuationIdFor({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency' }));
    expect(evacuationIdFor({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill' })).not.toBe(evacuationIdFor({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency' }));
  });

  it('derives one positive 31-bit savepointRedeployNonce per evacuation id', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), (id) => {
      const n = redeployNonceFor(id);
      expect(n).toBe(redeployNonceFor(id));
      expect(Number.isInteger(n) && n > 0 && n < 2 ** 31).toBe(true);
    }));
    expect(redeployNonceFor('az-evac-emergency-az-a-to-az-b')).not.toBe(redeployNonceFor('az-evac-drill-az-a-to-az-b'));
  });
});

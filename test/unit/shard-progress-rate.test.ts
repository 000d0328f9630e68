import { describe, expect, it } from 'vitest';
import { MAX_SHARDS } from '../../domain/evacuation.js';
import { MIN_SHARD_PROGRESS_EVERY_MS, TIER_PROGRESS_SIGNALS_PER_SECOND, shardProgressEveryMs } from '../../domain/shard-progress-rate.js';

describe('shardProgressEveryMs: routine progress signals spaced by the tier\'s shard count', () => {
  it('keeps the 2 s floor for small tiers', () => {
    expect(shardProgressEveryMs(1)).toBe(MIN_SHARD_PROGRESS_EVERY_MS);
    expect(shardProgressEveryMs(2)).toBe(MIN_SHARD_PROGRESS_EVERY_MS);
  });

  it('holds a tier of any size to about one routine signal a second from all its shards', () => {
    for (const shards of [3, 10, 37, MAX_SHARDS]) {
      const perSecond = shards / (shardProgressEveryMs(shards) / 1000);
      expect(perSecond, `${shards} shards`).toBeLessThanOrEqual(TIER_PROGRESS_SIGNALS_PER_SECOND);
      expect(perSecond, `${shards} shards`).toBeGreaterThan(TIER_PROGRESS_SIGNALS_PER_SECOND * 0.99);
    }
    expect(shardProgressEveryMs(MAX_SHARDS)).toBe(100_000);
  });

  it('refuses a shard count that is not a positive integer, naming it', () => {
    expect(() => shardProgressEveryMs(0)).toThrow(/shards = 0/);
    expect(() => shardProgressEveryMs(2.5)).toThrow(/shards = 2.5/);
  });
});

/** The stale-catalog rule of emergency evacuations (domain/catalog-freshness.ts). */
import { describe, expect, it } from 'vitest';
import { catalogStaleness } from '../../domain/catalog-freshness.js';
import { onPlatformClock } from '../../domain/tiers-policy.js';
import { catalog, job, tiersPolicy } from './fixtures/fleet.js';

const c = catalog([job('etl')], { version: 7 });
const takenMs = Date.parse(c.takenAt);
const policy = tiersPolicy({ tiers: { P0: { rpoSeconds: 60 }, P1: { rpoSeconds: 300 }, P2: { rpoSeconds: 900 }, P3: { rpoSeconds: 3600 } } });

describe('catalogStaleness', () => {
  it('is fresh up to the tightest RPO in scope, stale after, naming age, RPO, version and the fixes', () => {
    expect(catalogStaleness(c, policy, undefined, takenMs + 60_000)) .toBeUndefined();
    const stale = catalogStaleness(c, policy, undefined, takenMs + 61_000)!;
    expect(stale).toMatchObject({ version: 7, tier: 'P0', rpoSeconds: 60, ageSeconds: 61 });
    expect(stale.message).toContain('catalog v7 was taken at 2026-01-31T12:00:00Z, 61s ago: older than the P0 RPO of 60s');
    expect(stale.message).toContain('az-evac catalog sync');
    expect(stale.message).toContain('--force-stale-catalog');
  });

  it('judges against the tiers in scope only', () => {
    expect(catalogStaleness(c, policy, ['P2', 'P3'], takenMs + 600_000)) .toBeUndefined();
    expect(catalogStaleness(c, policy, ['P2', 'P3'], takenMs + 901_000)?.tier).toBe('P2');
  });

  it('judges a simulated platform against the policy on its clock, and says so', () => {
    const scaled = onPlatformClock(policy, 100);
    expect(catalogStaleness(c, scaled, undefined, takenMs + 600)).toBeUndefined();
    const stale = catalogStaleness(c, scaled, undefined, takenMs + 2_000)!;
    expect(stale.rpoSeconds).toBeCloseTo(0.6);
    expect(stale.message).toContain('(60s on a simulated platform at time scale 100)');
  });
});

/**
 * Is the fleet catalog fresh enough to evacuate from in an emergency? In an emergency the
 * source AZ's API server is gone and the catalog is the only record of its jobs, standbys
 * and snapshot prefixes (docs/design.md#the-fleet-catalog): a catalog older than the tightest RPO in scope may
 * miss jobs deployed since, or name standbys that moved. Pure.
 */
import type { Catalog, Tier, TiersPolicy } from './types.js';
import { TIERS } from './types.js';

/** Why a catalog is too old, with the numbers a person needs to decide. */
export interface StaleCatalog {
  version: number;
  takenAt: string;
  /** Age at `nowMs`, wall seconds. */
  ageSeconds: number;
  /** The tier whose RPO is the tightest in scope, and that RPO in seconds of the policy's clock (wall seconds). */
  tier: Tier;
  rpoSeconds: number;
  /** Human text: age, RPO, version, how to sync or force. */
  message: string;
}

/**
 * The staleness of `catalog` against the tightest RPO of the tiers in scope.
 * @param scopeTiers tiers in scope (empty or undefined: all)
 * @returns undefined when the catalog is younger than that RPO
 */
export function catalogStaleness(catalog: Catalog, policy: TiersPolicy, scopeTiers: readonly Tier[] | undefined, nowMs: number): StaleCatalog | undefined {
  const tiers = scopeTiers?.length ? scopeTiers : TIERS;
  const tier = [...tiers].sort((a, b) => policy.tiers[a].rpoSeconds - policy.tiers[b].rpoSeconds)[0] ?? 'P0';
  const rpoSeconds = policy.tiers[tier].rpoSeconds;
  const ageSeconds = Math.max(0, (nowMs - Date.parse(catalog.takenAt)) / 1000);
  if (ageSeconds <= rpoSeconds) return undefined;
  const scaled = policy.timeScale === 1 ? '' : ` (${+(rpoSeconds * policy.timeScale).toFixed(3)}s on a simulated platform at time scale ${policy.timeScale})`;
  return {
    version: catalog.version, takenAt: catalog.takenAt, ageSeconds, tier, rpoSeconds,
    message: `catalog v${catalog.version} was taken at ${catalog.takenAt}, ${ageSeconds.toFixed(0)}s ago: older than the ${tier} RPO of ${+rpoSeconds.toFixed(3)}s${scaled}, ` +
      'so it may miss jobs deployed since or name standbys that moved. Fix: run `az-evac catalog sync` (jobs of an AZ that does not answer are carried over from the previous version), ' +
      'or pass --force-stale-catalog to evacuate from this version anyway',
  };
}

/**
 * Catalog sync: read the live fleet of every reachable AZ and store it as the next
 * catalog version, so an emergency in which an AZ's API server is gone still has a recent
 * catalog of that AZ's jobs. An AZ that does not answer keeps its jobs from the previous
 * catalog version (never silently dropped), and the result says so. Each job's Flink job ids
 * accumulate across versions (withJobIdHistory).
 */
import { jobKey, type Catalog, type FleetJob } from '../domain/types.js';
import { mergeJobIds } from '../domain/snapshot-owner.js';
import type { CatalogSyncResult } from '../domain/evacuation.js';
import type { ActivityDeps } from './deps.js';
import { validateCatalog } from '../domain/catalog-validation.js';
import { platformCall, terminal } from './failures.js';
import { activityLog } from './log.js';
import { heartbeating } from './poll.js';

/**
 * `live` jobs with the job ids the previous catalog recorded for the same `namespace/name`
 * appended (newest first, bounded: domain/snapshot-owner.ts mergeJobIds), so a job keeps the
 * history of its Flink job ids across syncs and snapshot lookups find its older snapshots.
 */
function withJobIdHistory(live: FleetJob[], previous: FleetJob[]): FleetJob[] {
  const before = new Map(previous.map((j) => [jobKey(j), j.jobIds ?? []]));
  return live.map((j) => ({ ...j, jobIds: mergeJobIds(j.jobIds ?? [], before.get(jobKey(j))) }));
}

/** Build the catalog activities over `deps`. */
export function createCatalogActivities(deps: ActivityDeps) {
  /** One sync: read, validate and store the next catalog version. */
  const sync = async (): Promise<CatalogSyncResult> => {
    const live = await platformCall('catalog sync', () => deps.fleet.readFleet());
    const previous = await deps.catalogs.latest();
    const carriedOver = previous ? live.unreachableAzs.filter((az) => previous.jobs.some((j) => j.az === az)) : [];
    const kept: FleetJob[] = previous ? previous.jobs.filter((j) => carriedOver.includes(j.az)) : [];
    const catalog: Catalog = {
      version: (previous?.version ?? 0) + 1,
      takenAt: new Date().toISOString(),
      platform: live.platform,
      jobs: [...withJobIdHistory(live.jobs, previous?.jobs ?? []), ...kept],
    };
    // A catalog the engine will evacuate from must be valid before it is stored: a bad
    // name or a duplicate job found now is a clear error, not a failed evacuation later.
    try {
      validateCatalog(catalog, `catalog v${catalog.version}`);
    } catch (err) {
      throw terminal('InvalidCatalog', err instanceof Error ? err.message : String(err));
    }
    await deps.catalogs.put(catalog);
    return { version: catalog.version, takenAt: catalog.takenAt, jobs: catalog.jobs.length, carriedOver };
  };
  return {
    /**
     * Sync the catalog from the platform; writes version = previous + 1. Its outcome is recorded
     * for monitoring. Heartbeats every third of the heartbeat timeout while it runs (poll.ts
     * heartbeating): reading a large fleet takes minutes (74.6 s at 20,000 jobs on the simulator,
     * docs/benchmarks.md), and a live worker's sync must not be taken for a lost one.
     */
    async syncCatalog(): Promise<CatalogSyncResult> {
      try {
        const result = await heartbeating('catalog sync: reading the fleet of every AZ, validating and storing it', sync);
        deps.metrics?.recordCatalogSync({ ok: true, jobs: result.jobs, endedAtMs: Date.now() });
        activityLog({}).info('catalog stored', { version: result.version, jobs: result.jobs });
        return result;
      } catch (err) {
        deps.metrics?.recordCatalogSync({ ok: false });
        activityLog({}).error('catalog sync failed', { error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    },
  };
}

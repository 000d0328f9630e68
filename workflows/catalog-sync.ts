/**
 * Catalog sync workflow: one activity that reads the live fleet and stores the next
 * catalog version. Run on demand (`az-evac catalog sync`) or by a Temporal Schedule.
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { searchAttributesOf } from './search-attributes.js';
import type { CatalogSyncResult } from '../domain/evacuation.js';

type Activities = ReturnType<typeof createActivities>;

/**
 * The sync activity's options, shared with every workflow that syncs (drill.ts). Sized for a
 * 40,000-job fleet: the sync took 74.6 s at 20,000 jobs on the loaded 2-core bench machine
 * (docs/benchmarks.md), so ~150 s at 40,000; 20 minutes leave room for API throttling. The
 * activity heartbeats (activities/catalog-sync.ts), so a lost worker is noticed within 60 s
 * however long the timeout.
 */
export const CATALOG_SYNC_ACTIVITY = {
  startToCloseTimeout: '20m',
  heartbeatTimeout: '60s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
} as const;

const { syncCatalog } = proxyActivities<Activities>(CATALOG_SYNC_ACTIVITY);

/** Sync the fleet catalog once. */
export async function syncCatalogWorkflow(): Promise<CatalogSyncResult> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'catalog-sync' }));
  return syncCatalog.executeWithOptions({ summary: 'read the live fleet of every reachable AZ, store the next catalog version' }, []);
}

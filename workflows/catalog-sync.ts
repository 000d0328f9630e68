/**
 * Catalog sync workflow: one activity that reads the live fleet and stores the next
 * catalog version. Run on demand (`az-evac catalog sync`) or by a Temporal Schedule.
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { searchAttributesOf } from './search-attributes.js';
import type { CatalogSyncResult } from '../domain/evacuation.js';

type Activities = ReturnType<typeof createActivities>;

const { syncCatalog } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});

/** Sync the fleet catalog once. */
export async function syncCatalogWorkflow(): Promise<CatalogSyncResult> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'catalog-sync' }));
  return syncCatalog.executeWithOptions({ summary: 'read the live fleet of every reachable AZ, store the next catalog version' }, []);
}

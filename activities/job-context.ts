/**
 * Resolve what a job step needs from references (evacuation id + job key): the stored
 * plan, the catalog version it was made from, the job, its tier policy and both AZ
 * profiles. Indexes are cached per catalog version and per evacuation, so thousands of
 * job activities do not re-read or re-scan anything.
 */
import type { AzProfile, Catalog, FleetJob, JobKey, PlannedJob, Tier, TierPolicy } from '../domain/types.js';
import { jobKey } from '../domain/types.js';
import { recordsKey, type JobTask, type RunRef } from '../domain/evacuation.js';
import type { StoredPlan } from '../platform/ports.js';
import type { ActivityDeps } from './deps.js';
import { terminal } from './failures.js';
import { activityLog, type ActivityLogger } from './log.js';

/** Everything one job step of one evacuation needs. */
export interface JobContext {
  stored: StoredPlan;
  catalog: Catalog;
  job: FleetJob;
  planned: PlannedJob;
  policy: TierPolicy;
  source: AzProfile;
  target: AzProfile;
  /** The activity's logger; every line carries evacuationId, job (namespace/name) and tier. */
  log: ActivityLogger;
}

const jobIndexes = new WeakMap<Catalog, Map<string, FleetJob>>();
const plannedIndexes = new WeakMap<StoredPlan, { byKey: Map<JobKey, PlannedJob>; byTier: Map<Tier, JobTask[]> }>();

/** Jobs of a catalog by `az|namespace/name`. */
export function catalogIndex(catalog: Catalog): Map<string, FleetJob> {
  let idx = jobIndexes.get(catalog);
  if (!idx) {
    idx = new Map(catalog.jobs.map((j) => [`${j.az}|${jobKey(j)}`, j]));
    jobIndexes.set(catalog, idx);
  }
  return idx;
}

/** Admitted jobs of a stored plan by key and by tier (in admission order). */
export function planIndex(stored: StoredPlan): { byKey: Map<JobKey, PlannedJob>; byTier: Map<Tier, JobTask[]> } {
  let idx = plannedIndexes.get(stored);
  if (!idx) {
    const byTier = new Map<Tier, JobTask[]>();
    for (const p of stored.plan.admitted) {
      const list = byTier.get(p.tier) ?? [];
      list.push({ key: p.key, strategy: p.strategy });
      byTier.set(p.tier, list);
    }
    idx = { byKey: new Map(stored.plan.admitted.map((p) => [p.key, p])), byTier };
    plannedIndexes.set(stored, idx);
  }
  return idx;
}

/** The AZ profile named `az`, or a terminal failure naming the known AZs. */
export function azProfile(catalog: Catalog, az: string): AzProfile {
  const p = catalog.platform.azs.find((a) => a.name === az);
  if (!p) throw terminal('UnknownJob', `AZ ${az} is not in catalog version ${catalog.version} (known: ${catalog.platform.azs.map((a) => a.name).join(', ')})`);
  return p;
}

/**
 * Load the context of job `key` in evacuation run `run` (its plan is under recordsKey(run)).
 * @throws non-retryable ApplicationFailure 'UnknownJob' when the plan or catalog lacks the job
 */
export async function loadJobContext(deps: ActivityDeps, run: RunRef, key: JobKey): Promise<JobContext> {
  const evacuationId = recordsKey(run);
  const stored = await deps.evacuations.getPlan(evacuationId);
  const catalog = await deps.catalogs.get(stored.plan.catalogVersion);
  const { sourceAz, targetAz } = stored.plan;
  const job = catalogIndex(catalog).get(`${sourceAz}|${key}`);
  const planned = planIndex(stored).byKey.get(key);
  if (!job || !planned) {
    throw terminal('UnknownJob', `job ${key} is not in the plan of ${evacuationId} (catalog version ${catalog.version})`);
  }
  return {
    stored, catalog, job, planned, policy: stored.policy.tiers[planned.tier],
    source: azProfile(catalog, sourceAz), target: azProfile(catalog, targetAz),
    log: activityLog({ evacuationId: run.evacuationId, job: key, tier: planned.tier }),
  };
}

/**
 * Protection workflow (docs/protection.md), run by a Temporal Schedule (client
 * ensureProtectionSchedule) or on demand: one pass over the fleet that keeps every job of a
 * protected tier restorable in every other AZ within its RPO.
 *
 * 1. Assess every job of the newest catalog against tiers.yaml `protection`.
 * 2. Take the due savepoints through the operator, most overdue first, at most
 *    `savepointsAtOncePerAz` at a time per AZ; each new savepoint is shipped at once to the AZs
 *    whose stores do not replicate from the job's. Jobs whose own fresh savepoint only needs
 *    shipping are shipped.
 * 3. Expire old shipped copies by retention.
 * A failing savepoint is retried with back-off (protection.retry) and then reported with the
 * operator's reason; a refused copy is reported per job; neither holds up another job.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { ProtectionTask } from '../activities/protect.js';
import type { JobKey, Tier } from '../domain/types.js';
import { searchAttributesOf } from './search-attributes.js';

type Activities = ReturnType<typeof createActivities>;

const { assessProtection } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
});

/** What one protection pass did. */
export interface ProtectionPassResult {
  catalogVersion: number;
  /** Jobs assessed, and how many were protected, unprotected or of a tier that needs none, before this pass acted. */
  before: { jobs: number; protected: number; unprotected: number; notRequired: number };
  /** Unprotected jobs before this pass acted, with why (at most 200 listed). */
  unprotected: Array<{ job: JobKey; tier: Tier; reason: string }>;
  /** Savepoints taken (job, path). */
  savepoints: Array<{ job: JobKey; path: string }>;
  /** Copies shipped (job, AZ, copy path, bytes copied, the savepoint's completion time in epoch seconds: its age is the RPO an evacuation restoring it pays). */
  shipped: Array<{ job: JobKey; toAz: string; path: string; bytes: number; completedAtEpochSeconds: number }>;
  /** Shipped copies expired by retention. */
  expired: string[];
  /** Per job, what failed after its retries, with the operator's or the store's reason. */
  failures: Array<{ job: JobKey; step: 'savepoint' | 'ship' | 'retention'; reason: string }>;
}

/** One protection pass over the fleet. */
export async function protectFleet(): Promise<ProtectionPassResult> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'protection' }));
  const a = await assessProtection();
  const policy = a.policy;
  const result: ProtectionPassResult = { catalogVersion: a.catalogVersion, before: a.counts, unprotected: a.unprotected, savepoints: [], shipped: [], expired: [], failures: [] };
  if (policy.tiers.length === 0) return result;
  const retry = { initialInterval: `${policy.retry.initialBackoffSeconds}s`, backoffCoefficient: 2, maximumAttempts: policy.retry.attempts };
  const { takeProtectionSavepoint } = proxyActivities<Activities>({
    startToCloseTimeout: `${Math.ceil(policy.savepointTimeoutSeconds + 60)}s`,
    heartbeatTimeout: '1m',
    retry: { ...retry, nonRetryableErrorTypes: ['ProtectionUnsupported'] },
  });
  const { shipProtectionSavepoint, expireShippedSavepoints } = proxyActivities<Activities>({
    startToCloseTimeout: '30m',
    retry: { ...retry, nonRetryableErrorTypes: ['ProtectionUnsupported', 'ManifestRejected', 'NotFound', 'Forbidden'] },
  });
  const failed = (job: JobKey, step: ProtectionPassResult['failures'][number]['step'], err: unknown): void => {
    result.failures.push({ job, step, reason: reasonOf(err) });
  };

  const ship = async (t: ProtectionTask, path: string): Promise<void> => {
    for (const toAz of t.shipTo) {
      try {
        const s = await shipProtectionSavepoint({ job: t.job, fromAz: t.az, toAz, path });
        result.shipped.push({ job: t.job, toAz, path: s.path, bytes: s.copiedBytes, completedAtEpochSeconds: s.completedAtEpochSeconds });
      } catch (err) {
        failed(t.job, 'ship', err);
      }
    }
  };

  const protectJob = async (t: ProtectionTask): Promise<void> => {
    if (t.action.kind === 'ship') return ship({ ...t, shipTo: t.action.toAzs }, t.action.path);
    let path: string;
    try {
      path = (await takeProtectionSavepoint({ job: t.job, az: t.az, namespace: t.namespace, name: t.name, format: t.format, timeoutSeconds: policy.savepointTimeoutSeconds })).path;
    } catch (err) {
      return failed(t.job, 'savepoint', err);
    }
    result.savepoints.push({ job: t.job, path });
    await ship(t, path);
  };

  // Per AZ, `savepointsAtOncePerAz` lanes take that AZ's tasks in the assessment's order.
  const byAz = new Map<string, ProtectionTask[]>();
  for (const t of a.tasks) byAz.set(t.az, [...(byAz.get(t.az) ?? []), t]);
  await Promise.all([...byAz.values()].flatMap((queue) =>
    Array.from({ length: Math.min(policy.savepointsAtOncePerAz, queue.length) }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await protectJob(t);
    }),
  ));

  await Promise.all(a.retention.map(async (r) => {
    try {
      result.expired.push(...(await expireShippedSavepoints({ ...r, keepPerJob: policy.retention.keepPerJob })).deleted);
    } catch (err) {
      failed(r.job, 'retention', err);
    }
  }));
  return result;
}

/** The innermost message of an activity failure: the operator's or the store's reason. */
function reasonOf(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof ApplicationFailure || e instanceof Error ? e.message : String(e);
}

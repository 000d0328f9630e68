/**
 * One shard of a protection pass (workflows/protect.ts, docs/protection.md#the-protection-loop):
 * at most 50 jobs of one AZ and one tier (domain/protection.ts protectionShards), so its history
 * is bounded whatever the fleet's size.
 *
 * 1. Assess its jobs right before acting (assessProtectionShard: the catalog version the pass
 *    started with, this shard's jobs), so the decisions are fresh.
 * 2. Take the due savepoints, most overdue first, `slots` at a time (its lane's share of the
 *    AZ's `savepointsAtOncePerAz`, domain/protection.ts protectionLanes); ship each to the AZs
 *    whose stores do not replicate from the job's. The ship step copies the job's newest
 *    savepoint at that moment (shipProtectionSavepoint with the job's owner), not the one the
 *    assessment saw.
 * 3. Expire its jobs' old shipped copies, unless an evacuation, drill or failback restores into
 *    that AZ now (retentionHolds, asked right before expiring).
 * A failing savepoint is retried with back-off (protection.retry) and then reported with the
 * operator's reason; a refused copy is reported per job; neither holds up another job.
 * Returns counts and lists of at most its own jobs: the pass adds them up. While it runs it
 * answers `protectionProgress` for its own tasks (the pass's query counts finished shards only).
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { ProtectionTask } from '../activities/protect.js';
import type { ProtectionPolicy } from '../domain/protection.js';
import type { TierRpoNow } from '../domain/rpo-now.js';
import type { JobKey, Tier } from '../domain/types.js';
import type { ProtectionPassResult } from './protect.js';
import { protectionProgressQuery, type ProtectionProgress } from './protect-progress.js';

type Activities = ReturnType<typeof createActivities>;

const { assessProtectionShard, retentionHolds } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
});

/** Input of a protection shard. */
export interface ProtectionShardInput {
  /** The catalog version the pass started with: the shard's jobs are shard `shard` of protectionShards over it. */
  catalogVersion: number;
  /** Its index in the pass's shards, 0-based, and how many there are. */
  shard: number;
  shards: number;
  /** The AZ and tier of its jobs, and how many (for its summary). */
  az: string;
  tier: Tier;
  jobs: number;
  /** Savepoints it takes at once: its lane's share of the AZ's savepointsAtOncePerAz (integer ≥ 1). */
  slots: number;
  /** The policy the pass read (retries, timeouts, retention). */
  policy: ProtectionPolicy;
}

/** What one shard did: the pass result's fields for its jobs, and its tiers' RPO now before it acted. */
export interface ProtectionShardResult extends Omit<ProtectionPassResult, 'catalogVersion' | 'totals'> {
  /** Per tier (its one tier), counts and the worst RPO an evacuation would pay now, before it acted. */
  tiers: TierRpoNow[];
}

/**
 * Protect the jobs of one shard.
 * @throws the assessment's failure (the catalog version unreadable after retries): the pass fails with it
 */
export async function protectShard(input: ProtectionShardInput): Promise<ProtectionShardResult> {
  const { policy } = input;
  // Its own progress (its tasks: savepoints to take, copies to ship), for whoever queries it while it runs.
  const progress: ProtectionProgress = { phase: 'assessing', tasks: 0, done: 0, savepoints: 0, shipped: 0, shippedBytes: 0, failures: 0 };
  setHandler(protectionProgressQuery, () => progress);
  const a = await assessProtectionShard.executeWithOptions({ summary: `assess ${input.jobs} ${input.tier} job(s) in ${input.az}` }, [{ catalogVersion: input.catalogVersion, shard: input.shard }]);
  const result: ProtectionShardResult = { before: a.counts, tiers: a.tiers, unprotected: a.unprotected, savepoints: [], shipped: [], expired: [], retentionHeld: [], failures: [] };
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
  progress.phase = 'protecting';
  progress.tasks = a.tasks.length;
  const failed = (job: JobKey, step: ProtectionPassResult['failures'][number]['step'], err: unknown): void => {
    result.failures.push({ job, step, reason: reasonOf(err) });
    progress.failures++;
  };

  const ship = async (t: ProtectionTask, toAzs: string[], path: string): Promise<void> => {
    for (const toAz of toAzs) {
      try {
        const s = await shipProtectionSavepoint({ job: t.job, fromAz: t.az, toAz, path, ...(t.owner ? { owner: t.owner } : {}) });
        result.shipped.push({ job: t.job, toAz, path: s.path, bytes: s.copiedBytes, completedAtEpochSeconds: s.completedAtEpochSeconds });
        progress.shipped++;
        progress.shippedBytes += s.copiedBytes;
      } catch (err) {
        failed(t.job, 'ship', err);
      }
    }
  };
  const protectJob = async (t: ProtectionTask): Promise<void> => {
    if (t.action.kind === 'ship') return ship(t, t.action.toAzs, t.action.path);
    let path: string;
    try {
      path = (await takeProtectionSavepoint({ job: t.job, az: t.az, namespace: t.namespace, name: t.name, format: t.format, timeoutSeconds: policy.savepointTimeoutSeconds })).path;
    } catch (err) {
      return failed(t.job, 'savepoint', err);
    }
    result.savepoints.push({ job: t.job, path });
    progress.savepoints++;
    await ship(t, t.shipTo, path);
  };

  // `slots` lanes take the tasks in the assessment's order (most overdue savepoints first, then ships).
  const queue = [...a.tasks];
  await Promise.all(Array.from({ length: Math.min(Math.max(1, input.slots), queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      await protectJob(t);
      progress.done++;
    }
  }));

  progress.phase = 'expiring';
  const finish = (): ProtectionShardResult => {
    progress.phase = 'done';
    return result;
  };
  if (a.retention.length === 0) return finish();
  try {
    result.retentionHeld = await retentionHolds();
  } catch (err) {
    result.retentionHeld = [{ az: '*', by: `running evacuations could not be listed, nothing expired: ${reasonOf(err)}` }];
  }
  const held = (az: string): boolean => result.retentionHeld.some((h) => h.az === az || h.az === '*');
  await Promise.all(a.retention.map(async (r) => {
    const toAzs = r.toAzs.filter((az) => !held(az));
    if (toAzs.length === 0) return;
    try {
      result.expired.push(...(await expireShippedSavepoints({ ...r, toAzs, copies: r.copies.filter((c) => toAzs.includes(c.az)), keepPerJob: policy.retention.keepPerJob })).deleted);
    } catch (err) {
      failed(r.job, 'retention', err);
    }
  }));
  return finish();
}

/** The innermost message of an activity failure: the operator's or the store's reason. */
export function reasonOf(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof ApplicationFailure || e instanceof Error ? e.message : String(e);
}

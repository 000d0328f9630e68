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
 * 3. Expire old shipped copies by retention, except in the target AZ of an evacuation, drill or
 *    failback running now (activities retentionHolds).
 * 4. Record the pass (activities/protection-pass.ts): its figures on /metrics, its failures for
 *    the next plan's `unprotected` reasons.
 * `protectionProgress` (a query) says how far a running pass is; `protectionStatus` assesses
 * without acting (`az-evac protect status`).
 * A failing savepoint is retried with back-off (protection.retry) and then reported with the
 * operator's reason; a refused copy is reported per job; neither holds up another job.
 */
import { ActivityFailure, ApplicationFailure, defineQuery, patched, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { ProtectionAssessment, ProtectionTask, RetentionHold } from '../activities/protect.js';
import type { ProtectionPassRecord } from '../activities/protection-pass.js';
import type { JobKey, Tier } from '../domain/types.js';
import { searchAttributesOf } from './search-attributes.js';

type Activities = ReturnType<typeof createActivities>;

const { assessProtection, recordProtectionPass, lastProtectionPass, retentionHolds } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
});

/** Passes before this patch expired copies without looking for running evacuations. */
const RETENTION_HOLDS = 'protection-retention-holds';

/** How far a running pass is: its tasks (savepoints to take, copies to ship) and what is done. */
export interface ProtectionProgress {
  phase: 'assessing' | 'protecting' | 'expiring' | 'done';
  tasks: number;
  done: number;
  savepoints: number;
  shipped: number;
  shippedBytes: number;
  failures: number;
}

/** Query of a running protectFleet: its ProtectionProgress. */
export const protectionProgressQuery = defineQuery<ProtectionProgress>('protectionProgress');

/** What `protectionStatus` answers: the assessment without acting, and the last pass's record. */
export interface ProtectionStatus {
  catalogVersion: number;
  nowEpochSeconds: number;
  policy: ProtectionAssessment['policy'];
  counts: ProtectionAssessment['counts'];
  tiers: ProtectionAssessment['tiers'];
  unprotected: ProtectionAssessment['unprotected'];
  /** What a pass would do now: savepoints to take, jobs whose fresh savepoint only needs shipping. */
  due: { savepoints: number; ships: number };
  lastPass: ProtectionPassRecord | null;
}

/** Assess every job against the protection policy without acting (`az-evac protect status`). */
export async function protectionStatus(): Promise<ProtectionStatus> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'protection' }));
  const [a, lastPass] = await Promise.all([assessProtection(), lastProtectionPass()]);
  return {
    catalogVersion: a.catalogVersion, nowEpochSeconds: a.nowEpochSeconds, policy: a.policy, counts: a.counts, tiers: a.tiers, unprotected: a.unprotected,
    due: { savepoints: a.tasks.filter((t) => t.action.kind === 'savepoint').length, ships: a.tasks.filter((t) => t.action.kind === 'ship').length },
    lastPass,
  };
}

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
  /** AZs where retention deleted nothing this pass (`*`: all), and why: an evacuation, drill or failback restoring there, or visibility not answering. */
  retentionHeld: RetentionHold[];
  /** Per job, what failed after its retries, with the operator's or the store's reason. */
  failures: Array<{ job: JobKey; step: 'savepoint' | 'ship' | 'retention'; reason: string }>;
}

/** One protection pass over the fleet. */
export async function protectFleet(): Promise<ProtectionPassResult> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'protection' }));
  const startedAtMs = Date.now();
  const progress: ProtectionProgress = { phase: 'assessing', tasks: 0, done: 0, savepoints: 0, shipped: 0, shippedBytes: 0, failures: 0 };
  setHandler(protectionProgressQuery, () => progress);
  const a = await assessProtection();
  const policy = a.policy;
  const result: ProtectionPassResult = { catalogVersion: a.catalogVersion, before: a.counts, unprotected: a.unprotected, savepoints: [], shipped: [], expired: [], retentionHeld: [], failures: [] };
  const finish = async (): Promise<ProtectionPassResult> => {
    progress.phase = 'done';
    const endedAtMs = Date.now();
    await recordProtectionPass({ result, durationSeconds: (endedAtMs - startedAtMs) / 1000, endedAtMs });
    return result;
  };
  if (policy.tiers.length === 0) return finish();
  progress.phase = 'protecting';
  progress.tasks = a.tasks.length;
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
    progress.failures++;
  };

  const ship = async (t: ProtectionTask, path: string): Promise<void> => {
    for (const toAz of t.shipTo) {
      try {
        const s = await shipProtectionSavepoint({ job: t.job, fromAz: t.az, toAz, path });
        result.shipped.push({ job: t.job, toAz, path: s.path, bytes: s.copiedBytes, completedAtEpochSeconds: s.completedAtEpochSeconds });
        progress.shipped++;
        progress.shippedBytes += s.copiedBytes;
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
    progress.savepoints++;
    await ship(t, path);
  };

  // Per AZ, `savepointsAtOncePerAz` lanes take that AZ's tasks in the assessment's order.
  const byAz = new Map<string, ProtectionTask[]>();
  for (const t of a.tasks) byAz.set(t.az, [...(byAz.get(t.az) ?? []), t]);
  await Promise.all([...byAz.values()].flatMap((queue) =>
    Array.from({ length: Math.min(policy.savepointsAtOncePerAz, queue.length) }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
        await protectJob(t);
        progress.done++;
      }
    }),
  ));

  progress.phase = 'expiring';
  if (patched(RETENTION_HOLDS)) {
    try {
      result.retentionHeld = await retentionHolds();
    } catch (err) {
      result.retentionHeld = [{ az: '*', by: `running evacuations could not be listed, nothing expired: ${reasonOf(err)}` }];
    }
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
function reasonOf(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof ApplicationFailure || e instanceof Error ? e.message : String(e);
}

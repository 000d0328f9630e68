/**
 * Protection workflow (docs/protection.md), run by a Temporal Schedule (client
 * ensureProtectionSchedule) or on demand: one pass over the fleet that keeps every job of a
 * protected tier restorable in every other AZ within its RPO.
 *
 * 1. Read the newest catalog's shards (protectionScope: per AZ and tier, at most 50 jobs each).
 * 2. Per AZ, run its shards (workflows/protect-shard.ts: assess its jobs, take the due
 *    savepoints, ship them where the stores do not replicate, expire old copies) in
 *    protectionLanes(savepointsAtOncePerAz) lanes: at most `savepointsAtOncePerAz` savepoints
 *    in flight per AZ across the whole fleet. The shards of protected tiers go first (P1 before
 *    P2), then the others, only assessed (their RPO now for the gauges).
 * 3. Record the pass (activities/protection-pass.ts): its figures and the RPO now per tier on
 *    /metrics, its failures for the next plan's `unprotected` reasons.
 * The pass keeps only counts, the first MAX_LISTED entries of each list and the first
 * MAX_LISTED_FAILURES failures; its history grows with its shards (one child each) and it
 * continues as new at its history budget (domain/history-budget.ts) once its shards in flight
 * have finished, so neither it nor a shard grows with the fleet.
 * `protectionProgress` (a query) says how far a running pass is (updated as shards finish);
 * `protectionStatus` assesses without acting (`az-evac protect status`).
 *
 * Replay: passes started before PROTECTION_SHARDS ran every job in this workflow; their
 * histories replay through protectFleetInOneWorkflow. A pass is a short schedule run, but one in
 * flight when workers upgrade must still finish (a stuck pass would hold the schedule, whose
 * overlapping runs are skipped), so the patch, not a new workflow type (which would also need
 * the schedule's action changed). Once no pass older than the patch can be open, that branch
 * can go (deprecatePatch first).
 */
import { ParentClosePolicy, continueAsNew, executeChild, patched, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { ProtectionAssessment, ProtectionScope, ProtectionTask, RetentionHold } from '../activities/protect.js';
import { continueAsNewAfterEvents, historyFull } from '../domain/history-budget.js';
import { protectionLanes } from '../domain/protection.js';
import { mergeTierRpoNow, type TierRpoNow } from '../domain/rpo-now.js';
import { protectShard, reasonOf, type ProtectionShardResult } from './protect-shard.js';
import { protectionProgressQuery, type ProtectionProgress } from './protect-progress.js';
import type { ProtectionPassRecord } from '../activities/protection-pass.js';
import type { JobKey, Tier } from '../domain/types.js';
import { searchAttributesOf } from './search-attributes.js';

type Activities = ReturnType<typeof createActivities>;

const { assessProtection, protectionScope, recordProtectionPass, lastProtectionPass, retentionHolds } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
});

/** Passes before this patch expired copies without looking for running evacuations. */
const RETENTION_HOLDS = 'protection-retention-holds';
/** Passes before this patch ran every job in one workflow (protectFleetInOneWorkflow). */
export const PROTECTION_SHARDS = 'protection-shards';

/** Entries kept in each list of a pass result (savepoints, shipped, expired, unprotected); `totals` has the counts. */
export const MAX_LISTED = 200;
/** Failures a pass result lists (the next plan's reasons come from them); `totals.failures` has them all. */
export const MAX_LISTED_FAILURES = 500;

export { protectionProgressQuery, type ProtectionProgress } from './protect-progress.js';

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
  /** Unprotected jobs before this pass acted (each shard's, right before it acted), with why (at most MAX_LISTED listed). */
  unprotected: Array<{ job: JobKey; tier: Tier; reason: string }>;
  /** Savepoints taken (job, path); at most MAX_LISTED listed. */
  savepoints: Array<{ job: JobKey; path: string }>;
  /** Copies shipped (job, AZ, copy path, bytes copied, the savepoint's completion time in epoch seconds: its age is the RPO an evacuation restoring it pays); at most MAX_LISTED listed. */
  shipped: Array<{ job: JobKey; toAz: string; path: string; bytes: number; completedAtEpochSeconds: number }>;
  /** Shipped copies expired by retention; at most MAX_LISTED listed. */
  expired: string[];
  /** AZs where retention deleted nothing (`*`: all) in some shard of this pass, and why: an evacuation, drill or failback restoring there, or visibility not answering. */
  retentionHeld: RetentionHold[];
  /** Per job, what failed after its retries, with the operator's or the store's reason; at most MAX_LISTED_FAILURES listed. */
  failures: Array<{ job: JobKey; step: 'savepoint' | 'ship' | 'retention'; reason: string }>;
  /** The counts of everything above, also what the lists leave out (absent in results of passes before shards). */
  totals?: PassTotals;
}

/** What a pass did, counted. */
export interface PassTotals {
  savepoints: number;
  shipped: number;
  /** Bytes copied by the copies shipped. */
  shippedBytes: number;
  expired: number;
  failures: number;
  failuresByStep: Record<ProtectionPassResult['failures'][number]['step'], number>;
  /** Shards finished, and their jobs. */
  shards: number;
  jobs: number;
}

/** What a pass hands over when it continues as new. */
export interface ProtectionCarried {
  scope: ProtectionScope;
  /** Per AZ, how many of its shards (in scope order) were started, all of them finished. */
  next: Record<string, number>;
  /** The result so far (lists bounded, totals complete). */
  sofar: ProtectionPassResult & { totals: PassTotals };
  /** RPO now per tier of the shards finished. */
  tiers: TierRpoNow[];
  startedAtMs: number;
  runs: number;
}

/** Input of protectFleet: nothing when started by the schedule or a client. */
export interface ProtectFleetInput {
  /** History events after which the pass continues as new (domain/history-budget.ts; absent: the default). */
  continueAsNewAfterEvents?: number;
  /** Set by the pass itself when it continues as new. */
  carried?: ProtectionCarried;
}

/**
 * One protection pass over the fleet, in shards (see the file's doc).
 * @throws NoCatalog (from protectionScope) when no catalog was synced yet; a shard's failure
 */
export async function protectFleet(input: ProtectFleetInput = {}): Promise<ProtectionPassResult> {
  // patched: passes started before shards replay in one workflow.
  if (!patched(PROTECTION_SHARDS)) return protectFleetInOneWorkflow();
  upsertSearchAttributes(searchAttributesOf({ kind: 'protection' }));
  const c = input.carried;
  const progress: ProtectionProgress = { phase: 'assessing', tasks: 0, done: 0, savepoints: 0, shipped: 0, shippedBytes: 0, failures: 0 };
  setHandler(protectionProgressQuery, () => progress);
  const startedAtMs = c?.startedAtMs ?? Date.now();
  const scope = c?.scope ?? await protectionScope();
  const result: ProtectionPassResult & { totals: PassTotals } = c?.sofar ?? {
    catalogVersion: scope.catalogVersion, before: { jobs: 0, protected: 0, unprotected: 0, notRequired: 0 }, unprotected: [], savepoints: [], shipped: [], expired: [], retentionHeld: [], failures: [],
    totals: { savepoints: 0, shipped: 0, shippedBytes: 0, expired: 0, failures: 0, failuresByStep: { savepoint: 0, ship: 0, retention: 0 }, shards: 0, jobs: 0 },
  };
  let tiers = c?.tiers ?? [];
  const next: Record<string, number> = { ...c?.next };
  const show = (): void => {
    Object.assign(progress, {
      phase: 'protecting', tasks: scope.jobs, done: result.totals.jobs, savepoints: result.totals.savepoints,
      shipped: result.totals.shipped, shippedBytes: result.totals.shippedBytes, failures: result.totals.failures,
    });
  };
  show();
  const budget = continueAsNewAfterEvents(input.continueAsNewAfterEvents);
  const full = (): boolean => historyFull(workflowInfo().historyLength, workflowInfo().continueAsNewSuggested, budget);
  // Per AZ, the shards of protected tiers first (P1 before P2: they take savepoints), then the
  // others (only assessed, for the RPO now per tier); stable, so a continued run finds the same order.
  const byAz = new Map<string, number[]>();
  const rank = (k: number): number => (scope.policy.tiers.includes(scope.shards[k]!.tier) ? 0 : 1);
  scope.shards.forEach((x, k) => byAz.set(x.az, [...(byAz.get(x.az) ?? []), k]));
  for (const [az, list] of byAz) byAz.set(az, [...list].sort((a, b) => rank(a) - rank(b) || a - b));
  const passId = workflowInfo().workflowId;

  await Promise.all([...byAz].flatMap(([az, shards]) => protectionLanes(scope.policy.savepointsAtOncePerAz, shards.length).map(async (slots) => {
    for (;;) {
      const at = next[az] ?? 0;
      if (at >= shards.length || full()) return;
      next[az] = at + 1;
      const k = shards[at]!;
      const x = scope.shards[k]!;
      const done = await executeChild(protectShard, {
        workflowId: `${passId}/shard/${k}`,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: searchAttributesOf({ kind: 'protection' }),
        staticSummary: `protection shard ${k + 1}/${scope.shards.length}: ${x.jobs} ${x.tier} job(s) in ${x.az}, ${slots} savepoint(s) at once`,
        args: [{ catalogVersion: scope.catalogVersion, shard: k, shards: scope.shards.length, az: x.az, tier: x.tier, jobs: x.jobs, slots, policy: scope.policy }],
      });
      addShard(result, done);
      tiers = mergeTierRpoNow([tiers, done.tiers]);
      show();
    }
  })));

  if ([...byAz].some(([az, shards]) => (next[az] ?? 0) < shards.length)) {
    return continueAsNew<typeof protectFleet>({ ...input, carried: { scope, next, sofar: result, tiers, startedAtMs, runs: (c?.runs ?? 0) + 1 } });
  }
  progress.phase = 'done';
  const endedAtMs = Date.now();
  await recordProtectionPass({ result, tiers, durationSeconds: (endedAtMs - startedAtMs) / 1000, endedAtMs });
  return result;
}

/** Add what a shard did to the pass's result: counts added, lists kept to their bound, holds once each. */
function addShard(r: ProtectionPassResult & { totals: PassTotals }, s: ProtectionShardResult): void {
  const t = r.totals;
  for (const k of ['jobs', 'protected', 'unprotected', 'notRequired'] as const) r.before[k] += s.before[k];
  const keep = <T>(list: T[], more: readonly T[], max: number): void => {
    list.push(...more.slice(0, Math.max(0, max - list.length)));
  };
  keep(r.unprotected, s.unprotected, MAX_LISTED);
  keep(r.savepoints, s.savepoints, MAX_LISTED);
  keep(r.shipped, s.shipped, MAX_LISTED);
  keep(r.expired, s.expired, MAX_LISTED);
  keep(r.failures, s.failures, MAX_LISTED_FAILURES);
  for (const h of s.retentionHeld) if (!r.retentionHeld.some((x) => x.az === h.az && x.by === h.by)) r.retentionHeld.push(h);
  t.savepoints += s.savepoints.length;
  t.shipped += s.shipped.length;
  t.shippedBytes += s.shipped.reduce((n, x) => n + x.bytes, 0);
  t.expired += s.expired.length;
  t.failures += s.failures.length;
  for (const f of s.failures) t.failuresByStep[f.step]++;
  t.shards++;
  t.jobs += s.before.jobs;
}

// ---------------------------------------------------------------------------------------
// Replay only: passes recorded before PROTECTION_SHARDS (every job in one workflow).

/** protectFleet as it ran before PROTECTION_SHARDS (replay of histories recorded then). */
async function protectFleetInOneWorkflow(): Promise<ProtectionPassResult> {
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

/**
 * failbackDrill: fail back an evacuation (activities/failback.ts), per admitted job, in a
 * sliding window: stop its copy in the target AZ with a savepoint, restore the source copy
 * from exactly that savepoint and await it RUNNING, put the target AZ back as it was (a
 * redeployed copy deleted, a cold standby left suspended, a hot standby restarted and
 * labelled standby); then resume the P3 jobs the evacuation preempted. Jobs whose failback
 * fails after retries are listed with the reason; the others go on.
 *
 * A drill's failback undoes the drill, all its jobs in one window. A real evacuation's
 * (emergency or planned) is refused while the source AZ is unhealthy, re-protects first
 * (failbackReadiness: jobs whose current run has no snapshot replicated back into the source
 * AZ within their tier's RPO are not moved) and moves the jobs back tier by tier; a job whose
 * move back cannot finish runs on in the target AZ (activities/failback.ts takeBack).
 *
 * Pending fences of the evacuation are done first (activities/fencing.ts settleFences): a
 * fenced source copy is only ever restored from the fresh savepoint, never resumed.
 * Started by the drill workflow's failback step (as a child) and by `az-evac failback`.
 * Bounded history (docs/temporal.md#bounded-histories): the jobs are moved by shard children
 * (workflows/failback-shard.ts, domain/evacuation.ts shardLayout over the window), each a
 * sliding window of failbackJob activities that continues as new at its budget and returns a
 * tally; this workflow's events grow with the shards (at most 100 per part), not the jobs. The
 * job keys travel as one payload (≤ ~250 KB), each shard's share as its input.
 */
import { ActivityFailure, ApplicationFailure, ParentClosePolicy, executeChild, patched, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { searchAttributesOf } from './search-attributes.js';
import { takeAzHolds, withAzHolds, type HeldAzs } from './az-hold.js';
import { failbackShardWorkflowId, shardLayout, type EvacuationMode } from '../domain/evacuation.js';
import { addResult, emptyTally, mergeTallies, type FailbackTally } from '../domain/failback-tally.js';
import { BOUNDED_HISTORIES } from './tier.js';
import { failbackShard } from './failback-shard.js';
import type { Tier } from '../domain/types.js';

type Activities = ReturnType<typeof createActivities>;

const retry = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 };
const acts = proxyActivities<Activities>({ startToCloseTimeout: '10m', heartbeatTimeout: '60s', retry });
/** Failback of a job waits for savepoints to replicate and the job to start: long, heartbeating. */
const slow = proxyActivities<Activities>({ startToCloseTimeout: '30m', heartbeatTimeout: '2m', retry });

/** Wall seconds the source AZ may take to answer so that pending fences can be done. */
const SETTLE_FENCES_SECONDS = 600;

/** Input of a failback. */
export interface FailbackInput {
  /** The evacuation (a drill's, or a real one once its source AZ is healthy) to fail back. */
  drillId: string;
  /** Jobs failed back at once (default 50). */
  window?: number;
  /** Wall seconds a source copy may take to run again (default: the tier policy's start-up timeout ÷ time scale + 60). */
  startupTimeoutSeconds?: number;
  /** Set by the drill workflow: its evacuation may be `mode: emergency` (after an AZ-down fault) and is still a rehearsal. */
  drillOwned?: boolean;
  /** Who asked for the failback (CLI user, console identity, `drill <id> (<who>)`): written on every source copy it restores. */
  requestedBy?: string;
  /** History events after which each failback shard continues as new (domain/history-budget.ts; absent: the default). */
  continueAsNewAfterEvents?: number;
  /**
   * Task queue of the deployment that started it, which scopes the AZ holds a real
   * evacuation's failback takes (domain/az-hold.ts); absent: the workflow's own task queue.
   */
  taskQueue?: string;
}

/** One tier of a real evacuation's failback: its jobs, how many are back in the source AZ, and the slowest. */
export interface FailbackTier {
  tier: Tier;
  jobs: number;
  /** RUNNING in the source AZ again (restored or never stopped). */
  back: number;
  failed: number;
  /** Seconds from the failback's start to the last of its jobs RUNNING in the source AZ (absent: none restored). */
  worstSeconds?: number;
}

/**
 * Result of a failback: counts per action and failures with reasons (FailbackTally's: restored
 * from the drilled copy's fresh savepoint or from their own newest snapshot, untouched, copies
 * removed in the target AZ, standbys restored), preempted jobs resumed.
 */
export interface FailbackResult extends Pick<FailbackTally, 'restoredFromTarget' | 'restoredOwn' | 'untouched' | 'removed' | 'standbys' | 'failed'> {
  drillId: string;
  sourceAz: string;
  targetAz: string;
  /** Mode of the evacuation failed back (absent in results recorded before it was reported). */
  mode?: EvacuationMode;
  jobs: number;
  preemptedResumed: number;
  /** A real evacuation's failback: per tier in the order moved back (absent for a drill's). */
  tiers?: FailbackTier[];
}

/**
 * Fail back evacuation `input.drillId`. Never throws for a job-level failure (listed in `failed`).
 * A drill's failback undoes it (every job at once in a sliding window). A real evacuation's
 * (emergency or planned, outside a drill) checks the source AZ first and is refused while it is
 * unhealthy (`SourceUnhealthy`: API or object store not answering, too little capacity), then
 * re-protects (jobs whose current run has no snapshot replicated back into the source AZ stay
 * where they are, listed in `failed`), and moves the jobs back tier by tier in admission order.
 */
export async function failbackDrill(input: FailbackInput): Promise<FailbackResult> {
  // A real evacuation's failback holds both AZs while it runs (one at a time per AZ,
  // domain/az-hold.ts) and lets go on every way out, a refusal included.
  return withAzHolds((held) => failBack(input, held));
}

/** The failback itself; `held.holds` gets the AZ holds a real evacuation's failback takes. */
async function failBack(input: FailbackInput, held: HeldAzs): Promise<FailbackResult> {
  const startedAtMs = Date.now();
  const scope = await acts.failbackScope.executeWithOptions({ summary: `read what ${input.drillId} moved, and where from` }, [{ evacuationId: input.drillId, drillOwned: input.drillOwned }]);
  upsertSearchAttributes(searchAttributesOf({ kind: 'failback', run: input.drillId, sourceAz: scope.targetAz, targetAz: scope.sourceAz }));
  // The evacuation run whose records are read (scope.runId: absent for runs recorded before runs had one).
  const run = { evacuationId: input.drillId, ...(scope.runId ? { runId: scope.runId } : {}) };
  // Results recorded before failback handled real evacuations have no `drill`: they were drills.
  const real = scope.drill === false;
  const failed: FailbackResult['failed'] = [];
  const notReady = new Set<string>();
  // patched: failbacks recorded before they held AZs replay without.
  if (real && !input.drillOwned && patched('failback-az-holds')) {
    held.holds = await takeAzHolds({
      workflowId: workflowInfo().workflowId, kind: 'failback', mode: 'planned', sourceAz: scope.targetAz, targetAz: scope.sourceAz,
      sinceMs: Date.now(), ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    }, false, input.taskQueue);
    if (held.holds.refusal) throw ApplicationFailure.create({ type: 'AzBusy', message: held.holds.refusal, nonRetryable: true });
  }
  if (real) {
    // Refused (the workflow fails with the reason) while the source AZ is unhealthy; re-protect check.
    for (const r of (await slow.failbackReadiness.executeWithOptions({ summary: `is ${scope.sourceAz} healthy again, and is each job re-protected there?` }, [run])).notReady) {
      failed.push(r);
      notReady.add(r.key);
    }
  }
  // An emergency-mode drill left fences pending while the source AZ was down: finish them,
  // and let the fencing follow-up close, before any source copy is restored (guarantee 2).
  if (patched('failback-settles-fences')) await slow.settleFences.executeWithOptions({ summary: `finish the pending fences of ${input.drillId} in ${scope.sourceAz} before anything is restored` }, [{ ...run, timeoutSeconds: SETTLE_FENCES_SECONDS }]);
  const window = Math.max(1, input.window ?? 50);
  // patched: failbacks recorded before histories were bounded replay with one activity per job here.
  const inShards = patched(BOUNDED_HISTORIES);
  /** Move `keys` back (`part`: the tier, or `all`), in shards or, replaying an old failback, lane by lane here. */
  const moveBack = async (keys: string[], part: string): Promise<FailbackTally> => {
    if (keys.length === 0) return emptyTally();
    if (!inShards) return moveBackHere(keys);
    const layout = shardLayout(keys.length, window);
    return mergeTallies(await Promise.all(Array.from({ length: layout.shards }, (_, k) => executeChild(failbackShard, {
      workflowId: failbackShardWorkflowId(input.drillId, part, k),
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: searchAttributesOf({ kind: 'failback-shard', run: input.drillId, sourceAz: scope.targetAz, targetAz: scope.sourceAz }),
      staticSummary: `fail back ${input.drillId} (${part}), shard ${k + 1}/${layout.shards}: ${layout.jobsOf(k)} job(s), ${layout.slotsOf(k)} at once`,
      args: [{
        run, keys: keys.filter((_, i) => i % layout.shards === k), slots: layout.slotsOf(k), real,
        ...(input.startupTimeoutSeconds !== undefined ? { startupTimeoutSeconds: input.startupTimeoutSeconds } : {}),
        ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
        ...(input.continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: input.continueAsNewAfterEvents } : {}),
      }],
    }))));
  };
  /** The failback as recorded before BOUNDED_HISTORIES: one activity per job in this workflow (replay only). */
  const moveBackHere = async (keys: string[]): Promise<FailbackTally> => {
    const tally = emptyTally();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          addResult(tally, await slow.failbackJob({
            ...run, key, startupTimeoutSeconds: input.startupTimeoutSeconds, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}), ...(real ? { drill: false } : {}),
          }));
        } catch (err) {
          if (!(err instanceof ActivityFailure)) throw err;
          tally.failed.push({ key, reason: err.cause?.message ?? err.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, keys.length) }, lane));
    return tally;
  };
  let tiers: FailbackTier[] | undefined;
  const moved: FailbackTally[] = [];
  if (real) {
    // Tier by tier, in admission order: a tier starts once the one before it is back.
    tiers = [];
    let at = 0;
    for (const t of scope.tiers ?? []) {
      const keys = scope.jobs.slice(at, at + t.jobs);
      at += t.jobs;
      const tally = await moveBack(keys.filter((k) => !notReady.has(k)), t.tier);
      moved.push(tally);
      const notReadyHere = keys.filter((k) => notReady.has(k)).length;
      tiers.push({
        tier: t.tier, jobs: t.jobs, back: tally.moved, failed: notReadyHere + tally.failed.length,
        ...(tally.lastRunningAtMs !== undefined ? { worstSeconds: Math.round((tally.lastRunningAtMs - startedAtMs) / 100) / 10 } : {}),
      });
    }
  } else {
    moved.push(await moveBack(scope.jobs, 'all'));
  }
  const total = mergeTallies(moved);
  failed.push(...total.failed);
  const { resumed: preemptedResumed } = await acts.resumePreempted.executeWithOptions({ summary: `resume the P3 jobs ${input.drillId} preempted in ${scope.targetAz}` }, [input.drillId, scope.runId]);
  return {
    drillId: input.drillId, sourceAz: scope.sourceAz, targetAz: scope.targetAz, ...(scope.mode ? { mode: scope.mode } : {}), jobs: scope.jobs.length,
    restoredFromTarget: total.restoredFromTarget, restoredOwn: total.restoredOwn, untouched: total.untouched,
    removed: total.removed, standbys: total.standbys,
    failed, preemptedResumed, ...(tiers ? { tiers } : {}),
  };
}

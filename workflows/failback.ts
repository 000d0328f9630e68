/**
 * failbackDrill: undo a drill (activities/failback.ts): per admitted job of the drill, in a
 * sliding window, fence the drill's copy in the target AZ with a stop-with-savepoint, restore
 * the source copy from that fresh savepoint and await it RUNNING, put the target AZ back as
 * it was; then resume the P3 jobs the drill preempted. Jobs whose failback fails after
 * retries are listed with the reason; the others go on.
 *
 * Pending fences of the drill's evacuation are done first (activities/fencing.ts settleFences).
 * Started by the drill workflow's failback step (as a child) and by `az-evac failback`.
 * One activity per job: a drill of 5,000 jobs costs ~15,000 history events, inside
 * Temporal's 51,200 (docs/design.md#temporal-limits). The drill's job keys travel as one payload (≤ ~250 KB).
 */
import { ActivityFailure, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { searchAttributesOf } from './search-attributes.js';
import type { FailbackJobResult } from '../activities/failback.js';

type Activities = ReturnType<typeof createActivities>;

const retry = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 };
const acts = proxyActivities<Activities>({ startToCloseTimeout: '10m', heartbeatTimeout: '60s', retry });
/** Failback of a job waits for savepoints to replicate and the job to start: long, heartbeating. */
const slow = proxyActivities<Activities>({ startToCloseTimeout: '30m', heartbeatTimeout: '2m', retry });

/** Wall seconds the source AZ may take to answer so that pending fences can be done. */
const SETTLE_FENCES_SECONDS = 600;

/** Input of a failback. */
export interface FailbackInput {
  /** The drill (evacuation id) to undo. */
  drillId: string;
  /** Jobs failed back at once (default 50). */
  window?: number;
  /** Wall seconds a source copy may take to run again (default: the tier policy's start-up timeout ÷ time scale + 60). */
  startupTimeoutSeconds?: number;
  /** Set by the drill workflow: its evacuation may be `mode: emergency` (after an AZ-down fault) and is still a rehearsal. */
  drillOwned?: boolean;
  /** Who asked for the failback (CLI user, console identity, `drill <id> (<who>)`): written on every source copy it restores. */
  requestedBy?: string;
}

/** Result of a failback: counts per action, failures with reasons, preempted jobs resumed. */
export interface FailbackResult {
  drillId: string;
  sourceAz: string;
  targetAz: string;
  jobs: number;
  /** Restored in the source AZ from the fresh savepoint of the drilled copy. */
  restoredFromTarget: number;
  /** Restored from their own newest snapshot (they never ran in the target AZ). */
  restoredOwn: number;
  /** Never stopped (or suspended before the drill): left alone. */
  untouched: number;
  /** The drill's redeployed copies deleted in the target AZ. */
  removed: number;
  /** Hot standbys restarted and labelled standby again. */
  standbys: number;
  failed: Array<{ key: string; reason: string }>;
  preemptedResumed: number;
}

/** Undo drill `input.drillId`. Never throws for a job-level failure (listed in `failed`). */
export async function failbackDrill(input: FailbackInput): Promise<FailbackResult> {
  const scope = await acts.failbackScope({ evacuationId: input.drillId, drillOwned: input.drillOwned });
  upsertSearchAttributes(searchAttributesOf({ kind: 'failback', run: input.drillId, sourceAz: scope.targetAz, targetAz: scope.sourceAz }));
  // An emergency-mode drill left fences pending while the source AZ was down: finish them,
  // and let the fencing follow-up close, before any source copy is restored (guarantee 2).
  // The evacuation run whose records are read (scope.runId: absent for runs recorded before runs had one).
  const run = { evacuationId: input.drillId, ...(scope.runId ? { runId: scope.runId } : {}) };
  if (patched('failback-settles-fences')) await slow.settleFences({ ...run, timeoutSeconds: SETTLE_FENCES_SECONDS });
  const results: FailbackJobResult[] = [];
  const failed: FailbackResult['failed'] = [];
  const window = Math.max(1, input.window ?? 50);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < scope.jobs.length) {
      const key = scope.jobs[next++]!;
      try {
        results.push(await slow.failbackJob({ ...run, key, startupTimeoutSeconds: input.startupTimeoutSeconds, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) }));
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        failed.push({ key, reason: err.cause?.message ?? err.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, scope.jobs.length) }, lane));
  const { resumed: preemptedResumed } = await acts.resumePreempted(input.drillId, scope.runId);
  const count = (f: (r: FailbackJobResult) => boolean): number => results.filter(f).length;
  return {
    drillId: input.drillId, sourceAz: scope.sourceAz, targetAz: scope.targetAz, jobs: scope.jobs.length,
    restoredFromTarget: count((r) => r.action === 'restored-from-target'),
    restoredOwn: count((r) => r.action === 'restored-own'),
    untouched: count((r) => r.action === 'untouched'),
    removed: count((r) => r.target === 'deleted'),
    standbys: count((r) => r.target === 'standby-restarted'),
    failed, preemptedResumed,
  };
}

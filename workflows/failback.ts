/**
 * failbackDrill: undo a drill (activities/failback.ts): per admitted job of the drill, in a
 * sliding window, remove or re-suspend the drill's copy in the target AZ, then resume the
 * source copy and await it RUNNING; then resume the P3 jobs the drill preempted. Jobs whose
 * failback fails after retries are listed with the reason; the others go on.
 *
 * One activity per job: a drill of 5,000 jobs costs ~15,000 history events, inside
 * Temporal's 51,200 (DESIGN.md §4). The drill's job keys travel as one payload (≤ ~250 KB).
 */
import { ActivityFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { FailbackJobResult } from '../activities/failback.js';

type Activities = ReturnType<typeof createActivities>;

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Input of a failback. */
export interface FailbackInput {
  /** The drill (evacuation id) to undo. */
  drillId: string;
  /** Jobs failed back at once. */
  window?: number;
  /** Wall seconds a source copy may take to run again. */
  startupTimeoutSeconds?: number;
}

/** Result of a failback: per-job results, failures with reasons, preempted jobs resumed. */
export interface FailbackResult {
  drillId: string;
  jobs: number;
  removed: number;
  resumed: number;
  standbys: number;
  failed: Array<{ key: string; reason: string }>;
  preemptedResumed: number;
}

/** Undo drill `input.drillId`. Never throws for a job-level failure (listed in `failed`). */
export async function failbackDrill(input: FailbackInput): Promise<FailbackResult> {
  const scope = await acts.failbackScope(input.drillId);
  upsertSearchAttributes({ AzEvacSourceAz: [scope.targetAz], AzEvacTargetAz: [scope.sourceAz], AzEvacKind: ['failback'] });
  const results: FailbackJobResult[] = [];
  const failed: FailbackResult['failed'] = [];
  const window = Math.max(1, input.window ?? 50);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < scope.jobs.length) {
      const key = scope.jobs[next++]!;
      try {
        results.push(await acts.failbackJob(input.drillId, key, input.startupTimeoutSeconds ?? 600));
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        failed.push({ key, reason: err.cause?.message ?? err.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, scope.jobs.length) }, lane));
  const { resumed: preemptedResumed } = await acts.resumePreempted(input.drillId);
  return {
    drillId: input.drillId, jobs: scope.jobs.length,
    removed: results.filter((r) => r.removed).length,
    resumed: results.filter((r) => r.resumed).length,
    standbys: results.filter((r) => r.standby === 'suspended' || r.standby === 'relabelled').length,
    failed, preemptedResumed,
  };
}

/**
 * Per-job workflow of shards started before patch SHARD_RUNS_JOB_ACTIVITIES (workflows/tier-shard.ts):
 * kept registered only so that job workflows of runs in flight when workers upgrade replay and
 * finish; newer shards run the same steps as batched activities (activities/job-batch.ts).
 * It runs one job's tier strategy step by step and returns its outcome. In a
 * planned move or a drill (modes planned, drill) the source is stopped with a savepoint first and the
 * job restored from exactly that savepoint (a hot standby is promoted once its primary has
 * stopped; the savepoint is then its fallback restore point).
 * A step that fails after its retries ends the job as `failed` with the step and reason, so the
 * tier goes on and no job is dropped; the workflow then closes as Failed (type JobFailed) with
 * that outcome as the failure's detail (workflows/outcome-failure.ts), which the shard reads.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, log, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { applyPromotion, stopsWithSavepoint, type JobInput, type JobOutcome, type StepTiming } from '../domain/evacuation.js';
import { jobFailureMessage } from '../domain/outcome-message.js';
import { DEFAULT_HEARTBEAT_TIMEOUTS, type HeartbeatTimeouts } from '../domain/types.js';
import { FAILURES_CLOSE_AS_FAILURES, outcomeFailure } from './outcome-failure.js';

type Activities = ReturnType<typeof createActivities>;

// 12 attempts span ~75 s of back-off (plus each call's own retries): an API outage of a minute costs no job.
const retry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 12 };

/**
 * Promotion runs as a local activity: two quick API calls, and skipping the activity task
 * queue saves server work per job (the server bounds throughput on a small cluster). The
 * start step stays a regular activity: it may wait minutes for a jar copy, and a local
 * activity would hold a workflow task slot of the worker all that time.
 */
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '60s', retry });

/**
 * Activities for the start step and a planned move's stop step: they heartbeat all along
 * (activities/job-steps.ts, planned-stop.ts), so their heartbeat timeout (tiers.yaml
 * heartbeatTimeoutSeconds.startStep, default 60 s) is how long a dead worker's step waits
 * before another worker retries it; their own waits are bounded by the policy (the jar copy,
 * tiers.yaml savepointTimeout), so the start-to-close timeout is only a backstop: 15 min, and
 * 60 min in a planned move or drill (a savepoint of large state may take minutes to write and again to
 * replicate).
 */
const starting = (hb: HeartbeatTimeouts, planned = false) =>
  proxyActivities<Activities>({ startToCloseTimeout: planned ? '60m' : '15m', heartbeatTimeout: `${hb.startStep}s`, retry });

/**
 * Heartbeat timeout of the start-up wait, seconds: a fifth of the start-up budget within
 * [startupWaitMin (tiers.yaml, default 30), 180] s. Heartbeats are server writes, so
 * thousands of waits must not send them often; a dead worker's waits are retried elsewhere
 * after this long.
 */
const heartbeatSecondsFor = (startupTimeoutSeconds: number, hb: HeartbeatTimeouts): number =>
  Math.min(180, Math.max(hb.startupWaitMin, Math.round(startupTimeoutSeconds / 5)));

/** Activities for the start-up wait: the timeouts follow the tier's start-up budget. */
const waiting = (timeoutSeconds: number, hb: HeartbeatTimeouts) => proxyActivities<Activities>({
  startToCloseTimeout: `${Math.ceil(timeoutSeconds) + 30}s`,
  heartbeatTimeout: `${heartbeatSecondsFor(timeoutSeconds, hb)}s`,
  // Terminal failures (FAILED, start-up timeout) are not retried; an API outage during the
  // wait is, as long as any other step's.
  retry,
});

/**
 * Failure message of an activity: the ApplicationFailure's type and message. A regular
 * activity's failure arrives wrapped (ActivityFailure → cause); a local activity's
 * non-retryable ApplicationFailure arrives as is.
 */
function reasonOf(err: ActivityFailure | ApplicationFailure): string {
  const cause = err instanceof ActivityFailure ? err.cause ?? err : err;
  const type = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : '';
  return `${type}${cause.message}`;
}

/**
 * Evacuate one job into the target AZ.
 * @returns the job's outcome: `running` (RUNNING in the target AZ) or `skipped`, with reasons
 * @throws ApplicationFailure JobFailed (non-retryable) for a `failed` outcome: message
 *   `P1 job ns/name (redeploy) failed: <reason>`, details [the JobOutcome]. patched: runs recorded
 *   before this returned the failed outcome, and replay so.
 */
export async function evacuateJob(input: JobInput): Promise<JobOutcome> {
  const outcome = await runJob(input);
  if (outcome.outcome === 'failed' && patched(FAILURES_CLOSE_AS_FAILURES)) throw outcomeFailure('JobFailed', jobFailureMessage(outcome), outcome);
  return outcome;
}

/** The job's steps (evacuateJob): never throws for a job-level failure, which is its outcome. */
async function runJob(input: JobInput): Promise<JobOutcome> {
  const [namespace = '', name = ''] = input.key.split('/');
  const startedAtMs = Date.now();
  const steps: JobOutcome['steps'] = {};
  const outcome: JobOutcome = {
    key: input.key, name, namespace, tier: input.tier, strategy: input.strategy,
    outcome: 'running', steps, startedAtMs, endedAtMs: startedAtMs,
  };
  const record = (step: string, t: StepTiming): void => {
    steps[step] = { startedAtMs: t.startedAtMs, endedAtMs: t.endedAtMs, attempts: t.attempt };
  };
  const finish = (kind: JobOutcome['outcome'], reason?: string): JobOutcome => {
    outcome.outcome = kind;
    if (reason) outcome.reason = reason;
    outcome.endedAtMs = Date.now();
    log.info(`job ${kind}`, { evacuationId: input.evacuationId, job: input.key, tier: input.tier, strategy: outcome.strategy, outcome: kind, ...(reason ? { reason } : {}), seconds: (outcome.endedAtMs - startedAtMs) / 1000 });
    return outcome;
  };
  const hb = input.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUTS;
  let step = 'start';
  const ref = { evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), key: input.key, mode: input.mode };
  // Planned moves and drills (domain/planned-stop.ts). patched: runs recorded before the stop
  // step existed in their mode (they fenced the source and restored its newest replicated
  // snapshot) replay without it; each mode has its own patch id, drills got the step later.
  const planned = stopsWithSavepoint(input.mode) && patched(input.mode === 'drill' ? 'drill-stop-with-savepoint' : 'planned-stop-with-savepoint');
  let savepointPath: string | undefined;
  try {
    if (planned) {
      // Stop the source with a savepoint first; a job whose savepoint fails is not moved.
      step = 'savepoint';
      const stopped = await starting(hb, true).stopSource.executeWithOptions({ summary: `stop ${input.key} with a savepoint in ${input.sourceAz}` }, [ref]);
      record('savepoint', stopped);
      if (stopped.action === 'fail') return finish('failed', stopped.reason);
      if (stopped.action === 'stopped') outcome.savepointPath = savepointPath = stopped.savepointPath;
    }
    if (input.strategy === 'promote-standby') {
      step = 'promote';
      const promoted = await local.promoteStandby.executeWithOptions({ summary: `promote the hot standby of ${input.key} in ${input.targetAz}` }, [ref]);
      record('promote', promoted);
      // Not usable: applyPromotion falls the job back to a redeploy from its snapshot.
      if (applyPromotion(outcome, promoted)) return finish('running');
    }

    step = 'start';
    const started = await starting(hb, planned).startJob.executeWithOptions({ summary: `start ${input.key} in ${input.targetAz} (${outcome.strategy}, from ${savepointPath ? 'its savepoint' : 'its newest replicated snapshot'})` }, [{ ...ref, strategy: outcome.strategy, preload: input.preload, ...(savepointPath ? { savepointPath } : {}) }]);
    for (const [name, t] of Object.entries(started.phases)) steps[name] = { ...t, attempts: started.attempt };
    if (started.action === 'fail' && savepointPath) {
      // Nothing was deployed in the target: the source runs again from its savepoint.
      step = 'restart-source';
      const restarted = await local.restartSource.executeWithOptions({ summary: `restart ${input.key} in ${input.sourceAz} from its savepoint` }, [ref]);
      record('restart-source', restarted);
      return finish('failed', `${started.reason}; ${restarted.note}`);
    }
    if (started.action === 'fail') return finish('failed', started.reason);
    if (started.action === 'skip') return finish('skipped', started.reason);
    if (started.snapshotPath !== undefined) outcome.snapshotPath = started.snapshotPath;
    if (started.snapshotAgeSeconds !== undefined) outcome.snapshotAgeSeconds = started.snapshotAgeSeconds;
    if (started.note) outcome.reason = started.note;
    outcome.fence = started.fence;
    if (started.fenceSeen) outcome.fenceSeen = started.fenceSeen;

    step = 'startup';
    const running = await waiting(input.startupTimeoutSeconds, hb).awaitRunning.executeWithOptions({ summary: `await ${input.key} RUNNING in ${input.targetAz} (at most ${Math.round(input.startupTimeoutSeconds)} s)` }, [{
      ...ref, strategy: outcome.strategy, minGeneration: started.generation, timeoutSeconds: input.startupTimeoutSeconds,
      heartbeatSeconds: heartbeatSecondsFor(input.startupTimeoutSeconds, hb), restoring: started.snapshotPath !== undefined,
    }]);
    record('startup', running);
    outcome.jobId = running.jobId;
    // Absent in the result of an activity scheduled by an older worker.
    if (running.restore) outcome.restore = running.restore;
    return finish('running');
  } catch (err) {
    // Cancelled (an operator cancelled this job's workflow, or its evacuation): say so, not
    // "failed after retries". The outcome still goes to the shard, so the job is reported.
    if (isCancellation(err)) return finish('failed', `cancelled during the ${step} step (workflow ${workflowInfo().workflowId} was cancelled); the job may be half started in the target AZ: check it before resuming anything`);
    if (!(err instanceof ActivityFailure || err instanceof ApplicationFailure)) throw err;
    return finish('failed', `${step} failed after retries: ${reasonOf(err)} (workflow ${workflowInfo().workflowId})`);
  }
}

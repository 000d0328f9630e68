/**
 * Per-job workflow: runs one job's tier strategy step by step and returns its outcome.
 * It never throws for a job-level failure: a step that fails after its retries ends the
 * job as `failed` with the step and reason, so the tier goes on and no job is dropped.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { JobInput, JobOutcome, PrepareResult, StepTiming } from '../domain/evacuation.js';

type Activities = ReturnType<typeof createActivities>;

const retry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 };

const quick = proxyActivities<Activities>({ startToCloseTimeout: '60s', retry });

/** Failure message of an activity, unwrapping Temporal's ActivityFailure → cause. */
function reasonOf(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) {
    const cause = err.cause;
    const type = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : '';
    return `${type}${cause.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Evacuate one job into the target AZ.
 * @returns the job's outcome: `running` (RUNNING in the target AZ), `failed` or `skipped`, with reasons
 */
export async function evacuateJob(input: JobInput): Promise<JobOutcome> {
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
    return outcome;
  };
  let step = 'prepare';
  const ref = { evacuationId: input.evacuationId, key: input.key };
  try {
    if (input.strategy === 'promote-standby') {
      step = 'promote';
      const promoted = await quick.promoteStandby(ref);
      record('promote', promoted);
      if (promoted.promoted) {
        step = 'fence';
        record('fence', await quick.fenceSource({ ...ref, mode: input.mode }));
        if (promoted.jobId) outcome.jobId = promoted.jobId;
        return finish('running');
      }
      // The hot standby is absent or not healthy: fall back to restoring from a snapshot.
      outcome.strategy = 'redeploy';
      outcome.reason = `hot standby not usable (${promoted.reason}); redeployed from snapshot`;
    }

    step = 'snapshot';
    const prepared: PrepareResult = await quick.prepareJob(ref);
    steps.snapshot = { startedAtMs: prepared.startedAtMs, endedAtMs: prepared.snapshotEndedAtMs, attempts: prepared.attempt };
    steps.config = { startedAtMs: prepared.snapshotEndedAtMs, endedAtMs: prepared.endedAtMs, attempts: prepared.attempt };
    if (prepared.action === 'fail') return finish('failed', prepared.reason);
    if (prepared.action === 'skip') return finish('skipped', prepared.reason);
    if (prepared.action === 'restore') {
      outcome.snapshotPath = prepared.snapshotPath;
      outcome.snapshotAgeSeconds = prepared.snapshotAgeSeconds;
    }

    if (input.preload) {
      step = 'jars';
      record('jars', await quick.ensureJobJars(ref));
    }

    step = 'fence';
    record('fence', await quick.fenceSource({ ...ref, mode: input.mode }));

    step = 'apply';
    const restorePath = prepared.action === 'restore' ? prepared.snapshotPath : undefined;
    const deployed = await quick.deployJob({ ...ref, strategy: outcome.strategy, restorePath });
    record('apply', deployed);

    step = 'startup';
    const waiting = proxyActivities<Activities>({
      startToCloseTimeout: `${Math.ceil(input.startupTimeoutSeconds) + 30}s`,
      heartbeatTimeout: '60s',
      retry: { ...retry, maximumAttempts: 3 },
    });
    const running = await waiting.awaitRunning({ ...ref, minGeneration: deployed.generation, timeoutSeconds: input.startupTimeoutSeconds });
    record('startup', running);
    outcome.jobId = running.jobId;
    return finish('running');
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    return finish('failed', `${step} failed after retries: ${reasonOf(err)} (workflow ${workflowInfo().workflowId})`);
  }
}

/**
 * The batched job activities a shard workflow drives (workflows/shard-jobs.ts): `startJobs`
 * runs the steps of a whole dispatch burst of jobs in one activity, each job on its own
 * (one job's failure is its own outcome, never the burst's), and `awaitJobsRunning`
 * watches the jobs of a shard that are still starting and returns as soon as any of them
 * is RUNNING, failed or past its start-up budget. A burst costs the shard's history three
 * events however many jobs it holds, where a child workflow per job cost ~16 events per job
 * plus ~8 in its parent (docs/design.md#one-activity-per-burst-not-a-workflow-per-job).
 *
 * Each job's steps are those of the per-job workflow before (workflows/job.ts): in a planned
 * move or a drill the source is stopped with a savepoint first (a job whose savepoint fails is
 * not moved); a hot standby is promoted, falling back to a redeploy from a snapshot when it is
 * absent or unhealthy; the start step (snapshot, config, jars, fence, apply); a start that
 * fails after a savepoint stop restarts the source from its savepoint; then the start-up wait.
 * Every step is idempotent (activities/job-steps.ts), so a step is retried in place on a
 * retryable failure (12 attempts, 0.5 s doubling to 10 s, the policy the per-job workflow gave
 * its activities), and a retry of the whole activity (a worker lost) redoes nothing.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import pRetry from 'p-retry';
import { applyPromotion, stopsWithSavepoint, type BurstResult, type BurstScope, type JobOutcome, type JobTask, type StartBurst, type StartingJob, type StartupWatch } from '../domain/evacuation.js';
import { readSpec } from '../domain/flink-spec.js';
import { DEFAULT_PLATFORM_LIMITS, DEFAULT_RTO_RATES } from '../domain/rto-estimate.js';
import { preemptionWait, restoresAtOnce, startupDeadline, type CapacityWait, type StartupDeadline } from '../domain/startup-deadline.js';
import type { JobRtoForecast } from '../domain/types.js';
import { PlatformError } from '../platform/errors.js';
import type { StoredPlan } from '../platform/ports.js';
import type { ActivityDeps } from './deps.js';
import { asFailure, terminal } from './failures.js';
import { catalogIndex, loadJobContext, type JobContext } from './job-context.js';
import { targetResource, type createJobSteps } from './job-steps.js';
import type { createPlannedStopActivities } from './planned-stop.js';
import { heartbeating } from './poll.js';

/** Retries of one job's step in place: 12 attempts spanning ~75 s of back-off (an API outage of a minute costs no job). */
const STEP_RETRY = { retries: 11, factor: 2, minTimeout: 500, maxTimeout: 10_000 } as const;

/**
 * Shortest wait of a start-up, seconds, even at or past its deadline: a job handed over to a
 * watcher near its deadline is looked at once more before it fails, since the watcher may
 * start after the deadline (a workflow task and an activity dispatch later: seconds on a
 * loaded server). Without it such a job failed unseen ("not RUNNING after 0s, last: absent"),
 * measured on the 500-job bench at time scale 100 (9 P1 jobs of 382).
 */
const LAST_LOOK_SECONDS = 1;

/**
 * After the first job of a burst or watch has settled, how long, ms, others are gathered
 * before the activity returns: outcomes that arrive together cost one workflow task.
 */
const WATCH_GATHER_MS = 250;

/** `type: message` of a failure, as reports have always named a step's failure. */
function reasonOf(err: unknown): string {
  if (err instanceof ApplicationFailure) return `${err.type ? `${err.type}: ` : ''}${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Per stored plan, computed once for all its jobs: the forecast's jobs by key, the most restores
 * at once and the longest wait for capacity its preemptions free (domain/startup-deadline.ts).
 */
const restoreQueues = new WeakMap<StoredPlan, { forecast: Map<string, JobRtoForecast>; atOnce: number; capacityWait: CapacityWait | undefined }>();

/** Where the forecast's state size came from, in words for a deadline's `why`. */
const STATE_FROM: Record<JobRtoForecast['inputs']['stateFrom'], string> = {
  snapshot: "the newest snapshot's _metadata at planning",
  catalog: "the platform's size at catalog sync",
  default: 'the nominal default size',
  none: "the platform's size at catalog sync",
};

/**
 * The start-up deadline of a job just deployed (domain/startup-deadline.ts): the tier's
 * start-up timeout plus, when the plan preempts P3 jobs, the longest wait for the capacity they
 * free (the slowest one's stop-with-savepoint), plus its restore at its share of the target AZ's object-store bandwidth and
 * one checkpoint interval (the forecast's, else its spec's, else the default) for the first
 * checkpoint after the restore,
 * with the plan's forecast rates and state size (the catalog's size when the forecast has none
 * for the job, e.g. a hot standby that fell back to a redeploy).
 */
function deadlineOf(ctx: JobContext, scope: BurstScope, restoring: boolean): StartupDeadline {
  const rates = ctx.stored.plan.rto?.rates ?? DEFAULT_RTO_RATES;
  let queue = restoreQueues.get(ctx.stored);
  if (!queue) {
    // The preempted P3 jobs run in the target AZ: their state is the catalog's there.
    const inTarget = catalogIndex(ctx.catalog);
    const preempted = ctx.stored.plan.preemptions.map((p) => ({ key: p.key, stateBytes: inTarget.get(`${ctx.stored.plan.targetAz}|${p.key}`)?.stateSizeBytes ?? 0 }));
    queue = {
      forecast: new Map((ctx.stored.plan.rto?.jobs ?? []).map((f) => [f.key, f])), atOnce: restoresAtOnce(ctx.stored.plan.admitted, ctx.stored.policy),
      capacityWait: preemptionWait(preempted, rates, ctx.stored.policy.timeScale),
    };
    restoreQueues.set(ctx.stored, queue);
  }
  const f = queue.forecast.get(ctx.planned.key);
  const known = f && f.inputs.stateFrom !== 'none' ? f.inputs : undefined;
  const checkpointIntervalSeconds = f?.inputs.checkpointIntervalSeconds
    ?? readSpec(ctx.job.deployment).checkpointIntervalSeconds ?? (rates.platform ?? DEFAULT_PLATFORM_LIMITS).defaultCheckpointIntervalSeconds;
  return startupDeadline({
    startupTimeoutSeconds: scope.startupTimeoutSeconds, restoring, checkpointIntervalSeconds,
    stateBytes: known ? known.stateBytes : ctx.job.stateSizeBytes, stateFrom: STATE_FROM[known?.stateFrom ?? 'catalog'],
    rates, timeScale: ctx.stored.policy.timeScale, restoresAtOnce: queue.atOnce, targetAz: scope.targetAz,
    ...(queue.capacityWait ? { capacityWait: queue.capacityWait } : {}),
  });
}

/** Whether a step's failure is worth another attempt (Temporal's rule: everything but a non-retryable ApplicationFailure). */
const retryable = (err: unknown): boolean => !(err instanceof ApplicationFailure && err.nonRetryable);

/**
 * Run one idempotent step of one job with in-place retries.
 * @returns its value and the attempts it took (counting those of earlier runs of the activity)
 * @throws the last failure once attempts are used up or at once when not retryable; the abort reason when `signal` aborts
 */
async function attempted<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<{ value: T; attempts: number }> {
  let attempts = 0;
  const value = await pRetry(() => { attempts++; return fn(); }, { ...STEP_RETRY, signal, shouldRetry: ({ error }) => retryable(error) });
  return { value, attempts: attempts + Context.current().info.attempt - 1 };
}

/** Build the batched job activities over the per-job steps. */
export function createJobBatchActivities(deps: ActivityDeps, steps: ReturnType<typeof createJobSteps>, planned: ReturnType<typeof createPlannedStopActivities>) {
  const workflowOf = (): string => Context.current().info.workflowExecution?.workflowId ?? 'unknown';

  /**
   * Wait until `job` counts RUNNING in the target AZ (ClusterPort.waitForRunning: the operator
   * reports it running and, when restoring, a checkpoint completed after the restore), at most
   * until its deadline, retrying platform errors in place.
   * @returns its final outcome: `running` with the startup step, job id and restore evidence,
   *   or `failed` (DeploymentFailed, StartupTimeout, a platform error after retries)
   * @throws the abort reason when `signal` aborts (the wait is abandoned, not failed)
   */
  async function awaitStartup(scope: BurstScope, job: StartingJob, signal: AbortSignal): Promise<JobOutcome> {
    const outcome: JobOutcome = { ...job.outcome, steps: { ...job.outcome.steps } };
    const startedAtMs = Date.now();
    const az = scope.targetAz;
    try {
      const ctx = await loadJobContext(deps, scope, outcome.key);
      const { namespace, name } = targetResource(ctx, outcome.strategy);
      const { value: status, attempts } = await attempted(async () => {
        try {
          return await deps.cluster.waitForRunning(az, namespace, name, {
            minGeneration: job.generation, timeoutSeconds: Math.max(LAST_LOOK_SECONDS, (job.deadlineMs - Date.now()) / 1000), restoring: job.restoring, signal,
          });
        } catch (err) {
          if (signal.aborted || !(err instanceof PlatformError)) throw err;
          if (err.code === 'timeout') {
            const budget = outcome.startupDeadline ? `${outcome.startupDeadline.seconds.toFixed(0)}s of its apply (${outcome.startupDeadline.why})` : `${scope.startupTimeoutSeconds.toFixed(0)}s`;
            throw terminal('StartupTimeout', `${outcome.key} did not reach RUNNING in ${az} within ${budget}: ${err.message}`);
          }
          throw asFailure(`start-up of ${outcome.key} in ${az}`, err);
        }
      }, signal);
      const endedAtMs = Date.now();
      ctx.log.info('running', { flinkJobId: status.jobId ?? null, seconds: (endedAtMs - startedAtMs) / 1000 });
      outcome.steps.startup = { startedAtMs, endedAtMs, attempts };
      outcome.jobId = status.jobId ?? '';
      outcome.restore = status.restore;
      return { ...outcome, outcome: 'running', endedAtMs };
    } catch (err) {
      if (signal.aborted) throw err;
      return { ...outcome, outcome: 'failed', reason: `startup failed after retries: ${reasonOf(err)} (workflow ${workflowOf()})`, endedAtMs: Date.now() };
    }
  }

  /**
   * The steps of one job up to its deploy (the per-job runbook): savepoint stop (planned,
   * drill), promotion (hot standby), start, restart of the source when a start after a
   * savepoint stop deployed nothing.
   * @returns the final outcome, or the job deployed and still starting
   */
  async function startSteps(burst: StartBurst, task: JobTask, signal: AbortSignal): Promise<BurstResult> {
    const [namespace = '', name = ''] = task.key.split('/');
    const outcome: JobOutcome = {
      key: task.key, name, namespace, tier: burst.tier, strategy: task.strategy,
      outcome: 'running', steps: {}, startedAtMs: burst.dispatchedAtMs, endedAtMs: burst.dispatchedAtMs,
    };
    const finish = (kind: JobOutcome['outcome'], reason?: string): BurstResult => {
      outcome.outcome = kind;
      if (reason) outcome.reason = reason;
      outcome.endedAtMs = Date.now();
      return { done: outcome };
    };
    const ref = { evacuationId: burst.evacuationId, ...(burst.runId ? { runId: burst.runId } : {}), key: task.key, mode: burst.mode };
    let step = 'start';
    let savepointPath: string | undefined;
    try {
      if (stopsWithSavepoint(burst.mode)) {
        // Stop the source with a savepoint first; a job whose savepoint fails is not moved.
        step = 'savepoint';
        const { value: stopped, attempts } = await attempted(() => planned.stopSource(ref), signal);
        outcome.steps.savepoint = { startedAtMs: stopped.startedAtMs, endedAtMs: stopped.endedAtMs, attempts };
        if (stopped.action === 'fail') return finish('failed', stopped.reason);
        if (stopped.action === 'stopped') outcome.savepointPath = savepointPath = stopped.savepointPath;
      }
      if (task.strategy === 'promote-standby') {
        step = 'promote';
        const { value: promoted, attempts } = await attempted(() => steps.promoteStandby(ref), signal);
        outcome.steps.promote = { startedAtMs: promoted.startedAtMs, endedAtMs: promoted.endedAtMs, attempts };
        // Not usable: applyPromotion falls the job back to a redeploy from its snapshot.
        if (applyPromotion(outcome, promoted)) return finish('running');
      }

      step = 'start';
      const { value: started, attempts } = await attempted(() => steps.startJob({ ...ref, strategy: outcome.strategy, preload: burst.preload, ...(savepointPath ? { savepointPath } : {}) }), signal);
      for (const [phase, t] of Object.entries(started.phases)) outcome.steps[phase] = { ...t, attempts };
      if (started.action === 'fail' && savepointPath) {
        // Nothing was deployed in the target: the source runs again from its savepoint.
        step = 'restart-source';
        const { value: restarted, attempts: tries } = await attempted(() => planned.restartSource(ref), signal);
        outcome.steps['restart-source'] = { startedAtMs: restarted.startedAtMs, endedAtMs: restarted.endedAtMs, attempts: tries };
        return finish('failed', `${started.reason}; ${restarted.note}`);
      }
      if (started.action === 'fail') return finish('failed', started.reason);
      if (started.action === 'skip') return finish('skipped', started.reason);
      if (started.snapshotPath !== undefined) outcome.snapshotPath = started.snapshotPath;
      if (started.snapshotAgeSeconds !== undefined) outcome.snapshotAgeSeconds = started.snapshotAgeSeconds;
      if (started.note) outcome.reason = started.note;
      outcome.fence = started.fence;
      if (started.fenceSeen) outcome.fenceSeen = started.fenceSeen;
      const appliedAtMs = started.phases.apply?.endedAtMs ?? Date.now();
      const restoring = started.snapshotPath !== undefined;
      step = 'start-up deadline';
      outcome.startupDeadline = deadlineOf(await loadJobContext(deps, burst, task.key), burst, restoring);
      return { starting: { outcome, generation: started.generation, restoring, deadlineMs: appliedAtMs + outcome.startupDeadline.seconds * 1000 } };
    } catch (err) {
      if (signal.aborted) throw err;
      return finish('failed', `${step} failed after retries: ${reasonOf(err)} (workflow ${workflowOf()})`);
    }
  }

  /**
   * Wait on jobs' start-ups (`waits[i]` settles job i, or rejects when `handOver` or the
   * activity's cancellation aborts it) once `ready` has resolved: return as soon as at least
   * one job has settled and WATCH_GATHER_MS more have passed (or every job has settled, or
   * `atMostMs` have passed since `ready` with none settled), then abort the waits of the jobs
   * still starting, which come back undefined.
   * @throws the cancellation when the activity is cancelled
   */
  async function settleSome(waits: Array<Promise<JobOutcome>>, ready: Promise<unknown>, handOver: AbortController, atMostMs = Infinity): Promise<Array<JobOutcome | undefined>> {
    const cancelled = Context.current().cancellationSignal;
    const finals: Array<JobOutcome | undefined> = waits.map(() => undefined);
    let someSettled!: () => void;
    const firstSettled = new Promise<void>((r) => { someSettled = r; });
    const all = Promise.allSettled(waits.map((w, i) => w.then((o) => { finals[i] = o; someSettled(); })));
    await ready;
    let cap: NodeJS.Timeout | undefined;
    const capped = atMostMs < Infinity ? new Promise((r) => { cap = setTimeout(r, atMostMs); }) : new Promise(() => undefined);
    await Promise.race([firstSettled, all, capped]);
    clearTimeout(cap);
    await Promise.race([all, new Promise((r) => setTimeout(r, WATCH_GATHER_MS))]);
    handOver.abort();
    await all;
    if (cancelled.aborted) throw cancelled.reason;
    return finals;
  }

  const batch = {
    /**
     * The steps of every job of one dispatch burst, concurrently, each job on its own, and
     * the first round of their start-up waits: once every job's steps have ended, it returns
     * as soon as one job is settled (RUNNING, failed, skipped, promoted) and WATCH_GATHER_MS
     * more have passed; the jobs still starting then come back `starting`, for
     * awaitJobsRunning, at the latest once the tier's start-up timeout has passed after the
     * last job's steps (a job's deadline may be later, by its restore: the watcher's
     * start-to-close follows the deadlines, the burst's does not). A burst of one job costs one
     * activity from dispatch to RUNNING. Start-up times are those the waits saw, whenever the
     * burst returns.
     * @returns one result per job of `burst.jobs`, in their order
     * @throws CancelledFailure when the activity is cancelled (nothing else: a job's failure is its result)
     */
    async startJobs(burst: StartBurst): Promise<BurstResult[]> {
      const cancelled = Context.current().cancellationSignal;
      const handOver = new AbortController();
      const waiting = AbortSignal.any([cancelled, handOver.signal]);
      const started = burst.jobs.map((task) => startSteps(burst, task, cancelled));
      const waits = started.map(async (s) => {
        const r = await s;
        return 'done' in r ? r.done : awaitStartup(burst, r.starting, waiting);
      });
      const finals = await settleSome(waits, Promise.all(started), handOver, burst.startupTimeoutSeconds * 1000);
      const results = await Promise.all(started);
      return results.map((r, i) => {
        const done = finals[i];
        return done ? { done } : r;
      });
    },

    /**
     * Watch jobs still starting (handed over by startJobs) until at least one is RUNNING,
     * failed or past its deadline, then gather the others settled within WATCH_GATHER_MS and
     * return: one slow start-up never holds back the others' outcomes, and a job past its
     * budget fails at its deadline (StartupTimeout), whatever the others do.
     * @returns the final outcomes of the jobs settled (at least one), in no particular order
     * @throws CancelledFailure when the activity is cancelled
     */
    async awaitJobsRunning(watch: StartupWatch): Promise<JobOutcome[]> {
      const handOver = new AbortController();
      const waiting = AbortSignal.any([Context.current().cancellationSignal, handOver.signal]);
      const finals = await settleSome(watch.jobs.map((job) => awaitStartup(watch, job, waiting)), Promise.resolve(), handOver);
      return finals.filter((o): o is JobOutcome => o !== undefined);
    },
  };
  return {
    /** startJobs (see `batch.startJobs`), heartbeating all along so a lost worker's burst is retried after the heartbeat timeout. */
    startJobs: (burst: StartBurst): Promise<BurstResult[]> => heartbeating(`start steps of ${burst.jobs.length} job(s)`, () => batch.startJobs(burst)),
    /** awaitJobsRunning (see `batch.awaitJobsRunning`), heartbeating all along. */
    awaitJobsRunning: (watch: StartupWatch): Promise<JobOutcome[]> => heartbeating(`start-up of ${watch.jobs.length} job(s)`, () => batch.awaitJobsRunning(watch)),
  };
}

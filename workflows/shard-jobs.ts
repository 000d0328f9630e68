/**
 * The shard's runbook since jobs stopped being child workflows: the shard keeps every job's
 * state itself and drives the jobs' steps as batched activities in a sliding window of its
 * slots (the pattern of Temporal's batch samples: one workflow, a bounded window of
 * activities in flight). Whenever slots are free, the jobs that fill them go out as one
 * dispatch burst (`startJobs`: every job's steps in one activity, each job's result its
 * own); jobs deployed and still starting go to watchers (`awaitJobsRunning`, up to WATCH_GROUP
 * jobs each, given only what they read of each job: `forWatch`) that return as soon as any of
 * their jobs is RUNNING, failed or past its start-up budget, and are started again for the rest. Outcomes are batched into the evacuation store and progress goes to the tier
 * workflow every 2 s at most, as before.
 *
 * Cost: a burst adds three events to the shard's history whatever its size, a watcher round
 * three more: docs/design.md#one-activity-per-burst-not-a-workflow-per-job has the numbers.
 *
 * Continue-as-new (when Temporal suggests it or the history reaches the budget,
 * domain/history-budget.ts) waits only for the bursts in flight; jobs still
 * starting are carried in the input (ShardInput.starting) and watched on by the next run.
 * A cancelled shard stops dispatching, reports its jobs in flight as cancelled and the jobs
 * it never started as skipped, records every outcome, then closes as Cancelled: no job is left
 * without one.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { recordsKey, stopsWithSavepoint, type BurstScope, type JobOutcome, type JobTask, type ShardInput, type StartingJob, type TierCounts } from '../domain/evacuation.js';
import { continueAsNewAfterEvents, historyFull } from '../domain/history-budget.js';
import { shardProgressEveryMs } from '../domain/shard-progress-rate.js';
import { DEFAULT_HEARTBEAT_TIMEOUTS, type HeartbeatTimeouts } from '../domain/types.js';
import { shardProgressSignal, tierControlSignal, tierCountsQuery } from './messages.js';
import { ProgressReporter } from './progress-reporter.js';
import { OutcomeBuffer } from './outcome-buffer.js';

type Activities = ReturnType<typeof createActivities>;

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '120s',
  retry: { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 10 },
});

/** Retry of a whole burst or watch (a lost worker, a bug); each job's steps are retried in place inside it. */
const retry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 12 };

/**
 * The start burst's activity: it heartbeats all along, so its heartbeat timeout (tiers.yaml
 * heartbeatTimeoutSeconds.startStep, default 60 s) is how long a dead worker's burst waits
 * before another worker runs it again; its waits are bounded by the policy (jar copy,
 * savepointTimeout, the start-up budget), so the start-to-close timeout is a backstop: 15 min,
 * 60 min in a planned move or drill (a savepoint of large state may take minutes to write and
 * again to replicate), plus the start-up budget (the burst waits on its jobs' start-ups too).
 */
const starting = (hb: HeartbeatTimeouts, planned: boolean, startupTimeoutSeconds: number) =>
  proxyActivities<Activities>({ startToCloseTimeout: `${(planned ? 3600 : 900) + Math.ceil(startupTimeoutSeconds)}s`, heartbeatTimeout: `${hb.startStep}s`, retry });

/**
 * Heartbeat timeout of a start-up watch, seconds: a fifth of the start-up budget within
 * [startupWaitMin (tiers.yaml, default 30), 180] s (heartbeats are server writes).
 */
const heartbeatSecondsFor = (startupTimeoutSeconds: number, hb: HeartbeatTimeouts): number =>
  Math.min(180, Math.max(hb.startupWaitMin, Math.round(startupTimeoutSeconds / 5)));

/** The watcher's activity: its start-to-close timeout follows the latest deadline it watches. */
const watching = (seconds: number, startupTimeoutSeconds: number, hb: HeartbeatTimeouts) => proxyActivities<Activities>({
  startToCloseTimeout: `${Math.ceil(seconds) + 30}s`,
  heartbeatTimeout: `${heartbeatSecondsFor(startupTimeoutSeconds, hb)}s`,
  retry,
});

/** Job keys loaded per activity call. */
const PAGE = 500;
/** Gap between routine progress signals to the tier workflow in runs before SHARD_PROGRESS_SPREAD, ms. */
const REPORT_EVERY_MS = 2000;
/** Most jobs in one start burst (its result stays far below Temporal's 2 MB payload limit). */
const BURST_MAX = 50;
/**
 * Most jobs one start-up watcher watches. A watch round's input names every job of its group
 * still starting and a round ends whenever one of them settles, so a group of n costs ~n²/2 jobs
 * of input in the shard's history: measured on the 5,000-job fleet at time scale 5 (2,500 jobs
 * in az-a), watcher inputs were 34.6 MB of the shards' 41.6 MB (groups of a whole burst, up to
 * 50). Groups of 10 cut that ~5×, at the cost of more watchers in flight (each heartbeats).
 */
const WATCH_GROUP = 10;

/** Patch of the shard that watches its jobs in groups of WATCH_GROUP: histories without its marker replay one watcher per burst. */
export const SHARD_WATCH_GROUPS = 'shard-watch-groups';

/**
 * Patch of the shard whose routine progress signals are spaced by its tier's shard count
 * (domain/shard-progress-rate.ts); histories without its marker replay a signal every REPORT_EVERY_MS.
 */
export const SHARD_PROGRESS_SPREAD = 'shard-progress-spread';

/** `jobs` in groups of WATCH_GROUP, in order (one group of all of them in runs before SHARD_WATCH_GROUPS). */
const watchGroups = <T>(jobs: T[]): T[][] => jobs.length === 0 ? [] : !patched(SHARD_WATCH_GROUPS) ? [jobs] : Array.from({ length: Math.ceil(jobs.length / WATCH_GROUP) }, (_, i) => jobs.slice(i * WATCH_GROUP, (i + 1) * WATCH_GROUP));

/**
 * What a start-up watch is given of a job still starting: the job with its outcome cut to what
 * the watcher reads (key, strategy, start-up deadline: activities/job-batch.ts awaitStartup) and
 * the fields every outcome has. The shard keeps the whole outcome (steps, fence, snapshot) and
 * merges the watcher's answer into it (`watchedOutcome`). A watch round's input holds every job
 * of its group still starting, so the group's outcomes went into the shard's history once per
 * round: O(jobs²) bytes per shard, ~1 KB per job per round (docs/benchmarks.md, 20,000 jobs).
 */
export function forWatch(job: StartingJob): StartingJob {
  const { key, name, namespace, tier, strategy, outcome, startedAtMs, endedAtMs, startupDeadline } = job.outcome;
  return { ...job, outcome: { key, name, namespace, tier, strategy, outcome, startedAtMs, endedAtMs, steps: {}, ...(startupDeadline ? { startupDeadline } : {}) } };
}

/** The final outcome of a watched job: its whole outcome so far, with what the watcher returned (`forWatch`) on top, steps merged. */
export function watchedOutcome(full: JobOutcome, watched: JobOutcome): JobOutcome {
  return { ...full, ...watched, steps: { ...full.steps, ...watched.steps } };
}

/** Outcome of a job that was never dispatched. */
export function skippedOutcome(task: JobTask, input: ShardInput, reason: string, nowMs: number): JobOutcome {
  const [namespace = '', name = ''] = task.key.split('/');
  return {
    key: task.key, name, namespace, tier: input.tier, strategy: task.strategy, outcome: 'skipped', reason,
    steps: {}, startedAtMs: nowMs, endedAtMs: nowMs,
  };
}

/**
 * Evacuate the jobs of one tier shard with batched job activities (see the file comment).
 * @returns final counters: succeeded + failed + skipped = planned
 * @throws ApplicationFailure ProgressSignalFailed when the tier workflow cannot be told; an
 *   activity that records outcomes or loads jobs failing after its retries; CancelledFailure
 *   once a cancelled shard has recorded every outcome
 */
export async function runShard(input: ShardInput): Promise<TierCounts> {
  const { starting: carried = [], ...rest } = input;
  const state = { ...rest, counts: { ...input.counts } };
  const { workflowId } = workflowInfo();
  const notStarted = (abortedBy: string | undefined): string => `evacuation aborted${abortedBy ? ` by ${abortedBy}` : ''}; job not started`;
  let abortReason = notStarted(input.abortedBy);
  const parent = workflowInfo().parent;
  // By workflow id only: the tier's current run, also after the tier continued as new (workflows/tier.ts).
  const parentHandle = parent ? getExternalWorkflowHandle(parent.workflowId) : undefined;
  const hb = state.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUTS;
  const budget = continueAsNewAfterEvents(state.continueAsNewAfterEvents);
  const scope: BurstScope = {
    evacuationId: state.evacuationId, ...(state.runId ? { runId: state.runId } : {}), tier: state.tier, mode: state.mode,
    preload: state.preload, sourceAz: state.sourceAz, targetAz: state.targetAz, startupTimeoutSeconds: state.startupTimeoutSeconds,
  };

  setHandler(tierCountsQuery, () => ({ ...state.counts, cursor: state.cursor, paused: state.paused, aborted: state.aborted }));
  setHandler(tierControlSignal, ({ action, by, reason }) => {
    if (action === 'pause') state.paused = true;
    if (action === 'resume') state.paused = false;
    if (action === 'abort') {
      state.aborted = true;
      abortReason = notStarted(`${by}${reason ? `: ${reason}` : ''}`);
    }
  });

  // Everything but the jobs' own activities runs on after a cancellation request, so that
  // every job still gets its outcome recorded; the jobs' activities run in `jobs`, which a
  // cancellation request cancels (they are then reported as cancelled).
  const root = CancellationScope.current();
  return CancellationScope.nonCancellable(async () => {
    const jobs = new CancellationScope();
    let cancelled: unknown;
    root.cancelRequested.catch((err: unknown) => {
      cancelled = err;
      state.aborted = true;
      abortReason = `shard workflow ${workflowId} was cancelled; job not started`;
      jobs.cancel();
    });

    const outcomes = new OutcomeBuffer((batch) => acts.recordOutcomes.executeWithOptions({ summary: `record ${batch.length} job outcome(s)` }, [recordsKey(state), batch]));

    // Progress to the tier workflow; the moment the whole shard is dispatched is urgent
    // (a lower tier may then borrow the idle slots). `done` only with the settled counters
    // (the tier takes that as the shard's end), never on the last signal before a continue-as-new.
    const allDispatched = (): boolean => state.cursor >= state.jobs || state.aborted;
    const settledAll = (): boolean => state.counts.running === 0 && state.cursor >= state.jobs;
    const progress = new ProgressReporter(async (final) => {
      if (parentHandle) await parentHandle.signal(shardProgressSignal, { shard: state.shard, counts: { ...state.counts }, dispatched: allDispatched(), done: final && settledAll() });
    }, patched(SHARD_PROGRESS_SPREAD) ? shardProgressEveryMs(state.shards) : REPORT_EVERY_MS, allDispatched);

    const settle = (settled: JobOutcome): void => {
      const o = { ...settled, workflowId };
      state.counts.running -= 1;
      if (o.outcome === 'running') state.counts.succeeded += 1;
      else if (o.outcome === 'failed') state.counts.failed += 1;
      else state.counts.skipped += 1;
      log.info(`job ${o.outcome}`, { evacuationId: state.evacuationId, job: o.key, tier: o.tier, strategy: o.strategy, outcome: o.outcome, ...(o.reason ? { reason: o.reason } : {}), seconds: (o.endedAtMs - o.startedAtMs) / 1000 });
      outcomes.add(o);
      progress.touch();
      outcomes.flushWhenFull();
    };
    /** A job whose activity ended without its outcome: cancelled, or the activity failed after its retries. */
    const lost = (o: JobOutcome, step: string, err: unknown): JobOutcome => {
      const reason = isCancellation(err)
        ? `cancelled during the ${step} step (workflow ${workflowId} was cancelled); the job may be half started in the target AZ: check it before resuming anything`
        : `${step} failed after retries: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)} (workflow ${workflowId})`;
      return { ...o, outcome: 'failed', reason, endedAtMs: Date.now() };
    };

    // Jobs deployed and still starting, by key: what continue-as-new carries.
    const startingJobs = new Map<string, StartingJob>();
    let bursts = 0;

    /** Watch `group` (jobs still starting) until every one of them has its outcome. */
    const watch = async (group: StartingJob[]): Promise<void> => {
      let left = group;
      while (left.length > 0) {
        const latest = Math.max(...left.map((j) => j.deadlineMs));
        let done: JobOutcome[];
        try {
          done = await jobs.run(() => watching(Math.max(0, latest - Date.now()) / 1000, state.startupTimeoutSeconds, hb).awaitJobsRunning.executeWithOptions(
            { summary: `await RUNNING in ${state.targetAz}: ${left.map((j) => j.outcome.key).join(', ')}`.slice(0, 400) },
            [{ ...scope, jobs: left.map(forWatch) }],
          ));
        } catch (err) {
          done = left.map((j) => lost(j.outcome, 'startup', err));
        }
        const keys = new Set(done.map((o) => o.key));
        for (const o of done) {
          const full = startingJobs.get(o.key);
          if (!full || !startingJobs.delete(o.key)) continue;
          settle(watchedOutcome(full.outcome, o));
        }
        left = left.filter((j) => !keys.has(j.outcome.key));
      }
    };

    /** One dispatch burst: every job's steps in one activity; jobs still starting go to a watcher. */
    const burst = async (tasks: JobTask[]): Promise<void> => {
      const dispatchedAtMs = Date.now();
      bursts += 1;
      try {
        const results = await jobs.run(() => starting(hb, stopsWithSavepoint(state.mode), state.startupTimeoutSeconds).startJobs.executeWithOptions(
          { summary: `start in ${state.targetAz}: ${tasks.map((t) => t.key).join(', ')}`.slice(0, 400) },
          [{ ...scope, jobs: tasks, dispatchedAtMs }],
        ));
        const group: StartingJob[] = [];
        for (const r of results) {
          if ('done' in r) settle(r.done);
          else {
            startingJobs.set(r.starting.outcome.key, r.starting);
            group.push(r.starting);
          }
        }
        for (const g of watchGroups(group)) void watch(g);
      } catch (err) {
        for (const t of tasks) settle(lost({ ...skippedOutcome(t, state, '', dispatchedAtMs) }, 'start', err));
      } finally {
        bursts -= 1;
      }
    };

    let page: JobTask[] = [];
    let pageStart = state.cursor;
    const taskAt = async (i: number): Promise<JobTask> => {
      if (i < pageStart || i >= pageStart + page.length) {
        page = await acts.loadTierJobs.executeWithOptions({ summary: `load ${state.tier} jobs from ${i + 1} of shard ${state.shard + 1}/${state.shards}` }, [recordsKey(state), state.tier, i, PAGE, { index: state.shard, count: state.shards }]);
        pageStart = i;
      }
      const task = page[i - pageStart];
      if (!task) throw new Error(`plan of ${state.evacuationId} has no job ${i} in tier ${state.tier}`);
      return task;
    };

    // Jobs a previous run left starting are watched on (their slots stay taken: counts.running).
    for (const j of carried) startingJobs.set(j.outcome.key, j);
    for (const g of watchGroups(carried)) void watch(g);

    while (state.cursor < state.jobs && !state.aborted) {
      // Check before awaiting: `condition` resolves at most one waiter per activation job.
      const canDispatch = (): boolean => state.aborted || (!state.paused && state.counts.running < state.slots);
      if (!canDispatch()) await condition(canDispatch);
      if (state.aborted) break;
      if (historyFull(workflowInfo().historyLength, workflowInfo().continueAsNewSuggested, budget)) {
        // Only the bursts in flight are waited for; jobs still starting go along.
        await condition(() => bursts === 0);
        await progress.finish();
        // Outcomes settled while a flush was out go in the next flush: none is left behind.
        for (;;) {
          await outcomes.flush();
          if (outcomes.size === 0) break;
        }
        await continueAsNew<typeof runShard>({ ...state, starting: [...startingJobs.values()] });
      }
      const free = Math.min(state.slots - state.counts.running, state.jobs - state.cursor, BURST_MAX);
      const tasks: JobTask[] = [];
      for (let k = 0; k < free; k++) tasks.push(await taskAt(state.cursor + k));
      state.cursor += tasks.length;
      state.counts.running += tasks.length;
      progress.touch();
      // Not awaited: the window refills as soon as slots free up.
      void burst(tasks);
    }

    progress.touch();

    // Aborted or cancelled: every job not dispatched is recorded as skipped, never silently dropped.
    while (state.cursor < state.jobs) {
      const task = await taskAt(state.cursor);
      state.cursor += 1;
      state.counts.running += 1;
      settle(skippedOutcome(task, state, abortReason, Date.now()));
    }

    await condition(() => state.counts.running === 0);
    await outcomes.flush();
    if (cancelled !== undefined) {
      // The tier may be gone already (it cancels its shards when it is cancelled): the last
      // signal is best effort then; the outcomes are recorded.
      await progress.finish().catch(() => undefined);
      throw cancelled;
    }
    await progress.finish();
    return state.counts;
  });
}

/**
 * Tier shard workflow: one shard of a tier (jobs shard, shard + shards, shard + 2·shards,
 * … in admission order). Runs started since patch SHARD_RUNS_JOB_ACTIVITIES drive their
 * jobs' steps as batched activities (workflows/shard-jobs.ts). What follows below the switch
 * is the earlier shape, kept only so that shards already running when workers upgrade replay
 * and finish (docs/temporal.md#replay-safety-the-shard-without-a-workflow-per-job): it dispatched per-job child workflows in a
 * sliding window of the shard's slots. Pages job keys from the stored plan (never the whole plan through a
 * payload), batches outcomes into the evacuation store, reports progress to its tier
 * workflow, and continues-as-new when Temporal suggests it (docs/design.md#temporal-limits), after its
 * in-flight children have finished so that none of their results is lost.
 *
 * Why shards: the server records each child's start and completion on the parent, and
 * that cost grows with the parent's pending children (measured on the dev server: 40
 * child starts/s into a parent with ~50 pending children, 6/s with ~600). Small parents
 * in parallel keep per-job dispatch fast.
 */
import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  executeChild,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { jobWorkflowId, recordsKey, type JobOutcome, type JobTask, type ShardInput, type TierCounts } from '../domain/evacuation.js';
import { evacuateJob } from './job.js';
import { shardProgressSignal, tierControlSignal, tierCountsQuery } from './messages.js';
import { ProgressReporter } from './progress-reporter.js';
import { OutcomeBuffer } from './outcome-buffer.js';
import { resultInFailure } from './outcome-failure.js';
import { searchAttributesOf } from './search-attributes.js';
import { jobSummary } from '../domain/run-summary.js';
import { runShard, skippedOutcome } from './shard-jobs.js';

/**
 * Patch id of the shard that runs its jobs' steps as batched activities instead of a child
 * workflow per job. Histories without its marker (shards started by older workers) replay
 * the child-workflow shape below.
 */
export const SHARD_RUNS_JOB_ACTIVITIES = 'shard-runs-job-activities';

type Activities = ReturnType<typeof createActivities>;

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '120s',
  retry: { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 10 },
});

/** Job keys loaded per activity call. */
const PAGE = 500;
/** Longest gap between progress signals to the tier workflow, ms. */
const REPORT_EVERY_MS = 2000;

/**
 * Evacuate the jobs of one tier shard.
 * @returns final counters: succeeded + failed + skipped = planned
 */
export async function evacuateTierShard(input: ShardInput): Promise<TierCounts> {
  if (patched(SHARD_RUNS_JOB_ACTIVITIES)) return runShard(input);
  return childWorkflowShard(input);
}

/** The shard of runs started before SHARD_RUNS_JOB_ACTIVITIES: one child workflow per job. */
async function childWorkflowShard(input: ShardInput): Promise<TierCounts> {
  const state = { ...input, counts: { ...input.counts } };
  const notStarted = (abortedBy: string | undefined): string => `evacuation aborted${abortedBy ? ` by ${abortedBy}` : ''}; job not started`;
  let abortReason = notStarted(input.abortedBy);
  const parent = workflowInfo().parent;
  // By workflow id only: the tier's current run, also after the tier continued as new (workflows/tier.ts).
  const parentHandle = parent ? getExternalWorkflowHandle(parent.workflowId) : undefined;

  setHandler(tierCountsQuery, () => ({ ...state.counts, cursor: state.cursor, paused: state.paused, aborted: state.aborted }));
  setHandler(tierControlSignal, ({ action, by, reason }) => {
    if (action === 'pause') state.paused = true;
    if (action === 'resume') state.paused = false;
    if (action === 'abort') {
      state.aborted = true;
      abortReason = notStarted(`${by}${reason ? `: ${reason}` : ''}`);
    }
  });

  const outcomes = new OutcomeBuffer((batch) => acts.recordOutcomes.executeWithOptions({ summary: `record ${batch.length} job outcome(s)` }, [recordsKey(state), batch]));

  // Progress to the tier workflow; the moment the whole shard is dispatched is urgent
  // (a lower tier may then borrow the idle slots).
  const allDispatched = (): boolean => state.cursor >= state.jobs || state.aborted;
  const progress = new ProgressReporter(async (final) => {
    if (parentHandle) await parentHandle.signal(shardProgressSignal, { shard: state.shard, counts: { ...state.counts }, dispatched: allDispatched(), done: final });
  }, REPORT_EVERY_MS, allDispatched);

  const settle = (o: JobOutcome): void => {
    state.counts.running -= 1;
    if (o.outcome === 'running') state.counts.succeeded += 1;
    else if (o.outcome === 'failed') state.counts.failed += 1;
    else state.counts.skipped += 1;
    outcomes.add(o);
    progress.touch();
    outcomes.flushWhenFull();
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

  while (state.cursor < state.jobs && !state.aborted) {
    // Check before awaiting: `condition` resolves at most one waiter per activation job, so
    // awaiting an already-true condition would dispatch one child per workflow task.
    const canDispatch = (): boolean => state.aborted || (!state.paused && state.counts.running < state.slots);
    if (!canDispatch()) await condition(canDispatch);
    if (state.aborted) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => state.counts.running === 0);
      await outcomes.flush();
      await progress.finish();
      await continueAsNew<typeof evacuateTierShard>({ ...state });
    }
    const task = await taskAt(state.cursor);
    state.cursor += 1;
    state.counts.running += 1;
    progress.touch();
    const jobInput = {
      evacuationId: state.evacuationId, ...(state.runId ? { runId: state.runId } : {}), key: task.key, tier: state.tier, strategy: task.strategy,
      sourceAz: state.sourceAz, targetAz: state.targetAz, mode: state.mode, preload: state.preload,
      startupTimeoutSeconds: state.startupTimeoutSeconds,
      ...(state.heartbeatTimeoutSeconds ? { heartbeatTimeoutSeconds: state.heartbeatTimeoutSeconds } : {}),
    };
    // Not awaited: every child the window allows is started in the same workflow task
    // (awaiting each start would cost one server round trip per job).
    executeChild(evacuateJob, {
      workflowId: jobWorkflowId(state.evacuationId, task.key),
      args: [jobInput],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: searchAttributesOf({ kind: 'job', run: state.evacuationId, tier: state.tier, job: task.key, mode: state.mode, sourceAz: state.sourceAz, targetAz: state.targetAz }),
      staticSummary: jobSummary({ ...jobInput, strategy: task.strategy }),
    }).then(settle, (err: unknown) => {
      // A failed job closes its workflow as Failed with its outcome inside (JobFailed).
      const failed = resultInFailure<JobOutcome>(err);
      if (failed) return settle(failed);
      const reason = `job workflow ended without an outcome: ${err instanceof Error ? err.message : String(err)}`;
      settle({ ...skippedOutcome(task, state, reason, Date.now()), outcome: 'failed' });
    });
  }

  progress.touch();

  // Aborted: every job not dispatched is recorded as skipped, never silently dropped.
  while (state.cursor < state.jobs) {
    const task = await taskAt(state.cursor);
    state.cursor += 1;
    state.counts.running += 1;
    settle(skippedOutcome(task, state, abortReason, Date.now()));
  }

  await condition(() => state.counts.running === 0);
  await outcomes.flush();
  await progress.finish();
  return state.counts;
}

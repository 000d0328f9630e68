/**
 * Tier workflow: splits the tier's admitted jobs into shards (domain/evacuation.ts
 * shardLayout), starts one shard workflow each with its share of the tier's
 * `maxConcurrency`, sums their counters, tells the evacuation once every job of the tier is
 * dispatched (so a lower tier may borrow idle slots), and passes pause / resume / abort down
 * to the shards.
 *
 * Bounded history (docs/temporal.md#bounded-histories): a run continues as new once its
 * history reaches its budget (domain/history-budget.ts), handing over counters, started /
 * dispatched / finished shards and the control in force (pause, abort with its reason). A
 * run that closes would fire its children's parent close policy, so shards are started with
 * ABANDON and found by workflow id: they signal the tier by id (its current run), report
 * their final counters in their last progress signal, and get control by id. The tier
 * cancels its open shards itself when it fails or is cancelled; it watches shards adopted
 * from an earlier run, so one that closed without reporting (terminated by hand) fails the
 * tier (ShardLost) instead of hanging it: every WATCH_EVERY_MS it asks the server, in one
 * activity (closedWorkflows, worker/shard-watch.ts), which of the adopted shards not heard
 * from since the last look have closed. Nothing is written to the shards' histories. (Runs
 * before patch TIER_WATCH_DESCRIBES re-sent every adopted shard the control in force as a
 * signal instead: an event and a workflow task in each shard every 30 s, which at 20,000 jobs
 * kept shards whose tasks timed out replaying their whole history forever.)
 * The evacuation gets no live counters from the tier (only "dispatched" and the result):
 * clients read them with the tier's tierCountsQuery.
 */
import {
  CancellationScope,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  startChild,
  type ChildWorkflowHandle,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { shardLayout, shardWorkflowId, type ShardInput, type TierCarried, type TierCounts, type TierInput } from '../domain/evacuation.js';
import { continueAsNewAfterEvents, historyFull } from '../domain/history-budget.js';
import { shardProgressSignal, tierControlSignal, tierCountsQuery, tierDispatchedSignal, tierProgressSignal, type ControlMessage } from './messages.js';
import { ProgressReporter } from './progress-reporter.js';
import { sendControl, targetClosed } from './control-signal.js';
import { evacuateTierShard } from './tier-shard.js';
import { searchAttributesOf } from './search-attributes.js';
import { shardSummary } from '../domain/run-summary.js';

/** Patch of the workflows whose histories are bounded (tier: continue-as-new; evacuation: no live counters). */
export const BOUNDED_HISTORIES = 'bounded-histories';

/**
 * Patch of the tier whose watch on adopted shards describes them (an activity) instead of
 * signalling them: histories without its marker replay the signalling watch.
 */
export const TIER_WATCH_DESCRIBES = 'tier-watch-describes';

/**
 * Workflow task timeout of a shard (Temporal's default is 10 s; its continue-as-new runs keep
 * it). A shard's task is a batch's worth of outcomes, and after an eviction from the worker's
 * cache a replay of its whole history: at 20,000 jobs on a loaded 2-core worker such tasks took
 * 40–98 s, each timeout evicted the shard again and the next task replayed it all again, so
 * the shard never caught up. A longer timeout costs only when a worker dies holding a task
 * (another worker retries it after this long instead of 10 s).
 */
const SHARD_TASK_TIMEOUT = '60s';

/** Wall ms between two looks at the shards adopted from an earlier run. */
const WATCH_EVERY_MS = 30_000;

/** The watch's activity (worker/shard-watch.ts, registered by worker/build.ts). */
export interface ShardWatchActivities {
  /** Of `workflowIds`, those with no open run (closed, or unknown to the server). */
  closedWorkflows(workflowIds: string[]): Promise<string[]>;
}

/**
 * A look is a few describe calls: a minute at most, retried briefly; a look that fails is
 * skipped (the next one, WATCH_EVERY_MS later, tries again) rather than failing the tier.
 */
const watchActs = proxyActivities<ShardWatchActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
});

const zero = (): TierCounts => ({ planned: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 });
const sum = (counts: TierCounts[]): TierCounts => counts.reduce((a, c) => ({
  planned: a.planned + c.planned, running: a.running + c.running, succeeded: a.succeeded + c.succeeded,
  failed: a.failed + c.failed, skipped: a.skipped + c.skipped,
}), zero());
/** A shard's counters are final once every one of its jobs has an outcome (a continue-as-new of the shard sends them too, unsettled). */
const settled = (c: TierCounts): boolean => c.running === 0 && c.succeeded + c.failed + c.skipped === c.planned;

/**
 * Evacuate every admitted job of one tier through its shards.
 * @returns final counters: succeeded + failed + skipped = planned
 * @throws the failure of a shard (its open siblings are cancelled first); ApplicationFailure
 *   `ShardLost` when a shard adopted from an earlier run closed without reporting its counters
 */
export async function evacuateTier(input: TierInput): Promise<TierCounts> {
  // patched: tiers recorded before histories were bounded replay as they ran.
  if (!patched(BOUNDED_HISTORIES)) return evacuateTierUnbounded(input);
  const policy = input.policy.tiers[input.tier];
  const layout = shardLayout(input.jobs, policy.maxConcurrency);
  const budget = continueAsNewAfterEvents(input.continueAsNewAfterEvents);
  const c: TierCarried = input.carried ?? {
    shardCounts: Array.from({ length: layout.shards }, (_, k) => ({ ...zero(), planned: layout.jobsOf(k) })),
    started: [], done: [], dispatched: [], toldDispatched: false, runs: 0,
  };
  const shardCounts = c.shardCounts.map((x) => ({ ...x }));
  const started = new Set(c.started);
  const done = new Set(c.done);
  const dispatched = new Set(c.dispatched);
  const adopted = c.started.filter((k) => !done.has(k));
  /** Workflow time (ms) of each adopted shard's latest progress signal to this run. */
  const heardAt = new Map<number, number>();
  const control = { paused: input.paused, aborted: input.aborted, abortedBy: input.abortedBy };
  let abortMessage = c.abortMessage;
  let toldDispatched = c.toldDispatched;
  /** Why the tier fails: a shard's failure, a lost shard, a signal that failed. */
  let failure: unknown;
  let inFlight = 0;
  const shardHandle = (k: number) => getExternalWorkflowHandle(shardWorkflowId(input.evacuationId, input.tier, k));
  const open = (): number[] => [...started].filter((k) => !done.has(k));
  const allDone = (): boolean => done.size === layout.shards;
  const inForce = (): ControlMessage => abortMessage ?? { action: control.paused ? 'pause' : 'resume', by: 'tier' };
  const finishShard = (k: number, counts: TierCounts): void => {
    shardCounts[k] = counts;
    done.add(k);
    dispatched.add(k);
  };
  /** Track `p` so that no run hands over with a signal of its own still in flight. */
  const tracked = async (p: Promise<void>): Promise<void> => {
    inFlight++;
    try {
      await p;
    } finally {
      inFlight--;
    }
  };

  setHandler(shardProgressSignal, ({ shard, counts, dispatched: all, done: last }) => {
    heardAt.set(shard, Date.now());
    if (done.has(shard)) return;
    if (last && settled(counts)) finishShard(shard, counts);
    else {
      shardCounts[shard] = counts;
      if (all) dispatched.add(shard);
    }
  });
  setHandler(tierCountsQuery, () => ({ ...sum(shardCounts), cursor: dispatched.size, paused: control.paused, aborted: control.aborted }));
  // Control is applied here and passed on to every open shard by workflow id (its current run);
  // a shard still starting gets the control in force right after it starts.
  setHandler(tierControlSignal, async (msg) => {
    if (msg.action === 'pause') control.paused = true;
    if (msg.action === 'resume') control.paused = false;
    if (msg.action === 'abort') {
      control.aborted = true;
      control.abortedBy = `${msg.by}${msg.reason ? `: ${msg.reason}` : ''}`;
      abortMessage = { action: 'abort', by: msg.by, ...(msg.reason ? { reason: msg.reason } : {}) };
    }
    await Promise.all(open().map((k) => sendControl(shardHandle(k), msg)));
  });

  const parent = workflowInfo().parent;
  /** Tell the evacuation once every job of the tier is dispatched (a lower tier may then borrow idle slots). */
  const telling = (async () => {
    if (toldDispatched || !parent) return;
    await condition(() => dispatched.size === layout.shards);
    toldDispatched = true;
    await tracked(getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(tierDispatchedSignal, { tier: input.tier }).catch((err: unknown) => {
      if (!targetClosed(err)) throw err;
    }));
  })().catch((err: unknown) => { failure ??= err; });

  /** Run until every shard is done (`done`) or the history is full (`continue`). */
  const run = async (): Promise<'done' | 'continue'> => {
    await Promise.all(layout.shards > started.size ? Array.from({ length: layout.shards }, (_, k) => k).filter((k) => !started.has(k)).map(async (k) => {
      const startedWith = { ...control };
      const handle = await startChild(evacuateTierShard, {
        workflowId: shardWorkflowId(input.evacuationId, input.tier, k),
        // ABANDON: a run that continues as new closes; its shards must run on (see the file's doc).
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowTaskTimeout: SHARD_TASK_TIMEOUT,
        typedSearchAttributes: searchAttributesOf({ kind: 'shard', run: input.evacuationId, tier: input.tier, mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz }),
        staticSummary: shardSummary({ ...input, shard: k, shards: layout.shards, jobs: layout.jobsOf(k), slots: layout.slotsOf(k) }),
        args: [shardInput(input, layout, k, control)],
      });
      started.add(k);
      if (control.aborted && !startedWith.aborted && abortMessage) await sendControl(handle, abortMessage);
      else if (control.paused !== startedWith.paused) await sendControl(handle, inForce());
      // This run sees its own shards close, failures included.
      void handle.result().then((counts) => finishShard(k, counts), (err: unknown) => { failure ??= err; });
    }) : []);
    // patched: tier runs recorded before TIER_WATCH_DESCRIBES replay their signalling watch.
    if (adopted.length > 0) void (patched(TIER_WATCH_DESCRIBES) ? watch() : watchBySignals()).catch((err: unknown) => { failure ??= err; });
    await condition(() => allDone() || failure !== undefined || historyFull(workflowInfo().historyLength, workflowInfo().continueAsNewSuggested, budget));
    if (failure !== undefined) throw failure;
    if (allDone()) return 'done';
    // Hand over once nothing of this run is in flight (signals, handlers); a handover
    // never loses a control message: it is applied to the state carried.
    await condition(() => inFlight === 0 || allDone());
    await condition(allHandlersFinished);
    return allDone() ? 'done' : 'continue';
  };

  const lostShard = (k: number) => ApplicationFailure.create({ type: 'ShardLost', nonRetryable: true, message: `shard ${k + 1}/${layout.shards} of tier ${input.tier} closed without reporting its counters (terminated by hand?); its jobs' outcomes are in the outcome store` });

  /**
   * Every WATCH_EVERY_MS, ask which adopted shards not heard from since the last look have
   * closed; one closed and not done never reported: the tier fails (ShardLost). A shard's last
   * progress signal precedes its close in this history, so the activity's answer, later in it,
   * is seen after that signal: a shard that finished is done by then.
   */
  const watch = async (): Promise<void> => {
    let lookedAt = Date.now();
    while (!allDone() && failure === undefined) {
      if (await condition(allDone, WATCH_EVERY_MS)) return;
      const since = lookedAt;
      lookedAt = Date.now();
      const silent = adopted.filter((k) => !done.has(k) && (heardAt.get(k) ?? -Infinity) < since);
      if (silent.length === 0) continue;
      let closed: string[];
      try {
        closed = await watchActs.closedWorkflows.executeWithOptions(
          { summary: `is any of ${silent.length} adopted shard(s) of tier ${input.tier} closed?` },
          [silent.map((k) => shardWorkflowId(input.evacuationId, input.tier, k))],
        );
      } catch (err) {
        if (isCancellation(err)) throw err;
        continue;
      }
      for (const k of silent) {
        if (!done.has(k) && closed.includes(shardWorkflowId(input.evacuationId, input.tier, k))) failure ??= lostShard(k);
      }
    }
  };

  /** Before TIER_WATCH_DESCRIBES (replay only): re-send the control in force to the adopted shards still open; one that closed without reporting is lost. */
  const watchBySignals = async (): Promise<void> => {
    while (!allDone() && failure === undefined) {
      if (await condition(allDone, WATCH_EVERY_MS)) return;
      await tracked(Promise.all(adopted.filter((k) => !done.has(k)).map(async (k) => {
        try {
          await shardHandle(k).signal(tierControlSignal, inForce());
        } catch (err) {
          if (!targetClosed(err)) throw err;
          // Its last progress signal precedes its close in this history: a shard closed and not done never reported.
          if (!done.has(k)) failure ??= lostShard(k);
        }
      })).then(() => undefined));
    }
  };

  let outcome: 'done' | 'continue';
  try {
    outcome = await run();
  } catch (err) {
    // Shards are ABANDON children: a tier that fails or is cancelled cancels its open shards
    // itself. A shard that has closed meanwhile needs no cancel; the tier's own error is reported.
    await CancellationScope.nonCancellable(() => Promise.all(open().map((k) => shardHandle(k).cancel().catch(() => undefined))));
    throw err;
  }
  if (outcome === 'continue') {
    const carried: TierCarried = {
      shardCounts, started: [...started], done: [...done], dispatched: [...dispatched], toldDispatched,
      ...(abortMessage ? { abortMessage } : {}), runs: c.runs + 1,
    };
    return continueAsNew<typeof evacuateTier>({ ...input, ...control, carried });
  }
  await telling;
  if (failure !== undefined) throw failure;
  return sum(shardCounts);
}

/** The input of shard `k`, with the control in force when it starts. */
function shardInput(input: TierInput, layout: ReturnType<typeof shardLayout>, k: number, control: { paused: boolean; aborted: boolean; abortedBy?: string }): ShardInput {
  const policy = input.policy.tiers[input.tier];
  return {
    evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), tier: input.tier, sourceAz: input.sourceAz, targetAz: input.targetAz,
    mode: input.mode, preload: input.preload, shard: k, shards: layout.shards, jobs: layout.jobsOf(k),
    slots: layout.slotsOf(k), startupTimeoutSeconds: policy.startupTimeoutSeconds,
    ...(input.policy.heartbeatTimeoutSeconds ? { heartbeatTimeoutSeconds: input.policy.heartbeatTimeoutSeconds } : {}),
    ...(input.continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: input.continueAsNewAfterEvents } : {}),
    cursor: 0, counts: { ...zero(), planned: layout.jobsOf(k) }, paused: control.paused, aborted: control.aborted,
    ...(control.abortedBy ? { abortedBy: control.abortedBy } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Replay only: tier runs recorded before BOUNDED_HISTORIES (one run, shards with
// REQUEST_CANCEL, live counters signalled to the evacuation every REPORT_EVERY_MS).

/** Longest gap between progress signals to the evacuation, ms. */
const REPORT_EVERY_MS = 1000;

/** evacuateTier as it ran before BOUNDED_HISTORIES (replay of histories recorded then). */
async function evacuateTierUnbounded(input: TierInput): Promise<TierCounts> {
  const policy = input.policy.tiers[input.tier];
  const layout = shardLayout(input.jobs, policy.maxConcurrency);
  const shardCounts: TierCounts[] = Array.from({ length: layout.shards }, (_, k) => ({ ...zero(), planned: layout.jobsOf(k) }));
  const dispatched = new Set<number>();
  const control = { paused: input.paused, aborted: input.aborted, abortedBy: input.abortedBy };
  const parent = workflowInfo().parent;
  const parentHandle = parent ? getExternalWorkflowHandle(parent.workflowId, parent.runId) : undefined;
  const total = (): TierCounts => sum(shardCounts);

  let toldDispatched = false;
  const allDispatched = (): boolean => dispatched.size === layout.shards;
  const progress = new ProgressReporter(async (final) => {
    if (!parentHandle) return;
    await parentHandle.signal(tierProgressSignal, { tier: input.tier, counts: total(), done: final });
    if (!toldDispatched && allDispatched()) {
      toldDispatched = true;
      await parentHandle.signal(tierDispatchedSignal, { tier: input.tier });
    }
  }, REPORT_EVERY_MS, allDispatched);

  setHandler(shardProgressSignal, ({ shard, counts, dispatched: all }) => {
    shardCounts[shard] = counts;
    if (all) dispatched.add(shard);
    progress.touch();
  });
  setHandler(tierCountsQuery, () => ({ ...total(), cursor: dispatched.size, paused: control.paused, aborted: control.aborted }));
  // Control reaches a shard through its handle once it has started; a message accepted
  // before then is not lost: every shard gets the latest one right after it starts.
  const handles: Array<ChildWorkflowHandle<typeof evacuateTierShard> | undefined> = [];
  let abortMessage: ControlMessage | undefined;
  setHandler(tierControlSignal, (msg) => {
    if (msg.action === 'pause') control.paused = true;
    if (msg.action === 'resume') control.paused = false;
    if (msg.action === 'abort') {
      control.aborted = true;
      control.abortedBy = `${msg.by}${msg.reason ? `: ${msg.reason}` : ''}`;
      abortMessage = msg;
    }
    for (const handle of handles) if (handle) void sendControl(handle, msg);
  });

  const results = Array.from({ length: layout.shards }, async (_, k) => {
    const startedWith = { ...control };
    const handle = await startChild(evacuateTierShard, {
      workflowId: shardWorkflowId(input.evacuationId, input.tier, k),
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: searchAttributesOf({ kind: 'shard', run: input.evacuationId, tier: input.tier, mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz }),
      staticSummary: shardSummary({ ...input, shard: k, shards: layout.shards, jobs: layout.jobsOf(k), slots: layout.slotsOf(k) }),
      args: [shardInput(input, layout, k, control)],
    });
    handles[k] = handle;
    if (control.aborted && !startedWith.aborted && abortMessage) await handle.signal(tierControlSignal, abortMessage);
    else if (control.paused !== startedWith.paused) await handle.signal(tierControlSignal, { action: control.paused ? 'pause' : 'resume', by: 'tier' });
    shardCounts[k] = await handle.result();
    dispatched.add(k);
    progress.touch();
  });
  await Promise.all(results);
  await progress.finish();
  return total();
}

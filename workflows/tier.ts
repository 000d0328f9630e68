/**
 * Tier workflow: splits the tier's admitted jobs into shards (domain/evacuation.ts
 * shardLayout), starts one shard workflow each with its share of the tier's
 * `maxConcurrency`, sums their progress for the evacuation, tells the evacuation once
 * every job of the tier is dispatched (so a lower tier may borrow idle slots), and passes
 * pause / resume / abort down to the shards.
 */
import {
  ParentClosePolicy,
  startChild,
  type ChildWorkflowHandle,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { shardLayout, shardWorkflowId, type TierCounts, type TierInput } from '../domain/evacuation.js';
import { shardProgressSignal, tierControlSignal, tierCountsQuery, tierDispatchedSignal, tierProgressSignal, type ControlMessage } from './messages.js';
import { ProgressReporter } from './progress-reporter.js';
import { sendControl } from './control-signal.js';
import { evacuateTierShard } from './tier-shard.js';
import { searchAttributesOf } from './search-attributes.js';
import { shardSummary } from '../domain/run-summary.js';

/** Longest gap between progress signals to the evacuation, ms. */
const REPORT_EVERY_MS = 1000;

const zero = (): TierCounts => ({ planned: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 });

/**
 * Evacuate every admitted job of one tier through its shards.
 * @returns final counters: succeeded + failed + skipped = planned
 */
export async function evacuateTier(input: TierInput): Promise<TierCounts> {
  const policy = input.policy.tiers[input.tier];
  const layout = shardLayout(input.jobs, policy.maxConcurrency);
  const shardCounts: TierCounts[] = Array.from({ length: layout.shards }, (_, k) => ({ ...zero(), planned: layout.jobsOf(k) }));
  const dispatched = new Set<number>();
  const control = { paused: input.paused, aborted: input.aborted, abortedBy: input.abortedBy };
  const parent = workflowInfo().parent;
  const parentHandle = parent ? getExternalWorkflowHandle(parent.workflowId, parent.runId) : undefined;
  const total = (): TierCounts => shardCounts.reduce((a, c) => ({
    planned: a.planned + c.planned, running: a.running + c.running, succeeded: a.succeeded + c.succeeded,
    failed: a.failed + c.failed, skipped: a.skipped + c.skipped,
  }), zero());

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
      args: [{
        evacuationId: input.evacuationId, ...(input.runId ? { runId: input.runId } : {}), tier: input.tier, sourceAz: input.sourceAz, targetAz: input.targetAz,
        mode: input.mode, preload: input.preload, shard: k, shards: layout.shards, jobs: layout.jobsOf(k),
        slots: layout.slotsOf(k), startupTimeoutSeconds: policy.startupTimeoutSeconds,
        ...(input.policy.heartbeatTimeoutSeconds ? { heartbeatTimeoutSeconds: input.policy.heartbeatTimeoutSeconds } : {}),
        cursor: 0, counts: { ...zero(), planned: layout.jobsOf(k) }, paused: control.paused, aborted: control.aborted,
        ...(control.abortedBy ? { abortedBy: control.abortedBy } : {}),
      }],
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

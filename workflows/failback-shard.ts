/**
 * failbackShard: one shard of a failback (workflows/failback.ts): moves its jobs back into
 * their source AZ, one failbackJob activity per job in a sliding window of its slots, and
 * returns a tally (domain/failback-tally.ts), never per-job results. It continues as new once
 * its history reaches its budget (domain/history-budget.ts) or the server suggests it: it
 * stops taking jobs, lets the ones in flight finish (an activity's result must not be lost),
 * and hands over the keys left and the tally so far. So neither it nor the failback grows
 * with the job count (docs/temporal.md#bounded-histories).
 */
import { ActivityFailure, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { RunRef } from '../domain/evacuation.js';
import { addResult, emptyTally, type FailbackTally } from '../domain/failback-tally.js';
import { continueAsNewAfterEvents, historyFull } from '../domain/history-budget.js';

type Activities = ReturnType<typeof createActivities>;

const retry = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 };
/** Failback of a job waits for savepoints to replicate and the job to start: long, heartbeating. */
const slow = proxyActivities<Activities>({ startToCloseTimeout: '30m', heartbeatTimeout: '2m', retry });

/** Input of a failback shard (also its continue-as-new state). */
export interface FailbackShardInput {
  /** The evacuation run failed back. */
  run: RunRef;
  /** Keys of the jobs still to move back, in order. */
  keys: string[];
  /** Jobs moved back at once. */
  slots: number;
  /** Wall seconds a source copy may take to run again (absent: the failbackJob default). */
  startupTimeoutSeconds?: number;
  /** Who asked for the failback: written on every source copy it restores. */
  requestedBy?: string;
  /** A real evacuation's failback (not a drill's): a move back that cannot finish is taken back. */
  real: boolean;
  /** History events after which it continues as new (absent: the default). */
  continueAsNewAfterEvents?: number;
  /** What the runs before this one did (absent in the first run). */
  sofar?: FailbackTally;
}

/**
 * Move `input.keys` back. A job whose failback fails after retries is in `failed` with the
 * reason; the others go on.
 * @returns the tally of every run of this shard
 * @throws what is not an activity failure (an engine fault)
 */
export async function failbackShard(input: FailbackShardInput): Promise<FailbackTally> {
  const budget = continueAsNewAfterEvents(input.continueAsNewAfterEvents);
  const tally = input.sofar ?? emptyTally();
  const full = (): boolean => historyFull(workflowInfo().historyLength, workflowInfo().continueAsNewSuggested, budget);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < input.keys.length && !full()) {
      const key = input.keys[next++]!;
      try {
        addResult(tally, await slow.failbackJob.executeWithOptions({ summary: `move ${key} back into its source AZ` }, [{
          ...input.run, key, startupTimeoutSeconds: input.startupTimeoutSeconds,
          ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}), ...(input.real ? { drill: false } : {}),
        }]));
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        tally.failed.push({ key, reason: err.cause?.message ?? err.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, input.slots), input.keys.length) }, lane));
  if (next < input.keys.length) return continueAsNew<typeof failbackShard>({ ...input, keys: input.keys.slice(next), sofar: tally });
  return tally;
}

/**
 * azHold: the hold one evacuation or drill has on one AZ (domain/az-hold.ts), a child
 * workflow with the fixed id `az-evac-hold/<taskQueue>/<az>` that runs until its holder releases it.
 * Temporal runs at most one execution per workflow id, so the start of a second holder fails
 * with WorkflowExecutionAlreadyStarted however close the two starts are. Its parent close
 * policy is TERMINATE: a holder that fails, is terminated or times out lets go of its AZs
 * without running any code of its own (the server closes the child).
 *
 * A refused taker asks the running hold who holds it (whoHoldsSignal); the hold answers with
 * a signal back (azHeldBySignal), so the refusal names the running evacuation or drill
 * without a Temporal client in the workflow. The holder is also in the hold's memo, for the
 * client's check before a start (client/az-holds.ts).
 */
import {
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { azBusyMessage, azHoldWorkflowId, azsToHold, type AzHolder } from '../domain/az-hold.js';
import { drillEvacuationId } from '../domain/drill.js';
import { targetClosed } from './control-signal.js';
import { searchAttributesOf } from './search-attributes.js';

/** Release the hold (its holder has ended). */
export const releaseAzHoldSignal = defineSignal('azHoldRelease');
/** Ask the hold who holds it; it answers with azHeldBySignal to `replyTo`. */
export const whoHoldsSignal = defineSignal<[{ replyTo: string }]>('azHoldWhoHolds');
/** A hold's answer: the AZ, its holder, and whether the holder has released it (the hold is closing). */
export const azHeldBySignal = defineSignal<[{ az: string; holder: AzHolder; released?: boolean }]>('azHeldBy');

/** Input of one hold. */
export interface AzHoldInput {
  az: string;
  holder: AzHolder;
}

/** Hold `az` for `holder` until released (or until the holder closes: parent close policy TERMINATE). */
export async function azHold({ az, holder }: AzHoldInput): Promise<void> {
  let released = false;
  setHandler(releaseAzHoldSignal, () => { released = true; });
  setHandler(whoHoldsSignal, async ({ replyTo }) => {
    // An asker that has closed meanwhile needs no answer.
    await getExternalWorkflowHandle(replyTo).signal(azHeldBySignal, { az, holder, released }).catch((err: unknown) => {
      if (!targetClosed(err)) throw err;
    });
  });
  await condition(() => released);
  await condition(allHandlersFinished);
}

/** The holds one evacuation or drill took, or why it may not run. */
export interface AzHolds {
  /** Holds taken (released by releaseAzHolds). */
  taken: ChildWorkflowHandle<typeof azHold>[];
  /** Set when the start is refused: the text names the holder and the fix. Nothing is held then. */
  refusal?: string;
  /** Holders run beside with an emergency's override, each once. */
  overridden: AzHolder[];
}

/** How long a refused taker waits for the running hold to say who holds it, milliseconds. */
const ANSWER_TIMEOUT_MS = 30_000;
/**
 * Attempts per AZ. A hold can be closing when a taker finds it: released by its holder, or
 * held by an earlier run of the taker's own workflow id (which has closed, since one id runs
 * once at a time, and whose hold the server is terminating). Such a hold is tried again after
 * RETRY_MS; any other is refused at once.
 */
const ATTEMPTS = 30;
/** Wait between two attempts on a closing hold, milliseconds. */
const RETRY_MS = 1_000;

/**
 * Take the hold of every AZ `holder` touches (source and target, in sorted order). When one is
 * held by another evacuation or drill: with `override` (an emergency only, domain
 * mayOverrideHold) run beside it and say so in `overridden`; else release what was taken and
 * return the refusal. Call once per workflow run, at its start.
 * @param taskQueue the deployment's task queue, from the workflow's input (the same on replay)
 */
export async function takeAzHolds(holder: AzHolder, override: boolean, taskQueue = workflowInfo().taskQueue): Promise<AzHolds> {
  const answers = new Map<string, { holder: AzHolder; released?: boolean }>();
  setHandler(azHeldBySignal, ({ az, ...answer }) => { answers.set(az, answer); });
  const holds: AzHolds = { taken: [], overridden: [] };
  for (const az of azsToHold(holder)) {
    const workflowId = azHoldWorkflowId(taskQueue, az);
    for (let attempt = 1; ; attempt++) {
      try {
        holds.taken.push(await startChild(azHold, {
          workflowId, parentClosePolicy: ParentClosePolicy.TERMINATE, args: [{ az, holder }], memo: { holder },
          typedSearchAttributes: searchAttributesOf({
            kind: 'az-hold', run: holder.kind === 'drill' ? drillEvacuationId(holder.workflowId) : holder.workflowId,
            mode: holder.mode, sourceAz: holder.sourceAz, targetAz: holder.targetAz,
          }),
          staticSummary: `hold ${az} for ${holder.kind} ${holder.workflowId} (${holder.mode}, ${holder.sourceAz} → ${holder.targetAz})`,
        }));
        break;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      answers.delete(az);
      const asked = await getExternalWorkflowHandle(workflowId).signal(whoHoldsSignal, { replyTo: workflowInfo().workflowId })
        .then(() => true, (err: unknown) => {
          if (!targetClosed(err)) throw err;
          return false;
        });
      if (!asked && attempt < ATTEMPTS) continue; // closed meanwhile: take it now
      if (asked) await condition(() => answers.has(az), ANSWER_TIMEOUT_MS);
      const answer = answers.get(az);
      const closing = answer && (answer.released || answer.holder.workflowId === workflowInfo().workflowId);
      if (closing && attempt < ATTEMPTS) {
        await sleep(RETRY_MS);
        continue;
      }
      const running = answer?.holder;
      if (override) {
        if (running && !holds.overridden.some((h) => h.workflowId === running.workflowId)) holds.overridden.push(running);
        break;
      }
      await releaseAzHolds(holds);
      return { taken: [], overridden: [], refusal: azBusyMessage(holder, az, running, workflowId) };
    }
  }
  return holds;
}

/** Where a holder keeps the holds it takes, for withAzHolds to let go of. */
export interface HeldAzs {
  holds?: AzHolds;
}

/**
 * Run `body` and let go of the AZ holds it put in `held` on every way out (its result, a thrown
 * refusal or failure, a cancellation); the holds' parent close policy (TERMINATE) is the
 * backstop for a holder that is terminated or times out.
 */
export async function withAzHolds<T>(body: (held: HeldAzs) => Promise<T>): Promise<T> {
  const held: HeldAzs = {};
  try {
    return await body(held);
  } finally {
    await releaseAzHolds(held.holds);
  }
}

/**
 * Let go of the holds taken (each hold workflow completes). A hold already closed is skipped.
 * Not cancellable: a cancelled holder still lets go on its way out.
 */
export async function releaseAzHolds(holds: AzHolds | undefined): Promise<void> {
  const taken = holds?.taken ?? [];
  if (holds) holds.taken = [];
  await CancellationScope.nonCancellable(() => Promise.all(taken.map((h) => h.signal(releaseAzHoldSignal).catch((err: unknown) => {
    if (!targetClosed(err)) throw err;
  }))));
}

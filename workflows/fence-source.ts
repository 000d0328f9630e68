/**
 * Fencing follow-up of an evacuation (guarantee 2): while fences are open — pending (source
 * copies whose AZ did not answer when their target copy started) or requested but not yet
 * seen stopped — run a fencing pass every `intervalSeconds`; each pass suspends the pending
 * copies whose AZ answers again and looks again at the requested ones. Started by evacuateAz
 * with an ABANDON parent-close policy, so it outlives the evacuation while the source AZ
 * stays away: right after planning in an emergency, at the end in other modes when fences are
 * left open. It ends once the evacuation has sealed it (no new fence record can appear) and
 * none is open.
 * Continues-as-new when Temporal suggests it (an outage may last days). Each pass records
 * counts only (FencePassCounts), the key lists once at the end, for its result: with every
 * open fence's key, passes were 600 KB each at 20,000 jobs (docs/benchmarks.md).
 */
import { condition, continueAsNew, defineSignal, patched, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { searchAttributesOf } from './search-attributes.js';
import { recordsKey, type FencePassResult, type FenceSourceInput } from '../domain/evacuation.js';

type Activities = ReturnType<typeof createActivities>;

const { fencePending, fencePassCounts } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * Patch of the follow-up whose passes answer in counts (FencePassCounts) and which reads the key
 * lists once, for its result; runs recorded before it replay a full FencePassResult every pass.
 */
export const FENCE_PASS_COUNTS = 'fence-pass-counts';

/** Evacuation → fencing follow-up: the evacuation has ended, no new pending fence will appear. */
export const sealFencesSignal = defineSignal('sealFences');

/**
 * Fence the source copies of `input.evacuationId` that could not be fenced in time.
 * @returns the last pass: every fence done (pending empty)
 */
export async function fenceSourceAz(input: FenceSourceInput): Promise<FencePassResult> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'fencing', run: input.evacuationId, sourceAz: input.sourceAz }));
  let sealed = input.sealed;
  setHandler(sealFencesSignal, () => { sealed = true; });
  const summary = `fence pass: suspend ${input.sourceAz}'s pending source copies of ${input.evacuationId} if it answers`;
  for (;;) {
    if (patched(FENCE_PASS_COUNTS)) {
      const counts = await fencePassCounts.executeWithOptions({ summary }, [recordsKey(input)]);
      if (sealed && counts.pending === 0 && counts.notObserved === 0) {
        // Done: one pass with the key lists, for the result (nothing is open, so it lists the fenced).
        const last = await fencePending.executeWithOptions({ summary: `fence pass: list ${input.sourceAz}'s fences of ${input.evacuationId}` }, [recordsKey(input)]);
        if (last.pending.length === 0 && last.notObserved.length === 0) return last;
      }
    } else {
      const pass = await fencePending.executeWithOptions({ summary }, [recordsKey(input)]);
      // notObserved is absent from passes recorded before fences were observed (replay).
      if (sealed && pass.pending.length === 0 && (pass.notObserved?.length ?? 0) === 0) return pass;
    }
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof fenceSourceAz>({ ...input, sealed });
    // Wake early when sealed: the evacuation's own last pass may have left nothing to do.
    const wasSealed = sealed;
    await condition(() => sealed !== wasSealed, `${input.intervalSeconds}s`);
  }
}

/**
 * History budget of the long-lived workflows that continue as new (the tier workflow): after
 * how many history events a run hands over to a fresh one. Pure: no I/O.
 *
 * Temporal warns at 10,240 events and terminates an execution at 51,200 events (server
 * defaults, docs.temporal.io/workflow-execution/limits, see docs/design.md#temporal-limits);
 * `workflowInfo().continueAsNewSuggested` turns true near the warning. A run continues as new
 * at the default budget below, well under the warning, so a run never sees it whatever the
 * job count; tests set a small budget to force several continue-as-new cycles.
 */

/** History events after which a run continues as new, by default. */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 4_000;

/** Smallest budget accepted: a run must be able to do some work before it hands over. */
export const MIN_CONTINUE_AS_NEW_AFTER_EVENTS = 20;

/** Largest budget accepted: Temporal's 10,240-event warning. */
export const MAX_CONTINUE_AS_NEW_AFTER_EVENTS = 10_240;

/**
 * The budget to use, `requested` or the default.
 * @param requested history events (integer, MIN…MAX above), absent: the default
 * @throws Error naming the value and the fix when it is not an integer in range
 */
export function continueAsNewAfterEvents(requested: number | undefined): number {
  if (requested === undefined) return DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  if (!Number.isInteger(requested) || requested < MIN_CONTINUE_AS_NEW_AFTER_EVENTS || requested > MAX_CONTINUE_AS_NEW_AFTER_EVENTS) {
    throw new Error(`continueAsNewAfterEvents = ${String(requested)} is not an integer from ${MIN_CONTINUE_AS_NEW_AFTER_EVENTS} to ${MAX_CONTINUE_AS_NEW_AFTER_EVENTS}. Fix: leave it out (default ${DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS}) or give an integer in that range`);
  }
  return requested;
}

/**
 * Whether a run should continue as new now.
 * @param historyLength events in the run's history so far (workflowInfo().historyLength)
 * @param suggested the server's continue-as-new suggestion (workflowInfo().continueAsNewSuggested)
 * @param budget history events (continueAsNewAfterEvents)
 */
export function historyFull(historyLength: number, suggested: boolean, budget: number): boolean {
  return suggested || historyLength >= budget;
}

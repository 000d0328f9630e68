/**
 * Runs whose outcome is a failure close as Failed: a failed or aborted evacuation, a failed
 * job, a drill that did not pass end their workflow with a non-retryable ApplicationFailure
 * whose type says which (OUTCOME_FAILURE_TYPES), whose message holds the counts
 * (domain/outcome-message.ts) and whose first detail is the run's full result, the same value a
 * completed run returns. So the Temporal UI and `ExecutionStatus = 'Failed'` show them as
 * failures, and every reader of results still gets the result (`settledResult`).
 *
 * Used by workflows (to close) and clients (to read): imports only @temporalio/common.
 * Source: ApplicationFailure (details, nonRetryable), WorkflowFailedError and
 * ChildWorkflowFailure carry it as their `cause`, https://docs.temporal.io/references/failures.
 */
import { ApplicationFailure } from '@temporalio/common';

/** Failure types of runs whose outcome is a failure. */
export const OUTCOME_FAILURE_TYPES = ['EvacuationFailed', 'EvacuationAborted', 'JobFailed', 'DrillFailed', 'DrillAborted', 'DrillRejected'] as const;
export type OutcomeFailureType = (typeof OUTCOME_FAILURE_TYPES)[number];

/** Patch id of the change: runs recorded before it completed with a failed outcome and replay so. */
export const FAILURES_CLOSE_AS_FAILURES = 'failures-close-as-failures';

/**
 * The failure a run with a failed outcome closes with (throw it from the workflow).
 * @param result the run's result, kept as the failure's only detail
 */
export function outcomeFailure<T>(type: OutcomeFailureType, message: string, result: T): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: [result] });
}

/**
 * The result a run closed with inside its outcome failure: the first detail of an
 * ApplicationFailure of an OUTCOME_FAILURE_TYPES type found along `err`'s cause chain
 * (WorkflowFailedError → ApplicationFailure; ChildWorkflowFailure → ApplicationFailure).
 * @returns undefined for any other error
 */
export function resultInFailure<T>(err: unknown): T | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure && (OUTCOME_FAILURE_TYPES as readonly string[]).includes(e.type ?? '') && e.details?.length) return e.details[0] as T;
  }
  return undefined;
}

/**
 * A run's result whether it completed or closed with an outcome failure.
 * @throws whatever `result` throws otherwise (a terminated, cancelled or otherwise failed run)
 */
export async function settledResult<T>(result: Promise<T>): Promise<T> {
  try {
    return await result;
  } catch (err) {
    const inside = resultInFailure<T>(err);
    if (inside === undefined) throw err;
    return inside;
  }
}

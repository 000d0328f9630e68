/**
 * Temporal client errors as console answers: an unknown workflow is a 404 naming it, an
 * Update (or other control) its validator rejected is a 409 with the validator's reason.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { HttpError } from './context.js';

/**
 * @param what what the id names, e.g. `evacuation az-evac-emergency-az-a-to-az-b`
 * @returns an HttpError for those two cases, else `err` unchanged (a 500)
 */
export function httpErrorOf(err: unknown, what: string): unknown {
  if (err instanceof WorkflowNotFoundError) return new HttpError(404, `no ${what}`);
  if (err instanceof Error && / rejected: /.test(err.message)) return new HttpError(409, err.message);
  return err;
}

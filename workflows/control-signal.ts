/**
 * Send a control message (pause, resume, abort) to a child tier or shard workflow. A child
 * that has just closed (its result not yet seen by the parent) has nothing left to
 * control: the server answers ExternalWorkflowExecutionNotFound, which is ignored instead
 * of failing the parent's workflow task (found when a pause from the console arrived just
 * after a shard finished: the evacuation's task failed over and over).
 */
import { ApplicationFailure, type ExternalWorkflowHandle } from '@temporalio/workflow';
import { tierControlSignal, type ControlMessage } from './messages.js';

/**
 * Whether a signal failed only because its target workflow has already closed (the
 * server's ExternalWorkflowExecutionNotFound): there is nothing left to tell it.
 */
export function targetClosed(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'ExternalWorkflowExecutionNotFound';
}

/**
 * Signal `msg` to `handle` (a child's, or an external one by workflow id); resolves also when
 * the workflow has already closed.
 */
export async function sendControl(handle: Pick<ExternalWorkflowHandle, 'signal'>, msg: ControlMessage): Promise<void> {
  try {
    await handle.signal(tierControlSignal, msg);
  } catch (err) {
    if (!targetClosed(err)) throw err;
  }
}

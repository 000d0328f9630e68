/**
 * pollUntil: the activities' wait for a condition the platform offers no watch for (a
 * snapshot replicated to the other AZ, an AZ's API answering again), heartbeating while it
 * waits so a lost worker is noticed within the heartbeat timeout.
 */
import { Context } from '@temporalio/activity';
import { terminal } from './failures.js';

/** Polling interval, ms. */
const POLL_MS = 500;

/**
 * Call `fn` every 500 ms until it returns a value other than undefined, heartbeating `what`.
 * @param timeoutMs wall milliseconds
 * @throws non-retryable 'StartupTimeout' naming `what` after `timeoutMs`
 */
export async function pollUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const activity = Context.current();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw terminal('StartupTimeout', `${what}: not done after ${Math.round(timeoutMs / 1000)}s`);
    activity.heartbeat(what);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

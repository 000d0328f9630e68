/**
 * pollUntil: the activities' wait for a condition the platform offers no watch for (a
 * snapshot replicated to the other AZ, an AZ's API answering again), heartbeating while it
 * waits so a lost worker is noticed within the heartbeat timeout.
 */
import { Context } from '@temporalio/activity';
import { terminal } from './failures.js';

/**
 * Run `fn` inside the current activity, heartbeating `what` every third of the activity's
 * heartbeat timeout (every 20 s when it has none): a live worker's step is never taken for a
 * lost one however long its platform calls take (retries, Retry-After, a hung call), and a
 * dead worker's is retried elsewhere once the heartbeat timeout passes. The first heartbeat
 * goes out after a third of the timeout, so a quick step costs no server write.
 */
export async function heartbeating<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const activity = Context.current();
  const timeoutMs = activity.info.heartbeatTimeoutMs;
  const beat = setInterval(() => activity.heartbeat(what), timeoutMs ? Math.max(500, timeoutMs / 3) : 20_000);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}

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

/**
 * Retry of transient platform failures in place: a 5xx, a 429 or a timeout of one request
 * says little about the next one. Shared by the activities' platformCall
 * (activities/failures.ts) and adapters that must decide within one call whether an AZ
 * answers (the Kubernetes catalog read).
 */
import { PlatformError } from './errors.js';

/**
 * Codes retried in place. A down AZ (`az-down`) and a conflict are left to the caller.
 * `forbidden` too, for these few attempts only (about 4 s), then it is final: a Kubernetes
 * API server that has just (re)started answers 403 until its RBAC informers have synced
 * (kubernetes/kubernetes#121635; seen in the kube fault tests right after a target apiserver
 * came back), while a missing permission still fails with its fix seconds later.
 */
const RETRIED_IN_CALL = new Set<PlatformError['code']>(['unavailable', 'throttled', 'timeout', 'forbidden']);

/** How a call is retried in place: attempts in all, and the back-off (ms) before retry `n` (1-based) without Retry-After. */
export const IN_CALL_RETRY = { attempts: 5, backoffMs: (n: number): number => Math.min(4_000, 250 * 2 ** (n - 1)), maxRetryAfterSeconds: 30 } as const;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The wait before retrying after `err`, ms: its Retry-After (capped at
 * IN_CALL_RETRY.maxRetryAfterSeconds) when the server sent one, else the back-off for retry `n`.
 */
export function retryDelayMs(err: PlatformError, n: number): number {
  if (err.retryAfterSeconds !== undefined) return Math.min(IN_CALL_RETRY.maxRetryAfterSeconds, Math.max(0, err.retryAfterSeconds)) * 1000;
  return IN_CALL_RETRY.backoffMs(n);
}

/**
 * Run `fn`, retrying transient PlatformErrors (503, 429 after its Retry-After, timeouts, and
 * a 403 of an API server whose RBAC caches are still syncing) up to IN_CALL_RETRY.attempts
 * times in all. `fn` must be idempotent.
 * @throws the last PlatformError once attempts are used up, a non-transient one at once; other errors unchanged
 */
export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof PlatformError) || !RETRIED_IN_CALL.has(err.code) || attempt >= IN_CALL_RETRY.attempts) throw err;
      await sleep(retryDelayMs(err, attempt));
    }
  }
}

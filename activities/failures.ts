/**
 * Translate platform errors into Temporal activity failures at the boundary: transient
 * PlatformErrors are first retried in the call (a few times, honouring Retry-After), then
 * rethrown as retryable ApplicationFailures (honouring Retry-After via nextRetryDelay);
 * terminal ones become non-retryable ApplicationFailures with a type.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { PlatformError } from '../platform/errors.js';

/** ApplicationFailure type names az-evac raises (visible in histories and reports). */
export type FailureType =
  | 'NoCatalog' | 'StaleCatalog' | 'InvalidCatalog' | 'UnknownJob' | 'InvalidPolicy' | 'JarMissing' | 'DeploymentFailed' | 'StartupTimeout'
  | 'ManifestRejected' | 'Forbidden' | 'PlatformUnavailable' | 'PlatformTimeout' | 'Conflict' | 'NotFound' | 'NotADrill';

const typeOf: Record<PlatformError['code'], FailureType> = {
  'unavailable': 'PlatformUnavailable', 'throttled': 'PlatformUnavailable', 'az-down': 'PlatformUnavailable',
  'timeout': 'PlatformTimeout', 'conflict': 'Conflict', 'not-found': 'NotFound', 'invalid': 'ManifestRejected',
  'forbidden': 'Forbidden', 'failed': 'DeploymentFailed',
};

/**
 * Codes retried inside one call: a 5xx, a 429 or a timeout of one request says little about
 * the next one. A down AZ (`az-down`) and a conflict are left to the activity's retry policy.
 */
const RETRIED_IN_CALL = new Set<PlatformError['code']>(['unavailable', 'throttled', 'timeout']);

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
 * Run `fn`, retrying transient PlatformErrors (503, 429 after its Retry-After, timeouts) up
 * to IN_CALL_RETRY.attempts times; then map a PlatformError to an ApplicationFailure whose
 * message starts with `what` (the job or jar it concerns). Other errors pass through
 * unchanged (retried by Temporal). `fn` must be idempotent (every port method is).
 */
export async function platformCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err;
      if (RETRIED_IN_CALL.has(err.code) && attempt < IN_CALL_RETRY.attempts) {
        await sleep(retryDelayMs(err, attempt));
        continue;
      }
      throw asFailure(what, err);
    }
  }
}

/** The ApplicationFailure of a PlatformError: retryable ones keep the Retry-After as the next retry delay. */
export function asFailure(what: string, err: PlatformError): ApplicationFailure {
  const message = `${what}: ${err.message}`;
  if (err.retryable) {
    return ApplicationFailure.create({
      message, type: typeOf[err.code], nonRetryable: false,
      nextRetryDelay: err.retryAfterSeconds !== undefined ? `${err.retryAfterSeconds}s` : undefined,
    });
  }
  return ApplicationFailure.nonRetryable(message, typeOf[err.code]);
}

/** A terminal failure of a type, naming the subject. */
export function terminal(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/**
 * Translate platform errors into Temporal activity failures at the boundary: transient
 * PlatformErrors are first retried in the call (a few times, honouring Retry-After), then
 * rethrown as retryable ApplicationFailures (honouring Retry-After via nextRetryDelay);
 * terminal ones become non-retryable ApplicationFailures with a type.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { PlatformError } from '../platform/errors.js';
import { retryTransient } from '../platform/transient-retry.js';

/** ApplicationFailure type names az-evac raises (visible in histories and reports). */
export type FailureType =
  | 'NoCatalog' | 'StaleCatalog' | 'InvalidCatalog' | 'UnknownJob' | 'InvalidPolicy' | 'JarMissing' | 'DeploymentFailed' | 'StartupTimeout'
  | 'ManifestRejected' | 'Forbidden' | 'PlatformUnavailable' | 'PlatformTimeout' | 'Conflict' | 'NotFound' | 'SourceUnhealthy' | 'EvacuationRunning'
  | 'SavepointFailed' | 'SavepointTimeout' | 'ProtectionUnsupported';

const typeOf: Record<PlatformError['code'], FailureType> = {
  'unavailable': 'PlatformUnavailable', 'throttled': 'PlatformUnavailable', 'az-down': 'PlatformUnavailable',
  'timeout': 'PlatformTimeout', 'conflict': 'Conflict', 'not-found': 'NotFound', 'invalid': 'ManifestRejected',
  'forbidden': 'Forbidden', 'failed': 'DeploymentFailed',
};

export { IN_CALL_RETRY, retryDelayMs } from '../platform/transient-retry.js';

/**
 * Run `fn`, retrying transient PlatformErrors in place (platform/transient-retry.ts: 503,
 * 429 after its Retry-After, timeouts, up to IN_CALL_RETRY.attempts times); then map a
 * PlatformError to an ApplicationFailure whose message starts with `what` (the job or jar it
 * concerns). Other errors pass through unchanged (retried by Temporal). `fn` must be
 * idempotent (every port method is).
 */
export async function platformCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await retryTransient(fn);
  } catch (err) {
    if (err instanceof PlatformError) throw asFailure(what, err);
    throw err;
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

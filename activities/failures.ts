/**
 * Translate platform errors into Temporal activity failures at the boundary: retryable
 * PlatformErrors are rethrown as retryable ApplicationFailures (honouring Retry-After via
 * nextRetryDelay), terminal ones as non-retryable ApplicationFailures with a type.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { PlatformError } from '../platform/errors.js';

/** ApplicationFailure type names az-evac raises (visible in histories and reports). */
export type FailureType =
  | 'NoCatalog' | 'InvalidCatalog' | 'UnknownJob' | 'InvalidPolicy' | 'JarMissing' | 'DeploymentFailed' | 'StartupTimeout'
  | 'ManifestRejected' | 'Forbidden' | 'PlatformUnavailable' | 'Conflict' | 'NotFound';

const typeOf: Record<PlatformError['code'], FailureType> = {
  'unavailable': 'PlatformUnavailable', 'throttled': 'PlatformUnavailable', 'az-down': 'PlatformUnavailable',
  'timeout': 'StartupTimeout', 'conflict': 'Conflict', 'not-found': 'NotFound', 'invalid': 'ManifestRejected',
  'forbidden': 'Forbidden', 'failed': 'DeploymentFailed',
};

/**
 * Run `fn`; map a PlatformError to an ApplicationFailure whose message starts with `what`
 * (the job or jar it concerns). Other errors pass through unchanged (retried by Temporal).
 */
export async function platformCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    const message = `${what}: ${err.message}`;
    if (err.retryable) {
      throw ApplicationFailure.create({
        message, type: typeOf[err.code], nonRetryable: false,
        nextRetryDelay: err.retryAfterSeconds !== undefined ? `${err.retryAfterSeconds}s` : undefined,
      });
    }
    throw ApplicationFailure.nonRetryable(message, typeOf[err.code]);
  }
}

/** A terminal failure of a type, naming the subject. */
export function terminal(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

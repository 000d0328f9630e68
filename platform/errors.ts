/**
 * Errors raised by platform adapters (simulator, Kubernetes, S3), classified where they
 * arise: `retryable` errors are transient (5xx, 429, 409, connection refused, timeouts);
 * the rest are terminal (422 schema rejection, 401/403, missing object, bad input).
 */
export type PlatformErrorCode =
  | 'unavailable'
  | 'throttled'
  | 'conflict'
  | 'timeout'
  | 'not-found'
  | 'invalid'
  | 'forbidden'
  | 'failed'
  | 'az-down';

export class PlatformError extends Error {
  override readonly name = 'PlatformError';
  /**
   * @param code machine-readable class of the failure
   * @param message human text naming the resource and, where known, the fix
   * @param retryable true when the same call may succeed later
   * @param retryAfterSeconds server's Retry-After hint, seconds (429/503)
   */
  constructor(
    readonly code: PlatformErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

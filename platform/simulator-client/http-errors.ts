/**
 * PlatformError over HTTP, both ways. The server answers `{ code, message, retryable,
 * retryAfterSeconds? }` with the status below; the client rebuilds the PlatformError from
 * the body (or from the status alone when the body is not ours, e.g. a proxy's 502).
 *
 * | code        | status | retryable |
 * |-------------|--------|-----------|
 * | unavailable | 503    | yes       |
 * | az-down     | 503    | yes (the AZ's API server may come back; callers decide) |
 * | throttled   | 429    | yes, Retry-After |
 * | conflict    | 409    | yes       |
 * | timeout     | 504    | yes       |
 * | not-found   | 404    | no        |
 * | invalid     | 422 (400 from schema validation) | no |
 * | forbidden   | 403    | no        |
 * | failed      | 500    | no        |
 */
import { PlatformError, type PlatformErrorCode } from '../errors.js';

/** Wire body of an error answer. */
export interface ErrorBody {
  code: PlatformErrorCode;
  message: string;
  retryable: boolean;
  retryAfterSeconds?: number;
}

const STATUS: Record<PlatformErrorCode, number> = {
  unavailable: 503,
  'az-down': 503,
  throttled: 429,
  conflict: 409,
  timeout: 504,
  'not-found': 404,
  invalid: 422,
  forbidden: 403,
  failed: 500,
};

const RETRYABLE = new Set<PlatformErrorCode>(['unavailable', 'az-down', 'throttled', 'conflict', 'timeout']);

/** HTTP status of a PlatformError code. */
export function statusOf(code: PlatformErrorCode): number {
  return STATUS[code];
}

/** Wire body of a PlatformError. */
export function errorBody(err: PlatformError): ErrorBody {
  return { code: err.code, message: err.message, retryable: err.retryable, ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}) };
}

function codeOfStatus(status: number): PlatformErrorCode {
  if (status === 429) return 'throttled';
  if (status === 409) return 'conflict';
  if (status === 404) return 'not-found';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 504 || status === 408) return 'timeout';
  if (status === 400 || status === 422) return 'invalid';
  return status >= 500 ? 'unavailable' : 'invalid';
}

/**
 * The PlatformError of an error answer. `what` names the call (e.g. `apply az-b flink-x/job`).
 * `retryAfterHeader` is the Retry-After header (seconds), if any.
 */
export function errorFromResponse(status: number, body: unknown, what: string, retryAfterHeader?: string | null): PlatformError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Partial<ErrorBody>;
  const code = typeof b.code === 'string' && b.code in STATUS ? b.code : codeOfStatus(status);
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  const header = retryAfterHeader != null && retryAfterHeader !== '' ? Number(retryAfterHeader) : undefined;
  const retryAfter = b.retryAfterSeconds ?? (header !== undefined && Number.isFinite(header) ? header : undefined);
  return new PlatformError(code, `${what}: ${message}`, RETRYABLE.has(code), retryAfter);
}

/**
 * The PlatformError of a request that got no answer (undici's request or fetch): connection
 * refused/reset → unavailable naming the error code (e.g. ECONNREFUSED, UND_ERR_SOCKET); abort
 * or timeout → timeout.
 */
export function errorFromRequestFailure(err: unknown, what: string): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return new PlatformError('timeout', `${what}: no answer in time`, true);
  const detail = e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
  return new PlatformError('unavailable', `${what}: simulator unreachable (${detail})`, true);
}

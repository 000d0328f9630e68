/**
 * The one place where S3 failures are classified (terminal or retryable) and retried.
 *
 * Classes, from the AWS SDK v3 error (`name` = the S3 error code, `$metadata.httpStatusCode`)
 * or the Node network error (`code`):
 * - throttling: 503 `SlowDown`, 429, `Throttling*`, `RequestLimitExceeded`, `TooManyRequests`
 *   → PlatformError('throttled', retryable), honouring a `Retry-After` header;
 * - transient: other 5xx, `RequestTimeout`, `InternalError`, connection refused/reset,
 *   socket timeouts (the S3 server restarting) → PlatformError('unavailable', retryable);
 * - missing: 404, `NoSuchKey`, `NoSuchBucket`, `NotFound`, `NoSuchUpload` → 'not-found';
 * - 412 `PreconditionFailed` (the copy source changed while copying) → 'conflict', terminal
 *   for this copy: the caller reports it per jar;
 * - 401/403 (`AccessDenied`, `InvalidAccessKeyId`, `SignatureDoesNotMatch`) → 'forbidden';
 * - anything else (400 `InvalidArgument`, ...) → 'invalid', terminal.
 *
 * `withS3Retry` retries retryable failures with exponential backoff and full jitter (AWS
 * Architecture Blog, "Exponential Backoff And Jitter"); the SDK's own retry is turned off
 * (maxAttempts 1, see clients.ts) so a request is never retried twice over.
 */
import { PlatformError } from '../errors.js';

/** Retry policy of S3 calls. */
export interface S3RetryPolicy {
  /** Attempts per call, ≥ 1 (1 = no retry). */
  maxAttempts: number;
  /** Backoff of the first retry, milliseconds; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  /** Longest backoff, milliseconds. */
  maxDelayMs: number;
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequests', 'TooManyRequestsException', 'RequestThrottled', 'RequestThrottledException']);
const TRANSIENT = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'TimeoutError', 'AbortError']);
const MISSING = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchUpload']);
const FORBIDDEN = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

/**
 * Map any error of an S3 call to a PlatformError naming `what` (e.g. `copy jars/a.jar in
 * az-b`). PlatformErrors pass through unchanged.
 */
export function classifyS3Error(err: unknown, what: string): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const network = networkCode(err);
  const detail = `${what}: ${name || network || 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
  if (THROTTLING.has(name) || status === 429 || (status === 503 && name !== 'ServiceUnavailable')) {
    return new PlatformError('throttled', `${detail}; the S3 server is throttling, retry with backoff`, true, retryAfter(e));
  }
  if (network !== undefined || TRANSIENT.has(name) || (status !== undefined && status >= 500)) {
    return new PlatformError('unavailable', `${detail}; the S3 server is unreachable or failing, retry`, true, retryAfter(e));
  }
  if (MISSING.has(name) || status === 404) return new PlatformError('not-found', detail, false);
  if (name === 'PreconditionFailed' || status === 412) return new PlatformError('conflict', `${detail}; the source object changed or was deleted during the copy`, false);
  if (FORBIDDEN.has(name) || status === 401 || status === 403) {
    return new PlatformError('forbidden', `${detail}; check AZ_EVAC_S3_ACCESS_KEY / AZ_EVAC_S3_SECRET_KEY`, false);
  }
  return new PlatformError('invalid', detail, false);
}

/**
 * Run `call`, retrying retryable failures (see module doc) up to `policy.maxAttempts`.
 * @throws the classified PlatformError of the last attempt
 */
export async function withS3Retry<T>(what: string, policy: S3RetryPolicy, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const failure = classifyS3Error(err, what);
      if (!failure.retryable || attempt >= policy.maxAttempts) throw failure;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const hinted = failure.retryAfterSeconds !== undefined ? Math.min(policy.maxDelayMs, failure.retryAfterSeconds * 1000) : 0;
      await new Promise((r) => setTimeout(r, Math.max(hinted, Math.random() * cap)));
    }
  }
}

/** The Node/undici network error code anywhere in the cause chain, if any. */
function networkCode(err: unknown): string | undefined {
  for (let e = err as SdkErrorShape | undefined, depth = 0; e && depth < 5; e = e.cause as SdkErrorShape | undefined, depth++) {
    if (e.code && NETWORK.has(e.code)) return e.code;
    if (e.name && NETWORK.has(e.name)) return e.name;
  }
  return undefined;
}

/** Retry-After header in seconds, when the server sent one. */
function retryAfter(e: SdkErrorShape): number | undefined {
  const raw = e.$response?.headers?.['retry-after'];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** What every S3 request of az-evac runs under: the adapter-wide concurrency bound and the retry policy. */
export interface S3CallContext {
  /** Runs one S3 request under the adapter-wide concurrency bound. */
  bounded: <T>(call: () => Promise<T>) => Promise<T>;
  retry: S3RetryPolicy;
}

/** One S3 request `fn`, bounded and retried; failures classified, naming `what`. */
export function s3Call<T>(ctx: S3CallContext, what: string, fn: () => Promise<T>): Promise<T> {
  return ctx.bounded(() => withS3Retry(what, ctx.retry, fn));
}

/** `call`'s result, or undefined when it failed with PlatformError('not-found'). */
export async function unlessMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return undefined;
    throw err;
  }
}

/**
 * Classifies failures of Kubernetes API calls into PlatformErrors, where they arise
 * (docs/design.md#idempotent-activities-and-error-classes: transient ones are retried by the activity, terminal ones stop the job):
 *
 * | from the API server / network            | code          | retryable |
 * |------------------------------------------|---------------|-----------|
 * | 409 Conflict (concurrent writer)         | `conflict`    | yes       |
 * | 429 Too Many Requests (Retry-After kept) | `throttled`   | yes       |
 * | 5xx, 504, ECONNREFUSED/RESET, network timeouts | `unavailable` | yes       |
 * | no answer within the request deadline (az-apis.ts) | `az-down` | yes (not in place) |
 * | 422 Invalid (CRD schema, strict fields)  | `invalid`     | no        |
 * | 400 Bad Request                          | `invalid`     | no        |
 * | 401 Unauthorized / 403 Forbidden         | `forbidden`   | no (after a few in-call retries: transient-retry.ts) |
 * | 404 Not Found                            | `not-found`   | no        |
 *
 * Messages name the AZ, the operation and the resource, and keep the API server's own
 * message (Status.message), e.g. the schema path the CRD rejected.
 */
import { ApiException } from '@kubernetes/client-node';
import { PlatformError } from '../errors.js';

/** Network error codes that mean "the API server is not answering (now)". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** The API server's Status.message inside an ApiException body (JSON text), or the raw text. */
export function apiMessage(body: unknown): string | undefined {
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const status = JSON.parse(body) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : body;
  } catch {
    return body;
  }
}

/** The first network error code (`ECONNREFUSED`, ...) on `err` or its cause chain. */
function networkCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && NETWORK_CODES.has(errno)) return errno;
  }
  return undefined;
}

/** Retry-After in seconds (integer form; HTTP-date form converted), or undefined. */
function retryAfterSeconds(headers: Record<string, string> | undefined): number | undefined {
  const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** HTTP status of an ApiException-like error, else undefined. */
export function httpStatusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/**
 * Turn any error of a Kubernetes call into a PlatformError (PlatformErrors pass through).
 * @param az the AZ whose API server was called
 * @param what the operation and resource, e.g. `apply FlinkDeployment flink/orders-enricher`
 */
export function kubeError(az: string, what: string, err: unknown): PlatformError {
  if (err instanceof PlatformError) return err;
  const where = `${az}: ${what}`;
  if (err instanceof ApiException) {
    const code = err.code;
    const msg = apiMessage(err.body) ?? err.message.split('\n')[0];
    if (code === 409) return new PlatformError('conflict', `${where}: conflict (409, a concurrent writer changed it): ${msg}`, true);
    if (code === 429) {
      const after = retryAfterSeconds(err.headers);
      return new PlatformError('throttled', `${where}: throttled by the API server (429${after !== undefined ? `, Retry-After ${after}s` : ''}): ${msg}`, true, after);
    }
    if (code >= 500) return new PlatformError('unavailable', `${where}: API server error ${code}: ${msg}`, true, retryAfterSeconds(err.headers));
    if (code === 422 || code === 400) {
      return new PlatformError('invalid', `${where}: rejected by the API server (${code}): ${msg}. Fix: correct the manifest so it validates against the FlinkDeployment CRD schema`, false);
    }
    if (code === 401 || code === 403) {
      return new PlatformError('forbidden', `${where}: ${code === 401 ? 'unauthorized (401): the credentials of this AZ\'s kubeconfig context were refused' : `forbidden (403): ${msg}`}. Fix: bind the worker's identity to deploy/rbac/az-evac-worker.yaml (or fix its token)`, false);
    }
    if (code === 404) return new PlatformError('not-found', `${where}: not found (404): ${msg}`, false);
    return new PlatformError('invalid', `${where}: unexpected HTTP ${code}: ${msg}`, false);
  }
  const net = networkCode(err);
  if (net !== undefined) return new PlatformError('unavailable', `${where}: API server unreachable (${net})`, true);
  const text = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'TimeoutError') {
    // No answer at all within the deadline: a blackholed AZ. 'az-down' is retryable by the
    // activity but not retried in place (transient-retry.ts), so a catalog read reports the AZ
    // unreachable after one deadline instead of five.
    return new PlatformError('az-down', `${where}: API server unreachable: no answer within the request deadline (AZ_EVAC_KUBE_REQUEST_TIMEOUT_SECONDS): ${text}`, true);
  }
  if (err instanceof Error && err.name === 'AbortError') return new PlatformError('unavailable', `${where}: request aborted: ${text}`, true);
  return new PlatformError('unavailable', `${where}: ${text}`, true);
}

/** Run a Kubernetes call; classify what it throws (see kubeError). */
export async function kubeCall<T>(az: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw kubeError(az, what, err);
  }
}

/**
 * CSRF protection for state-changing requests (every method but GET, HEAD, OPTIONS): the
 * request must carry the custom header `X-AZ-Evac-CSRF: 1` (a cross-site form cannot set
 * it, and a cross-site fetch with it needs a CORS preflight the console never grants), and
 * when the browser names where the request comes from (`Origin`, `Sec-Fetch-Site`) it must
 * be this console's own origin. Pure.
 */

/** The header the page sends on every state-changing request. */
export const CSRF_HEADER = 'x-az-evac-csrf';

/**
 * Why a request fails the CSRF check, or null when it passes.
 * @param headers lower-case request headers
 */
export function csrfProblem(method: string, headers: Record<string, string | string[] | undefined>): string | null {
  if (['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())) return null;
  if (headers[CSRF_HEADER] !== '1') return `missing ${CSRF_HEADER}: 1 header on a ${method} request. Fix: send it (the console page does); cross-site requests are refused`;
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return `malformed Origin header ${JSON.stringify(origin)}`;
    }
    if (host !== headers.host) return `cross-origin request refused: Origin ${origin} is not this console (${String(headers.host)})`;
  } else if (origin === 'null') {
    return 'request from an opaque origin (Origin: null) refused';
  }
  return null;
}

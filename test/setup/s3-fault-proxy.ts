/**
 * A tiny HTTP proxy in front of versitygw that answers some requests itself with S3's
 * `503 SlowDown` throttling error (versitygw has no throttling of its own). A
 * process-boundary mock: tests that use it say so in their name.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

/** A running proxy: its endpoint, how many requests it throttled and forwarded. */
export interface FaultProxy {
  endpoint: string;
  throttled: number;
  forwarded: number;
  close(): Promise<void>;
}

/**
 * Proxy to `target` (`http://127.0.0.1:<port>`); `throttle(req)` true → 503 SlowDown. The
 * Host header is forwarded unchanged, so SigV4 signatures made for the proxy still verify.
 */
export async function startFaultProxy(target: string, throttle: (req: IncomingMessage) => boolean): Promise<FaultProxy> {
  const to = new URL(target);
  const state = { throttled: 0, forwarded: 0 };
  const server: Server = createServer((req, res) => {
    if (throttle(req)) {
      state.throttled++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml', 'retry-after': '0' }).end(SLOW_DOWN);
      return;
    }
    state.forwarded++;
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get throttled() { return state.throttled; },
    get forwarded() { return state.forwarded; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

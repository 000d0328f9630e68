/**
 * A tiny HTTP(S) proxy in front of a real server (versitygw, a kube-apiserver) that answers
 * some requests itself with an injected failure (a throttling or outage response, optionally
 * after a stall) and forwards the rest unchanged, streaming both ways (long watches pass
 * through). A process-boundary mock: tests that use it say so in their name.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A response the proxy sends instead of forwarding. */
export interface InjectedResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** Wall milliseconds to stall before answering (a hung request). */
  delayMs?: number;
}

/** Options of startFaultProxy. */
export interface FaultProxyOptions {
  /** Upstream base URL, `http://host:port` or `https://host:port`. */
  target: string;
  /** PEM CA bundle trusted for an https target (its serving certificate chain). */
  targetCa?: string | Buffer;
  /** Serve TLS with this PEM certificate chain and key instead of plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Per request: a response to answer with, or undefined to forward it. */
  fault(req: IncomingMessage): InjectedResponse | undefined;
}

/** A running proxy: its endpoint, how many requests it answered itself and forwarded. */
export interface FaultProxy {
  /** `http(s)://127.0.0.1:<port>`. */
  endpoint: string;
  faulted: number;
  forwarded: number;
  /** Close the listener and every open connection (in-flight streams end). */
  close(): Promise<void>;
}

/**
 * Start a proxy to `o.target`. Headers, including Host, are forwarded unchanged (SigV4
 * signatures made for the proxy still verify); a client that goes away ends the upstream request.
 */
export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const to = new URL(o.target);
  const state = { faulted: 0, forwarded: 0 };
  const forward = to.protocol === 'https:' ? httpsRequest : httpRequest;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const injected = o.fault(req);
    if (injected) {
      state.faulted++;
      req.resume();
      const answer = (): void => { if (!res.destroyed) res.writeHead(injected.status, { 'content-type': 'application/json', ...injected.headers }).end(injected.body); };
      if (injected.delayMs) {
        const timer = setTimeout(answer, injected.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else answer();
      return;
    }
    state.forwarded++;
    const upstream = forward(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, ...(o.targetCa ? { ca: o.targetCa } : {}) },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.pipe(upstream);
  };
  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handle) : createHttpServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    get faulted() { return state.faulted; },
    get forwarded() { return state.forwarded; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

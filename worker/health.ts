/**
 * The worker's health endpoints, for Kubernetes probes (deploy/helm/az-evac) and any process
 * supervisor: a small HTTP server on AZ_EVAC_WORKER_HEALTH_HOST:AZ_EVAC_WORKER_HEALTH_PORT.
 *  - `GET /healthz` (liveness): 200 while the Worker runs or drains (restarting a draining
 *    worker would cut its in-flight activities short); 503 once it failed or stopped.
 *  - `GET /readyz` (readiness): 200 when the Worker polls its task queue (state RUNNING), its
 *    start-up (catalog sync Schedule) is done and the Temporal frontend answers a
 *    GetSystemInfo within 2 s; 503 with the reason otherwise (also while draining on SIGTERM).
 * Bodies are JSON `{ status, state, reason? }`. Worker states:
 * https://typescript.temporal.io/api/namespaces/worker#state
 *  - `GET /metrics`: az-evac's Prometheus metrics (platform/prometheus-metrics.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import type { Registry } from 'prom-client';

/** Longest wait for the Temporal frontend's answer in a readiness check, ms. */
export const READY_TEMPORAL_TIMEOUT_MS = 2000;

/** One probe answer. */
export interface ProbeResult {
  ok: boolean;
  /** The Worker's state (INITIALIZED, RUNNING, STOPPING, DRAINING, DRAINED, STOPPED, FAILED). */
  state: string;
  /** Why it is not ok. */
  reason?: string;
}

/** What the health server asks. */
export interface Probes {
  live(): ProbeResult;
  ready(): Promise<ProbeResult>;
}

/** A listening health server. */
export interface HealthServer {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Probes of `worker`: live unless FAILED or STOPPED; ready when RUNNING, `started()` says
 * start-up is done, and the worker's Temporal connection answers.
 */
export function workerProbes(worker: Pick<Worker, 'getState' | 'connection'>, started: () => boolean): Probes {
  return {
    live() {
      const state = worker.getState();
      return state === 'FAILED' || state === 'STOPPED' ? { ok: false, state, reason: `worker ${state.toLowerCase()}` } : { ok: true, state };
    },
    async ready() {
      const state = worker.getState();
      if (state !== 'RUNNING') return { ok: false, state, reason: `worker is ${state}, not polling` };
      if (!started()) return { ok: false, state, reason: 'start-up (catalog sync Schedule) not done yet' };
      const connection = worker.connection;
      if (!connection) return { ok: false, state, reason: 'worker has no Temporal connection' };
      try {
        await connection.withDeadline(Date.now() + READY_TEMPORAL_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({}));
        return { ok: true, state };
      } catch (err) {
        return { ok: false, state, reason: `Temporal does not answer: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
  };
}

/**
 * Listen on `host:port` (port 0 picks a free one) and answer /healthz and /readyz from `probes`,
 * and /metrics (Prometheus text format) from `metrics` when given.
 * @throws Error naming AZ_EVAC_WORKER_HEALTH_PORT when the port cannot be bound (e.g. in use)
 */
export async function startHealthServer(host: string, port: number, probes: Probes, metrics?: Pick<Registry, 'contentType' | 'metrics'>): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (r: ProbeResult): void => {
      res.writeHead(r.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: r.ok ? 'ok' : 'unavailable', state: r.state, ...(r.reason ? { reason: r.reason } : {}) }));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      answer(probes.live());
    } else if (path === '/readyz') {
      probes.ready().then(answer, (err: unknown) => answer({ ok: false, state: 'unknown', reason: String(err) }));
    } else if (path === '/metrics' && metrics) {
      metrics.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text); },
        (err: unknown) => { res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)); },
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no ${path}; the worker serves /healthz, /readyz${metrics ? ' and /metrics' : ''}` }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${host}:${port} for the health endpoints: ${err.message}. Fix: set AZ_EVAC_WORKER_HEALTH_PORT to a free port (0 picks one)`)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`,
    port: bound,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

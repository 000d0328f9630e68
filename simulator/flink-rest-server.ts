/**
 * JobManager REST API stand-in for the Kubernetes operator stand-in (kube-operator.ts): the
 * two endpoints the Kubernetes adapter reads through the API server's service proxy
 * (platform/kube/flink-rest.ts), answered from the simulated jobs in Flink's JSON shape
 * (Flink docs "REST API", CheckpointingStatistics / JobExceptionsInfoWithHistory):
 * - `GET /jobs/:jobid/checkpoints`: counts and latest {completed, restored}; 404
 *   `{"errors": ["Checkpointing has not been enabled."]}` for a job without checkpoints;
 * - `GET /jobs/:jobid/exceptions`: the exception history, newest first.
 * An unknown job id answers 404 `{"errors": ["Job <id> not found"]}`.
 *
 * The API server proxies only to non-loopback addresses (Endpoints may not name 127.0.0.0/8),
 * so the server listens on the host's first non-internal IPv4 address; the operator stand-in
 * points each restoring job's `<name>-rest` Service at it. Without such an address there is
 * no REST API, and restoring jobs on the Kubernetes path wait until their start-up timeout.
 */
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { restEvidenceOf } from './operator.js';
import type { Run } from './resources.js';
import type { Simulator } from './simulator.js';

/** Where the stand-in listens. */
export interface FlinkRestStandIn {
  ip: string;
  port: number;
  close(): Promise<void>;
}

/** The host's first non-internal IPv4 address, or undefined. */
function routableIpv4(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** The run whose job has id `jobId`, in any AZ. */
function runOf(sim: Simulator, jobId: string): Run | undefined {
  for (const cluster of sim.clusters.values()) {
    for (const r of cluster.resources.values()) if (r.run && r.status.jobStatus?.jobId === jobId) return r.run;
  }
  return undefined;
}

/** The answer to `GET path` (status and JSON body). */
function answer(sim: Simulator, path: string): { status: number; body: unknown } {
  const m = /^\/jobs\/([0-9a-f]{32})\/(checkpoints|exceptions)(?:\?.*)?$/.exec(path);
  if (!m) return { status: 404, body: { errors: [`Not found: ${path}`] } };
  const [, jobId, what] = m as unknown as [string, string, string];
  const run = runOf(sim, jobId);
  if (!run) return { status: 404, body: { errors: [`Job ${jobId} not found`] } };
  const { checkpoints, lastFailure } = restEvidenceOf(run);
  if (what === 'exceptions') {
    const entries = [...run.failures].reverse().map((f) => ({ exceptionName: f.message.split(':')[0], stacktrace: f.message, timestamp: f.atMs, concurrentExceptions: [] }));
    return { status: 200, body: { exceptionHistory: { entries, truncated: false }, ...(lastFailure ? { 'root-exception': lastFailure } : {}) } };
  }
  if (!checkpoints.enabled) return { status: 404, body: { errors: ['Checkpointing has not been enabled.'] } };
  const { restored, completed } = checkpoints;
  return {
    status: 200,
    body: {
      counts: { restored: checkpoints.restoredCount, total: run.track?.checkpoints.length ?? 0, in_progress: 0, completed: run.track?.checkpoints.length ?? 0, failed: 0 },
      latest: {
        completed: completed ? { id: completed.id, status: 'COMPLETED', is_savepoint: false, latest_ack_timestamp: completed.completedAtMs, external_path: completed.path } : null,
        savepoint: null,
        failed: null,
        restored: restored ? { id: restored.id, restore_timestamp: restored.restoredAtMs, is_savepoint: restored.path?.includes('/savepoint-') ?? false, external_path: restored.path } : null,
      },
      history: [],
    },
  };
}

/**
 * Start the REST stand-in on the host's routable IPv4 address (any free port).
 * @returns undefined (logged) when the host has no such address
 */
export async function startFlinkRestStandIn(sim: Simulator, log: Logger): Promise<FlinkRestStandIn | undefined> {
  const ip = routableIpv4();
  if (!ip) {
    log.warn('no non-loopback IPv4 address: the JobManager REST stand-in is off, restoring jobs on Kubernetes cannot show a checkpoint after their restore');
    return undefined;
  }
  const server: Server = createServer((req, res) => {
    const { status, body } = req.method === 'GET' ? answer(sim, req.url ?? '/') : { status: 405, body: { errors: ['Only GET is served'] } };
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, ip, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { ip, port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

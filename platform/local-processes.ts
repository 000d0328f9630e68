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
 * detached etcd/apiservers of platform/kube/local-control-plane.ts.
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

/**
 * Start `temporal server start-dev` (installing the CLI on first use) with its SQLite file
 * in `stateDir`, and wait until it answers. Pass `port` to restart a stopped server where
 * its clients and workers expect it (same SQLite file: its workflows carry on).
 * @returns the server address and a stop function
 * @throws Error with the server's output when it does not come up within 90 s
 */
export async function startTemporalDevServer(stateDir: string, opts: { port?: number } = {}): Promise<Started & { address: string }> {
  const port = opts.port ?? await freePort();
  const uiPort = await freePort();
  const child = spawn('bash', [`${REPO}scripts/temporal.sh`, 'start', '--port', String(port), '--ui-port', String(uiPort), '--db', `${stateDir}/temporal.sqlite`], { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Temporal dev server exited (${child.exitCode}):\n${log}`);
    try {
      const c = await Connection.connect({ address, connectTimeout: '1s' });
      await c.workflowService.describeNamespace({ namespace: 'default' });
      await c.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal dev server not ready at ${address} after 90 s: ${(err as Error).message}\n${log}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return { child, address, stop: stopper(child) };
}

/**
 * Start the worker process (worker/main.ts) with `env` added to this process's
 * environment, and wait for its ready line.
 * @param onOutput gets everything the worker writes to stdout and stderr, from its first byte
 */
export async function startWorkerProcess(env: Record<string, string>, onOutput?: (text: string) => void): Promise<Started> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, `${REPO}worker/main.ts`], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  if (onOutput) for (const stream of [child.stdout, child.stderr]) stream?.on('data', (d: Buffer) => onOutput(d.toString()));
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => { if (line.includes('"ready":true')) resolve(); });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${log}`)));
  });
  return { child, stop: stopper(child) };
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
 * Start versitygw (`scripts/s3.sh start`, building it on first use) with its posix root
 * `rootDir`, on `port` (default: a free one), accepting `credentials` (passed through the
 * environment, never argv), and wait until it answers HTTP. Restarting on the same root and
 * port keeps every object.
 * @throws Error with the server's output when it does not answer within 30 s (600 s when it must be built)
 */
export async function startS3Server(opts: { rootDir: string; credentials: { accessKeyId: string; secretAccessKey: string }; port?: number }): Promise<StartedS3> {
  const port = opts.port ?? await freePort();
  const child = spawn('bash', [`${REPO}scripts/s3.sh`, 'start', '--port', String(port), '--root', opts.rootDir], {
    env: { ...process.env, AZ_EVAC_S3_ACCESS_KEY: opts.credentials.accessKeyId, AZ_EVAC_S3_SECRET_KEY: opts.credentials.secretAccessKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killOnExit(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`versitygw exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      break;
    } catch (err) {
      const limitMs = log.includes('building versitygw') ? 600_000 : 30_000;
      if (Date.now() - started > limitMs) {
        throw new Error(`versitygw not answering at ${endpoint}: ${(err as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, endpoint, port, rootDir: opts.rootDir, stop: stopper(child) };
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
export async function startS3Servers(rootDir: string, azs: string[]): Promise<StartedS3Servers> {
  const credentials = { accessKeyId: `azevac${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(18).toString('hex') };
  const servers: StartedS3[] = [];
  const stop = async (): Promise<void> => { await Promise.all(servers.map((s) => s.stop())); };
  try {
    for (const az of azs) servers.push(await startS3Server({ rootDir: join(rootDir, az), credentials }));
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

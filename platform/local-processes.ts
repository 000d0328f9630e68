/**
 * Local child processes for `demo`, tests and the benchmark: the Temporal dev server (scripts/temporal.sh)
 * and the worker (worker/main.ts). Each is started, awaited until ready, and stopped on
 * exit. (The simulator process is spawned by platform/simulator.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
 * in `stateDir`, and wait until it answers.
 * @returns the server address and a stop function
 * @throws Error with the server's output when it does not come up within 90 s
 */
export async function startTemporalDevServer(stateDir: string): Promise<Started & { address: string }> {
  const port = await freePort();
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
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, `${REPO}worker/main.ts`], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => { if (line.includes('"ready":true')) resolve(); });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${log}`)));
  });
  return { child, stop: stopper(child) };
}

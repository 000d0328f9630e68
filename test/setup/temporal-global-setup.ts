/**
 * vitest globalSetup for the `temporal` project: starts ONE real Temporal dev server
 * (`scripts/temporal.sh start`, SQLite in a temp dir, free port, headless) per test run,
 * waits until it serves the `default` namespace, provides its address to tests as
 * `temporalAddress` (read it with `testTemporalAddress()` from ./temporal.js), and stops it
 * on teardown.
 *
 * Set `AZ_EVAC_TEMPORAL_ADDRESS=host:port` to run the tests against a server you started
 * yourself (`npm run temporal -- start`); nothing is started or stopped then.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../launchers/local-processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** gRPC address (`127.0.0.1:<port>`) of the Temporal dev server shared by the test run. */
    temporalAddress: string;
  }
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TEMPORAL_SCRIPT = join(REPO_ROOT, 'scripts/temporal.sh');
/** How long the server may take to accept connections, in seconds (cold SQLite schema setup ~5 s). */
const READY_TIMEOUT_S = 60;
/** How long a graceful SIGTERM shutdown may take before SIGKILL, in seconds. */
const STOP_TIMEOUT_S = 10;

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** Polls until the server answers DescribeNamespace(default), or throws after READY_TIMEOUT_S. */
async function waitUntilReady(address: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_S * 1000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `Temporal dev server exited early (code ${child.exitCode}, signal ${child.signalCode}); log tail:\n${logTail(logFile)}`,
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `Temporal dev server at ${address} not ready after ${READY_TIMEOUT_S} s: ${String(lastError)}; log tail:\n${logTail(logFile)}`,
  );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_S * 1000);
  await exited;
  clearTimeout(timer);
}

/** vitest globalSetup entry: returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.AZ_EVAC_TEMPORAL_ADDRESS;
  if (external) {
    project.provide('temporalAddress', external);
    return async () => {};
  }

  // Install (or locate) the pinned CLI first, so an install failure reads as such.
  execFileSync('bash', [TEMPORAL_SCRIPT, 'path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });

  const stateDir = mkdtempSync(join(tmpdir(), 'az-evac-temporal-'));
  const logFile = join(stateDir, 'server.log');
  const logFd = openSync(logFile, 'a');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  // `start` execs the binary, so the child pid is the server's pid; the script holds the
  // one list of search attributes and dynamic config.
  const child = spawn(
    'bash',
    [TEMPORAL_SCRIPT, 'start', '--port', String(port), '--db', join(stateDir, 'temporal.sqlite'), '--headless'],
    { cwd: REPO_ROOT, stdio: ['ignore', logFd, logFd] },
  );
  // Safety net: never leave a server or its files behind if vitest exits without teardown.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  try {
    await waitUntilReady(address, child, logFile);
  } catch (error) {
    await stop(child);
    throw error;
  }
  project.provide('temporalAddress', address);

  return async () => {
    process.off('exit', killOnExit);
    await stop(child);
    rmSync(stateDir, { recursive: true, force: true });
  };
}

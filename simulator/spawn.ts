/**
 * Spawn the simulator (simulator/main.ts) as its own process for the demo, tests and benchmarks.
 */

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { s3Env, TSX_LOADER, killOnExit } from '../launchers/local-processes.js';
import { SimulatorControlClient } from './control-client.js';

/** A simulator child process. */
export interface SpawnedSimulator {
  url: string;
  client: SimulatorControlClient;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

/** S3 servers (one endpoint per AZ) the simulator writes its objects through to, and their credentials. */
export interface SimulatorS3 {
  endpoints: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Spawn simulator/main.ts as its own process (`node --import tsx`) and wait for
 * the URL line it prints. @throws Error with the process's stderr tail when it exits or
 * prints nothing within 30 s.
 */
export async function spawnSimulator(opts: {
  timeScale: number;
  seed: number;
  port?: number;
  logLevel?: string;
  /** Write checkpoints, savepoints and jars through to these S3 servers. */
  s3?: SimulatorS3;
  /** Timing model (simulator/latency-model.ts PLATFORM_MODELS; default `default`; `null`: every job RUNNING the moment it is applied). */
  platformModel?: 'default' | 'null';
  /** Floor on every job's checkpoint interval, model seconds (`--min-checkpoint-interval`; default: main.ts's). */
  minCheckpointIntervalSeconds?: number;
  /** Also run the operator stand-in (kube-operator.ts) on these clusters (admin kubeconfig, contexts `az=ctx,...`). */
  kube?: { kubeconfig: string; contexts: string };
}): Promise<SpawnedSimulator> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const args = ['--import', TSX_LOADER, main, '--port', String(opts.port ?? 0), '--time-scale', String(opts.timeScale), '--seed', String(opts.seed)];
  if (opts.logLevel) args.push('--log-level', opts.logLevel);
  if (opts.platformModel) args.push('--platform-model', opts.platformModel);
  if (opts.minCheckpointIntervalSeconds !== undefined) args.push('--min-checkpoint-interval', String(opts.minCheckpointIntervalSeconds));
  if (opts.kube) args.push('--kubeconfig', opts.kube.kubeconfig, '--kube-contexts', opts.kube.contexts);
  const s3 = opts.s3 ? s3Env(opts.s3) : { AZ_EVAC_S3_ACCESS_KEY: '', AZ_EVAC_S3_SECRET_KEY: '' };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...s3 } });
  killOnExit(child);
  let stderrTail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (why: string): void => reject(new Error(`simulator (${main}) ${why}. stderr: ${stderrTail.trim() || '(empty)'}`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail('printed no URL within 30 s');
    }, 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited (${code ?? signal}) before printing its URL`);
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        fail(`printed ${JSON.stringify(line)} instead of {"url":...}`);
      }
    });
  });
  child.stdout.resume();
  return {
    url,
    pid: child.pid!,
    client: new SimulatorControlClient(url),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * The az-evac worker process: the one composition root. Reads settings from the
 * environment (config/settings.ts), builds the platform adapter (today: the simulator at
 * AZ_EVAC_SIMULATOR_URL), and runs the Temporal Worker until SIGINT/SIGTERM.
 * Prints `{"ready":true,...}` on stdout once polling, for parents that spawn it.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadSettings } from '../config/settings.js';
import { SimulatorClient } from '../platform/simulator/client.js';
import { resolve } from 'node:path';
import { buildWorker, loadTiersFile } from './build.js';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger((process.env.AZ_EVAC_LOG_LEVEL ?? 'WARN') as 'WARN') });
  const settings = loadSettings();
  if (!settings.simulatorUrl) {
    throw new Error('AZ_EVAC_SIMULATOR_URL is not set. Fix: start the simulator (az-evac simulator) and export its URL, or run `az-evac demo` which starts everything');
  }
  await loadTiersFile(resolve(settings.tiersFile)); // fail fast on a bad tiers.yaml, naming key and fix
  const worker = await buildWorker(settings, new SimulatorClient(settings.simulatorUrl));
  const running = worker.run();
  process.stdout.write(`${JSON.stringify({ ready: true, taskQueue: settings.taskQueue, pid: process.pid })}\n`);
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(`az-evac worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

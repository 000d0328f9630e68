/**
 * The az-evac worker process: the one composition root. Reads settings from the
 * environment (config/settings.ts), builds the platform adapter (AZ_EVAC_PLATFORM:
 * simulator, or k8s with its setup checked), creates or updates the catalog sync Schedule
 * (AZ_EVAC_CATALOG_SYNC_INTERVAL), and runs the Temporal Worker until SIGINT/SIGTERM.
 * Prints `{"ready":true,...}` on stdout once polling, for parents that spawn it.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadSettings } from '../config/settings.js';
import { resolve } from 'node:path';
import { EvacuationClient } from '../client/evacuation-client.js';
import { buildPlatform, buildWorker, loadTiersFile } from './build.js';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger((process.env.AZ_EVAC_LOG_LEVEL ?? 'WARN') as 'WARN') });
  const settings = loadSettings();
  await loadTiersFile(resolve(settings.tiersFile)); // fail fast on a bad tiers.yaml, naming key and fix
  const platform = await buildPlatform(settings, (line) => process.stderr.write(`${line}\n`));
  const worker = await buildWorker(settings, platform);
  const running = worker.run();
  const client = await EvacuationClient.connect(settings);
  await client.ensureCatalogSyncSchedule(settings.catalogSyncIntervalSeconds);
  await client.close();
  process.stdout.write(`${JSON.stringify({ ready: true, taskQueue: settings.taskQueue, pid: process.pid })}\n`);
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(`az-evac worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

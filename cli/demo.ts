/**
 * `az-evac demo`: the whole product on one machine. Starts a Temporal dev server, the
 * simulator process, one S3 server (versitygw) per AZ and a worker process; generates a realistic fleet from a seed; syncs
 * the catalog; takes az-a down (an emergency: its API server and object store are gone);
 * evacuates it into az-b with live progress; returns the report file. Everything it
 * starts is stopped before it returns.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EvacuationClient } from '../client/evacuation-client.js';
import { loadSettings } from '../config/settings.js';
import { spawnSimulator } from '../platform/simulator/client.js';
import { loadExampleTemplates } from '../platform/simulator/example-manifests.js';
import { generateFleet } from '../platform/simulator/fleet-generator.js';
import { s3Env, startS3Servers, startTemporalDevServer, startWorkerProcess, type Started, type StartedS3Servers } from '../platform/local-processes.js';
import { watchProgress } from './progress-view.js';

/** Demo options. */
export interface DemoOptions {
  jobs: number;
  seed: number;
  /** Simulator speed-up (model seconds per wall second). */
  timeScale: number;
  preload: boolean;
  /** Checkpoints, savepoints and jars on local S3 servers (versitygw, one per AZ); false: in the simulator's memory. */
  s3: boolean;
  log: (line: string) => void;
}

/**
 * Run the demo.
 * @returns the path of the evacuation's JSON report
 */
export async function runDemo(o: DemoOptions): Promise<string> {
  const settings = loadSettings();
  await mkdir(resolve(settings.stateDir), { recursive: true });
  const stateDir = await mkdtemp(join(resolve(settings.stateDir), 'demo-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const external = process.env.AZ_EVAC_TEMPORAL_ADDRESS;
    let address = settings.temporalAddress;
    if (!external) {
      o.log('Starting the Temporal dev server (first run installs the Temporal CLI)…');
      const temporal = await startTemporalDevServer(stateDir);
      stops.push(temporal.stop);
      address = temporal.address;
    }
    let s3: StartedS3Servers | undefined;
    if (o.s3) {
      o.log('Starting one S3 server (versitygw) per AZ (first run builds it)…');
      s3 = await startS3Servers(join(stateDir, 's3'), ['az-a', 'az-b']);
      stops.push(s3.stop);
    }
    o.log(`Temporal at ${address}. Starting the simulator at ${o.timeScale}× speed…`);
    const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed, ...(s3 ? { s3 } : {}) });
    stops.unshift(sim.stop);

    const fleet = generateFleet({ jobs: o.jobs, seed: o.seed, templates: loadExampleTemplates() });
    await sim.client.loadFleet(fleet);
    const cores = fleet.jobs.reduce((n, j) => n + j.resources.cores, 0);
    o.log(`Fleet: ${fleet.jobs.length} jobs, ${cores.toLocaleString('en-US')} cores over ${fleet.platform.azs.map((a) => a.name).join(', ')} (seed ${o.seed}).`);

    const env = {
      AZ_EVAC_TEMPORAL_ADDRESS: address, AZ_EVAC_SIMULATOR_URL: sim.url, AZ_EVAC_STATE: stateDir,
      AZ_EVAC_TIME_SCALE: String(o.timeScale), AZ_EVAC_TASK_QUEUE: settings.taskQueue,
      ...(s3 ? s3Env(s3) : {}),
    };
    const worker: Started = await startWorkerProcess(env);
    stops.unshift(worker.stop);

    const client = await EvacuationClient.connect({ ...settings, temporalAddress: address });
    stops.unshift(() => client.close());
    const catalog = await client.syncCatalog();
    o.log(`Catalog v${catalog.version}: ${catalog.jobs} jobs. Taking az-a down (emergency)…`);
    await sim.client.setAzDown('az-a', true);

    const started = await client.start({
      sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', preload: o.preload, timeScale: o.timeScale, requestedBy: 'demo',
    }, `az-evac-demo-${Date.now()}`);
    o.log(`Evacuation ${started.evacuationId} started.`);
    const result = client.result(started.evacuationId);
    await watchProgress(() => client.progress(started.evacuationId), result);
    return (await result).reportFile;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

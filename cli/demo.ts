/**
 * `az-evac demo`: the whole product on one machine. Starts a Temporal dev server, the
 * simulator process and a worker process; generates a realistic fleet from a seed; syncs
 * the catalog; takes az-a down (an emergency: its API server and object store are gone);
 * evacuates it into az-b with live progress; returns the report file. Everything it
 * starts is stopped before it returns.
 *
 * `--platform k8s` runs the same on real Kubernetes: it starts the local two-AZ control
 * plane (etcd + kube-apiserver per AZ, platform/kube/local-control-plane.ts), the simulator
 * with its operator stand-in watching both clusters, seeds the fleet as FlinkDeployments
 * into az-a and az-b, runs the worker on the k8s platform under the least-privilege
 * identity, and takes az-a down by STOPPING its kube-apiserver.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EvacuationClient } from '../client/evacuation-client.js';
import { loadSettings } from '../config/settings.js';
import { spawnSimulator } from '../platform/simulator/client.js';
import { loadExampleTemplates } from '../platform/simulator/example-manifests.js';
import { generateFleet, type GeneratedFleet } from '../platform/simulator/fleet-generator.js';
import { seedKubeFleet, waitForSeededStatus } from '../platform/simulator/kube-seed.js';
import { azApis } from '../platform/kube/az-apis.js';
import { loadKubeConfigs, parseKubeContexts } from '../platform/kube/kube-configs.js';
import { startLocalControlPlane } from '../platform/kube/local-control-plane.js';
import { startTemporalDevServer, startWorkerProcess, type Started } from '../platform/local-processes.js';
import { watchProgress } from './progress-view.js';

/** Demo options. */
export interface DemoOptions {
  jobs: number;
  seed: number;
  /** Simulator speed-up (model seconds per wall second). */
  timeScale: number;
  preload: boolean;
  /** `simulator` (default) or `k8s` (real kube-apiservers, see the module doc). */
  platform?: 'simulator' | 'k8s';
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
    const fleet = generateFleet({ jobs: o.jobs, seed: o.seed, templates: loadExampleTemplates() });
    const platform = o.platform === 'k8s' ? await startKube(o, stateDir, fleet, stops) : await startSimulator(o, fleet, stops);
    const cores = fleet.jobs.reduce((n, j) => n + j.resources.cores, 0);
    o.log(`Fleet: ${fleet.jobs.length} jobs, ${cores.toLocaleString('en-US')} cores over ${fleet.platform.azs.map((a) => a.name).join(', ')} (seed ${o.seed}).`);

    const env = {
      AZ_EVAC_TEMPORAL_ADDRESS: address, AZ_EVAC_STATE: stateDir,
      AZ_EVAC_TIME_SCALE: String(o.timeScale), AZ_EVAC_TASK_QUEUE: settings.taskQueue, ...platform.env,
    };
    const worker: Started = await startWorkerProcess(env);
    stops.unshift(worker.stop);

    const client = await EvacuationClient.connect({ ...settings, temporalAddress: address });
    stops.unshift(() => client.close());
    const catalog = await client.syncCatalog();
    o.log(`Catalog v${catalog.version}: ${catalog.jobs} jobs. ${o.platform === 'k8s' ? "Stopping az-a's kube-apiserver" : 'Taking az-a down'} (emergency)…`);
    await platform.takeDown('az-a');

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

/** A started platform: the worker's environment for it, and how to take an AZ down. */
interface DemoPlatform {
  env: Record<string, string>;
  takeDown(az: string): Promise<void>;
}

async function startSimulator(o: DemoOptions, fleet: GeneratedFleet, stops: Array<() => Promise<void>>): Promise<DemoPlatform> {
  o.log(`Starting the simulator at ${o.timeScale}× speed…`);
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed });
  stops.push(sim.stop);
  await sim.client.loadFleet(fleet);
  return { env: { AZ_EVAC_SIMULATOR_URL: sim.url }, takeDown: (az) => sim.client.setAzDown(az, true) };
}

async function startKube(o: DemoOptions, stateDir: string, fleet: GeneratedFleet, stops: Array<() => Promise<void>>): Promise<DemoPlatform> {
  o.log('Starting the local two-AZ Kubernetes control plane (a cold machine first builds kube-apiserver and etcd: 10–20 min)…');
  const cp = await startLocalControlPlane({ stateDir: join(stateDir, 'kube'), azs: fleet.platform.azs.map((a) => a.name) });
  stops.push(() => cp.stop());
  o.log(`Clusters: ${cp.clusters.map((c) => `${c.az} ${c.server}`).join(', ')}. Starting the simulator (operator stand-in, object store) at ${o.timeScale}× speed…`);
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed, kube: { kubeconfig: cp.kubeconfigPath, contexts: '' } });
  stops.unshift(sim.stop);
  const loaded = await sim.client.loadFleet(fleet);
  const admin = azApis(loadKubeConfigs(cp.kubeconfigPath, parseKubeContexts('', fleet.platform.azs.map((a) => a.name))));
  const seeded = await seedKubeFleet(admin, fleet, loaded);
  await waitForSeededStatus(admin, seeded);
  o.log(`Seeded FlinkDeployments: ${Object.entries(seeded).map(([az, n]) => `${az} ${n}`).join(', ')}.`);
  const profileFile = join(stateDir, 'platform.json');
  await writeFile(profileFile, JSON.stringify(fleet.platform, null, 2));
  return {
    env: {
      AZ_EVAC_PLATFORM: 'k8s', AZ_EVAC_KUBECONFIG: cp.workerKubeconfigPath, AZ_EVAC_KUBE_CONTEXTS: '',
      AZ_EVAC_PLATFORM_PROFILE: profileFile, AZ_EVAC_SIMULATOR_URL: sim.url,
    },
    async takeDown(az) {
      await cp.stopAz(az);
      await sim.client.setAzDown(az, true); // its object store is gone with it
    },
  };
}

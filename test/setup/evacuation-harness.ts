/**
 * Harness of the workflow tests (test/workflow/**): a real simulator process with a seeded
 * fleet, a fresh state dir, a tiers file, the production Worker (buildWorker, in-process)
 * or none (the test runs worker processes itself), and the Temporal client facade, all on
 * the dev server of the `temporal` vitest project. Everything it starts is stopped by
 * `close()`.
 *
 * Typical use:
 *   const h = await EvacuationHarness.start({ jobs: 100, seed: 7, tiers: { P2: { maxConcurrency: 5 } } });
 *   await h.prepareEmergency();                    // catalog sync, then az-a down
 *   await h.start('evac-1');                       // az-a → az-b, emergency
 *   const { report } = await h.finish('evac-1');   // result + JSON report
 *   await h.close();
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, Runtime, type Worker, type WorkerInterceptors, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { parse, stringify } from 'yaml';
import { EvacuationClient } from '../../client/evacuation-client.js';
import { connectTemporalConnection } from '../../client/temporal-connection.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import { recordsKey, type EvacuationRequest, type EvacuationResult } from '../../domain/evacuation.js';
import type { EvacuationReport, JobReport } from '../../domain/report.js';
import { jobKey, type FleetJob, type HeartbeatTimeouts, type JobKey, type StorageLayout, type Strategy, type Tier, type TierPolicy } from '../../domain/types.js';
import { buildStateStores, type StateStores } from '../../platform/state-stores.js';
import { s3Env } from '../../launchers/local-processes.js';
import type { StoredPlan } from '../../platform/ports.js';
import type { SimulatedDeployment } from '../../simulator/control-client.js';
import { spawnSimulator, type SimulatorS3, type SpawnedSimulator } from '../../simulator/spawn.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';
import { buildWorker } from '../../worker/build.js';
import { settledResult } from '../../workflows/outcome-failure.js';
import { testTemporalAddress } from './temporal.js';

/** The AZ every test evacuates, and where to. */
export const SOURCE_AZ = 'az-a';
export const TARGET_AZ = 'az-b';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

// Worker logs at WARN (state changes at INFO drown the test output). Once per process.
Runtime.install({ logger: new DefaultLogger('WARN') });

/**
 * The workflow bundle of workflows/index.ts, built once per run by
 * ./workflow-bundle-global-setup.ts and read once per test file (vitest's forks pool gives
 * each file its own module graph), shared by its harnesses and replays.
 * @throws Error outside the `temporal` and `kube` projects (no global setup built one)
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= (async () => {
    const paths = inject('workflowBundle');
    if (!paths) throw new Error("no workflow bundle for this test: put it under test/workflow, test/integration or test/kube (vitest projects 'temporal' and 'kube'), whose globalSetup builds one");
    return { code: await readFile(paths.codePath, 'utf8'), sourceMap: await readFile(paths.sourceMapPath, 'utf8') };
  })();
  return bundle;
}

/**
 * The state cap (bytes, `maxStateBytes`) of tests where state size is not what is tested: 2 GB.
 * In the simulator's model (simulator/latency-model.ts) a stop-with-savepoint (drills, planned
 * moves, failbacks) takes 5 s + state / 500 MiB/s, up to ~950 model s for the generator's 500 GB,
 * and a restore state / 500 MiB/s up to 300 model s; 2 GB makes them ~9 and ~4 model s. Big state
 * stays under test where its time is the point: the kube evacuation's predicted RTO misses, and
 * the slow lane's drill cycles and failbacks (docs/testing.md).
 */
export const SMALL_STATE_BYTES = 2e9;

/** Options of a harness. */
export interface HarnessOptions {
  /** Primary jobs of the generated fleet (about half run in az-a). */
  jobs: number;
  seed: number;
  /** Simulator speed-up, model seconds per wall second (default 100). */
  timeScale?: number;
  /** Overrides of tiers.yaml, per tier (e.g. `{ P2: { maxConcurrency: 20 } }`) and of borrowIdleSlots. */
  tiers?: Partial<Record<Tier, Partial<TierPolicy>>>;
  borrowIdleSlots?: boolean;
  /** tiers.yaml heartbeatTimeoutSeconds (absent: the policy's defaults, 60 / 30 s). */
  heartbeatTimeoutSeconds?: HeartbeatTimeouts;
  /** Overrides of tiers.yaml's `protection` block, key by key (e.g. `{ refreshAtRpoFraction: 0.05 }`). */
  protection?: Record<string, unknown>;
  /** `in-process` (default): a Worker built with buildWorker runs until close(); `none`: the test runs workers itself. */
  worker?: 'in-process' | 'none';
  /** Temporal server to use instead of the shared one (e.g. a dedicated server the test restarts). */
  temporalAddress?: string;
  /**
   * Temporal's environment configuration (TEMPORAL_ADDRESS, TEMPORAL_TLS_*, ...) of a server
   * other than the shared one: settings, clients and workerEnv() reach it the way production does.
   */
  temporalEnv?: Record<string, string>;
  /** S3 servers: the simulator writes its objects there and the worker reads snapshots and preloads jars over S3. */
  s3?: SimulatorS3;
  /** More settings (environment variables) for the harness and its worker processes, e.g. the S3 state store's. */
  env?: Record<string, string>;
  /** Interceptors of the in-process worker (e.g. activity faults injected at the activity boundary). */
  interceptors?: WorkerInterceptors;
  /** The fleet's object-store layout across AZs (default `symmetric`: checkpoints restorable in the other AZ). */
  layout?: StorageLayout;
  /**
   * Cap on every job's state, bytes (default: the generator's 100 MB–500 GB). A stop-with-savepoint
   * (drills, planned moves, failbacks) takes state / 500 MiB/s of model time
   * (simulator/latency-model.ts), ~950 model s (9.5 s wall at time scale 100) for 500 GB: tests
   * where state size is not what is tested cap it.
   */
  maxStateBytes?: number;
}

/** A job of the evacuated fleet, with where it must run in the target AZ. */
export interface TargetOf {
  job: FleetJob;
  /** `namespace/name` of the resource in the target AZ for `strategy`. */
  key: JobKey;
}

/** A running test platform: simulator, state dir, tiers file, worker, client. */
export class EvacuationHarness {
  private running?: Promise<void>;
  private stores?: StateStores;

  /** The state store the worker writes (settings.stateStore: the file store unless a test sets s3). */
  get state(): StateStores {
    this.stores ??= buildStateStores(this.settings);
    return this.stores;
  }

  private constructor(
    readonly sim: SpawnedSimulator,
    readonly fleet: GeneratedFleet,
    readonly settings: Settings,
    readonly client: EvacuationClient,
    /** Raw Temporal client (histories, describe, terminate). */
    readonly temporal: Client,
    readonly timeScale: number,
    private readonly worker: Worker | undefined,
    private readonly temporalEnv?: Record<string, string>,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  /** Spawn the simulator, load the fleet, write the tiers file, connect, start the worker. */
  static async start(o: HarnessOptions): Promise<EvacuationHarness> {
    const timeScale = o.timeScale ?? 100;
    const stateDir = await mkdtemp(join(tmpdir(), 'az-evac-wf-'));
    const tiersFile = join(stateDir, 'tiers.yaml');
    await writeTiersFile(tiersFile, o.tiers ?? {}, o.borrowIdleSlots, o.heartbeatTimeoutSeconds, o.protection);
    const loaded = loadSettings({ ...(o.s3 ? s3Env(o.s3) : {}), ...o.temporalEnv, ...o.env });
    const settings: Settings = {
      ...loaded, temporalAddress: o.temporalAddress ?? (o.temporalEnv ? loaded.temporalAddress : testTemporalAddress()), stateDir, tiersFile, timeScale,
      taskQueue: `wf-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
      // Consoles started in the test process log only warnings: their request lines would fill the test output.
      logLevel: o.env?.AZ_EVAC_LOG_LEVEL ?? 'warn',
    };
    const sim = await spawnSimulator({ timeScale, seed: o.seed, logLevel: 'warn', ...(o.s3 ? { s3: o.s3 } : {}) });
    try {
      const fleet = generateFleet({ jobs: o.jobs, seed: o.seed, templates: loadExampleTemplates(), ...(o.layout ? { layout: o.layout } : {}) });
      if (o.maxStateBytes !== undefined) for (const j of fleet.jobs) j.stateSizeBytes = Math.min(j.stateSizeBytes, o.maxStateBytes);
      await sim.client.loadFleet(fleet);
      settings.simulatorUrl = sim.url;
      const worker = o.worker === 'none' ? undefined : await buildWorker(settings, sim.client, { workflowBundle: await workflowBundle(), ...(o.interceptors ? { interceptors: o.interceptors } : {}) });
      const client = await EvacuationClient.connect(settings);
      const temporal = new Client({ connection: await connectTemporalConnection(settings), namespace: settings.temporalNamespace });
      const h = new EvacuationHarness(sim, fleet, settings, client, temporal, timeScale, worker, o.temporalEnv, o.env ?? {});
      if (worker) h.running = worker.run();
      return h;
    } catch (err) {
      await sim.stop();
      throw err;
    }
  }

  /** Env of a worker process (worker/main.ts) on this harness's platform. */
  workerEnv(): Record<string, string> {
    return {
      ...(this.temporalEnv ?? { AZ_EVAC_TEMPORAL_ADDRESS: this.settings.temporalAddress }), AZ_EVAC_SIMULATOR_URL: this.sim.url,
      AZ_EVAC_STATE: this.settings.stateDir, AZ_EVAC_TASK_QUEUE: this.settings.taskQueue, AZ_EVAC_TIERS: this.settings.tiersFile,
      AZ_EVAC_TIME_SCALE: String(this.timeScale), AZ_EVAC_S3_ACCESS_KEY: this.settings.s3AccessKey,
      AZ_EVAC_S3_SECRET_KEY: this.settings.s3SecretKey, AZ_EVAC_S3_ENDPOINTS: this.settings.s3Endpoints,
      AZ_EVAC_CATALOG_SYNC_INTERVAL: '0', // no catalog sync Schedule on the shared test server
      ...this.extraEnv,
    };
  }

  /** Sync the catalog while every AZ is up, then take the source AZ down (an emergency). */
  async prepareEmergency(): Promise<void> {
    await this.client.syncCatalog();
    await this.sim.client.setAzDown(SOURCE_AZ, true);
  }

  /** The request every test sends, with `extra` merged in. */
  request(extra: Partial<EvacuationRequest> = {}): EvacuationRequest {
    return { sourceAz: SOURCE_AZ, targetAz: TARGET_AZ, mode: 'emergency', requestedBy: 'vitest', ...extra };
  }

  /** Start (or join) evacuation `id`. */
  start(id: string, extra: Partial<EvacuationRequest> = {}) {
    return this.client.start(this.request(extra), id);
  }

  /** Await evacuation `id` and read its JSON report. */
  async finish(id: string): Promise<{ result: EvacuationResult; report: EvacuationReport }> {
    const result = await this.client.result(id);
    return { result, report: JSON.parse(await this.state.reports.read(result.reportFile)) as EvacuationReport };
  }

  /** The stored plan of evacuation `id`'s current run (as the activities wrote it, under the run's recordsKey). */
  async plan(id: string): Promise<StoredPlan> {
    const runId = (await this.handle(id).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    return this.state.evacuations.getPlan(recordsKey({ evacuationId: id, runId }));
  }

  /** Jobs of the generated fleet running in the source AZ, by key. */
  sourceJobs(): Map<JobKey, FleetJob> {
    return new Map(this.fleet.jobs.filter((j) => j.az === SOURCE_AZ).map((j) => [jobKey(j), j]));
  }

  /** Where a job runs in the target AZ under `strategy`: its standby for the standby strategies, else its own name. */
  targetOf(job: FleetJob, strategy: Strategy): TargetOf {
    const standby = strategy !== 'redeploy' && job.standby?.az === TARGET_AZ ? job.standby : undefined;
    return { job, key: standby ? `${standby.namespace}/${standby.name}` : jobKey(job) };
  }

  /** Resources of the target AZ, by key. */
  async targetDeployments(): Promise<Map<JobKey, SimulatedDeployment>> {
    const list = await this.sim.client.listDeployments(TARGET_AZ);
    return new Map(list.map((d) => [`${d.manifest.metadata.namespace ?? 'default'}/${d.manifest.metadata.name}`, d]));
  }

  /** History of the newest run of workflow `workflowId`. */
  history(workflowId: string) {
    return this.temporal.workflow.getHandle(workflowId).fetchHistory();
  }

  /** Handle of workflow `workflowId`. */
  handle(workflowId: string): WorkflowHandle {
    return this.temporal.workflow.getHandle(workflowId);
  }

  /**
   * Await workflow `workflowId`'s result (also the one inside a failed run's outcome failure,
   * workflows/outcome-failure.ts) for at most `timeoutMs`; on timeout throw with what
   * is still open: every running workflow whose id starts with `workflowId` (its children:
   * a drill's evacuation, tiers, jobs and failback), each with its pending activities
   * (attempt, last failure, heartbeat), so a hang in CI says where it hangs.
   */
  async resultWithin<T>(workflowId: string, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
    try {
      const r = await Promise.race([settledResult(this.handle(workflowId).result() as Promise<T>), timeout]);
      if (r !== 'timeout') return r;
    } finally {
      clearTimeout(timer);
    }
    const lines: string[] = [];
    for await (const wf of this.temporal.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
      if (!wf.workflowId.startsWith(workflowId)) continue;
      const d = await this.handle(wf.workflowId).describe();
      const pending = (d.raw.pendingActivities ?? []).map((a) => `${a.activityType?.name} attempt ${a.attempt}${a.lastFailure?.message ? ` (last failure: ${a.lastFailure.message})` : ''}${a.heartbeatDetails?.payloads?.length ? ` heartbeat ${JSON.stringify(firstArg(a.heartbeatDetails))}` : ''}`);
      lines.push(`${wf.workflowId} (${wf.type}): ${pending.length ? pending.join('; ') : 'no pending activity'}`);
    }
    throw new Error(`${workflowId} did not finish within ${timeoutMs} ms; open: ${lines.join(' | ') || 'none'}`);
  }

  /** Stop the worker, terminate `evacuationIds` still running, close connections, stop the simulator, remove the state dir. */
  async close(evacuationIds: string[] = []): Promise<void> {
    for (const id of evacuationIds) {
      await this.handle(id).terminate('test teardown').catch(() => undefined);
    }
    if (this.worker && this.running) {
      if (this.worker.getState() === 'RUNNING') this.worker.shutdown();
      await this.running.catch(() => undefined);
      await this.worker.connection?.close().catch(() => undefined);
    }
    this.stores?.close();
    await this.client.close().catch(() => undefined);
    await this.temporal.connection.close().catch(() => undefined);
    await this.sim.stop();
    await rm(this.settings.stateDir, { recursive: true, force: true });
  }
}

/** Copy tiers.yaml to `file` with `overrides` applied (validated later by the worker like any tiers file). */
async function writeTiersFile(
  file: string, overrides: Partial<Record<Tier, Partial<TierPolicy>>>, borrowIdleSlots: boolean | undefined, heartbeats?: HeartbeatTimeouts, protection?: Record<string, unknown>,
): Promise<void> {
  const doc = parse(await readFile(new URL('../../tiers.yaml', import.meta.url), 'utf8')) as {
    borrowIdleSlots: boolean; tiers: Record<Tier, TierPolicy>; heartbeatTimeoutSeconds?: HeartbeatTimeouts; protection: Record<string, unknown>;
  };
  if (heartbeats) doc.heartbeatTimeoutSeconds = heartbeats;
  if (protection) Object.assign(doc.protection, protection);
  for (const [tier, o] of Object.entries(overrides) as [Tier, Partial<TierPolicy>][]) Object.assign(doc.tiers[tier], o);
  if (borrowIdleSlots !== undefined) doc.borrowIdleSlots = borrowIdleSlots;
  await writeFile(file, stringify(doc));
}

/** Key (`namespace/name`) of a report line. */
export const reportKey = (j: Pick<JobReport, 'namespace' | 'name'>): JobKey => `${j.namespace}/${j.name}`;

/** Decode the first argument of a payload list (signal input, child input). */
export function firstArg<T>(payloads: { payloads?: unknown[] | null } | null | undefined): T {
  const p = payloads?.payloads?.[0];
  if (!p) throw new Error('no payload');
  return defaultPayloadConverter.fromPayload(p as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
}

/** Poll `fn` every `everyMs` until it returns a value that is not undefined, or throw after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

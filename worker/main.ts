/**
 * The az-evac worker process: the one composition root. Reads settings from the
 * environment (config/settings.ts), builds the platform adapter (AZ_EVAC_PLATFORM:
 * simulator, or k8s with its setup checked) after checking the state store can be written
 * (AZ_EVAC_STATE_STORE; none writable stops it naming the setting and the fix), creates or updates the catalog sync Schedule
 * (AZ_EVAC_CATALOG_SYNC_INTERVAL), and runs the Temporal Worker until SIGINT/SIGTERM.
 * Logs JSON lines on stdout at AZ_EVAC_LOG_LEVEL (platform/logging.ts, worker/temporal-logging.ts);
 * traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (worker/tracing.ts).
 * Serves /healthz, /readyz and /metrics (worker/health.ts) on AZ_EVAC_WORKER_HEALTH_HOST:PORT from start;
 * the Temporal SDK's own metrics on AZ_EVAC_TEMPORAL_METRICS_ADDRESS when set.
 * Prints `{"ready":true,"taskQueue":...,"pid":...,"health":"http://..."}` on stdout once polling,
 * for parents that spawn it.
 *
 * SIGTERM/SIGINT drain: the worker stops polling, in-flight activities get
 * AZ_EVAC_WORKER_SHUTDOWN_GRACE_SECONDS to finish (then are cancelled and retried elsewhere by
 * Temporal), and the process exits 0 once drained; 1 when the drain overran its force deadline
 * or the worker failed. A signal before the worker exists exits at once with 143 (130 for SIGINT).
 */
import { Runtime, type Worker } from '@temporalio/worker';
import { loadSettings } from '../config/settings.js';
import { resolve } from 'node:path';
import { EvacuationClient } from '../client/evacuation-client.js';
import { createLogger } from '../platform/logging.js';
import { createPrometheusMetrics } from '../platform/prometheus-metrics.js';
import { buildStateStores } from '../platform/state-stores.js';
import { buildPlatform, buildWorker, loadTiersFile } from './build.js';
import { startHealthServer, workerProbes, type Probes } from './health.js';
import { temporalRuntimeLogging } from './temporal-logging.js';
import { workerTracingFromEnv } from './tracing.js';

async function main(): Promise<void> {
  // Signals are handled below, not by the SDK's Runtime, so one arriving during start-up exits too.
  const settings = loadSettings();
  // One stream of JSON lines on stdout at AZ_EVAC_LOG_LEVEL: the SDK's, activities' and workflows' lines.
  const logging = temporalRuntimeLogging(createLogger(settings.logLevel, 'az-evac-worker'));
  Runtime.install({
    logger: logging.logger, shutdownSignals: [],
    telemetryOptions: {
      ...logging.telemetryOptions,
      // The SDK's own metrics (task latencies, polls, slots), served by its Prometheus exporter.
      ...(settings.temporalMetricsAddress ? { metrics: { prometheus: { bindAddress: settings.temporalMetricsAddress } } } : {}),
    },
  });
  const metrics = createPrometheusMetrics();
  // OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (worker/tracing.ts).
  const tracing = workerTracingFromEnv(process.env);
  let worker: Worker | undefined;
  let started = false;
  const drain = (signal: NodeJS.Signals): void => {
    if (!worker) process.exit(signal === 'SIGINT' ? 130 : 143);
    process.stderr.write(`az-evac worker: ${signal}: draining (in-flight activities get ${settings.workerShutdownGraceSeconds} s)\n`);
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, drain);

  // Before start-up: liveness answers while the platform checks run; readiness waits for the Worker.
  const probes: Probes = {
    live: () => (worker ? workerProbes(worker, () => started).live() : { ok: true, state: 'STARTING' }),
    ready: async () => (worker ? workerProbes(worker, () => started).ready() : { ok: false, state: 'STARTING', reason: 'worker not created yet' }),
  };
  const health = await startHealthServer(settings.workerHealthHost, settings.workerHealthPort, probes, metrics.registry);
  process.stderr.write(`az-evac worker: health endpoints at ${health.url}/healthz and /readyz, metrics at ${health.url}/metrics\n`);
  try {
    await loadTiersFile(resolve(settings.tiersFile)); // fail fast on a bad tiers.yaml, naming key and fix
    const warn = (line: string): void => { process.stderr.write(`${line}\n`); };
    // A state store no AZ can write stops the worker here, before anything is touched.
    const state = buildStateStores(settings, warn);
    for (const line of await state.checkWritable()) warn(line);
    const platform = await buildPlatform(settings, warn);
    worker = await buildWorker(settings, platform, { state, metrics: metrics.engine, ...(tracing ? { tracing } : {}) });
    const running = worker.run();
    const client = await EvacuationClient.connect(settings);
    await client.ensureCatalogSyncSchedule(settings.catalogSyncIntervalSeconds);
    await client.ensureProtectionSchedule(settings.protectionIntervalSeconds);
    await client.close();
    started = true;
    process.stdout.write(`${JSON.stringify({ ready: true, taskQueue: settings.taskQueue, pid: process.pid, health: health.url })}\n`);
    await running;
    process.stderr.write('az-evac worker: drained, exiting\n');
  } finally {
    await health.close();
    await tracing?.shutdown();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`az-evac worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

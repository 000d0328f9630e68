/**
 * `npm run bench -- [--sizes 500,1000,2000,5000] [--time-scale X] [--platform-model default|null]
 *    [--no-preload-runs] [--no-s3] [--preload-jars N] [--jar-scale X] [--no-preload-bench] [--no-perfect-schedule] [--json FILE]`
 *
 * First a preload run (bench/preload.ts): N distinct jars copied on a real S3 server,
 * serially and bounded-concurrently: bytes/s and speedup. Then the protection loop's cost on
 * the 5,000-job fleet (bench/protection-cost.ts, modelled: savepoints per minute, bytes written
 * and shipped per cycle, whether each AZ's savepoints-at-once keep up).
 *
 * Evacuates `size` jobs (a generated fleet of 2 × size, half in each AZ) from az-a (taken down) into az-b on a real
 * Temporal dev server, with the production worker wiring, and prints per run: jobs, cores,
 * preload on/off, wall seconds, jobs/s, P0 RTO, the true lower bound of the simulator's
 * platform model for the same plan (bench/lower-bound.ts) and actual / bound, and beside it the
 * time a perfect, zero-cost orchestrator takes for that plan on the same model with engine /
 * perfect and perfect / bound (bench/perfect-schedule.ts, computed after the run by
 * `bench:perfect` in a process of its own; `--no-perfect-schedule` skips it).
 * `--platform-model null` runs the simulator's null platform (every job RUNNING the moment it
 * is applied, simulator/latency-model.ts NULL_MODEL): the engine measured alone, no bound.
 * Times are wall seconds; at --time-scale X the simulator runs X times faster than real
 * latencies (default 1: realistic latencies). With S3 (default) checkpoints, savepoints and
 * jars live on one versitygw per AZ, and the worker lists snapshots and preloads over S3;
 * P2 RTO with preload on vs off shows what preloading takes off the critical path under
 * the simulator's jar-download contention model.
 *
 * Where the time goes, per run (bench/history-stats.ts, bench/server-metrics.ts): history
 * events and workflow tasks per dispatched job of every workflow execution the run started
 * (listed by the run's task queue, read from each history), per workflow kind the history
 * bytes and the workflow tasks' times (median, p95, longest, timeouts), the largest history (events),
 * server writes per dispatched job (persistence write calls counted on the dev server's
 * /metrics between the trigger and the end), and the dispatch rate (jobs whose steps started
 * per second of trigger → last start). The machine's load average is recorded with each run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { cpus, loadavg, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Command } from 'commander';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { EvacuationClient } from '../client/evacuation-client.js';
import { recordsKey } from '../domain/evacuation.js';
import { loadSettings } from '../config/settings.js';
import type { EvacuationReport } from '../domain/report.js';
import { FileCatalogStore } from '../platform/catalog-file-store.js';
import { FileEvacuationStore } from '../platform/evacuation-file-store.js';
import { s3Env, startS3Servers, startTemporalDevServer, TSX_LOADER } from '../launchers/local-processes.js';
import { spawnSimulator } from '../simulator/spawn.js';
import { loadExampleTemplates } from '../simulator/example-manifests.js';
import { generateFleet } from '../simulator/fleet-generator.js';
import { WORKFLOWS_PATH, buildWorker } from '../worker/build.js';
import { historyStats, settledCount, type HistoryStats } from './history-stats.js';
import { S3_CHECKPOINT_FLOOR_SECONDS } from '../simulator/checkpointing.js';
import { platformModelNamed, type PlatformModel } from '../simulator/latency-model.js';
import { lowerBound } from './lower-bound.js';
import type { PerfectRunResult } from './perfect-main.js';
import { runPreloadBench } from './preload.js';
import { protectionCostRows, protectionCostText } from './protection-cost.js';
import { scrapeOperations, serverWrites, type ServerWrites } from './server-metrics.js';
import { checkTargets } from './targets.js';

/** One benchmark row (the interface scripts rely on). */
export interface BenchRow {
  jobs: number;
  cores: number;
  preload: boolean;
  timeScale: number;
  /** The simulator's platform model: `default` (calibrated) or `null` (the engine alone). */
  platformModel: PlatformModel['name'];
  wallSeconds: number;
  jobsPerSecond: number;
  p0RtoSeconds: number | null;
  /** RTO of the P0 jobs promoted from a hot standby (the rest of P0 had to be redeployed). */
  p0StandbyRtoSeconds: number | null;
  /** RTO of tier P2 (regular jobs redeployed from a snapshot: the ones jar downloads slow down). */
  p2RtoSeconds: number | null;
  /** Objects on S3 (versitygw) rather than in the simulator's memory. */
  s3: boolean;
  /** Wall seconds of the true lower bound for the same plan (0 on the null platform). */
  lowerBoundSeconds: number;
  /** wallSeconds / lowerBoundSeconds (null when the bound is 0). */
  ratio: number | null;
  /** Wall seconds a perfect, zero-cost orchestrator takes for the same plan on the same model (bench/perfect-schedule.ts); null: not computed (null platform, --no-perfect-schedule, or it failed). */
  perfectSeconds: number | null;
  /**
   * wallSeconds / perfectSeconds: the engine's own cost (null when not computed). It can be below 1:
   * the perfect schedule is one greedy schedule of the plan's order, not the optimum, and an engine
   * that dispatches later can leave a shared resource (the object store's reads) to the jobs that bound a tier.
   */
  enginePerPerfect: number | null;
  /** perfectSeconds / lowerBoundSeconds: the bound's slack on this plan (null when not computed or the bound is 0). */
  perfectPerBound: number | null;
  /**
   * Per tier: its RTO (trigger → its last job RUNNING, wall s), the bound on it (bench/lower-bound.ts
   * `tiers`, wall s) and RTO / bound (null when the bound is 0: hot-standby promotions only); the
   * perfect schedule's end of the tier (wall s, null when not computed) and RTO / it.
   */
  tierRatios: Array<{ tier: string; rtoSeconds: number | null; boundSeconds: number; ratio: number | null; perfectSeconds: number | null; enginePerPerfect: number | null }>;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Jobs of tiers P0–P2 in the report, and how many of them ended RUNNING. */
  p0to2Jobs: number;
  p0to2Running: number;
  /** Jobs whose steps started (the denominator of the per-job columns). */
  dispatched: number;
  /** Dispatched jobs per second of trigger → the last job's start. */
  dispatchPerSecond: number;
  /** History events of every execution the run started, per dispatched job. */
  eventsPerJob: number;
  /** Workflow tasks (WorkflowTaskStarted) of every execution the run started, per dispatched job. */
  workflowTasksPerJob: number;
  /** Persistence write calls of the dev server during the run, per dispatched job (bench/server-metrics.ts). */
  writesPerJob: number;
  /** Of those, workflow mutable-state writes (create/update execution) per dispatched job. */
  executionWritesPerJob: number;
  /** Workflow executions (runs) the evacuation started, and the largest one's events. */
  workflows: number;
  largestHistoryEvents: number;
  /** Machine load average (1 min) at the trigger and at the end. */
  loadStart: number;
  loadEnd: number;
}

/** A row with the details behind it (--json). */
export interface BenchRecord extends BenchRow {
  /** Wall seconds of each step before the trigger (fleet generation and load, catalog syncs, AZ down). */
  preTriggerSeconds: Record<string, number>;
  histories: HistoryStats;
  serverWrites: ServerWrites;
  /**
   * Event-loop delay of the bench process (driver and the worker's main thread: activities, and
   * every workflow activation passes through it) from the trigger to the result, ms.
   */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Wall and CPU seconds the perfect schedule took to compute (its own process, fleet generation included; null when not computed). */
  perfectCompute: { wallSeconds: number; cpuSeconds: number } | null;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
const run = promisify(execFile);

const opts = new Command('bench')
  .option('--sizes <list>', 'jobs to evacuate per run (jobs in az-a; the generated fleet is twice as large, half in each AZ)', '500,1000,2000,5000')
  .option('--time-scale <x>', 'simulator speed-up (1 = realistic latencies)', '1')
  .option('--seed <s>', 'fleet seed', '11')
  .option('--platform-model <name>', 'simulator platform model: default, or null (every job RUNNING the moment it is applied: the engine alone)', 'default')
  .option('--no-preload-runs', 'skip the runs with jar preloading off')
  .option('--no-s3', 'keep objects in the simulator\'s memory instead of local S3 servers')
  .option('--min-checkpoint-interval <s>', 'floor on every job\'s checkpoint interval, model s (default: 120 with S3, else none); the bound uses the same floor. At 40,000 jobs and time scale 5 the simulator writes ~3,300 checkpoints a wall second without one')
  .option('--preload-jars <n>', 'distinct jars of the preload throughput run', '24')
  .option('--jar-scale <x>', 'jar size multiplier of the preload run (1 = 20–300 MiB)', '0.25')
  .option('--no-preload-bench', 'skip the preload throughput run')
  .option('--no-perfect-schedule', 'skip the perfect schedule after each run (bench/perfect-schedule.ts via bench:perfect in its own process: the plan carried out by a zero-cost orchestrator on an in-process simulator; CPU only, measured at load 2-4 on 2 vCPUs: 2.2 s CPU at 1,000 jobs, 16 s (1.2 GiB) at 5,000, 188 s (2 min 48 s wall, 3.0 GiB) at 20,000; skipped, it can be run later on the kept state dir with npm run bench:perfect)')
  .option('--json <file>', 'write the rows as JSON')
  .parse(process.argv)
  .opts<{ sizes: string; timeScale: string; seed: string; platformModel: string; preloadRuns: boolean; s3: boolean; preloadJars: string; jarScale: string; preloadBench: boolean; perfectSchedule: boolean; json?: string; minCheckpointInterval?: string }>();

/** One run: `size` jobs in the failed AZ, the simulator's speed-up and model, objects on S3 or not. */
interface RunSpec {
  size: number;
  preload: boolean;
  timeScale: number;
  seed: number;
  withS3: boolean;
  model: PlatformModel;
  /** Checkpoint interval floor, model s (simulator and bound alike). */
  minCheckpointIntervalSeconds: number;
  /** Compute the perfect schedule after the run (not on the null platform). */
  perfect: boolean;
}

async function runOne(temporal: { address: string; metricsUrl: string }, bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>, spec: RunSpec): Promise<BenchRecord> {
  const { size, preload, timeScale, seed, withS3, model, minCheckpointIntervalSeconds } = spec;
  const address = temporal.address;
  const stateDir = await mkdtemp(join(resolve('.az-evac'), `bench-${size}-`));
  const s3 = withS3 ? await startS3Servers(join(stateDir, 's3'), ['az-a', 'az-b']) : undefined;
  const settings = { ...loadSettings({ ...process.env, ...(s3 ? s3Env(s3) : {}) }), temporalAddress: address, stateDir, taskQueue: `bench-${size}-${preload}-${Date.now()}`, timeScale };
  const sim = await spawnSimulator({ timeScale, seed, platformModel: model.name, minCheckpointIntervalSeconds, ...(s3 ? { s3 } : {}) });
  // Computed once the simulator process and the worker are gone (bench/perfect-main.ts on the state dir).
  let perfectArgs: string[] | undefined;
  let record: BenchRecord;
  try {
    // The steps before the trigger, timed (wall s): they are outside the RTO but bound what a bench can run.
    const pre: Record<string, number> = {};
    const timed = async <T>(step: string, f: () => Promise<T> | T): Promise<T> => {
      const t = Date.now();
      const r = await f();
      pre[step] = round((Date.now() - t) / 1000, 1);
      process.stderr.write(`  ${step}: ${pre[step]} s\n`);
      return r;
    };
    const fleet = await timed('generate fleet', () => generateFleet({ jobs: size * 2, seed, templates: loadExampleTemplates() }));
    await timed('load fleet into the simulator', () => sim.client.loadFleet(fleet));
    const loadedAtMs = Date.now();
    const worker = await buildWorker(settings, sim.client, { workflowBundle: bundle });
    const client = await EvacuationClient.connect(settings);
    try {
      record = await worker.runUntil(async () => {
        await timed('catalog sync', () => client.syncCatalog());
        await timed('AZ down', () => sim.client.setAzDown('az-a', true));
        // Taking the AZ down flushes the S3 write-behind backlog first, which can outlast the P0
        // RPO on a loaded machine: sync again (az-a's jobs carry over from the first version,
        // as in a real outage) so the evacuation's catalog-freshness check passes.
        await timed('catalog sync after the AZ went down', () => client.syncCatalog());
        const id = `bench-${size}-${preload ? 'preload' : 'nopreload'}-${Date.now()}`;
        const loadStart = loadavg()[0]!;
        const triggeredAt = new Date();
        const opsBefore = await scrapeOperations(temporal.metricsUrl);
        const loop = monitorEventLoopDelay({ resolution: 20 });
        loop.enable();
        await client.start({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', preload }, id);
        const result = await client.result(id);
        loop.disable();
        const eventLoopDelayMs = { p50: round(loop.percentile(50) / 1e6), p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) };
        const loadEnd = loadavg()[0]!;
        const query = `TaskQueue = '${settings.taskQueue}' AND StartTime >= '${triggeredAt.toISOString()}'`;
        // The evacuation's numbers come from its report; those read from the server after it (visibility,
        // histories, metrics) must not lose the row when one of them fails on a loaded machine: say so instead.
        const writes = serverWrites(opsBefore, await scrapeOperations(temporal.metricsUrl));
        const histories = await settledCount(client.temporal, query)
          .then(() => historyStats(client.temporal, query))
          .catch((err: unknown): HistoryStats => {
            process.stderr.write(`  history stats failed (row kept without them): ${err instanceof Error ? err.message : String(err)}\n`);
            return { workflows: 0, events: 0, workflowTasks: 0, byKind: {}, largest: null };
          });
        const report = JSON.parse(await readFile(result.reportFile, 'utf8')) as EvacuationReport;
        const stored = await new FileEvacuationStore(join(stateDir, 'evacuations')).getPlan(recordsKey(result));
        const catalog = await new FileCatalogStore(join(stateDir, 'catalog')).get(stored.plan.catalogVersion);
        const bound = lowerBound({ plan: stored.plan, catalog, policy: stored.policy, preload, seed, model, minCheckpointIntervalSeconds });
        // The simulator ran (trigger − load) × time scale model seconds before the trigger.
        const warmup = Math.round(((triggeredAt.getTime() - loadedAtMs) / 1000) * timeScale);
        if (spec.perfect && model.name !== 'null') perfectArgs = ['--state-dir', stateDir, '--seed', String(seed), '--min-checkpoint-interval', String(minCheckpointIntervalSeconds), '--warmup', String(warmup), '--platform-model', model.name, '--json'];
        const boundWall = bound.seconds / timeScale;
        const inScope = report.jobs.length;
        const starts = report.jobs.flatMap((j) => (j.startSeconds === undefined ? [] : [j.startSeconds]));
        const dispatched = starts.length;
        const perJob = (n: number): number => (dispatched ? round(n / dispatched) : 0);
        const p0to2 = report.jobs.filter((j) => j.tier === 'P0' || j.tier === 'P1' || j.tier === 'P2');
        return {
          jobs: inScope, cores: catalog.jobs.filter((j) => j.az === 'az-a').reduce((n, j) => n + j.resources.cores, 0),
          preload, timeScale, platformModel: model.name, wallSeconds: report.wallSeconds, jobsPerSecond: Math.round((inScope / report.wallSeconds) * 100) / 100,
          p0RtoSeconds: report.tiers.find((t) => t.tier === 'P0')?.rtoSeconds ?? null,
          p0StandbyRtoSeconds: Math.max(0, ...report.jobs.filter((j) => j.tier === 'P0' && j.strategy === 'promote-standby').map((j) => j.rtoSeconds ?? 0)) || null,
          p2RtoSeconds: report.tiers.find((t) => t.tier === 'P2')?.rtoSeconds ?? null,
          s3: withS3,
          lowerBoundSeconds: Math.round(boundWall * 10) / 10, ratio: boundWall > 0 ? round(report.wallSeconds / boundWall) : null,
          perfectSeconds: null, enginePerPerfect: null, perfectPerBound: null,
          tierRatios: Object.entries(bound.tiers).map(([tier, s]) => {
            const rto = report.tiers.find((t) => t.tier === tier)?.rtoSeconds ?? null;
            const b = (s ?? 0) / timeScale;
            return { tier, rtoSeconds: rto, boundSeconds: round(b, 1), ratio: rto !== null && b > 0 ? round(rto / b) : null, perfectSeconds: null, enginePerPerfect: null };
          }),
          succeeded: report.tiers.reduce((n, t) => n + t.succeeded, 0),
          failed: report.tiers.reduce((n, t) => n + t.failed, 0),
          skipped: report.tiers.reduce((n, t) => n + t.skipped, 0),
          p0to2Jobs: p0to2.length, p0to2Running: p0to2.filter((j) => j.outcome === 'running').length,
          dispatched, dispatchPerSecond: dispatched ? round(dispatched / Math.max(0.001, ...starts)) : 0,
          eventsPerJob: perJob(histories.events), workflowTasksPerJob: perJob(histories.workflowTasks),
          writesPerJob: perJob(writes.writes), executionWritesPerJob: perJob(writes.executionWrites),
          workflows: histories.workflows, largestHistoryEvents: histories.largest?.events ?? 0,
          loadStart: round(loadStart), loadEnd: round(loadEnd),
          preTriggerSeconds: pre,
          histories, serverWrites: writes, eventLoopDelayMs, perfectCompute: null,
        };
      });
    } finally {
      await client.close();
    }
  } finally {
    await sim.stop();
    await s3?.stop();
  }
  return perfectArgs ? withPerfect(record, perfectArgs) : record;
}

/**
 * `record` with the perfect schedule of its plan and the ratios to it, computed by
 * bench/perfect-main.ts with `args` (its own process and heap: 8 GiB at most); the record
 * unchanged, with the reason on stderr, when that fails.
 */
async function withPerfect(record: BenchRecord, args: string[]): Promise<BenchRecord> {
  process.stderr.write(`  perfect schedule: bench/perfect-main.ts ${args.join(' ')}…\n`);
  try {
    const { stdout } = await run(process.execPath, ['--max-old-space-size=8192', '--import', TSX_LOADER, fileURLToPath(new URL('./perfect-main.ts', import.meta.url)), ...args], { maxBuffer: 64 * 2 ** 20 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as PerfectRunResult;
    const c = r.comparison;
    return {
      ...record, perfectSeconds: c.perfectSeconds, enginePerPerfect: c.enginePerPerfect, perfectPerBound: c.perfectPerBound,
      tierRatios: record.tierRatios.map((t) => {
        const p = c.tiers.find((x) => x.tier === t.tier);
        return { ...t, perfectSeconds: p?.perfectSeconds ?? null, enginePerPerfect: p?.enginePerPerfect ?? null };
      }),
      perfectCompute: { wallSeconds: round(r.compute.wallSeconds, 1), cpuSeconds: round(r.compute.cpuSeconds, 1) },
    };
  } catch (err) {
    process.stderr.write(`  perfect schedule failed (row kept without it): ${err instanceof Error ? err.message : String(err)}\n`);
    return record;
  }
}

/** Cores, CPU model, memory and Node version of this machine, in one line. */
function machineLine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const sizes = opts.sizes.split(',').map(Number);
  const timeScale = Number(opts.timeScale);
  const seed = Number(opts.seed);
  const model = platformModelNamed(opts.platformModel);
  process.stderr.write(`Machine: ${machineLine()}\n`);
  await mkdir(resolve('.az-evac'), { recursive: true });
  if (opts.preloadBench) {
    const settings = loadSettings();
    const { rows: preloadRows, speedup } = await runPreloadBench({
      jars: Number(opts.preloadJars), scale: Number(opts.jarScale), concurrency: settings.preloadConcurrency, seed,
      workDir: resolve('.az-evac'), log: (l) => process.stderr.write(`preload: ${l}\n`),
    });
    console.table(preloadRows);
    process.stdout.write(`preload speedup (serial / bounded-concurrent): ${speedup}×\n`);
  }
  // The protection loop's cost on the 5,000-job fleet (bench/protection-cost.ts): modelled, no servers.
  const protection = protectionCostRows(5000);
  process.stdout.write(`${protectionCostText(protection)}\n`);
  const temporal = await startTemporalDevServer(await mkdtemp(join(resolve('.az-evac'), 'bench-temporal-')), { headless: true, metrics: true });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  const rows: BenchRecord[] = [];
  try {
    for (const size of sizes) {
      for (const preload of opts.preloadRuns ? [true, false] : [true]) {
        process.stderr.write(`run: ${size} jobs, preload ${preload ? 'on' : 'off'}, time scale ${timeScale}, ${model.name} platform model, ${opts.s3 ? 'S3 (versitygw)' : 'in-memory objects'}…\n`);
        const minCheckpointIntervalSeconds = opts.minCheckpointInterval !== undefined ? Number(opts.minCheckpointInterval) : opts.s3 ? S3_CHECKPOINT_FLOOR_SECONDS : 0;
        const row = await runOne({ address: temporal.address, metricsUrl: temporal.metricsUrl! }, bundle, { size, preload, timeScale, seed, withS3: opts.s3, model, minCheckpointIntervalSeconds, perfect: opts.perfectSchedule });
        rows.push(row);
        // Written after every run: a later run that dies does not take the earlier rows with it.
        if (opts.json) await writeFile(opts.json, JSON.stringify({ machine: machineLine(), rows, targets: checkTargets(rows), protection }, null, 2));
        process.stderr.write(`${JSON.stringify({ ...row, histories: undefined, serverWrites: undefined, eventLoopDelayMs: undefined, perfectCompute: undefined })}\n`);
        process.stderr.write(`  events per kind: ${JSON.stringify(row.histories.byKind)}; largest: ${JSON.stringify(row.histories.largest)}; heaviest: ${JSON.stringify(row.histories.heaviest ?? null)}\n`);
        process.stderr.write(`  bench process event-loop delay, ms: ${JSON.stringify(row.eventLoopDelayMs)}\n`);
        process.stderr.write(`  per tier (RTO s / bound s = ratio): ${row.tierRatios.map((t) => `${t.tier} ${t.rtoSeconds} / ${t.boundSeconds} = ${t.ratio}`).join(', ')}\n`);
        if (row.perfectCompute) {
          process.stderr.write(`  perfect schedule ${row.perfectSeconds} s (engine / perfect ${row.enginePerPerfect}, perfect / bound ${row.perfectPerBound}; computed in ${row.perfectCompute.cpuSeconds} s CPU, ${row.perfectCompute.wallSeconds} s wall); per tier (RTO s / perfect s = ratio): ${row.tierRatios.map((t) => `${t.tier} ${t.rtoSeconds} / ${t.perfectSeconds} = ${t.enginePerPerfect}`).join(', ')}\n`);
        }
      }
    }
  } finally {
    await temporal.stop();
  }
  console.table(rows.map(({ histories: _h, serverWrites: _w, tierRatios: _t, preTriggerSeconds: _p, eventLoopDelayMs: _l, perfectCompute: _c, ...row }) => row));
  const targets = checkTargets(rows);
  if (targets.length) console.table(targets);
  if (opts.json) await writeFile(opts.json, JSON.stringify({ machine: machineLine(), rows, targets, protection }, null, 2));
}

await main();

/**
 * `npm run bench:perfect -- --state-dir .az-evac/bench-<size>-<suffix> [--seed 11]
 *    [--min-checkpoint-interval S] [--warmup S] [--platform-model default] [--json]`
 *
 * The perfect schedule (bench/perfect-schedule.ts) of a finished bench run, without running the
 * evacuation again: reads the run's stored plan (`evacuations/`), the catalog it was made from
 * (`catalog/`) and, when there, its report (`reports/`); regenerates the bench's fleet from the
 * seed (as bench/run.ts: generateFleet of the catalog's job count, the example templates) and
 * checks it against the catalog; prints the perfect schedule, the lower bound
 * (bench/lower-bound.ts) and, with the report, the engine's time over both, overall and per
 * tier. Wall seconds = model seconds / the run's time scale (its stored policy's). CPU only:
 * measured cost in bench/run.ts's `--no-perfect-schedule` help. With `--json`, one line
 * `PerfectRunResult` instead (bench/run.ts runs this entry so after each run, in a process of
 * its own: a 20,000-job fleet's simulator takes gigabytes of heap).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { numberAtLeast } from '../cli/options.js';
import { loadSettings } from '../config/settings.js';
import type { EvacuationReport } from '../domain/report.js';
import { jobKey } from '../domain/types.js';
import { FileCatalogStore } from '../platform/catalog-file-store.js';
import { FileEvacuationStore } from '../platform/evacuation-file-store.js';
import { S3_CHECKPOINT_FLOOR_SECONDS } from '../simulator/checkpointing.js';
import { loadExampleTemplates } from '../simulator/example-manifests.js';
import { generateFleet } from '../simulator/fleet-generator.js';
import { platformModelNamed } from '../simulator/latency-model.js';
import { lowerBound } from './lower-bound.js';
import { comparePerfect, perfectSchedule, type PerfectComparison, type PerfectSchedule } from './perfect-schedule.js';

/** What `--json` prints (one line). */
export interface PerfectRunResult {
  /** The evacuation run's records key. */
  records: string;
  /** Model seconds from the fleet load to the trigger the schedule was run with. */
  warmupSeconds: number;
  perfect: PerfectSchedule;
  /** The lower bound of the same plan, model seconds. */
  boundSeconds: number;
  comparison: PerfectComparison;
  /** Wall and CPU seconds this process spent on the perfect schedule (fleet generation included). */
  compute: { wallSeconds: number; cpuSeconds: number };
}

const opts = new Command('bench:perfect')
  .description('The perfect, zero-cost orchestrator\'s schedule of a finished bench run\'s plan on the simulator\'s platform model, beside the lower bound and the engine\'s time')
  .requiredOption('--state-dir <dir>', 'the run\'s state directory, .az-evac/bench-<size>-* (bench/run.ts keeps one per run)')
  .option('--evacuation <dir>', 'which evacuation under <state-dir>/evacuations (default: the only one there)')
  .option('--seed <n>', 'the bench\'s --seed (its fleet and the simulator\'s draws)', numberAtLeast('--seed', 0), 11)
  .option('--min-checkpoint-interval <s>', `the bench's checkpoint interval floor, model s (default: ${S3_CHECKPOINT_FLOOR_SECONDS} when the state dir holds the run's S3 servers (<state-dir>/s3), else 0, as the bench chose)`, numberAtLeast('--min-checkpoint-interval', 0))
  .option('--warmup <s>', 'model seconds from the fleet load to the trigger (default: the first catalog sync → the trigger × the time scale; the bench\'s own figure is slightly longer)', numberAtLeast('--warmup', 0))
  .option('--platform-model <name>', 'the simulator\'s platform model (the null model has no perfect schedule to speak of)', 'default')
  .option('--json', 'print one JSON line (PerfectRunResult) instead of the text')
  .parse(process.argv)
  .opts<{ stateDir: string; evacuation?: string; seed: number; minCheckpointInterval?: number; warmup?: number; platformModel: string; json?: boolean }>();

async function main(): Promise<void> {
  const started = Date.now();
  const cpu = process.cpuUsage();
  const evacuations = join(opts.stateDir, 'evacuations');
  const dirs = opts.evacuation !== undefined ? [encodeURIComponent(opts.evacuation)] : await readdir(evacuations);
  if (dirs.length !== 1) throw new Error(`${evacuations} holds ${dirs.length} evacuations (${dirs.join(', ') || 'none'}): name one with --evacuation`);
  const records = decodeURIComponent(dirs[0]!);
  const stored = await new FileEvacuationStore(evacuations).getPlan(records);
  const catalogs = new FileCatalogStore(join(opts.stateDir, 'catalog'));
  const catalog = await catalogs.get(stored.plan.catalogVersion);
  const reportFile = join(opts.stateDir, 'reports', `${encodeURIComponent(records)}.report.json`);
  const report = existsSync(reportFile) ? (JSON.parse(await readFile(reportFile, 'utf8')) as EvacuationReport) : undefined;
  const timeScale = stored.policy.timeScale;
  const triggeredAtMs = stored.request.triggeredAtMs;
  const firstSync = Date.parse((await catalogs.get(1)).takenAt);
  const warmupSeconds = opts.warmup ?? (triggeredAtMs !== undefined ? Math.max(0, Math.round(((triggeredAtMs - firstSync) / 1000) * timeScale)) : 0);

  const fleet = generateFleet({ jobs: catalog.jobs.length, seed: opts.seed, templates: loadExampleTemplates() });
  const generated = new Map(fleet.jobs.map((j) => [jobKey(j), j]));
  const stray = catalog.jobs.find((j) => generated.get(jobKey(j))?.stateSizeBytes !== j.stateSizeBytes);
  if (stray) throw new Error(`the fleet generated from seed ${opts.seed} (${fleet.jobs.length} jobs) does not match the run's catalog (job ${jobKey(stray)}): pass the bench's --seed`);

  const input = {
    plan: stored.plan, catalog, policy: stored.policy, preload: stored.request.preload ?? true, seed: opts.seed, model: platformModelNamed(opts.platformModel),
    minCheckpointIntervalSeconds: opts.minCheckpointInterval ?? (existsSync(join(opts.stateDir, 's3')) ? S3_CHECKPOINT_FLOOR_SECONDS : 0),
    fleet, warmupSeconds, preloadConcurrency: loadSettings().preloadConcurrency,
  };
  const strategies = new Map<string, number>();
  for (const p of stored.plan.admitted) strategies.set(p.strategy, (strategies.get(p.strategy) ?? 0) + 1);
  const byStrategy = [...strategies].map(([s, n]) => `${n} ${s}`).join(', ');
  const perfect = await perfectSchedule(input);
  const bound = lowerBound(input);
  const c = comparePerfect(perfect, bound, timeScale, report);
  const used = process.cpuUsage(cpu);
  const compute = { wallSeconds: (Date.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  if (opts.json) {
    const result: PerfectRunResult = { records, warmupSeconds, perfect, boundSeconds: bound.seconds, comparison: c, compute };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`${records}: ${stored.plan.admitted.length} admitted (${byStrategy}), ${stored.plan.preemptions.length} preempted, preload ${input.preload ? 'on' : 'off'}, `
    + `time scale ${timeScale}, seed ${opts.seed}, checkpoint floor ${input.minCheckpointIntervalSeconds} s, warm-up ${warmupSeconds} model s\n`);
  const wall = (model: number): number => Math.round((model / timeScale) * 10) / 10;
  process.stdout.write(`perfect schedule: ${c.perfectSeconds} s (${perfect.seconds} model s; ${perfect.running} running, ${perfect.promoted} promoted, ${perfect.notRunning.length} not: ${JSON.stringify(perfect.notRunning.slice(0, 3))}), computed in ${compute.cpuSeconds.toFixed(1)} s CPU\n`);
  process.stdout.write(`lower bound: ${wall(bound.seconds)} s; perfect / bound ${c.perfectPerBound}\n`);
  if (report) process.stdout.write(`engine: ${report.wallSeconds} s; engine / perfect ${c.enginePerPerfect}; engine / bound ${bound.seconds > 0 ? Math.round((report.wallSeconds / (bound.seconds / timeScale)) * 100) / 100 : null}\n`);
  else process.stdout.write(`engine: no report at ${reportFile}\n`);
  for (const [tier, last] of Object.entries(perfect.lastJobs)) {
    const phases = last?.startup ? Object.entries(last.startup.phases).filter(([, v]) => v > 0.05).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ') : 'promoted or never applied';
    process.stdout.write(`  ${tier} ended by ${last!.key} at ${last!.endSeconds} model s: dispatched at ${last!.dispatchedSeconds}, applied at ${last!.appliedSeconds ?? '-'}; ${phases}\n`);
  }
  console.table(c.tiers.map((t) => ({
    tier: t.tier, boundSeconds: wall(bound.tiers[t.tier] ?? 0), perfectSeconds: t.perfectSeconds,
    engineRtoSeconds: report?.tiers.find((r) => r.tier === t.tier)?.rtoSeconds ?? null, enginePerPerfect: t.enginePerPerfect,
  })));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:perfect: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

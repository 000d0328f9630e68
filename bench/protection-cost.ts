/**
 * The cost of continuous protection on the benchmark fleet (docs/protection.md#load-on-the-platform-and-how-to-size-it):
 * the generated 5,000-job fleet (simulator/fleet-generator.ts, its state sizes) under tiers.yaml's
 * RPOs and `protection` block, per layout and replication case, through the steady-state model
 * domain/protection-load.ts with the simulator's savepoint time (simulator/latency-model.ts
 * DEFAULT_MODEL: 5 s + state at 500 MiB/s, an assumption). No servers; part of `npm run bench`,
 * or alone: `npx tsx bench/protection-cost.ts [--jobs N]`.
 *
 * `--measure` runs the protection loop itself on that fleet instead (a Temporal dev server, the
 * simulator with the protection ports, the production worker; objects in the simulator's memory):
 * per-az-buckets, az-a's store not replicating into az-b. It runs passes back to back (each a
 * protectFleet workflow, sampled through its `protectionProgress` query) until every P1/P2 job
 * is inside its RPO in the other AZ or `--minutes` of wall time end, and prints per pass its
 * duration, savepoints, copies and bytes shipped, and the rates per model minute next to the
 * model's prediction for the same fleet and policy (ratio measured / modelled), and the histories
 * of each pass and its shard workflows (events, bytes).
 * `npx tsx bench/protection-cost.ts --measure [--jobs 5000] [--time-scale 60] [--at-once N] [--minutes 10]`
 * (`--at-once`: protection.savepointsAtOncePerAz for the run, else tiers.yaml's). Run it through
 * /work/heavy on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protectionLoad, type ProtectionLoad } from '../domain/protection-load.js';
import { NO_PROTECTION, protectionShards } from '../domain/protection.js';
import { parseTiersPolicy } from '../domain/tiers-policy.js';
import type { PlatformProfile } from '../domain/types.js';
import { loadExampleTemplates } from '../simulator/example-manifests.js';
import { generateFleet } from '../simulator/fleet-generator.js';
import { DEFAULT_MODEL } from '../simulator/latency-model.js';

const TIERS_FILE = fileURLToPath(new URL('../tiers.yaml', import.meta.url));
const GiB = 1024 ** 3;

/** One case of the cost table. */
export interface ProtectionCostRow {
  case: string;
  jobs: number;
  load: ProtectionLoad;
}

/**
 * The protection cost of a generated fleet of `jobs` primaries (seed 1, the bench's) in three
 * cases: per-AZ buckets with replication (savepoints only), per-AZ buckets without replication
 * between the two AZs (savepoints shipped both ways), symmetric buckets with replication (none).
 */
export function protectionCostRows(jobs = 5000): ProtectionCostRow[] {
  const policy = parseTiersPolicy(readFileSync(TIERS_FILE, 'utf8'), TIERS_FILE);
  const protection = policy.protection ?? NO_PROTECTION;
  const rate = { baseSeconds: DEFAULT_MODEL.savepointBaseSeconds, bytesPerSecond: DEFAULT_MODEL.savepointBytesPerSecond };
  const cases: Array<{ name: string; layout: PlatformProfile['layout']; notReplicated: boolean }> = [
    { name: 'per-az-buckets, replicated', layout: 'per-az-buckets', notReplicated: false },
    { name: 'per-az-buckets, not replicated', layout: 'per-az-buckets', notReplicated: true },
    { name: 'symmetric, replicated', layout: 'symmetric', notReplicated: false },
  ];
  return cases.map((c) => {
    const fleet = generateFleet({ jobs, seed: 1, templates: loadExampleTemplates(), layout: c.layout });
    const names = fleet.platform.azs.map((a) => a.name);
    const platform: PlatformProfile = {
      ...fleet.platform,
      ...(c.notReplicated ? { notReplicated: names.flatMap((from) => names.filter((to) => to !== from).map((to) => ({ from, to }))) } : {}),
    };
    const load = protectionLoad(fleet.jobs.map((j) => ({ tier: j.tier, az: j.az, stateBytes: j.stateSizeBytes })), policy.tiers, protection, platform, rate);
    return { case: c.name, jobs: fleet.jobs.length, load };
  });
}

/** The rows as text: per case the fleet-wide figures, then per protected tier and per AZ. */
export function protectionCostText(rows: readonly ProtectionCostRow[]): string {
  const lines = ['Protection cost (modelled: domain/protection-load.ts; tiers.yaml RPOs and protection block; savepoints 5 s + state at 500 MiB/s)'];
  for (const r of rows) {
    const l = r.load;
    lines.push(`  ${r.case}, ${r.jobs} jobs: ${l.savepointsPerMinute.toFixed(1)} savepoints/min, ${(l.savepointBytesPerHour / GiB).toFixed(0)} GiB written/h, ${(l.shippedBytesPerHour / GiB).toFixed(0)} GiB shipped/h`);
    for (const t of l.tiers) {
      lines.push(`    ${t.tier}: ${t.protectedJobs}/${t.jobs} jobs, a savepoint each ${t.refreshSeconds} s: ${t.savepointsPerMinute.toFixed(1)}/min, ${(t.savepointBytesPerCycle / GiB).toFixed(0)} GiB written and ${(t.shippedBytesPerCycle / GiB).toFixed(0)} GiB shipped per cycle`);
    }
    for (const a of l.azs) {
      lines.push(`    ${a.az}: ${a.savepointsPerMinute.toFixed(1)} savepoints/min, ${a.meanSavepointsInFlight.toFixed(1)} in flight on average against ${a.savepointsAtOnce} at once: ${a.keepsUp ? 'keeps up' : 'FALLS BEHIND'}`);
    }
  }
  return lines.join('\n');
}

/** One protection pass as measured: wall and model seconds, what it did. */
export interface MeasuredPass {
  pass: number;
  wallSeconds: number;
  modelSeconds: number;
  /** Protected-tier jobs unprotected when the pass began (its assessment). */
  unprotectedBefore: number;
  savepoints: number;
  shipped: number;
  shippedBytes: number;
  failures: number;
  /** false: stopped at the end of the wall budget (figures from its progress query). */
  finished: boolean;
  /**
   * Histories (Temporal describe): the pass's runs (it continues as new at its budget) and its
   * shard workflows: how many, events of the largest and in all, bytes of the largest.
   */
  histories: {
    passRuns: number; passLargestEvents: number; passLargestBytes: number;
    shards: number; shardLargestEvents: number; shardLargestBytes: number; shardEventsTotal: number;
    /** Workflow tasks that timed out or failed, in the pass's runs and its shards (a worker not keeping up). */
    workflowTaskTimeouts: number; workflowTaskFailures: number;
  };
}

/** What `--measure` reports. */
export interface MeasuredProtectionCost {
  jobs: number;
  timeScale: number;
  savepointsAtOncePerAz: number;
  machine: string;
  loadStart: number;
  loadEnd: number;
  passes: MeasuredPass[];
  /** Model seconds from the first pass's start until a pass began with no protected-tier job unprotected; null: not within the budget. */
  protectedAfterModelSeconds: number | null;
  measured: { savepointsPerModelMinute: number; shippedGiBPerModelHour: number };
  modelled: { savepointsPerMinute: number; shippedGiBPerHour: number; meanSavepointsInFlightAzA: number };
  /**
   * The most savepoints per model minute `savepointsAtOncePerAz` allows on this fleet: per AZ,
   * at-once × 60 / the mean savepoint time of its protected jobs (5 s + state at 500 MiB/s, the
   * simulator's model), summed over the AZs: the ceiling a backlog is worked off at.
   */
  atOnceCeilingPerModelMinute: number;
  ratio: { savepoints: number | null; shipped: number | null; savepointsToCeiling: number | null };
}

interface MeasureOptions { jobs: number; timeScale: number; atOnce?: number; minutes: number; log: (line: string) => void }

/** Run the protection loop on the simulated fleet (see the file comment). */
export async function measureProtectionCost(o: MeasureOptions): Promise<MeasuredProtectionCost> {
  const { mkdtemp, mkdir, writeFile } = await import('node:fs/promises');
  const { join, resolve } = await import('node:path');
  const { cpus, loadavg, totalmem } = await import('node:os');
  const { bundleWorkflowCode, DefaultLogger, Runtime } = await import('@temporalio/worker');
  const { EvacuationClient } = await import('../client/evacuation-client.js');
  const { loadSettings } = await import('../config/settings.js');
  const { startTemporalDevServer } = await import('../launchers/local-processes.js');
  const { spawnSimulator } = await import('../simulator/spawn.js');
  const { WORKFLOWS_PATH, buildWorker } = await import('../worker/build.js');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}`;
  await mkdir(resolve('.az-evac'), { recursive: true });
  const stateDir = await mkdtemp(join(resolve('.az-evac'), 'protection-cost-'));
  let tiersText = readFileSync(TIERS_FILE, 'utf8');
  if (o.atOnce !== undefined) tiersText = tiersText.replace(/^(\s+savepointsAtOncePerAz:\s*)\d+/m, `$1${o.atOnce}`);
  const tiersFile = join(stateDir, 'tiers.yaml');
  await writeFile(tiersFile, tiersText);
  const policy = parseTiersPolicy(tiersText, tiersFile);
  const protection = policy.protection ?? NO_PROTECTION;
  const fleet = generateFleet({ jobs: o.jobs, seed: 1, templates: loadExampleTemplates(), layout: 'per-az-buckets' });
  fleet.platform = { ...fleet.platform, notReplicated: [{ from: 'az-a', to: 'az-b' }] };
  const rate = { baseSeconds: DEFAULT_MODEL.savepointBaseSeconds, bytesPerSecond: DEFAULT_MODEL.savepointBytesPerSecond };
  const model = protectionLoad(fleet.jobs.map((j) => ({ tier: j.tier, az: j.az, stateBytes: j.stateSizeBytes })), policy.tiers, protection, fleet.platform, rate);
  const temporal = await startTemporalDevServer(join(stateDir, 'temporal'), { headless: true });
  const sim = await spawnSimulator({ timeScale: o.timeScale, seed: 1 });
  const passes: MeasuredPass[] = [];
  let protectedAfterModelSeconds: number | null = null;
  const loadStart = loadavg()[0]!;
  try {
    await sim.client.loadFleet(fleet);
    const settings = { ...loadSettings({}), temporalAddress: temporal.address, stateDir, tiersFile, timeScale: o.timeScale, taskQueue: `protection-cost-${Date.now()}` };
    const worker = await buildWorker(settings, sim.client, { workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH }) });
    const client = await EvacuationClient.connect(settings);
    try {
      await worker.runUntil(async () => {
        await client.syncCatalog();
        const budgetEnd = Date.now() + o.minutes * 60_000;
        const firstStart = Date.now();
        type Progress = { savepoints: number; shipped: number; shippedBytes: number; failures: number };
        type Result = { before: { unprotected: number }; totals: { savepoints: number; shipped: number; shippedBytes: number; failures: number } };
        const shardCount = protectionShards(fleet.jobs, fleet.platform.azs.map((a) => a.name)).length;
        /** The pass's progress (its finished shards) plus each running shard's own (protectionProgress of both). */
        const sampled = async (id: string): Promise<Progress> => {
          const p = { ...(await client.temporal.workflow.getHandle(id).query<Progress>('protectionProgress')) };
          for (let k = 0; k < shardCount; k++) {
            const shard = client.temporal.workflow.getHandle(`${id}/shard/${k}`);
            const d = await shard.describe().catch(() => undefined);
            if (d?.status.name !== 'RUNNING') continue;
            const s = await shard.query<Progress>('protectionProgress').catch(() => undefined);
            if (s) for (const f of ['savepoints', 'shipped', 'shippedBytes', 'failures'] as const) p[f] += s[f];
          }
          return p;
        };
        /** The pass's runs and its shards' histories (shards not started are left out). */
        const histories = async (id: string): Promise<MeasuredPass['histories']> => {
          const runs: Array<{ events: number; bytes: number }> = [];
          const tasks = { timeouts: 0, failures: 0 };
          const countTasks = async (h: ReturnType<typeof client.temporal.workflow.getHandle>): Promise<void> => {
            for (const e of (await h.fetchHistory().catch(() => undefined))?.events ?? []) {
              if (e.workflowTaskTimedOutEventAttributes) tasks.timeouts++;
              if (e.workflowTaskFailedEventAttributes) tasks.failures++;
            }
          };
          for await (const r of client.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) {
            runs.push({ events: r.historyLength, bytes: r.historySize ?? 0 });
            await countTasks(client.temporal.workflow.getHandle(id, r.runId));
          }
          const shards: Array<{ events: number; bytes: number }> = [];
          for (let k = 0; k < shardCount; k++) {
            const shard = client.temporal.workflow.getHandle(`${id}/shard/${k}`);
            const d = await shard.describe().catch(() => undefined);
            if (!d) continue;
            shards.push({ events: d.historyLength, bytes: d.historySize ?? 0 });
            await countTasks(shard);
          }
          return {
            passRuns: runs.length, passLargestEvents: Math.max(0, ...runs.map((r) => r.events)), passLargestBytes: Math.max(0, ...runs.map((r) => r.bytes)),
            shards: shards.length, shardLargestEvents: Math.max(0, ...shards.map((r) => r.events)), shardLargestBytes: Math.max(0, ...shards.map((r) => r.bytes)),
            shardEventsTotal: shards.reduce((n, r) => n + r.events, 0), workflowTaskTimeouts: tasks.timeouts, workflowTaskFailures: tasks.failures,
          };
        };
        for (let n = 1; Date.now() < budgetEnd; n++) {
          const started = Date.now();
          const handle = await client.temporal.workflow.start('protectFleet', { workflowId: `protection-cost-${n}-${started}`, taskQueue: settings.taskQueue });
          const done = handle.result() as Promise<Result>;
          let result: Result | undefined;
          let progress: Progress | undefined;
          while (!result) {
            const left = budgetEnd - Date.now();
            result = await Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, Math.min(15_000, left))))]);
            if (result) break;
            progress = await sampled(handle.workflowId).catch(() => progress);
            if (progress) o.log(`pass ${n}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${progress.savepoints} savepoints, ${progress.shipped} copies, ${(progress.shippedBytes / GiB).toFixed(0)} GiB shipped`);
            if (Date.now() >= budgetEnd) break;
          }
          const wallSeconds = (Date.now() - started) / 1000;
          if (!result) await handle.terminate('protection-cost: wall budget over');
          const h = await histories(handle.workflowId);
          const pass: MeasuredPass = result
            ? { pass: n, wallSeconds, modelSeconds: wallSeconds * o.timeScale, unprotectedBefore: result.before.unprotected, savepoints: result.totals.savepoints, shipped: result.totals.shipped, shippedBytes: result.totals.shippedBytes, failures: result.totals.failures, finished: true, histories: h }
            : { pass: n, wallSeconds, modelSeconds: wallSeconds * o.timeScale, unprotectedBefore: Number.NaN, savepoints: progress?.savepoints ?? 0, shipped: progress?.shipped ?? 0, shippedBytes: progress?.shippedBytes ?? 0, failures: progress?.failures ?? 0, finished: false, histories: h };
          passes.push(pass);
          o.log(`pass ${n}: ${JSON.stringify(pass)}`);
          if (result && result.before.unprotected === 0) {
            protectedAfterModelSeconds = ((started - firstStart) / 1000) * o.timeScale;
            break;
          }
        }
      });
    } finally {
      await client.close();
    }
  } finally {
    await sim.stop();
    await temporal.stop();
  }
  const modelMinutes = passes.reduce((t, p) => t + p.modelSeconds, 0) / 60;
  const measured = {
    savepointsPerModelMinute: modelMinutes > 0 ? passes.reduce((n, p) => n + p.savepoints, 0) / modelMinutes : 0,
    shippedGiBPerModelHour: modelMinutes > 0 ? passes.reduce((n, p) => n + p.shippedBytes, 0) / GiB / (modelMinutes / 60) : 0,
  };
  const modelled = {
    savepointsPerMinute: model.savepointsPerMinute, shippedGiBPerHour: model.shippedBytesPerHour / GiB,
    meanSavepointsInFlightAzA: model.azs.find((a) => a.az === 'az-a')?.meanSavepointsInFlight ?? 0,
  };
  const ratio = (m: number, p: number): number | null => (p > 0 ? Math.round((m / p) * 1000) / 1000 : null);
  const atOnceCeilingPerModelMinute = fleet.platform.azs.reduce((sum, a) => {
    const mine = fleet.jobs.filter((j) => j.az === a.name && protection.tiers.includes(j.tier));
    if (mine.length === 0) return sum;
    const meanSeconds = mine.reduce((t, j) => t + rate.baseSeconds + j.stateSizeBytes / rate.bytesPerSecond, 0) / mine.length;
    return sum + (protection.savepointsAtOncePerAz * 60) / meanSeconds;
  }, 0);
  return {
    jobs: fleet.jobs.length, timeScale: o.timeScale, savepointsAtOncePerAz: protection.savepointsAtOncePerAz, machine, loadStart, loadEnd: loadavg()[0]!,
    passes, protectedAfterModelSeconds, measured, modelled, atOnceCeilingPerModelMinute,
    ratio: {
      savepoints: ratio(measured.savepointsPerModelMinute, modelled.savepointsPerMinute), shipped: ratio(measured.shippedGiBPerModelHour, modelled.shippedGiBPerHour),
      savepointsToCeiling: ratio(measured.savepointsPerModelMinute, atOnceCeilingPerModelMinute),
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const number = (name: string, fallback: number, check: (n: number) => boolean, example: string): number => {
    const v = arg(name);
    const n = v === undefined ? fallback : Number(v);
    if (!check(n)) throw new Error(`${name} ${v} is not valid. Fix: e.g. ${name} ${example}`);
    return n;
  };
  const jobs = number('--jobs', 5000, (n) => Number.isInteger(n) && n >= 1, '5000');
  if (process.argv.includes('--measure')) {
    const atOnce = arg('--at-once') === undefined ? undefined : number('--at-once', 2, (n) => Number.isInteger(n) && n >= 1, '2');
    const measured = await measureProtectionCost({
      jobs, timeScale: number('--time-scale', 60, (n) => n > 0, '60'), minutes: number('--minutes', 10, (n) => n > 0, '10'),
      ...(atOnce !== undefined ? { atOnce } : {}), log: (l) => process.stderr.write(`${l}\n`),
    });
    process.stdout.write(`${JSON.stringify(measured, null, 2)}\n`);
    process.exit(0);
  }
  process.stdout.write(`${protectionCostText(protectionCostRows(jobs))}\n`);
}

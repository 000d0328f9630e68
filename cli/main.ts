/**
 * The az-evac command. Every subcommand talks to Temporal through the client facade
 * (client/evacuation-client.ts); `demo` also starts the dev server, the simulator and a
 * worker. Exit codes: 0 success, 1 the evacuation did not bring every P0–P2 job up,
 * 2 bad input (message names the value and the fix; also a press whose request differs
 * from the evacuation running under the same id), 130 detached with Ctrl-C.
 */
import '../config/require-node.js'; // first: a clear error on a Node older than package.json's engines
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EvacuationClient, EvacuationRequestConflict } from '../client/evacuation-client.js';
import { messageOf } from '../client/error-message.js';
import { SEARCH_ATTRIBUTES, setupSearchAttributes } from '../client/search-attributes.js';
import { connectTemporalConnection } from '../client/temporal-connection.js';
import { describeTemporal } from '../config/temporal-options.js';
import { loadSettings, settingsHelp, type Settings } from '../config/settings.js';
import { EVACUATION_MODES, type EvacuationMode, type EvacuationRequest } from '../domain/evacuation.js';
import type { EvacuationReport } from '../domain/report.js';
import { renderReportHtml } from '../domain/report-html.js';
import { startConsole } from '../console/start.js';
import { TIERS, type Tier } from '../domain/types.js';
import { buildStateStores, type StateStores } from '../platform/state-stores.js';
import { runDemo } from './demo.js';
import { addDrillCommands } from './drill-commands.js';
import { TSX_LOADER } from '../launchers/local-processes.js';
import { planText } from './plan-text.js';
import { watchProgress } from './progress-view.js';
import { reportText } from './report-text.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function parseTiers(value: string): Tier[] {
  const tiers = value.split(',').map((t) => t.trim().toUpperCase());
  for (const t of tiers) {
    if (!(TIERS as readonly string[]).includes(t)) throw new InvalidArgumentError(`unknown tier "${t}"; use a comma list of ${TIERS.join(', ')}`);
  }
  return tiers as Tier[];
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

interface ScopeOpts { from: string; to: string; mode: EvacuationMode; tiers?: Tier[]; teams?: string[]; jobs?: string[]; catalogVersion?: number; preload: boolean; forceStaleCatalog?: boolean }

function requestOf(o: ScopeOpts): EvacuationRequest {
  if (o.from === o.to) throw new InvalidArgumentError(`--from and --to are both "${o.from}"; the target must be a different AZ`);
  const scope = o.tiers || o.teams || o.jobs ? { tiers: o.tiers, teams: o.teams, jobs: o.jobs } : undefined;
  return {
    sourceAz: o.from, targetAz: o.to, mode: o.mode, catalogVersion: o.catalogVersion, scope, preload: o.preload,
    requestedBy: process.env.USER ?? 'cli',
    ...(o.forceStaleCatalog ? { forceStaleCatalog: true } : {}),
  };
}

function scopeOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--from <az>', 'the failed (or drilled) AZ to evacuate, e.g. az-a')
    .requiredOption('--to <az>', 'the surviving AZ to move jobs into, e.g. az-b')
    .addOption(new Option('--mode <mode>', 'emergency: the source AZ is gone (restore the newest snapshots); planned: it answers, each job is stopped with a savepoint there and restored from it; drill: planned, as a rehearsal that failback undoes').choices([...EVACUATION_MODES]).default('emergency'))
    .option('--tiers <list>', 'only these tiers, e.g. P0,P1', parseTiers)
    .option('--teams <list>', 'only jobs of these teams', list)
    .option('--jobs <list>', 'only these jobs (namespace/name)', list)
    .option('--catalog-version <n>', 'evacuate from this catalog version (default: newest)', positiveNumber)
    .option('--no-preload', 'do not preload jars into the target AZ (jobs fetch them at start-up)')
    .option('--force-stale-catalog', 'emergency: evacuate even when the catalog is older than the tightest RPO in scope (refused otherwise)');
}

async function withClient<T>(fn: (c: EvacuationClient, s: Settings) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const client = await EvacuationClient.connect(settings);
  try {
    return await fn(client, settings);
  } finally {
    await client.close();
  }
}

/** Run `fn` over the state store the worker writes (AZ_EVAC_STATE_STORE): plans and reports are read through it from any host. */
async function withState<T>(settings: Settings, fn: (state: StateStores) => Promise<T>): Promise<T> {
  const state = buildStateStores(settings);
  try {
    return await fn(state);
  } finally {
    state.close();
  }
}

async function printReport(ref: string, out: { reportJson?: string; reportHtml?: string }): Promise<EvacuationReport> {
  const report = await withState(loadSettings(), async (state) => JSON.parse(await state.reports.read(ref)) as EvacuationReport);
  process.stdout.write(`${reportText(report)}\n`);
  if (out.reportJson) {
    await writeFile(out.reportJson, JSON.stringify(report, null, 2));
    process.stdout.write(`Report JSON: ${resolve(out.reportJson)}\n`);
  }
  if (out.reportHtml) {
    await writeFile(out.reportHtml, await renderReportHtml(report));
    process.stdout.write(`Report HTML: ${resolve(out.reportHtml)}\n`);
  }
  return report;
}

const program = new Command('az-evac')
  .description('Evacuate Apache Flink jobs out of a failed availability zone into a surviving one, by priority tier (P0 hot standby, P1 cold standby, P2 regular, P3 preemptible), as Temporal workflows.')
  .showHelpAfterError('(run with --help for usage)')
  // Usage errors exit 2 (bad input), like the errors the commands raise themselves.
  .exitOverride((err) => process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2))
  .addHelpText('after', `
Start here:
  az-evac demo                          evacuate a simulated ~1,000-job fleet end to end (starts everything)
  az-evac plan --from az-a --to az-b    what would move, what is preempted, what will not fit (acts on nothing)
  az-evac evacuate --from az-a --to az-b --mode drill
  az-evac status <id> | pause <id> | resume <id> | abort <id> --reason "..."

Settings (environment variables):
${settingsHelp()}`);

program.command('demo')
  .description('start a Temporal dev server, S3 servers, the simulator and a worker; generate a fleet, fail an AZ, evacuate it, print the report')
  .option('--jobs <n>', 'jobs in the simulated fleet', positiveNumber, 1000)
  .option('--seed <s>', 'fleet generator seed', positiveNumber, 7)
  .option('--time-scale <x>', 'simulator speed-up (model seconds per wall second)', positiveNumber, 10)
  .option('--no-preload', 'do not preload jars')
  .addOption(new Option('--platform <p>', 'simulator, or k8s: real kube-apiservers per AZ started locally, az-a\'s apiserver stopped').choices(['simulator', 'k8s']).default('simulator'))
  .option('--no-s3', 'keep checkpoints, savepoints and jars in the simulator\'s memory instead of local S3 servers (versitygw)')
  .option('--report-json <file>', 'write the full JSON report here')
  .option('--report-html <file>', 'write the HTML report (timeline chart, RTO/RPO per tier) here')
  .option('--console', 'keep everything (and the console page) running after the evacuation, until Ctrl-C')
  .action(async (o: { jobs: number; seed: number; timeScale: number; preload: boolean; s3: boolean; platform: 'simulator' | 'k8s'; reportJson?: string; reportHtml?: string; console?: boolean }) => {
    const log = (l: string): void => { process.stderr.write(`${l}\n`); };
    const report = await runDemo({
      jobs: o.jobs, seed: o.seed, timeScale: o.timeScale, preload: o.preload, s3: o.s3, platform: o.platform, log,
      onReport: (reportFile) => printReport(reportFile, o),
      holdOpen: o.console ? () => new Promise<void>((r) => { log('The console stays up; Ctrl-C to stop everything.'); process.once('SIGINT', () => r()); }) : undefined,
    });
    process.exitCode = report.success ? 0 : 1;
  });

program.command('console')
  .description('start the emergency console: the web page and JSON API to trigger, watch and control evacuations (needs Temporal and a worker, like `evacuate`)')
  .option('--host <host>', 'interface to listen on (default AZ_EVAC_CONSOLE_HOST)')
  .option('--port <port>', 'port (default AZ_EVAC_CONSOLE_PORT; 0 picks a free one)', (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${v}" is not a TCP port (0–65535)`);
    return n;
  })
  .action(async (o: { host?: string; port?: number }) => {
    const settings = loadSettings();
    const running = await startConsole({ ...settings, consoleHost: o.host ?? settings.consoleHost, consolePort: o.port ?? settings.consolePort });
    process.stdout.write(`az-evac console at ${running.url} (audit log ${running.auditLog}); Ctrl-C to stop\n`);
    // SIGTERM too: a pod's stop (the console runs as PID 1 in the image, which has no default handler).
    await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
    await running.close();
  });

scopeOptions(program.command('plan').description('plan an evacuation and print it; acts on nothing'))
  .option('--json', 'print the full plan as JSON')
  .action(async (o: ScopeOpts & { json?: boolean }) => {
    const req = requestOf(o);
    return withClient(async (client, settings) => {
    const planId = `az-evac-plan-${o.from}-to-${o.to}-${Date.now()}`;
    await client.planPreview(req, planId);
    const { plan } = await withState(settings, (state) => state.evacuations.getPlan(planId));
    process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : `${planText(plan)}\n`);
  });
  });

scopeOptions(program.command('evacuate').description('start (or join) an evacuation and watch its progress; Ctrl-C detaches without cancelling'))
  .option('--id <id>', 'evacuation id (default: az-evac-<mode>-<from>-to-<to>, so a second press joins the first)')
  .option('--dry-run', 'plan only (same as `plan`)')
  .option('--detach', 'start and return at once')
  .option('--report-json <file>', 'write the full JSON report here')
  .option('--report-html <file>', 'write the HTML report (timeline chart, RTO/RPO per tier) here')
  .action(async (o: ScopeOpts & { id?: string; dryRun?: boolean; detach?: boolean; reportJson?: string; reportHtml?: string }) => {
    const req = requestOf(o);
    return withClient(async (client, settings) => {
    if (o.dryRun) {
      const planId = `az-evac-plan-${o.from}-to-${o.to}-${Date.now()}`;
      await client.planPreview(req, planId);
      const { plan } = await withState(settings, (state) => state.evacuations.getPlan(planId));
      process.stdout.write(`${planText(plan)}\n(dry run: nothing was changed)\n`);
      return;
    }
    const started = await client.start(req, o.id);
    process.stderr.write(`${started.joined ? 'Joined running' : 'Started'} evacuation ${started.evacuationId} (run ${started.runId})\n`);
    if (o.detach) return;
    const result = client.result(started.evacuationId);
    process.once('SIGINT', () => {
      process.stderr.write(`\nDetached; the evacuation goes on. Watch it: az-evac status ${started.evacuationId}\n`);
      process.exit(130);
    });
    await watchProgress(() => client.progress(started.evacuationId), result);
    const done = await result;
    const report = await printReport(done.reportFile, o);
    process.exitCode = report.success ? 0 : 1;
  });
  });

program.command('status <id>').description('progress of an evacuation').option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) => withClient(async (client) => {
    const p = await client.progress(id);
    if (o.json) { process.stdout.write(`${JSON.stringify(p, null, 2)}\n`); return; }
    process.stdout.write(`${id}: ${p.phase}${p.paused ? ' (paused)' : ''}, ${p.elapsedSeconds.toFixed(0)}s elapsed\n`);
    for (const t of p.tiers) process.stdout.write(`  ${t.tier}: planned ${t.planned}, running ${t.running}, done ${t.succeeded}, failed ${t.failed}, skipped ${t.skipped} (RTO target ${t.rtoTargetSeconds}s)\n`);
    if (p.reportFile) process.stdout.write(`Report: ${p.reportFile}\n`);
  }));

program.command('pause <id>').description('stop dispatching new jobs (jobs in flight finish)').option('--reason <text>')
  .action(async (id: string, o: { reason?: string }) => withClient(async (c) => { await c.pause(id, process.env.USER ?? 'cli', o.reason); process.stdout.write(`paused ${id}\n`); }));
program.command('resume <id>').description('resume a paused evacuation')
  .action(async (id: string) => withClient(async (c) => { await c.resume(id, process.env.USER ?? 'cli'); process.stdout.write(`resumed ${id}\n`); }));
program.command('abort <id>').description('dispatch nothing more; in-flight jobs finish; the rest are recorded as skipped').requiredOption('--reason <text>', 'why (recorded in the report)')
  .action(async (id: string, o: { reason: string }) => withClient(async (c) => { await c.abort(id, process.env.USER ?? 'cli', o.reason); process.stdout.write(`aborting ${id}\n`); }));

program.command('failback <drill-id>').description('undo a drill: remove its copies in the target AZ, resume the source copies, resume preempted P3 jobs')
  .option('--window <n>', 'jobs failed back at once', positiveNumber, 50)
  .action(async (drillId: string, o: { window: number }) => withClient(async (c) => {
    const r = await c.failback({ drillId, window: o.window });
    process.stdout.write(`failback of ${drillId}: ${r.jobs} jobs, ${r.restoredFromTarget} restored from fresh savepoints, ${r.restoredOwn} from their own snapshots, ${r.untouched} untouched, ${r.removed} drill copies removed, ${r.standbys} hot standbys restarted, ${r.preemptedResumed} preempted P3 resumed, ${r.failed.length} failed\n`);
    for (const f of r.failed) process.stdout.write(`  ${f.key}: ${f.reason}\n`);
    process.exitCode = r.failed.length === 0 ? 0 : 1;
  }));

program.command('catalog').description('fleet catalog').command('sync').description('read the live fleet of every reachable AZ into a new catalog version')
  .action(async () => withClient(async (c) => {
    const r = await c.syncCatalog();
    process.stdout.write(`catalog v${r.version}: ${r.jobs} jobs at ${r.takenAt}${r.carriedOver.length ? ` (carried over from the previous version: ${r.carriedOver.join(', ')})` : ''}\n`);
  }));

program.command('setup').description('prepare a service az-evac needs').command('temporal')
  .description(`create the custom search attributes az-evac's workflows set (${Object.keys(SEARCH_ATTRIBUTES).join(', ')}, Keyword) in the Temporal namespace, through the operator service; idempotent`)
  .action(async () => {
    const settings = loadSettings();
    const where = describeTemporal(settings);
    const connection = await connectTemporalConnection(settings);
    try {
      const r = await setupSearchAttributes(connection.operatorService, settings.temporalNamespace, where);
      process.stdout.write(`Temporal ${where}: ${r.created.length ? `created ${r.created.join(', ')}` : 'nothing to create'}${r.existing.length ? `; already there: ${r.existing.join(', ')}` : ''}\n`);
    } finally {
      await connection.close();
    }
  });

addDrillCommands(program);

for (const [name, entry, what] of [['worker', 'worker/main.ts', 'run the worker (AZ_EVAC_SIMULATOR_URL, or AZ_EVAC_PLATFORM=k8s: docs/kubernetes.md)'], ['simulator', 'simulator/main.ts', 'run the simulator process (--port, --time-scale, --seed)']] as const) {
  program.command(name).description(what).allowUnknownOption().helpOption(false).argument('[args...]')
    .action((args: string[]) => {
      // Compiled (dist/, `npm run build`): the entry's .js beside this file, with plain node.
      const compiled = import.meta.url.endsWith('.js');
      const child = spawn(process.execPath, [...(compiled ? [] : ['--import', TSX_LOADER]), `${REPO}${compiled ? entry.replace(/\.ts$/, '.js') : entry}`, ...args], { stdio: 'inherit' });
      // Pass stop signals on, so the worker drains (it exits 0 when drained).
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
      child.on('exit', (code) => { process.exitCode = code ?? 1; });
    });
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = messageOf(err);
  process.stderr.write(`az-evac: ${message}\n`);
  process.exitCode = err instanceof InvalidArgumentError || err instanceof EvacuationRequestConflict ? 2 : 1;
});

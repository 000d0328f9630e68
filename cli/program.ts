/**
 * The az-evac command (commander), built over a CliContext so tests run it in process:
 * `runCli(['list', '--json'], io)` resolves with the exit code (cli/exit-codes.ts). Every
 * subcommand talks to Temporal through the client facades (client/); `demo` also starts the
 * dev server, the simulator and a worker. With `--json` a command prints one JSON document on
 * stdout and its progress and human text on stderr. Modules only some commands need (the demo
 * and its lab, the console, the state stores, the HTML report) are imported when they run, so
 * `--help` and the read commands start fast.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EvacuationClient } from '../client/evacuation-client.js';
import { messageOf } from '../domain/error-message.js';
import { RUN_STATUS_FILTERS, listRuns, type RunStatusFilter } from '../client/run-list.js';
import { SEARCH_ATTRIBUTES, setupSearchAttributes } from '../client/search-attributes.js';
import { connectTemporalConnection } from '../client/temporal-connection.js';
import { describeTemporal } from '../config/temporal-options.js';
import { settingsHelp, type Settings } from '../config/settings.js';
import type { EvacuationMode, EvacuationRequest } from '../domain/evacuation.js';
import type { EvacuationReport } from '../domain/report.js';
import type { Plan } from '../domain/types.js';
import type { Tier } from '../domain/types.js';
import type { StateStores } from '../platform/state-stores.js';
import { printJson, validatedSettings, type CliContext, type CliIo } from './context.js';
import { addDrillCommands } from './drill-commands.js';
import { addProtectCommands } from './protect-commands.js';
import { confirmMode, decideMode, modeHelp, MODE_CHOICES } from './evacuate-mode.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { runListText } from './list-text.js';
import { commaList, parseTiers, positiveInteger, positiveNumber, tcpPort } from './options.js';
import { planText } from './plan-text.js';
import { elapsedSeconds, watchProgress } from './progress-view.js';
import { reportText } from './report-text.js';
import { versionText } from './version.js';
import { mayOverrideHold } from '../domain/az-hold.js';
import { DEFAULT_PLANNING_DEADLINE_SECONDS, PLANNING_DEADLINE_LIMITS, planningDeadlineSeconds } from '../domain/plan-deadline.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

interface ScopeOpts { from: string; to: string; mode?: EvacuationMode; tiers?: Tier[]; teams?: string[]; jobs?: string[]; catalogVersion?: number; preload: boolean; forceStaleCatalog?: boolean }

/** @throws InvalidArgumentError when source and target are the same AZ */
function checkAzs(o: Pick<ScopeOpts, 'from' | 'to'>): void {
  if (o.from === o.to) throw new InvalidArgumentError(`--from and --to are both "${o.from}"; the target must be a different AZ`);
}

/**
 * `--planning-deadline`: whole seconds within PLANNING_DEADLINE_LIMITS.
 * @throws InvalidArgumentError naming the value, the range and the fix (exit 2)
 */
function planningDeadlineOption(value: string): number {
  const n = Number(value);
  try {
    return planningDeadlineSeconds({ planningDeadlineSeconds: n });
  } catch (err) {
    throw new InvalidArgumentError(messageOf(err).replace(`planningDeadlineSeconds is ${String(n)}`, `--planning-deadline is "${value}"`));
  }
}

function requestOf(o: ScopeOpts, mode: EvacuationMode, env: CliIo['env']): EvacuationRequest {
  checkAzs(o);
  const scope = o.tiers || o.teams || o.jobs ? { tiers: o.tiers, teams: o.teams, jobs: o.jobs } : undefined;
  return {
    sourceAz: o.from, targetAz: o.to, mode, catalogVersion: o.catalogVersion, scope, preload: o.preload,
    requestedBy: env.USER ?? 'cli',
    ...(o.forceStaleCatalog ? { forceStaleCatalog: true } : {}),
  };
}

/**
 * The options of `plan` and `evacuate`.
 * @param defaultMode `plan`'s mode when none is given; `evacuate` has none (evacuate-mode.ts)
 */
function scopeOptions(cmd: Command, defaultMode?: EvacuationMode): Command {
  const mode = new Option('--mode <mode>', modeHelp()).choices(MODE_CHOICES);
  return cmd
    .requiredOption('--from <az>', 'the failed (or drilled) AZ to evacuate, e.g. az-a')
    .requiredOption('--to <az>', 'the surviving AZ to move jobs into, e.g. az-b')
    .addOption(defaultMode ? mode.default(defaultMode) : mode)
    .option('--tiers <list>', 'only these tiers, e.g. P0,P1', parseTiers)
    .option('--teams <list>', 'only jobs of these teams', commaList)
    .option('--jobs <list>', 'only these jobs (namespace/name)', commaList)
    .option('--catalog-version <n>', 'evacuate from this catalog version (default: newest)', positiveNumber)
    .option('--no-preload', 'do not preload jars into the target AZ (jobs fetch them at start-up)')
    .option('--force-stale-catalog', 'emergency: evacuate even when the catalog is older than the tightest RPO in scope (refused otherwise)');
}

/** The --status choices of `list`. */
const STATUS_CHOICES = Object.keys(RUN_STATUS_FILTERS) as RunStatusFilter[];

/** Build the az-evac program over `ctx` (exit codes through ctx.setExit; usage errors throw CommanderError). */
export function buildProgram(ctx: CliContext): Command {
  const { io } = ctx;
  const who = (): string => io.env.USER ?? 'cli';

  async function withClient<T>(fn: (c: EvacuationClient, s: Settings) => Promise<T>): Promise<T> {
    const settings = ctx.settings();
    const client = await EvacuationClient.connect(settings);
    try {
      return await fn(client, settings);
    } finally {
      await client.close();
    }
  }

  /** Run `fn` over the state store the worker writes (AZ_EVAC_STATE_STORE): plans and reports are read through it from any host. */
  async function withState<T>(settings: Settings, fn: (state: StateStores) => Promise<T>): Promise<T> {
    const { buildStateStores } = await import('../platform/state-stores.js');
    const state = buildStateStores(settings);
    try {
      return await fn(state);
    } finally {
      state.close();
    }
  }

  /** Plan without acting (the planPreview workflow) and read the full plan from the state store. */
  async function preview(client: EvacuationClient, settings: Settings, req: EvacuationRequest): Promise<Plan> {
    const planId = `az-evac-plan-${req.sourceAz}-to-${req.targetAz}-${Date.now()}`;
    await client.planPreview(req, planId);
    return (await withState(settings, (state) => state.evacuations.getPlan(planId))).plan;
  }

  /** Print a report (text, or the JSON document with `json`) and write the files asked for; the files' paths go to stderr with --json. */
  async function printReport(ref: string, out: { reportJson?: string; reportHtml?: string; json?: boolean }): Promise<EvacuationReport> {
    const report = await withState(ctx.settings(), async (state) => JSON.parse(await state.reports.read(ref)) as EvacuationReport);
    if (out.json) printJson(io, report);
    else io.out(`${reportText(report)}\n`);
    const note = out.json ? io.err : io.out;
    if (out.reportJson) {
      await writeFile(out.reportJson, JSON.stringify(report, null, 2));
      note(`Report JSON: ${resolve(out.reportJson)}\n`);
    }
    if (out.reportHtml) {
      const { renderReportHtml } = await import('../domain/report-html.js');
      await writeFile(out.reportHtml, await renderReportHtml(report));
      note(`Report HTML: ${resolve(out.reportHtml)}\n`);
    }
    return report;
  }

  const program = new Command('az-evac')
    .description('Evacuate Apache Flink jobs out of a failed availability zone into a surviving one, by priority tier (P0 hot standby, P1 cold standby, P2 regular, P3 preemptible), as Temporal workflows.')
    .version(versionText(), '-V, --version', 'print the az-evac, Temporal SDK and Node versions')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors throw (runCli maps them to exit 2; help and --version to 0) instead of exiting the process.
    .exitOverride()
    .addHelpText('after', `
Runbook paths:
  az-evac demo                                          a simulated ~1,000-job fleet end to end (starts everything)
  az-evac catalog sync                                  read the live fleet into a new catalog version
  az-evac plan --from az-a --to az-b                    what would move, be preempted, not fit (acts on nothing)
  az-evac evacuate --from az-a --to az-b --mode drill   rehearse: the source AZ stays alive
  az-evac evacuate --from az-a --to az-b --mode planned move out of a healthy AZ (savepoint, then restore)
  az-evac evacuate --from az-a --to az-b                the real thing: asks you to type az-a to confirm
  az-evac evacuate --from az-a --to az-b --mode emergency --yes --detach   the same from a script
  az-evac list --status running                         what runs now (evacuations and drills)
  az-evac status <id> | pause <id> | resume <id> | abort <id> --reason "..."
  az-evac report <id> --report-html out/report.html    the report of a finished evacuation
  az-evac drill run runbooks/p3-canary.yaml             a drill from a runbook, followed to its verdict
  az-evac failback <evacuation-id>                      undo a drill; after a real evacuation, move its jobs home once the source AZ is healthy
  az-evac protect status                                per tier the RPO an evacuation would pay now; unprotected jobs and why
  az-evac protect run                                   one protection pass now: take due savepoints, ship them, expire old copies
Read commands take --json: one JSON document on stdout, progress on stderr.

Exit codes:
${EXIT_CODES_HELP}

Settings (environment variables):
${settingsHelp()}`);

  program.command('demo')
    .description('start a Temporal dev server, S3 servers, the simulator and a worker; generate a fleet, fail an AZ, evacuate it, print the report')
    .option('--jobs <n>', 'jobs in the simulated fleet (default 1000, or 200 with --replication-outage)', positiveInteger)
    .option('--seed <s>', 'fleet generator seed', positiveNumber, 7)
    .option('--time-scale <x>', 'simulator speed-up (model seconds per wall second)', positiveNumber, 10)
    .option('--no-preload', 'do not preload jars')
    .addOption(new Option('--platform <p>', 'simulator, or k8s: real kube-apiservers per AZ started locally, az-a\'s apiserver stopped').choices(['simulator', 'k8s']).default('simulator'))
    .option('--no-s3', 'keep checkpoints, savepoints and jars in the simulator\'s memory instead of local S3 servers (versitygw)')
    .option('--report-json <file>', 'write the full JSON report here')
    .option('--report-html <file>', 'write the HTML report (timeline chart, RTO/RPO per tier) here')
    .option('--console', 'keep everything (and the console page) running after the evacuation, until Ctrl-C')
    .option('--json', 'print the report as JSON (the demo\'s progress is on stderr)')
    .option('--replication-outage', 'before the trigger, play protection catching up after a replication outage az-a → az-b: RPO now growing, jobs unprotected, the pair declared not replicating, protection passes shipping savepoints, every job inside its RPO again (simulator platform; state capped at 50 GB per job unless --max-state-gb says otherwise; adds minutes, see docs/protection.md)')
    .option('--max-state-gb <gb>', 'largest state of a generated job, GB (0.1–500; default 500, or 50 with --replication-outage)', positiveNumber)
    .action(async (o: { seed: number; timeScale: number; preload: boolean; s3: boolean; platform: 'simulator' | 'k8s'; reportJson?: string; reportHtml?: string; console?: boolean; json?: boolean; replicationOutage?: boolean; maxStateGb?: number; jobs?: number }) => {
      const { runDemo } = await import('./demo.js');
      const log = (l: string): void => io.err(`${l}\n`);
      const report = await runDemo({
        ...(o.jobs !== undefined ? { jobs: o.jobs } : {}), seed: o.seed, timeScale: o.timeScale, preload: o.preload, s3: o.s3, platform: o.platform, log,
        ...(o.replicationOutage ? { replicationOutage: true } : {}),
        ...(o.maxStateGb !== undefined ? { maxStateBytes: o.maxStateGb * 1e9 } : {}),
        onReport: (reportFile) => printReport(reportFile, o),
        holdOpen: o.console ? () => new Promise<void>((r) => { log('The console stays up; Ctrl-C to stop everything.'); process.once('SIGINT', () => r()); }) : undefined,
      });
      ctx.setExit(report.success ? EXIT.ok : EXIT.failed);
    });

  program.command('console')
    .description('start the emergency console: the web page and JSON API to trigger, watch and control evacuations (needs Temporal and a worker, like `evacuate`)')
    .option('--host <host>', 'interface to listen on (default AZ_EVAC_CONSOLE_HOST)')
    .option('--port <port>', 'port (default AZ_EVAC_CONSOLE_PORT; 0 picks a free one)', tcpPort)
    .action(async (o: { host?: string; port?: number }) => {
      const settings = ctx.settings();
      const { startConsole } = await import('../console/start.js');
      const running = await startConsole({ ...settings, consoleHost: o.host ?? settings.consoleHost, consolePort: o.port ?? settings.consolePort });
      io.out(`az-evac console at ${running.url} (audit log ${running.auditLog}); Ctrl-C to stop\n`);
      // SIGTERM too: a pod's stop (the console runs as PID 1 in the image, which has no default handler).
      await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
      await running.close();
    });

  scopeOptions(program.command('plan').description('plan an evacuation and print it; acts on nothing (mode default: emergency)'), 'emergency')
    .option('--json', 'print the full plan as JSON')
    .action(async (o: ScopeOpts & { mode: EvacuationMode; json?: boolean }) => {
      const req = requestOf(o, o.mode, io.env);
      await withClient(async (client, settings) => {
        const plan = await preview(client, settings, req);
        if (o.json) printJson(io, plan);
        else io.out(`${planText(plan)}\n`);
      });
    });

  scopeOptions(program.command('evacuate').description('start (or join) an evacuation and watch its progress; Ctrl-C detaches without cancelling. There is no default mode: without --mode it asks you to type the source AZ to confirm an emergency'))
    .option('--yes', `confirm without a prompt (scripts): needed for --mode emergency when no terminal can answer`)
    .option('--override-running', 'emergency only: run even though another evacuation or drill holds the source or target AZ (refused otherwise, naming it); its capacity plan did not count on yours')
    .option('--planning-deadline <seconds>', `how long planning keeps trying through API trouble of the target AZ (429, 5xx, timeouts) before the evacuation fails with the last error, seconds from the trigger (${PLANNING_DEADLINE_LIMITS.minSeconds}-${PLANNING_DEADLINE_LIMITS.maxSeconds}; default ${DEFAULT_PLANNING_DEADLINE_SECONDS})`, planningDeadlineOption)
    .option('--id <id>', 'evacuation id (default: az-evac-<mode>-<from>-to-<to>, so a second press joins the first)')
    .option('--dry-run', 'plan only (same as `plan`; starts nothing, asks nothing)')
    .option('--detach', 'start and return at once')
    .option('--json', 'print the report as JSON when it ends (with --detach: the id and run; with --dry-run: the plan); progress on stderr')
    .option('--report-json <file>', 'write the full JSON report here')
    .option('--report-html <file>', 'write the HTML report (timeline chart, RTO/RPO per tier) here')
    .addHelpText('after', `
Examples:
  az-evac evacuate --from az-a --to az-b --mode drill --tiers P0,P1   # rehearse (failback undoes it)
  az-evac evacuate --from az-a --to az-b --mode planned       # move out of a healthy AZ (maintenance)
  az-evac evacuate --from az-a --to az-b                      # asks: type az-a to confirm the emergency
  az-evac evacuate --from az-a --to az-b --mode emergency --yes --detach --json`)
    .action(async (o: ScopeOpts & { yes?: boolean; overrideRunning?: boolean; planningDeadline?: number; id?: string; dryRun?: boolean; detach?: boolean; json?: boolean; reportJson?: string; reportHtml?: string }) => {
      checkAzs(o); // before asking anything
      const decision = decideMode({ mode: o.mode, yes: o.yes, dryRun: o.dryRun, interactive: io.interactive, from: o.from });
      const mode = decision.kind === 'start' ? decision.mode : confirmMode(decision, await io.ask(decision.question));
      if (o.overrideRunning && !mayOverrideHold(mode)) throw new InvalidArgumentError(`--override-running is for emergencies only (this is --mode ${mode}): a ${mode} waits for the evacuation or drill that holds its AZ to end`);
      const req = {
        ...requestOf(o, mode, io.env), ...(o.overrideRunning ? { overrideRunning: true } : {}),
        ...(o.planningDeadline !== undefined ? { planningDeadlineSeconds: o.planningDeadline } : {}),
      };
      await withClient(async (client, settings) => {
        if (o.dryRun) {
          const plan = await preview(client, settings, req);
          if (o.json) printJson(io, plan);
          else io.out(`${planText(plan)}\n(dry run: nothing was changed)\n`);
          return;
        }
        const started = await client.start(req, o.id);
        io.err(`${started.joined ? 'Joined running' : 'Started'} ${mode} evacuation ${started.evacuationId} (run ${started.runId})\n`);
        if (o.detach) {
          if (o.json) printJson(io, started);
          return;
        }
        const result = client.result(started.evacuationId);
        process.once('SIGINT', () => {
          process.stderr.write(`\nDetached; the evacuation goes on. Watch it: az-evac status ${started.evacuationId}\n`);
          process.exit(EXIT.detached);
        });
        await watchProgress(() => client.progress(started.evacuationId), result);
        const done = await result;
        const report = await printReport(done.reportFile, o);
        ctx.setExit(report.success ? EXIT.ok : EXIT.failed);
      });
    });

  program.command('list').description('evacuations and drills of this deployment (its task queue), running and recent, newest first')
    .option('--limit <n>', 'at most this many', positiveInteger, 20)
    .addOption(new Option('--status <status>', 'only runs in this Temporal status (closed: any but running; a failed or aborted evacuation and a drill that did not pass close failed)').choices(STATUS_CHOICES))
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  az-evac list --status running            what runs now
  az-evac list --limit 5 --json | jq '.[] | {id, outcome}'`)
    .action(async (o: { limit: number; status?: RunStatusFilter; json?: boolean }) => withClient(async (client, settings) => {
      const runs = await listRuns(client.temporal, settings.taskQueue, { limit: o.limit, ...(o.status ? { status: o.status } : {}) });
      if (o.json) printJson(io, runs);
      else io.out(`${runListText(runs)}\n`);
    }));

  program.command('status <id>').description('progress of an evacuation').option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => withClient(async (client) => {
      const p = await client.progress(id);
      if (o.json) { printJson(io, p); return; }
      io.out(`${id}: ${p.phase}${p.paused ? ' (paused)' : ''}, ${elapsedSeconds(p, Date.now()).toFixed(0)}s elapsed\n`);
      for (const t of p.tiers) io.out(`  ${t.tier}: planned ${t.planned}, running ${t.running}, done ${t.succeeded}, failed ${t.failed}, skipped ${t.skipped} (RTO target ${t.rtoTargetSeconds}s)\n`);
      if (p.reportFile) io.out(`Report: ${p.reportFile}\n`);
    }));

  program.command('report <id>').description('the report of a finished evacuation (refused while it runs: watch it with `az-evac status`)')
    .option('--json', 'print the full report as JSON')
    .option('--report-json <file>', 'write the full JSON report here')
    .option('--report-html <file>', 'write the HTML report (timeline chart, RTO/RPO per tier) here')
    .action(async (id: string, o: { json?: boolean; reportJson?: string; reportHtml?: string }) => withClient(async (client) => {
      const done = await client.finishedResult(id);
      if (!done) throw new InvalidArgumentError(`evacuation ${id} is still running: it has no report yet. Fix: watch it (az-evac status ${id}) and ask again when it has ended`);
      const report = await printReport(done.reportFile, o);
      ctx.setExit(report.success ? EXIT.ok : EXIT.failed);
    }));

  const control = (name: 'pause' | 'resume' | 'abort', description: string, done: string, fn: (c: EvacuationClient, id: string, reason?: string) => Promise<unknown>): Command => program.command(`${name} <id>`).description(description)
    .option('--json', 'print the progress after the change as JSON')
    .action(async (id: string, o: { reason?: string; json?: boolean }) => withClient(async (c) => {
      const progress = await fn(c, id, o.reason);
      if (o.json) printJson(io, progress);
      else io.out(`${done} ${id}\n`);
    }));
  control('pause', 'stop dispatching new jobs (jobs in flight finish)', 'paused', (c, id, reason) => c.pause(id, who(), reason)).option('--reason <text>');
  control('resume', 'resume a paused evacuation', 'resumed', (c, id) => c.resume(id, who()));
  control('abort', 'dispatch nothing more; in-flight jobs finish; the rest are recorded as skipped', 'aborting', (c, id, reason) => c.abort(id, who(), reason!))
    .requiredOption('--reason <text>', 'why (recorded in the report)');

  program.command('failback <evacuation-id>')
    .description('move the jobs of an evacuation back into its source AZ, each stopped with a savepoint where it runs now and restored from exactly that savepoint. ' +
      'After a drill: undo it (drill copies removed, standbys put back, preempted P3 jobs resumed). After an emergency or planned evacuation: refused while the source AZ ' +
      'is unhealthy (API or object store not answering, too little capacity); re-protects first (a job whose current run has no snapshot replicated back into the ' +
      'source AZ stays where it is), then moves the jobs back tier by tier; standbys are re-established in the target AZ')
    .option('--window <n>', 'jobs failed back at once', positiveInteger, 50)
    .option('--json', 'print the result as JSON')
    .action(async (evacuationId: string, o: { window: number; json?: boolean }) => withClient(async (c) => {
      const r = await c.failback({ drillId: evacuationId, window: o.window, requestedBy: who() });
      if (o.json) printJson(io, r);
      else {
        const copies = r.mode === undefined || r.mode === 'drill' ? 'drill copies removed' : `copies removed in ${r.targetAz}`;
        io.out(`failback of ${evacuationId}${r.mode ? ` (${r.mode})` : ''} ${r.targetAz} → ${r.sourceAz}: ${r.jobs} jobs, ${r.restoredFromTarget} restored from fresh savepoints, ${r.restoredOwn} from their own snapshots, ${r.untouched} untouched, ${r.removed} ${copies}, ${r.standbys} hot standbys restarted, ${r.preemptedResumed} preempted P3 resumed, ${r.failed.length} failed\n`);
        for (const t of r.tiers ?? []) io.out(`  ${t.tier}: ${t.back}/${t.jobs} back in ${r.sourceAz}${t.worstSeconds === undefined ? '' : `, last RUNNING ${t.worstSeconds} s after the start`}, ${t.failed} failed\n`);
        for (const f of r.failed) io.out(`  ${f.key}: ${f.reason}\n`);
      }
      ctx.setExit(r.failed.length === 0 ? EXIT.ok : EXIT.failed);
    }));

  program.command('catalog').description('fleet catalog').command('sync').description('read the live fleet of every reachable AZ into a new catalog version')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean }) => withClient(async (c) => {
      const r = await c.syncCatalog();
      if (o.json) printJson(io, r);
      else io.out(`catalog v${r.version}: ${r.jobs} jobs at ${r.takenAt}${r.carriedOver.length ? ` (carried over from the previous version: ${r.carriedOver.join(', ')})` : ''}\n`);
    }));

  program.command('setup').description('prepare a service az-evac needs').command('temporal')
    .description(`create the custom search attributes az-evac's workflows set (${Object.keys(SEARCH_ATTRIBUTES).join(', ')}, Keyword) in the Temporal namespace, through the operator service; idempotent`)
    .option('--json', 'print what was created and what was there as JSON')
    .action(async (o: { json?: boolean }) => {
      const settings = ctx.settings();
      const where = describeTemporal(settings);
      const connection = await connectTemporalConnection(settings);
      try {
        const r = await setupSearchAttributes(connection.operatorService, settings.temporalNamespace, where);
        if (o.json) printJson(io, r);
        else io.out(`Temporal ${where}: ${r.created.length ? `created ${r.created.join(', ')}` : 'nothing to create'}${r.existing.length ? `; already there: ${r.existing.join(', ')}` : ''}\n`);
      } finally {
        await connection.close();
      }
    });

  addDrillCommands(program, ctx);
  addProtectCommands(program, ctx, withClient);

  /** Run `entry` (worker or simulator) as a child with `args`; resolves once it exits, its exit code recorded as the command's. */
  const runEntry = async (entry: string, args: string[]): Promise<void> => {
    // Compiled (dist/, `npm run build`): the entry's .js beside this file, with plain node.
    const compiled = import.meta.url.endsWith('.js');
    const { TSX_LOADER } = compiled ? { TSX_LOADER: '' } : await import('../launchers/local-processes.js');
    const child = spawn(process.execPath, [...(compiled ? [] : ['--import', TSX_LOADER]), `${REPO}${compiled ? entry.replace(/\.ts$/, '.js') : entry}`, ...args], { stdio: 'inherit', env: { ...io.env } });
    // Pass stop signals on, so the worker drains (it exits 0 when drained).
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
    // The process's own exit code is passed through (the worker's: 0 drained, 1 could not start).
    ctx.setExit(await new Promise<number>((r) => child.on('exit', (c) => r(c ?? EXIT.unexpected))));
  };
  program.command('worker').description('run the worker: polls the task queue and runs evacuations (settings from the environment; AZ_EVAC_SIMULATOR_URL, or AZ_EVAC_PLATFORM=k8s: docs/kubernetes.md)')
    .addHelpText('after', '\nTakes no arguments: every setting is an environment variable (az-evac --help lists them). SIGTERM drains it.')
    .action(() => runEntry('worker/main.ts', []));
  program.command('simulator').description('run the simulator process (the rehearsal platform of the demo and tests)')
    .allowUnknownOption().allowExcessArguments().argument('[args...]', 'its options: --port N, --time-scale X, --seed S, --log-level L, --kubeconfig FILE --kube-contexts az-a=CTX,…')
    .action((args: string[]) => runEntry('simulator/main.ts', args));

  return program;
}

/**
 * Run az-evac with `argv` (the arguments after the command name) over `io`.
 * @returns the exit code (EXIT; `worker` and `simulator` pass their process's on); errors are printed on io.err as `az-evac: <message and causes>`
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const ctx: CliContext = { io, setExit: (c) => { code = c; }, settings: () => validatedSettings(io.env) };
  try {
    await buildProgram(ctx).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // commander has printed its own usage errors, help and version already.
    const printed = err instanceof CommanderError && !(err instanceof InvalidArgumentError);
    if (!printed) io.err(`az-evac: ${messageOf(err)}\n`);
    return exitCodeFor(err);
  }
}

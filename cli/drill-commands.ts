/**
 * `az-evac drill …` and `az-evac schedule …`: run a runbook as a drill, decide its approval
 * gates, watch and abort it; manage scheduled rehearsals. Exit codes as the rest of the CLI
 * (cli/exit-codes.ts): 0 passed / done, 1 the drill did not pass, 2 bad input (the message
 * names the value and fix), 3 Temporal unreachable.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { DrillClient } from '../client/drill-client.js';
import { RehearsalSchedules } from '../client/rehearsal-schedules.js';
import type { Settings } from '../config/settings.js';
import type { DrillStatus } from '../domain/drill.js';
import { parsePauseWindow, type PauseWindow } from '../domain/pause-window.js';
import { parseRunbook, type Runbook } from '../domain/runbook.js';
import { ConfigValidationError } from '../domain/validation-error.js';
import { printJson, type CliContext } from './context.js';
import { drillText, schedulesText } from './drill-text.js';
import { EXIT } from './exit-codes.js';
import { positiveInteger } from './options.js';

/** Read and validate a runbook; a bad file is bad input (exit 2) naming file, key and fix. */
async function readRunbook(file: string): Promise<Runbook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read runbook ${file}: ${(err as Error).message}`);
  }
  try {
    return parseRunbook(text, file);
  } catch (err) {
    if (err instanceof ConfigValidationError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

async function withDrills<T>(ctx: CliContext, fn: (d: DrillClient, s: Settings) => Promise<T>): Promise<T> {
  const settings = ctx.settings();
  const drills = await DrillClient.connect(settings);
  try {
    return await fn(drills, settings);
  } finally {
    await drills.close();
  }
}

/** Print the status on `write` each time it changes until the drill ends. */
async function watch(drills: DrillClient, id: string, write: (text: string) => void): Promise<void> {
  let last = '';
  for (;;) {
    const s: DrillStatus = await drills.status(id);
    const text = drillText(s);
    if (text !== last) write(`\n${text}\n`);
    last = text;
    if (!['running', 'awaiting-approval', 'cleaning-up'].includes(s.phase)) return;
    await sleep(1000);
  }
}

function pauseWindow(value: string, previous: PauseWindow[] = []): PauseWindow[] {
  try {
    return [...previous, parsePauseWindow(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Add the `drill` and `schedule` commands to `program`, run over `ctx`. */
export function addDrillCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const who = (): string => io.env.USER ?? 'cli';
  const withDrillClient = <T>(fn: (d: DrillClient, s: Settings) => Promise<T>): Promise<T> => withDrills(ctx, fn);
  const drill = program.command('drill').description('run a drill from a runbook (runbooks/*.yaml), decide its approval gates, watch or abort it');
  drill.command('run <file>').description('validate the runbook, start the drill and follow it until it ends (Ctrl-C detaches)')
    .option('--id <id>', 'drill id (default: drill-<runbook name>-<UTC time>)')
    .option('--detach', 'start and return at once')
    .option('--json', 'print the drill\'s result as JSON when it ends (with --detach: its id); the steps go to stderr')
    .action(async (file: string, o: { id?: string; detach?: boolean; json?: boolean }) => {
      const runbook = await readRunbook(file);
      return withDrillClient(async (drills) => {
        const id = await drills.start(DrillClient.input(runbook, file, { requestedBy: who() }), o.id);
        io.err(`Started drill ${id}\n`);
        if (o.detach) {
          if (o.json) printJson(io, { drillId: id });
          return;
        }
        process.once('SIGINT', () => {
          process.stderr.write(`\nDetached; the drill goes on. Watch it: az-evac drill status ${id}\n`);
          process.exit(EXIT.detached);
        });
        await watch(drills, id, o.json ? io.err : io.out);
        const result = await drills.result(id);
        if (o.json) printJson(io, result);
        ctx.setExit(result.passed ? EXIT.ok : EXIT.failed);
      });
    });
  for (const decision of ['approve', 'reject'] as const) {
    drill.command(`${decision} <id>`).description(`${decision} the drill's open approval gate${decision === 'reject' ? ' (the drill stops; cleanup runs)' : ''}`)
      .option('--comment <text>', 'recorded with the decision')
      .option('--json', 'print the drill\'s status after the decision as JSON')
      .action(async (id: string, o: { comment?: string; json?: boolean }) => withDrillClient(async (drills) => {
        const s = await drills.decide(id, { decision, by: who(), ...(o.comment ? { comment: o.comment } : {}) });
        if (o.json) printJson(io, s);
        else io.out(`${decision === 'approve' ? 'approved' : 'rejected'} ${id} (phase ${s.phase})\n`);
      }));
  }
  drill.command('status <id>').description("a drill's recorded steps, open gate and cleanup").option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => withDrillClient(async (drills) => {
      const s = await drills.status(id);
      if (o.json) printJson(io, s);
      else io.out(`${drillText(s)}\n`);
    }));
  drill.command('abort <id>').description('stop after the current step (a running evacuation is aborted); cleanup fails jobs back')
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--json', 'print the drill\'s status after the abort as JSON')
    .action(async (id: string, o: { reason: string; json?: boolean }) => withDrillClient(async (drills) => {
      const s = await drills.abort(id, who(), o.reason);
      if (o.json) printJson(io, s);
      else io.out(`aborting ${id}; cleanup runs (az-evac drill status ${id})\n`);
    }));
  drill.command('list').description('recent drills with their verdicts').option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--json', 'print JSON')
    .action(async (o: { limit: number; json?: boolean }) => withDrillClient(async (drills) => {
      const list = await drills.list(o.limit);
      if (o.json) { printJson(io, list); return; }
      for (const d of list) {
        io.out(`${d.startedAt}  ${d.drillId}  ${d.status}${d.phase ? ` ${d.phase}` : ''}${d.passed === undefined ? '' : d.passed ? ' PASS' : ' FAIL'}${d.scheduleId ? `  (schedule ${d.scheduleId})` : ''}\n`);
      }
    }));

  const schedule = program.command('schedule').description('scheduled DR rehearsals: a runbook on a cron spec (Temporal Schedules, never two at once)');
  const withSchedules = <T>(fn: (s: RehearsalSchedules) => Promise<T>) => withDrillClient((drills, settings) => fn(new RehearsalSchedules(drills.client, settings.taskQueue, drills)));
  schedule.command('create <id>').description('create a rehearsal schedule')
    .requiredOption('--runbook <file>', 'the runbook each rehearsal runs (validated now; its content is stored in the schedule)')
    .requiredOption('--cron <spec>', 'cron spec in UTC, e.g. "0 3 * * TUE" (repeatable)', collect)
    .option('--pause-window <from/to>', 'no rehearsal starts in this UTC window, e.g. 2026-12-20T00:00Z/2027-01-04T00:00Z (repeatable)', pauseWindow)
    .option('--paused <note>', 'create paused, with this note')
    .action(async (id: string, o: { runbook: string; cron: string[]; pauseWindow?: PauseWindow[]; paused?: string }) => {
      const runbook = await readRunbook(o.runbook);
      return withSchedules(async (schedules) => {
        await schedules.create({
          scheduleId: id, cron: o.cron, pauseWindows: o.pauseWindow ?? [], ...(o.paused !== undefined ? { pausedNote: o.paused } : {}),
          input: DrillClient.input(runbook, o.runbook, { requestedBy: `schedule:${id}` }),
        });
        io.out(`${schedulesText([await schedules.describe(id)])}\n`);
      });
    });
  schedule.command('list').description('rehearsal schedules with next runs and past runs (pass/fail)').option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => withSchedules(async (schedules) => {
      const list = await schedules.list();
      if (o.json) printJson(io, list);
      else io.out(`${schedulesText(list)}\n`);
    }));
  schedule.command('pause <id>').description('pause a schedule').option('--note <text>', 'why', `paused by ${who()}`)
    .action(async (id: string, o: { note: string }) => withSchedules(async (s) => { await s.pause(id, o.note); io.out(`paused ${id}\n`); }));
  schedule.command('unpause <id>').description('unpause a schedule').option('--note <text>', 'why', `unpaused by ${who()}`)
    .action(async (id: string, o: { note: string }) => withSchedules(async (s) => { await s.unpause(id, o.note); io.out(`unpaused ${id}\n`); }));
  schedule.command('trigger <id>').description('run a rehearsal now (skipped when one is running)')
    .action(async (id: string) => withSchedules(async (s) => { await s.trigger(id); io.out(`triggered ${id}\n`); }));
  schedule.command('delete <id>').description('delete a schedule (a running rehearsal goes on)')
    .action(async (id: string) => withSchedules(async (s) => { await s.delete(id); io.out(`deleted ${id}\n`); }));
}

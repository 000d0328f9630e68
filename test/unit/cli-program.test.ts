/**
 * The az-evac program run in process (cli/program.ts runCli) over a scripted terminal: the
 * terminal (stdout, stderr, a TTY that answers a question) is the one thing replaced, since a
 * test has none. Settings come from the env given here; Temporal's address points nowhere, so a
 * command that gets as far as connecting says so (exit 3) and one refused earlier never does.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { buildProgram, runCli } from '../../cli/program.js';
import { EXIT } from '../../cli/exit-codes.js';
import { EVACUATION_MODES } from '../../domain/evacuation.js';

const CANARY = fileURLToPath(new URL('../../runbooks/p3-canary.yaml', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Nothing listens on port 1: a connect is refused (the client gives up after its 5 s connect deadline). */
const NOWHERE = { AZ_EVAC_TEMPORAL_ADDRESS: '127.0.0.1:1' };

interface Run { code: number; out: string; err: string; asked: string[] }

/** Run az-evac `args` in process; `tty` answers each question with `answer`. */
async function cli(args: string[], o: { tty?: boolean; answer?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const r: Run = { code: -1, out: '', err: '', asked: [] };
  r.code = await runCli(args, {
    out: (t) => { r.out += t; },
    err: (t) => { r.err += t; },
    env: { ...NOWHERE, ...o.env },
    interactive: o.tty ?? false,
    ask: async (q) => { r.asked.push(q); return o.answer ?? ''; },
  });
  return r;
}

/** Every command path of the program, e.g. ['drill', 'run']. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('az-evac help and version (in process)', () => {
  it('--help teaches the commands, the runbook paths, the exit codes and the settings', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(EXIT.ok);
    for (const word of ['demo', 'plan', 'evacuate', 'list', 'status', 'pause', 'resume', 'abort', 'report', 'AZ_EVAC_TEMPORAL_ADDRESS']) expect(r.out).toContain(word);
    expect(r.out).toContain('az-evac evacuate --from az-a --to az-b --mode emergency --yes --detach');
    expect(r.out).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*did not succeed.*\n {2}2 .*bad input.*\n {2}3 .*could not reach Temporal/);
  });

  it('--version prints the package version and the Temporal SDK version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(new RegExp(`^${VERSION.replace(/\./g, '\\.')} \\(Temporal TypeScript SDK \\d+\\.\\d+\\.\\d+, Node v\\d+`));
  });

  it('every command and subcommand prints its help with --help, exit 0, and starts nothing (worker, console, simulator included)', async () => {
    const paths = commandPaths(buildProgram({ io: { out: () => undefined, err: () => undefined, env: NOWHERE, interactive: false, ask: async () => '' }, setExit: () => undefined, settings: () => { throw new Error('help read settings'); } }));
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['worker', 'console', 'simulator', 'list', 'drill run', 'catalog sync', 'setup temporal']));
    for (const path of paths.filter((p) => p.at(-1) !== 'help')) {
      const r = await cli([...path, '--help']);
      expect(r.code, `${path.join(' ')}: ${r.err}`).toBe(EXIT.ok);
      expect(r.out).toContain(`Usage: az-evac ${path.join(' ')}`);
      expect(r.err).toBe('');
    }
  });
});

describe('az-evac --json (in process)', () => {
  it('every read command and every control takes --json; only the long-running processes and the schedule changes do not', () => {
    const program = buildProgram({ io: { out: () => undefined, err: () => undefined, env: NOWHERE, interactive: false, ask: async () => '' }, setExit: () => undefined, settings: () => { throw new Error('read settings'); } });
    const leaves: Array<{ path: string; cmd: Command }> = [];
    const walk = (cmd: Command, prefix: string[]): void => {
      for (const c of cmd.commands) {
        const path = [...prefix, c.name()];
        if (c.commands.length > 0) walk(c, path);
        else if (c.name() !== 'help') leaves.push({ path: path.join(' '), cmd: c });
      }
    };
    walk(program, []);
    // Processes that run until stopped, and changes to a schedule that print one line.
    const without = ['console', 'worker', 'simulator', 'schedule create', 'schedule pause', 'schedule unpause', 'schedule trigger', 'schedule delete'];
    const lacking = leaves.filter((l) => !l.cmd.options.some((o) => o.long === '--json')).map((l) => l.path);
    expect(lacking.sort()).toEqual(without.filter((w) => leaves.some((l) => l.path === w)).sort());
    for (const read of ['plan', 'list', 'status', 'report', 'catalog sync', 'failback', 'drill list', 'drill status', 'schedule list', 'setup temporal', 'pause', 'resume', 'abort', 'evacuate', 'demo']) {
      expect(leaves.map((l) => l.path), read).toContain(read);
    }
  });
});

describe('az-evac evacuate: no default mode, a typed confirmation for an emergency (in process)', { timeout: 60_000 }, () => {
  it('without --mode and without a terminal it refuses (exit 2), saying to pass --mode (and --yes), before connecting', async () => {
    const r = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b']);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err).toContain(`evacuate needs --mode (${EVACUATION_MODES.join(' | ')})`);
    expect(r.err).toContain('--mode emergency --yes');
    expect(r.err).not.toMatch(/cannot reach Temporal/);
    expect(r.asked).toEqual([]);
  });

  it('--mode emergency without a terminal needs --yes; --yes without --mode is refused', async () => {
    const emergency = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'emergency']);
    expect(emergency.code).toBe(EXIT.badInput);
    expect(emergency.err).toContain('add --yes to confirm the emergency evacuation of az-a');
    const yes = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--yes']);
    expect(yes.code).toBe(EXIT.badInput);
    expect(yes.err).toContain('--yes without --mode');
  });

  it('--planning-deadline takes whole seconds within 30..3600; anything else is bad input naming the value and the range, before Temporal is asked', async () => {
    for (const bad of ['10', '2.5', 'soon', '7200']) {
      const r = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'drill', '--planning-deadline', bad]);
      expect(r.code, bad).toBe(EXIT.badInput);
      expect(r.err, bad).toContain(`--planning-deadline is "${bad}"; it must be a whole number of seconds from 30 to 3600`);
      expect(r.err, bad).not.toMatch(/cannot reach Temporal/);
    }
    const ok = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'drill', '--planning-deadline', '600']);
    expect(ok.code).toBe(EXIT.unreachable);
  });

  it('on a terminal it asks for the source AZ; a mismatch starts nothing (exit 2)', async () => {
    const r = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b'], { tty: true, answer: 'az-b' });
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toMatch(/No --mode given\. This starts an EMERGENCY evacuation of az-a .*Type the source AZ name \(az-a\) to confirm: $/);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err).toContain('confirmation typed "az-b", not the source AZ "az-a": nothing was started');
    expect(r.err).not.toMatch(/cannot reach Temporal/);
  });

  it('the typed source AZ, --mode emergency --yes and --mode drill go on to Temporal (here: unreachable, exit 3); only the first asks', async () => {
    const [typed, yes, drill, list] = await Promise.all([
      cli(['evacuate', '--from', 'az-a', '--to', 'az-b'], { tty: true, answer: ' az-a\n' }),
      cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'emergency', '--yes'], { tty: true }),
      cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'drill'], { tty: true }),
      cli(['list', '--json']),
    ]);
    expect(typed.asked).toHaveLength(1);
    expect([yes.asked, drill.asked]).toEqual([[], []]);
    for (const r of [typed, yes, drill, list]) {
      expect(r.code, r.err).toBe(EXIT.unreachable);
      expect(r.err).toMatch(/^az-evac: cannot reach Temporal at 127\.0\.0\.1:1 .*Fix: start it/);
      expect(r.out).toBe('');
    }
  });

  it('--dry-run asks nothing (it starts nothing)', async () => {
    const r = await cli(['evacuate', '--from', 'az-a', '--to', 'az-a', '--dry-run'], { tty: true });
    expect(r.asked).toEqual([]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err).toContain('--from and --to are both "az-a"');
  });

  it('--mode offers exactly the domain\'s modes, each explained in the help', async () => {
    const bad = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'panic']);
    expect(bad.code).toBe(EXIT.badInput);
    expect(bad.err).toContain(`Allowed choices are ${EVACUATION_MODES.join(', ')}`);
    const help = await cli(['evacuate', '--help']);
    for (const mode of EVACUATION_MODES) expect(help.out.replace(/\s+/g, ' ')).toMatch(new RegExp(`--mode <mode> .*\\b${mode}: \\w`));
  });
});

describe('az-evac bad input (in process, nothing connects)', { timeout: 60_000 }, () => {
  it('refuses the same source and target AZ and an unknown tier with exit 2, naming the value', async () => {
    const same = await cli(['plan', '--from', 'az-a', '--to', 'az-a']);
    expect(same.code).toBe(EXIT.badInput);
    expect(same.err).toContain('--from and --to are both "az-a"');
    const tier = await cli(['evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'drill', '--tiers', 'P0,P9']);
    expect(tier.code).toBe(EXIT.badInput);
    expect(tier.err).toContain('unknown tier "P9"; use a comma list of P0, P1, P2, P3');
  });

  it('a bad setting is bad input (exit 2) naming the variable, before connecting', async () => {
    const r = await cli(['list'], { env: { AZ_EVAC_TIME_SCALE: 'fast' } });
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err).toMatch(/^az-evac: bad setting: AZ_EVAC_TIME_SCALE="fast" is not a number/);
  });

  it('refuses a runbook with a misspelt key, a missing runbook and a bad pause window with exit 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'az-evac-rb-')), 'bad.yaml');
    writeFileSync(file, 'name: bad\nsourceAz: az-a\ntargetAz: az-b\nsteps:\n  - evacuate: { mode: drill }\n  - failbak: {}\n');
    const misspelt = await cli(['drill', 'run', file]);
    expect(misspelt.code).toBe(EXIT.badInput);
    expect(misspelt.err).toContain(`${file}: steps[1].failbak: unknown key 'failbak'. Fix: rename 'failbak' to 'failback'`);
    expect(await cli(['drill', 'run', '/nonexistent/runbook.yaml'])).toMatchObject({ code: EXIT.badInput, err: expect.stringContaining('cannot read runbook /nonexistent/runbook.yaml') });
    const window = await cli(['schedule', 'create', 'weekly', '--runbook', CANARY, '--cron', '0 3 * * TUE', '--pause-window', '2026-12-21T00:00Z/2026-12-20T00:00Z']);
    expect(window.code).toBe(EXIT.badInput);
    expect(window.err).toContain('TO is not after FROM');
  });

  it('list refuses an unknown --status and a --limit that is not a count', async () => {
    expect(await cli(['list', '--status', 'broken'])).toMatchObject({ code: EXIT.badInput, err: expect.stringContaining('Allowed choices are running, closed, completed') });
    expect(await cli(['list', '--limit', '2.5'])).toMatchObject({ code: EXIT.badInput, err: expect.stringContaining('"2.5" is not a whole number') });
  });

  it('a mutated evacuate line exits 2 naming the offending option or value, before connecting (fast-check)', async () => {
    const mutations = fc.oneof(
      fc.constantFrom('P9', 'p0,,x', 'ALL', '0').map((v) => ({ set: ['--tiers', v], names: v.split(',').find((t) => !/^P[0-3]$/i.test(t.trim())) ?? v })),
      fc.constantFrom('panic', 'DRILL', '', 'emergency!').map((v) => ({ set: ['--mode', v], names: '--mode' })),
      fc.constantFrom('-1', '0', 'abc', 'NaN', '1e999').map((v) => ({ set: ['--catalog-version', v], names: v })),
      fc.constantFrom('az-a').map((v) => ({ set: ['--to', v], names: '--from and --to are both "az-a"' })),
      fc.constantFrom('--frmo', '--tier', '--force', '--dryrun').map((v) => ({ set: [v, 'x'], names: v })),
    );
    await fc.assert(fc.asyncProperty(mutations, async ({ set, names }) => {
      const base: Record<string, string> = { '--from': 'az-a', '--to': 'az-b', '--mode': 'drill', '--tiers': 'P0,P1', '--catalog-version': '3' };
      const [opt, value] = set as [string, string];
      const r = await cli(['evacuate', ...Object.entries({ ...base, [opt]: value }).flat()]);
      expect(r.code, r.err).toBe(EXIT.badInput);
      expect(r.err).toContain(names);
      expect(r.err).not.toMatch(/cannot reach Temporal/);
    }), { numRuns: 40, seed: 11 });
  });
});

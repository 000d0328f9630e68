/**
 * The az-evac binary as a process (bin/az-evac.mjs → cli/main.ts): the wiring the in-process
 * tests (cli-program.test.ts) cannot see: the exit code reaches the shell, stdin that is not a
 * terminal counts as "nobody to confirm", results go to stdout and errors to stderr. Three
 * processes, run at once; nothing listens on the Temporal address.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/exit-codes.js';

const BIN = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Run the binary with stdin closed (not a terminal); resolves with code and output. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, AZ_EVAC_TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

describe('az-evac as a process', { timeout: 60_000 }, () => {
  it('exits 0 with the version on stdout, 3 when Temporal does not answer, 2 for an evacuate nobody can confirm', async () => {
    const [version, unreachable, unconfirmed] = await Promise.all([
      run('--version'),
      run('status', 'az-evac-emergency-az-a-to-az-b'),
      run('evacuate', '--from', 'az-a', '--to', 'az-b'),
    ]);
    expect(version).toMatchObject({ code: EXIT.ok, err: '' });
    expect(version.out.startsWith(`${VERSION} (Temporal TypeScript SDK`)).toBe(true);
    expect(unreachable.code, unreachable.err).toBe(EXIT.unreachable);
    expect(unreachable.out).toBe('');
    expect(unreachable.err).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1.*Fix: start it/s);
    expect(unconfirmed.code, unconfirmed.err).toBe(EXIT.badInput);
    expect(unconfirmed.err).toContain('evacuate needs --mode');
  });
});

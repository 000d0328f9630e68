import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));
const CANARY = fileURLToPath(new URL('../../runbooks/p3-canary.yaml', import.meta.url));

function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, AZ_EVAC_TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('az-evac CLI input errors (no server needed: nothing starts)', { timeout: 60_000 }, () => {
  it('--help teaches the commands and the settings', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    for (const word of ['demo', 'plan', 'evacuate', 'status', 'pause', 'resume', 'abort', 'AZ_EVAC_TEMPORAL_ADDRESS']) expect(r.out).toContain(word);
  });

  it('refuses the same source and target AZ with exit 2, naming the value', () => {
    const r = run('plan', '--from', 'az-a', '--to', 'az-a');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--from and --to are both "az-a"');
  });

  it('refuses an unknown tier with exit 2, listing the valid ones', () => {
    const r = run('evacuate', '--from', 'az-a', '--to', 'az-b', '--tiers', 'P0,P9');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown tier "P9"; use a comma list of P0, P1, P2, P3');
  });

  it('refuses an unknown mode with exit 2', () => {
    const r = run('evacuate', '--from', 'az-a', '--to', 'az-b', '--mode', 'panic');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--mode.*panic.*drill, emergency|Allowed choices are drill, emergency/s);
  });

  it('says how to fix an unreachable Temporal server', () => {
    const r = run('status', 'az-evac-emergency-az-a-to-az-b');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1.*Fix: start it/s);
  });
});

describe('az-evac drill / schedule input errors (nothing starts)', { timeout: 60_000 }, () => {
  it('refuses a runbook with a misspelt key with exit 2, naming file, key and fix', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'az-evac-rb-')), 'bad.yaml');
    writeFileSync(file, 'name: bad\nsourceAz: az-a\ntargetAz: az-b\nsteps:\n  - evacuate: { mode: drill }\n  - failbak: {}\n');
    const r = run('drill', 'run', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: steps[1].failbak: unknown key 'failbak'. Fix: rename 'failbak' to 'failback'`);
  });

  it('refuses a missing runbook file and a bad pause window with exit 2', () => {
    expect(run('drill', 'run', '/nonexistent/runbook.yaml')).toMatchObject({ code: 2, err: expect.stringContaining('cannot read runbook /nonexistent/runbook.yaml') });
    const r = run('schedule', 'create', 'weekly', '--runbook', CANARY, '--cron', '0 3 * * TUE', '--pause-window', '2026-12-21T00:00Z/2026-12-20T00:00Z');
    expect(r.code).toBe(2);
    expect(r.err).toContain('TO is not after FROM');
  });

  it('reaches for Temporal only with a valid runbook (and says how to fix an unreachable server)', () => {
    const r = run('drill', 'run', CANARY);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1.*Fix: start it/s);
  });
});

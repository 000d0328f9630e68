import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));

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

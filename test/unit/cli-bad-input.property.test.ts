/**
 * CLI arguments as a new user types them (fast-check): a valid `evacuate` line with one
 * argument mutated never starts anything (exit 2 before any connection: the Temporal
 * address points nowhere) and the error names the offending option or value.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));

function run(args: string[]): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, AZ_EVAC_TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  return { code: r.status, err: r.stderr };
}

/** One mutation of `evacuate --from az-a --to az-b --mode drill --tiers P0,P1 --catalog-version 3`, and what the error must name. */
const mutations = fc.oneof(
  fc.constantFrom('P9', 'p0,,x', 'ALL', '0').map((v) => ({ set: ['--tiers', v], names: v.split(',').find((t) => !/^P[0-3]$/i.test(t.trim())) ?? v })),
  fc.constantFrom('panic', 'DRILL', '', 'emergency!').map((v) => ({ set: ['--mode', v], names: '--mode' })),
  fc.constantFrom('-1', '0', 'abc', 'NaN', '1e999').map((v) => ({ set: ['--catalog-version', v], names: v })),
  fc.constantFrom('az-a').map((v) => ({ set: ['--to', v], names: '--from and --to are both "az-a"' })),
  fc.constantFrom('--frmo', '--tier', '--force', '--dryrun').map((v) => ({ set: [v, 'x'], names: v })),
);

describe('az-evac CLI with mutated arguments (nothing starts)', { timeout: 120_000 }, () => {
  it('exits 2 naming the offending option or value, before connecting anywhere', () => {
    fc.assert(fc.property(mutations, ({ set, names }) => {
      const base: Record<string, string> = { '--from': 'az-a', '--to': 'az-b', '--mode': 'drill', '--tiers': 'P0,P1', '--catalog-version': '3' };
      const [opt, value] = set as [string, string];
      const args = ['evacuate', ...Object.entries({ ...base, [opt]: value }).flat()];
      const r = run(args);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(names);
      expect(r.err).not.toMatch(/cannot reach Temporal/);
    }), { numRuns: 6, seed: 11 });
  });
});

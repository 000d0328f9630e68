/**
 * `az-evac protect status|run` (cli/protect-commands.ts, cli/protect-text.ts) in process: the help
 * teaches, bad usage is exit 2 and an unreachable Temporal exit 3 before anything is done, and
 * the text says per tier the RPO now against the target, who is unprotected and why, what is
 * due, what the last pass did; a pass's summary names each failure with its reason. The commands
 * against a real worker: test/integration/metrics.test.ts "protection behind".
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { EXIT } from '../../cli/exit-codes.js';
import { ageText, bytesText, passSummaryText, progressText, protectionStatusText } from '../../cli/protect-text.js';
import { NO_PROTECTION } from '../../domain/protection.js';
import type { ProtectionStatus } from '../../workflows/protect.js';

const NOWHERE = { AZ_EVAC_TEMPORAL_ADDRESS: '127.0.0.1:1' };

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runCli(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, env: NOWHERE, interactive: false, ask: async () => '' });
  return r;
}

const NOW = 1_800_000_000;
const status = (over: Partial<ProtectionStatus> = {}): ProtectionStatus => ({
  catalogVersion: 4, nowEpochSeconds: NOW, policy: { ...NO_PROTECTION, tiers: ['P1', 'P2'] },
  counts: { jobs: 10, protected: 6, unprotected: 2, notRequired: 2 },
  tiers: [
    { tier: 'P1', jobs: 4, protected: 2, unprotected: 2, notRequired: 0, withoutSnapshot: 0, worstAgeSeconds: 1320, rpoTargetSeconds: 900 },
    { tier: 'P2', jobs: 4, protected: 4, unprotected: 0, notRequired: 0, withoutSnapshot: 0, worstAgeSeconds: 610, rpoTargetSeconds: 1800 },
    { tier: 'P3', jobs: 2, protected: 0, unprotected: 0, notRequired: 2, withoutSnapshot: 1, worstAgeSeconds: null, rpoTargetSeconds: 3600 },
  ],
  unprotected: [
    { job: 'ns/a', tier: 'P1', reason: 'az-b: newest restorable savepoint s3://b/x is 1320 s old, beyond the RPO of 900 s; last savepoint failed 40 s ago: operator: FlinkStateSnapshot ns/a-az-evac-1 FAILED after 1 attempt(s): disk full' },
    { job: 'ns/b', tier: 'P1', reason: 'az-b: no restorable snapshot: none at all' },
  ],
  due: { savepoints: 1, ships: 3 },
  lastPass: { endedAtEpochSeconds: NOW - 300, durationSeconds: 41, catalogVersion: 4, before: { jobs: 10, protected: 5, unprotected: 3, notRequired: 2 }, savepoints: 3, shipped: 2, shippedBytes: 3 * 1024 ** 3, expired: 1, failures: [{ job: 'ns/a', step: 'savepoint', reason: 'disk full' }] },
  ...over,
});

describe('az-evac protect (in process)', () => {
  it('protect --help teaches what protection does, both commands, the schedule setting and the exit codes', async () => {
    const r = await cli(['protect', '--help']);
    expect(r.code).toBe(EXIT.ok);
    for (const word of ['protect status', 'protect run', '--json', 'AZ_EVAC_PROTECTION_INTERVAL', 'refreshAtRpoFraction', 'az-evac catalog sync', 'Exit codes: 0', '1 the pass ran', '3 Temporal unreachable']) expect(r.out).toContain(word);
    expect((await cli(['--help'])).out).toContain('az-evac protect status');
  });

  it('an unknown option or subcommand is bad input (exit 2), nothing done (an unreachable Temporal is exit 3 as for every command: cli-program.test.ts)', async () => {
    const bad = await cli(['protect', 'status', '--tier', 'P1']);
    expect(bad.code).toBe(EXIT.badInput);
    expect(bad.err).toContain("unknown option '--tier'");
    expect((await cli(['protect', 'go'])).code).toBe(EXIT.badInput);
  });

  it('status text: per tier the RPO now against the target (OVER when past it), unprotected jobs with the operator\'s reason, what is due, the last pass', () => {
    const text = protectionStatusText(status());
    expect(text).toContain('Protection of P1, P2 (tiers.yaml protection: refresh at 50 % of the RPO, 2 savepoints at once per AZ), catalog v4:');
    expect(text).toContain('10 jobs: 6 protected, 2 UNPROTECTED, 2 in tiers that need none.');
    expect(text).toMatch(/^P1 +4 +2 +2 ! +0 +0 +22 min \/ 15 min OVER$/m);
    expect(text).toMatch(/^P2 +4 +4 +0 +0 +0 +10 min \/ 30 min$/m);
    expect(text).toMatch(/^P3 +2 +0 +0 +2 +1 +- \/ 60 min$/m);
    expect(text).toContain('  ns/a (P1): az-b: newest restorable savepoint s3://b/x is 1320 s old, beyond the RPO of 900 s; last savepoint failed 40 s ago: operator: FlinkStateSnapshot ns/a-az-evac-1 FAILED after 1 attempt(s): disk full');
    expect(text).toContain('Due now: 1 savepoint to take, 3 jobs to ship (`az-evac protect run` does it now).');
    expect(text).toContain('Last pass: ended 5 min ago, took 41 s: 3 savepoints taken, 2 copies shipped (3.0 GiB), 1 expired, 1 failure.');
    expect(protectionStatusText(status({ unprotected: status().unprotected.slice(0, 1) }))).toContain('Unprotected (first 1 of 2):');
    expect(protectionStatusText(status({ lastPass: null }))).toContain('Last pass: none recorded');
    expect(protectionStatusText(status({ policy: NO_PROTECTION }))).toMatch(/^Protection is off: tiers.yaml has no `protection` block/);
  });

  it('run text: progress lines and a summary naming each failure with its reason and what to do', () => {
    expect(progressText({ phase: 'assessing', tasks: 0, done: 0, savepoints: 0, shipped: 0, shippedBytes: 0, failures: 0 })).toBe('protect: assessing every job…');
    expect(progressText({ phase: 'protecting', tasks: 12, done: 5, savepoints: 4, shipped: 3, shippedBytes: 1536 * 1024 ** 2, failures: 1 })).toBe('protect: protecting 5/12 jobs · 4 savepoints · 3 copies (1.5 GiB) · 1 failures');
    const text = passSummaryText({
      catalogVersion: 4, before: { jobs: 10, protected: 5, unprotected: 3, notRequired: 2 }, unprotected: [],
      savepoints: [{ job: 'ns/b', path: 's3://a/sp' }], shipped: [{ job: 'ns/b', toAz: 'az-b', path: 's3://b/sp', bytes: 2048, completedAtEpochSeconds: NOW }], expired: [],
      retentionHeld: [{ az: 'az-b', by: 'evacuation emergency-az-a-1' }],
      failures: [{ job: 'ns/a', step: 'savepoint', reason: 'operator: FlinkStateSnapshot ns/a-az-evac-1 FAILED after 1 attempt(s): disk full' }],
    });
    expect(text).toContain('Took 1 savepoint, shipped 1 copy (2.0 KiB), expired 0.');
    expect(text).toContain('Retention held in az-b: evacuation emergency-az-a-1 (nothing expired there this pass).');
    expect(text).toContain('  ns/a savepoint: operator: FlinkStateSnapshot ns/a-az-evac-1 FAILED after 1 attempt(s): disk full');
    expect(text).toContain('run `az-evac protect run` again');
    expect([bytesText(12), bytesText(5 * 1024 ** 4), ageText(30), ageText(7200)]).toEqual(['12 B', '5.0 TiB', '30 s', '2.0 h']);
    // A pass in shards lists the first entries only: the counts come from its totals.
    const big = passSummaryText({
      catalogVersion: 5, before: { jobs: 5000, protected: 0, unprotected: 3500, notRequired: 1500 }, unprotected: [], savepoints: [], shipped: [], expired: [], retentionHeld: [],
      failures: [{ job: 'ns/a', step: 'ship', reason: 'forbidden' }],
      totals: { savepoints: 3400, shipped: 3390, shippedBytes: 4 * 1024 ** 4, expired: 12, failures: 700, failuresByStep: { savepoint: 100, ship: 600, retention: 0 }, shards: 100, jobs: 5000 },
    });
    expect(big).toContain('Took 3400 savepoints, shipped 3390 copies (4.0 TiB), expired 12.');
    expect(big).toContain('Failed (after retries) for 700 jobs (the first 1 listed):');
  });
});

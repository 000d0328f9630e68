/**
 * Run identity and second presses, on the real dev server and simulator: two presses of the
 * same request are one evacuation (one run), a press asking for something else is answered
 * with what runs and how it differs (not joined), and a later evacuation under the same id
 * keeps its records apart from the earlier run's (it never reads that run's outcomes); `az-evac
 * list` and `az-evac report` (in process) read each run's own result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvacuationRequestConflict } from '../../client/evacuation-client.js';
import type { RunListItem } from '../../client/run-list.js';
import { EXIT } from '../../cli/exit-codes.js';
import { runCli } from '../../cli/program.js';
import { recordsKey } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { EvacuationHarness, reportKey, workflowBundle } from '../setup/evacuation-harness.js';

describe('evacuation runs: one per press pair, records per run', () => {
  const id = `run-identity-${Date.now()}`;
  let h: EvacuationHarness;

  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 40, seed: 11, timeScale: 100 });
    await h.client.syncCatalog();
  }, 120_000);

  afterAll(async () => {
    await h?.close([id]);
  });

  let first: EvacuationReport;

  it('joins a second press of the same request, and answers a different one with what runs and how it differs', async () => {
    const a = await h.start(id, { mode: 'drill' });
    const b = await h.start(id, { mode: 'drill', requestedBy: 'someone else' });
    expect(a.joined).toBe(false);
    expect(b).toEqual({ evacuationId: id, runId: a.runId, joined: true });

    const scoped = await h.start(id, { mode: 'drill', scope: { tiers: ['P0'] } }).catch((e: unknown) => e);
    expect(scoped).toBeInstanceOf(EvacuationRequestConflict);
    expect((scoped as EvacuationRequestConflict).differences).toEqual(['scope.tiers: running all, yours P0']);
    expect((scoped as EvacuationRequestConflict).runId).toBe(a.runId);
    expect((scoped as Error).message).toMatch(/already running with a different request .*not joined\. Fix: /);

    const forced = await h.start(id, { mode: 'drill', forceStaleCatalog: true, preload: false }).catch((e: unknown) => e);
    expect((forced as EvacuationRequestConflict).differences).toEqual(['forceStaleCatalog: running not forced, yours forced', 'preload: running on, yours off']);

    ({ report: first } = await h.finish(id));
    expect(first.runId).toBe(a.runId);
    // The running evacuation kept its own request: every tier of az-a, not the second press's P0.
    expect(new Set(first.jobs.map((j) => j.tier)).size).toBeGreaterThan(1);
  });

  it('a later evacuation under the same id has its own run and never reads the earlier run\'s outcomes', async () => {
    const again = await h.start(id, { mode: 'drill', scope: { tiers: ['P2'] } });
    expect(again.joined).toBe(false);
    const { report: second } = await h.finish(id);
    expect(second.runId).toBe(again.runId);
    expect(second.runId).not.toBe(first.runId);

    const firstOutcomes = await h.state.evacuations.listOutcomes(recordsKey(first));
    const secondOutcomes = await h.state.evacuations.listOutcomes(recordsKey(second));
    // The first run's records are still there, untouched; the second run sees only its own.
    // (Outcomes are recorded for admitted jobs; the report also lists those not admitted.)
    const firstKeys = new Set(first.jobs.map(reportKey));
    const secondKeys = new Set(second.jobs.map(reportKey));
    expect(firstOutcomes.length).toBeGreaterThan(0);
    expect(firstOutcomes.filter((o) => !firstKeys.has(o.key))).toEqual([]);
    expect(firstOutcomes.some((o) => o.tier !== 'P2')).toBe(true);
    expect(secondOutcomes.length).toBeGreaterThan(0);
    expect(secondOutcomes.filter((o) => !secondKeys.has(o.key))).toEqual([]);
    expect(secondOutcomes.every((o) => o.tier === 'P2')).toBe(true);
    expect(second.jobs.every((j) => j.tier === 'P2')).toBe(true);
    expect(Math.min(...secondOutcomes.map((o) => o.startedAtMs))).toBeGreaterThan(Math.max(...firstOutcomes.map((o) => o.endedAtMs)));
    reports = [second, first];
  });

  let reports: EvacuationReport[] = [];

  it('az-evac list and report read both runs: each run\'s own outcome, newest first; report prints the newest run\'s', async () => {
    expect(reports).toHaveLength(2);
    const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      const r = { code: -1, out: '', err: '' };
      r.code = await runCli(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, env: h.workerEnv(), interactive: false, ask: async () => '' });
      return r;
    };
    const listed = await cli('list', '--json', '--status', 'closed');
    expect(listed.code, listed.err).toBe(EXIT.ok);
    const runs = (JSON.parse(listed.out) as RunListItem[]).filter((r) => r.id === id);
    // A run that did not succeed closes FAILED (workflows/outcome-failure.ts), its outcome read from inside.
    expect(runs.map((r) => [r.mode, r.sourceAz, r.targetAz, r.status, r.phase, r.outcome])).toEqual(
      reports.map((rep) => ['drill', 'az-a', 'az-b', rep.success ? 'COMPLETED' : 'FAILED', 'done', rep.success ? 'succeeded' : 'failed']),
    );
    const report = await cli('report', id, '--json');
    expect(report.code, report.err).toBe(reports[0]!.success ? EXIT.ok : EXIT.failed);
    expect((JSON.parse(report.out) as EvacuationReport).runId).toBe(reports[0]!.runId);
  });
});

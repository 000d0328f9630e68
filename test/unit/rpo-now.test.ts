/**
 * RPO now (domain/rpo-now.ts) and where it is shown: a lookup as the NewestSnapshot protection
 * assesses, the per-tier worst RPO and counts, the `unprotected` findings, and the plan's text,
 * the console's plan view and the report's tier lines built from jobs assessed by
 * domain/protection.ts toward the plan's target AZ.
 */
import { describe, expect, it } from 'vitest';
import { assessProtection, type JobProtection } from '../../domain/protection.js';
import { mergeTierRpoNow, newestSnapshotOf, tierRpoNow, unprotectedFindings } from '../../domain/rpo-now.js';
import { buildReport } from '../../domain/report.js';
import type { Plan, PlannedJob, SnapshotChoice, Tier } from '../../domain/types.js';
import { planText } from '../../cli/plan-text.js';
import { reportText } from '../../cli/report-text.js';
import { planView } from '../../console/fleet-view.js';
import { tiersPolicy } from './fixtures/fleet.js';

const NOW = 1_800_000_000;
const snapshot = (ageSeconds: number, path = 's3://state-b/sp/savepoint-1'): SnapshotChoice => ({
  kind: 'snapshot', ageSeconds, skipped: [],
  snapshot: { kind: 'savepoint', path, completedAtEpochSeconds: NOW - ageSeconds, hasMetadata: true, referencedFilesPresent: true, stateBytes: 10 },
});
const none: SnapshotChoice = { kind: 'none', reason: 'no checkpoint or savepoint found in the target AZ replica', skipped: [] };
/** A job of az-a assessed toward az-b, P1 and P2 protected. */
const of = (key: string, tier: Tier, lookup: SnapshotChoice | Error, rpo = tier === 'P1' ? 900 : 1800): JobProtection =>
  assessProtection({ job: key, tier, az: 'az-a', rpoSeconds: rpo, otherAzs: { 'az-b': newestSnapshotOf(lookup) } }, { tiers: ['P1', 'P2'], refreshAtRpoFraction: 0.5 }, {}, NOW);

describe('RPO now per tier, from assessed jobs', () => {
  it('merged from parts assessed apart (a protection pass\'s shards), it equals the RPO now of all their jobs', () => {
    const jobs = [of('ns/a', 'P1', snapshot(40)), of('ns/b', 'P1', snapshot(2000)), of('ns/c', 'P2', none), of('ns/d', 'P2', snapshot(75)), of('ns/e', 'P3', snapshot(9000)), of('ns/f', 'P1', new Error('503'))];
    const parts = [jobs.slice(0, 1), jobs.slice(1, 3), [], jobs.slice(3)];
    expect(mergeTierRpoNow(parts.map((p) => tierRpoNow(p)))).toEqual(tierRpoNow(jobs));
    expect(mergeTierRpoNow([])).toEqual([]);
  });

  it('a lookup becomes the newest snapshot (any age), none with the reason, or unknown with the error', () => {
    expect(newestSnapshotOf(snapshot(30))).toEqual({ kind: 'snapshot', path: 's3://state-b/sp/savepoint-1', snapshotKind: 'savepoint', completedAtEpochSeconds: NOW - 30 });
    expect(newestSnapshotOf(none)).toEqual({ kind: 'none', reason: none.reason });
    expect(newestSnapshotOf(new Error('503 Slow Down'))).toEqual({ kind: 'unknown', reason: '503 Slow Down' });
  });

  it('per tier: the worst RPO now (too old included), each state counted, jobs without any snapshot counted apart', () => {
    const list = [of('ns/a', 'P1', snapshot(40)), of('ns/b', 'P1', snapshot(75)), of('ns/c', 'P1', snapshot(2400)), of('ns/d', 'P2', none), of('ns/e', 'P2', new Error('x')), of('ns/f', 'P3', snapshot(5000), 3600)];
    expect(tierRpoNow(list)).toEqual([
      { tier: 'P1', jobs: 3, protected: 2, unprotected: 1, notRequired: 0, withoutSnapshot: 0, worstAgeSeconds: 2400, rpoTargetSeconds: 900 },
      { tier: 'P2', jobs: 2, protected: 0, unprotected: 2, notRequired: 0, withoutSnapshot: 2, worstAgeSeconds: null, rpoTargetSeconds: 1800 },
      { tier: 'P3', jobs: 1, protected: 0, unprotected: 0, notRequired: 1, withoutSnapshot: 0, worstAgeSeconds: 5000, rpoTargetSeconds: 3600 },
    ]);
    expect(tierRpoNow([])).toEqual([]);
  });

  it("one non-blocking 'unprotected' finding per unprotected job, naming the job, why and the fix; none for protected or not-required jobs", () => {
    const findings = unprotectedFindings([of('ns/a', 'P1', snapshot(40)), of('ns/b', 'P2', snapshot(2400)), of('ns/f', 'P3', none, 3600)]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ job: 'ns/b', code: 'unprotected', blocking: false });
    expect(findings[0]!.message).toContain('az-b: newest restorable savepoint s3://state-b/sp/savepoint-1 is 2400 s old, beyond the RPO of 1800 s');
    expect(findings[0]!.message).toContain('Fix:');
  });
});

describe('RPO now in the plan, the console and the report', () => {
  const planned = (name: string, tier: Tier): PlannedJob => ({ key: `ns/${name}`, name, namespace: 'ns', tier, catalogTier: tier, strategy: 'redeploy', cores: 1, memoryMiB: 1024, jarDigests: [] });
  const jobs = [of('ns/a', 'P1', snapshot(40)), of('ns/b', 'P2', snapshot(300)), of('ns/c', 'P2', snapshot(2400))];
  const plan: Plan = {
    sourceAz: 'az-a', targetAz: 'az-b', catalogVersion: 7, admitted: [planned('a', 'P1'), planned('b', 'P2'), planned('c', 'P2'), planned('d', 'P2')],
    notAdmitted: [], preemptions: [], findings: unprotectedFindings(jobs),
    capacityBefore: { cores: 10, memoryMiB: 10240 }, capacityAfter: { cores: 6, memoryMiB: 6144 }, jars: [], protection: { jobs, notLookedUp: ['ns/d'] },
  };

  it('plan text: per tier the worst RPO now against the target with the unprotected count, the totals, and the finding with the reason', () => {
    const text = planText(plan);
    expect(text).toMatch(/RPO now \/ target/);
    expect(text).toContain('40s / 900s');
    expect(text).toContain('2400s / 1800s UNPROTECTED (1)');
    expect(text).toContain('2 protected, 1 unprotected');
    expect(text).toContain('1 not looked up in time');
    expect(text).toContain('unprotected ns/c: ns/c (P2) is unprotected: no restorable snapshot within its 1800 s RPO: az-b: newest restorable savepoint');
  });

  it('console plan view: per tier RPO now and the unprotected jobs with why', () => {
    const view = planView(plan);
    expect(view.rpoNow?.tiers.map((t) => [t.tier, t.worstAgeSeconds, t.unprotected])).toEqual([['P1', 40, 0], ['P2', 2400, 1]]);
    expect(view.rpoNow?.unprotected).toMatchObject({ count: 1, items: [{ job: 'ns/c', state: 'unprotected' }] });
    expect(view.rpoNow?.notLookedUp).toBe(1);
    expect(view.findings.byCode.unprotected).toBe(1);
  });

  it("report: each tier line carries the RPO the plan found (what an emergency would have paid), also in a drill's text", () => {
    const report = buildReport({
      evacuationId: 'drill-1', sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill', startedAtMs: 0, endedAtMs: 60_000, plan, policy: tiersPolicy(), outcomes: [],
    });
    expect(report.tiers.find((t) => t.tier === 'P1')?.rpoAtPlan).toEqual({ worstAgeSeconds: 40, unprotected: 0 });
    expect(report.tiers.find((t) => t.tier === 'P2')?.rpoAtPlan).toEqual({ worstAgeSeconds: 2400, unprotected: 1 });
    expect(report.tiers.find((t) => t.tier === 'P0')?.rpoAtPlan).toBeUndefined();
    expect(reportText(report)).toContain('2400.0s (1 unprotected)');
  });
});

/**
 * Verification of an evacuation report against a runbook's targets (pure), and drill
 * evacuation ids as label values.
 */
import { describe, expect, it } from 'vitest';
import { drillEvacuationId, verifyReport } from '../../domain/drill.js';
import type { EvacuationReport, JobReport, TierReport } from '../../domain/report.js';

const tier = (t: Partial<TierReport> & Pick<TierReport, 'tier'>): TierReport => ({
  jobs: 2, succeeded: 2, failed: 0, skipped: 0, rtoSeconds: 4, rtoTargetSeconds: 5.4, worstRpoSeconds: 2, rpoTargetSeconds: 18, rtoMet: true, ...t,
});
const job = (name: string, t: JobReport['tier'], outcome: JobReport['outcome']): JobReport => ({ name, namespace: 'ns', tier: t, strategy: 'redeploy', outcome, steps: {} });

function report(tiers: TierReport[], jobs: JobReport[]): EvacuationReport {
  return {
    evacuationId: 'e', sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill', catalogVersion: 1, clock: 'wall', timeScale: 100,
    startedAt: '2026-11-26T00:00:00Z', wallSeconds: 10, success: true, tiers, preemptions: [], findings: [], jobs,
  };
}

describe('verifyReport', () => {
  it('checks RTO and RPO per tier against tiers.yaml targets by default and runbook targets (model seconds ÷ time scale) when given', () => {
    const r = report([tier({ tier: 'P2', rtoSeconds: 6, worstRpoSeconds: 20 })], [job('a', 'P2', 'running')]);
    expect(verifyReport(r, {})).toEqual([
      { name: 'P2 RTO', passed: false, detail: 'P2 RTO 6.0s > target 5.4s' },
      { name: 'P2 RPO', passed: false, detail: 'P2 worst RPO 20.0s > limit 18.0s' },
      { name: 'P0–P2 RUNNING', passed: true, detail: '1 P0–P2 job(s) RUNNING in az-b' },
    ]);
    expect(verifyReport(r, { rtoSeconds: { P2: 900 }, maxRpoSeconds: 3000 }).map((c) => c.passed)).toEqual([true, true, true]);
  });

  it('fails requireRunning for a P0–P2 job not RUNNING, not for P3, and can be turned off', () => {
    const r = report([tier({ tier: 'P1' }), tier({ tier: 'P3' })], [job('a', 'P1', 'failed'), job('b', 'P3', 'skipped'), job('c', 'P1', 'running')]);
    const running = verifyReport(r, {}).find((c) => c.name === 'P0–P2 RUNNING')!;
    expect(running).toEqual({ name: 'P0–P2 RUNNING', passed: false, detail: '1 of 2 P0–P2 job(s) not RUNNING in az-b: ns/a (failed)' });
    expect(verifyReport(r, { requireRunning: false }).some((c) => c.name === 'P0–P2 RUNNING')).toBe(false);
  });
});

describe('drillEvacuationId', () => {
  it('makes any drill id (schedule run ids contain colons) a valid, unique label value', () => {
    const label = /^(?=.{0,63}$)(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
    const ids = ['drill-p3-canary-20261126T031500Z', 'weekly-canary-2026-11-26T03:00:00Z', `x-${'long-'.repeat(20)}a`, `x-${'long-'.repeat(20)}b`];
    const out = ids.map(drillEvacuationId);
    for (const id of out) expect(id).toMatch(label);
    expect(out[1]).toBe('weekly-canary-2026-11-26T03-00-00Z.evac');
    expect(new Set(out).size).toBe(ids.length);
  });
});

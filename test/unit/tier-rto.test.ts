import { describe, expect, it } from 'vitest';
import { progressView, temporalUiLink } from '../../console/progress-view.js';
import type { EvacuationProgress, JobOutcome, TierProgress } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { tierRto } from '../../domain/tier-rto.js';
import type { Tier } from '../../domain/types.js';
import { verdictOf } from '../../domain/verdict.js';

const T0 = 1_800_000_000_000;

function outcome(name: string, tier: Tier, kind: JobOutcome['outcome'], endSeconds: number, reason?: string): JobOutcome {
  return { key: `ns/${name}`, name, namespace: 'ns', tier, strategy: 'redeploy', outcome: kind, steps: {}, startedAtMs: T0, endedAtMs: T0 + endSeconds * 1000, ...(reason ? { reason } : {}) };
}

function tier(t: Tier, state: TierProgress['state'], extra: Partial<TierProgress> = {}): TierProgress {
  return { tier: t, state, planned: 2, running: 0, succeeded: 0, failed: 0, skipped: 0, rtoTargetSeconds: 3, ...extra };
}

function progress(tiers: TierProgress[]): EvacuationProgress {
  return {
    evacuationId: 'az-evac-emergency-az-a-to-az-b', runId: 'r1', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', phase: 'evacuating', paused: false,
    startedAtMs: T0, elapsedSeconds: 6.5, preload: { state: 'off', jars: 0, jarsDone: 0, bytesDone: 0 }, tiers,
  };
}

describe('tier RTO (one definition for the report and the console)', () => {
  it('is trigger → the last job RUNNING; failed jobs do not count; met within the target', () => {
    expect(tierRto([1.2, 2.6], 3)).toEqual({ seconds: 2.6, targetSeconds: 3, met: true });
    expect(tierRto([3.01], 3)).toMatchObject({ met: false });
    expect(tierRto([], 3)).toEqual({ seconds: null, targetSeconds: 3, met: true });
  });

  it('the console shows a finished tier the report\'s figure, not the tier\'s end: P0 done at 6.5 s with its last job RUNNING at 2.6 s is 2.6 s, met', () => {
    const p = progress([tier('P0', 'done', { succeeded: 1, failed: 1, startedAtMs: T0, endedAtMs: T0 + 6500 }), tier('P1', 'running', { running: 2 }), tier('P2', 'waiting')]);
    const outcomes = [outcome('a', 'P0', 'running', 2.6), outcome('b', 'P0', 'failed', 5, 'start-up timed out after 3 s'), outcome('c', 'P1', 'running', 4)];
    const v = progressView(p, outcomes, undefined, undefined);
    expect(v.tiers.map((t) => t.rto)).toEqual([{ seconds: 2.6, targetSeconds: 3, met: true }, null, null]);
    expect(v.failedJobs).toEqual({ count: 1, items: [{ key: 'ns/b', tier: 'P0', reason: 'start-up timed out after 3 s' }] });
    expect(v.verdict).toBeNull();
    expect(v.temporalUrl).toBeUndefined();
    // Frozen: the same outcomes later (more elapsed) give the same figure.
    expect(progressView({ ...p, elapsedSeconds: 60 }, outcomes, undefined, undefined).tiers[0]?.rto?.seconds).toBe(2.6);
  });

  it('links the evacuation, its tiers and failed jobs into the Temporal UI when its URL is set', () => {
    const ui = { baseUrl: 'http://127.0.0.1:8233/', namespace: 'default' };
    expect(temporalUiLink(ui, 'evac/job/ns/a')).toBe('http://127.0.0.1:8233/namespaces/default/workflows/evac%2Fjob%2Fns%2Fa');
    expect(temporalUiLink({ baseUrl: '', namespace: 'default' }, 'x')).toBeUndefined();
    const v = progressView(progress([tier('P0', 'done', { failed: 1 })]), [outcome('b', 'P0', 'failed', 1, 'boom')], undefined, ui);
    expect(v.temporalUrl).toBe('http://127.0.0.1:8233/namespaces/default/workflows/az-evac-emergency-az-a-to-az-b');
    expect(v.tiers[0]?.temporalUrl).toBe('http://127.0.0.1:8233/namespaces/default/workflows/az-evac-emergency-az-a-to-az-b%2Ftier%2FP0');
    expect(v.failedJobs.items[0]?.temporalUrl).toBe('http://127.0.0.1:8233/namespaces/default/workflows/az-evac-emergency-az-a-to-az-b%2Fjob%2Fns%2Fb');
    // A job run by its shard's activities links to the shard, whose history holds them.
    const shard = 'az-evac-emergency-az-a-to-az-b/tier/P0/shard/0';
    const byShard = progressView(progress([tier('P0', 'done', { failed: 1 })]), [{ ...outcome('b', 'P0', 'failed', 1, 'boom'), workflowId: shard }], undefined, ui);
    expect(byShard.failedJobs.items[0]?.temporalUrl).toBe('http://127.0.0.1:8233/namespaces/default/workflows/az-evac-emergency-az-a-to-az-b%2Ftier%2FP0%2Fshard%2F0');
  });

  it('verdict: never success beside a failure, a missed RTO or an abort', () => {
    expect(verdictOf({ success: true, aborted: false, tiers: [{ met: true }] })).toBe('success');
    expect(verdictOf({ success: true, aborted: false, tiers: [{ met: true }, { met: false }] })).toBe('rto-missed');
    expect(verdictOf({ success: false, aborted: false, tiers: [{ met: true }] })).toBe('failed');
    expect(verdictOf({ success: true, aborted: true, tiers: [{ met: true }] })).toBe('aborted');
    const report = { success: true, tiers: [{ rtoMet: false }] } as unknown as EvacuationReport;
    expect(progressView(progress([]), [], report, undefined).verdict).toBe('rto-missed');
  });
});

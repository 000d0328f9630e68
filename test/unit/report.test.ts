import { onPlatformClock } from '../../domain/tiers-policy.js';
import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../domain/evacuation.js';
import { buildReport, type ReportInput } from '../../domain/report.js';
import type { Plan, PlannedJob, Tier } from '../../domain/types.js';
import { tiersPolicy } from './fixtures/fleet.js';
import { reportText } from '../../cli/report-text.js';

const T0 = 1_800_000_000_000;

function planned(name: string, tier: Tier, catalogTier: Tier = tier): PlannedJob {
  return { key: `ns/${name}`, name, namespace: 'ns', tier, catalogTier, strategy: 'redeploy', cores: 4, memoryMiB: 4096, jarDigests: [] };
}

function outcome(name: string, tier: Tier, kind: JobOutcome['outcome'], endSeconds: number, extra: Partial<JobOutcome> = {}): JobOutcome {
  return {
    key: `ns/${name}`, name, namespace: 'ns', tier, strategy: 'redeploy', outcome: kind,
    steps: { apply: { startedAtMs: T0 + 1000, endedAtMs: T0 + 2000, attempts: 2 } },
    startedAtMs: T0 + 500, endedAtMs: T0 + endSeconds * 1000, ...extra,
  };
}

function input(outcomes: JobOutcome[], over: Partial<ReportInput> = {}): ReportInput {
  const plan: Plan = {
    sourceAz: 'az-a', targetAz: 'az-b', catalogVersion: 3,
    admitted: [planned('a', 'P0'), planned('b', 'P2'), planned('c', 'P2'), planned('lifted', 'P0', 'P3')],
    notAdmitted: [{ key: 'ns/big', tier: 'P3', reason: 'does not fit: needs 900 cores' }],
    preemptions: [{ key: 'ns/victim', name: 'victim', namespace: 'ns', cores: 8, memoryMiB: 8192, forJob: 'ns/b' }],
    findings: [], capacityBefore: { cores: 10, memoryMiB: 10 }, capacityAfter: { cores: 2, memoryMiB: 2 }, jars: [],
  };
  return {
    evacuationId: 'evac-1', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency',
    startedAtMs: T0, endedAtMs: T0 + 90_000, plan, policy: tiersPolicy(), outcomes, ...over,
  };
}

describe('buildReport', () => {
  const outcomes = [
    outcome('a', 'P0', 'running', 40, { snapshotPath: 's3://b/sp', snapshotAgeSeconds: 12.345 }),
    outcome('b', 'P2', 'running', 80, { snapshotAgeSeconds: 100 }),
    outcome('lifted', 'P0', 'running', 55),
  ];

  it('lists every in-scope job exactly once: admitted with their outcome, a missing outcome as failed, not admitted as skipped', () => {
    const r = buildReport(input(outcomes));
    expect(r.jobs.map((j) => `${j.name}:${j.outcome}`).sort()).toEqual(['a:running', 'b:running', 'big:skipped', 'c:failed', 'lifted:running']);
    expect(r.jobs.find((j) => j.name === 'c')?.reason).toBe('no outcome recorded for this job');
    expect(r.jobs.find((j) => j.name === 'big')?.reason).toContain('does not fit');
    expect(r.jobs.find((j) => j.name === 'lifted')?.catalogTier).toBe('P3');
    expect(r.jobs.find((j) => j.name === 'a')?.catalogTier).toBeUndefined();
  });

  it('per tier: RTO is the last job RUNNING since the trigger, worst RPO the oldest snapshot, counts add up', () => {
    const r = buildReport(input(outcomes));
    const p0 = r.tiers.find((t) => t.tier === 'P0')!;
    const p2 = r.tiers.find((t) => t.tier === 'P2')!;
    expect(p0).toMatchObject({ jobs: 2, succeeded: 2, failed: 0, rtoSeconds: 55, worstRpoSeconds: 12.35, rtoTargetSeconds: 60, rtoMet: true });
    expect(p2).toMatchObject({ jobs: 2, succeeded: 1, failed: 1, rtoSeconds: 80, worstRpoSeconds: 100 });
    expect(r.tiers.find((t) => t.tier === 'P3')).toMatchObject({ jobs: 1, skipped: 1, rtoSeconds: null, worstRpoSeconds: null });
    expect(r.jobs.find((j) => j.name === 'a')?.steps.apply).toEqual({ startSeconds: 1, endSeconds: 2, attempts: 2 });
  });

  it('is a success only when every P0–P2 job runs; P3 skips do not count', () => {
    expect(buildReport(input(outcomes)).success).toBe(false);
    const all = [...outcomes, outcome('c', 'P2', 'running', 70)];
    expect(buildReport(input(all)).success).toBe(true);
    expect(buildReport(input(all, { abortedBy: 'sre: drill over' })).success).toBe(false);
  });

  it('on a simulated platform\'s clock, durations stay wall seconds and targets are the policy\'s, divided by the scale once', () => {
    const r = buildReport(input(outcomes, { policy: onPlatformClock(tiersPolicy(), 10) }));
    expect(r.clock).toBe('wall');
    expect(r.timeScale).toBe(10);
    const p0 = r.tiers.find((t) => t.tier === 'P0')!;
    expect(p0.rtoTargetSeconds).toBe(6);
    expect(p0.rtoMet).toBe(false);
    expect(r.wallSeconds).toBe(90);
  });

  it('says "fence requested, not observed" per job and in the summary, and takes a later fencing pass over the job\'s own step', () => {
    const seen = (what: string, atSeconds: number) => ({ seen: what, atMs: T0 + atSeconds * 1000 });
    const fenced = [
      outcome('a', 'P0', 'running', 40, { fence: 'requested', fenceSeen: seen('the operator has not acted on the suspend', 39) }),
      outcome('b', 'P2', 'running', 80, { fence: 'requested', fenceSeen: seen('lifecycleState UPGRADING', 70) }),
      outcome('c', 'P2', 'running', 70, { fence: 'stopped', fenceSeen: seen('job FINISHED, lifecycleState SUSPENDED', 60) }),
      outcome('lifted', 'P0', 'running', 55, { fence: 'unreachable' }),
    ];
    const record = { sourceAz: 'az-a', namespace: 'ns', recordedAtMs: T0 + 39_000, suspendGeneration: 3 };
    const r = buildReport(input(fenced, {
      fences: { pending: ['ns/lifted'], notObserved: ['ns/a'], fencedLater: ['ns/b'], followUpWorkflowId: 'evac-1@r/fence' },
      fenceRecords: [
        { ...record, key: 'ns/a', name: 'a', state: 'requested', seen: seen('the operator has not acted on the suspend', 85) },
        { ...record, key: 'ns/b', name: 'b', state: 'stopped', seen: seen('JobManager Deployment gone', 88), fencedAtMs: T0 + 88_000 },
        { ...record, key: 'ns/lifted', name: 'lifted', state: 'pending' },
      ],
    }));
    const line = (name: string) => r.jobs.find((j) => j.name === name)!;
    expect(line('a')).toMatchObject({ fence: 'requested', fenceText: expect.stringMatching(/^fence requested, not observed/), fenceSeen: { atSeconds: 85 } });
    expect(line('b')).toMatchObject({ fence: 'stopped', fenceText: 'fenced: source copy seen stopped', fenceSeen: { seen: 'JobManager Deployment gone', atSeconds: 88 } });
    expect(line('c')).toMatchObject({ fence: 'stopped', fenceSeen: { atSeconds: 60 } });
    expect(line('lifted')).toMatchObject({ fence: 'unreachable', fenceText: expect.stringMatching(/^fence pending/) });
    expect(r.fencing).toEqual({ pending: ['ns/lifted'], notObserved: ['ns/a'], fencedLater: ['ns/b'], followUpWorkflowId: 'evac-1@r/fence' });
    expect(reportText(r)).toMatch(/1 source copie\(s\) in az-a: fence requested, not observed .*evac-1@r\/fence keeps looking/);
    expect(reportText(r)).toContain('P0 ns/a: the operator has not acted on the suspend');
  });
});

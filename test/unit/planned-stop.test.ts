/**
 * The pure parts of a planned move (domain/planned-stop.ts): when a stop-with-savepoint has
 * succeeded or failed, its timeout per state size; and the planned figures of the report.
 */
import { describe, expect, it } from 'vitest';
import { LAST_STATE_DUMMY_PATH, savepointStopVerdict, savepointTimeoutSeconds, type SavepointStopEvidence } from '../../domain/planned-stop.js';
import { buildReport, plannedFigures, type JobReport } from '../../domain/report.js';
import { renderReportHtml } from '../../domain/report-html.js';
import type { JobOutcome } from '../../domain/evacuation.js';
import { tiersPolicy } from './fixtures/fleet.js';
import { stopsWithSavepoint } from '../../domain/evacuation.js';
import type { Plan } from '../../domain/types.js';

const running: SavepointStopEvidence = {
  generation: 4, specState: 'running', observedGeneration: 4, lifecycleState: 'STABLE', jobState: 'RUNNING', upgradeSavepointPath: 's3://state-a/sp/savepoint-aaaaaa-000000000001',
};
const asked = { ...running, generation: 5, specState: 'suspended' as const };
/** The operator's status once it has stopped the job and recorded the suspended spec (domain/fence.ts). */
const stoppedAt = (observedGeneration: number, jobState = 'FINISHED') => ({ ...asked, observedGeneration, lifecycleState: 'SUSPENDED', jobState, jobManagerDeploymentStatus: 'MISSING' });
const SP = 's3://state-a/sp/savepoint-aaaaaa-123456789abc';

describe('savepointStopVerdict', () => {
  it('waits while the operator has not acted on the stop (job RUNNING, generation unobserved), even with a new path in status', () => {
    expect(savepointStopVerdict(running, asked, 5)).toBeUndefined();
    expect(savepointStopVerdict(running, { ...asked, upgradeSavepointPath: SP }, 5)).toBeUndefined();
    expect(savepointStopVerdict(running, { ...stoppedAt(4), upgradeSavepointPath: SP }, 5)).toBeUndefined();
  });

  it('waits while the stop is recorded but the job is not yet seen stopped (UPGRADING: an asynchronous cancel in flight)', () => {
    expect(savepointStopVerdict(running, { ...asked, observedGeneration: 5, lifecycleState: 'UPGRADING', upgradeSavepointPath: SP }, 5)).toBeUndefined();
  });

  it('is stopped once the copy is seen stopped (domain/fence.ts stopVerdict) and a new savepoint path is in status', () => {
    expect(savepointStopVerdict(running, { ...stoppedAt(5), upgradeSavepointPath: SP }, 5)).toMatchObject({ kind: 'stopped', savepointPath: SP, seen: expect.stringMatching(/MISSING/) });
    expect(savepointStopVerdict(running, { ...stoppedAt(6, 'SUSPENDED'), jobManagerDeploymentStatus: 'READY', upgradeSavepointPath: SP }, 5)).toMatchObject({ kind: 'stopped', savepointPath: SP });
  });

  it('fails when the job stopped without a new savepoint (the old path, or a last-state dummy)', () => {
    expect(savepointStopVerdict(running, stoppedAt(5), 5)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/without a new savepoint/) });
    expect(savepointStopVerdict(running, { ...stoppedAt(5), upgradeSavepointPath: LAST_STATE_DUMMY_PATH }, 5)).toMatchObject({ kind: 'failed' });
  });

  it("fails with the operator's error when a new status.error appears, not on one that was there before", () => {
    const error = '{"type":"org.apache.flink.kubernetes.operator.exception.UpgradeFailureException","message":"Savepoint Error"}';
    expect(savepointStopVerdict(running, { ...asked, error }, 5)).toEqual({ kind: 'failed', reason: `the operator reports: ${error}` });
    expect(savepointStopVerdict({ ...running, error }, { ...asked, error }, 5)).toBeUndefined();
  });

  it('fails when the resource is deleted or set running again meanwhile', () => {
    expect(savepointStopVerdict(running, null, 5)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/deleted/) });
    expect(savepointStopVerdict(running, { ...asked, generation: 6, specState: 'running' }, 5)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/set back to running/) });
  });
});

describe('savepointTimeoutSeconds', () => {
  it('is base + per GiB × state, with the defaults when the policy sets none', () => {
    expect(savepointTimeoutSeconds({}, 0)).toBe(120);
    expect(savepointTimeoutSeconds({}, 2 * 1024 ** 3)).toBe(240);
    expect(savepointTimeoutSeconds({ savepointTimeout: { baseSeconds: 10, secondsPerGiB: 5 } }, 1024 ** 3 / 2)).toBe(12.5);
    expect(savepointTimeoutSeconds({ savepointTimeout: { baseSeconds: 10, secondsPerGiB: 5 } }, Number.NaN)).toBe(10);
  });
});

describe('planned figures of the report', () => {
  const line = (over: Partial<JobReport>): JobReport => ({ name: 'j', namespace: 'ns', tier: 'P2', strategy: 'redeploy', outcome: 'running', steps: {}, ...over });
  const step = (startSeconds: number, endSeconds: number) => ({ startSeconds, endSeconds, attempts: 1 });

  it('takes the worst time to savepoint, savepoint → RUNNING and total over jobs moved after a stop', () => {
    const figures = plannedFigures([
      line({ savepointPath: SP, rtoSeconds: 30, steps: { savepoint: step(0, 10) } }),
      line({ savepointPath: SP, rtoSeconds: 25, steps: { savepoint: step(0, 4) } }),
      line({ savepointPath: SP, outcome: 'failed', steps: { savepoint: step(0, 50) } }),
      line({ rtoSeconds: 99 }),
    ]);
    expect(figures).toEqual({ stopped: 3, toSavepointSeconds: 10, savepointToRunningSeconds: 21, totalSeconds: 30 });
    expect(plannedFigures([])).toEqual({ stopped: 0, toSavepointSeconds: null, savepointToRunningSeconds: null, totalSeconds: null });
  });

  it('applies to planned moves and drills (the source AZ answers), not to emergencies', () => {
    expect([stopsWithSavepoint('planned'), stopsWithSavepoint('drill'), stopsWithSavepoint('emergency')]).toEqual([true, true, false]);
  });
});

describe('report of a planned move', () => {
  const T0 = 1_800_000_000_000;
  const at = (seconds: number): number => T0 + seconds * 1000;
  const outcome: JobOutcome = {
    key: 'ns/p2-0', name: 'p2-0', namespace: 'ns', tier: 'P2', strategy: 'redeploy', outcome: 'running',
    savepointPath: SP, snapshotPath: 's3://state-b/sp/savepoint-aaaaaa-123456789abc', snapshotAgeSeconds: 0,
    steps: {
      savepoint: { startedAtMs: at(1), endedAtMs: at(9), attempts: 1 },
      replica: { startedAtMs: at(9), endedAtMs: at(12), attempts: 1 },
      apply: { startedAtMs: at(12), endedAtMs: at(13), attempts: 1 },
      startup: { startedAtMs: at(13), endedAtMs: at(40), attempts: 1 },
    },
    startedAtMs: at(1), endedAtMs: at(40),
  };
  const plan: Plan = {
    sourceAz: 'az-a', targetAz: 'az-b', catalogVersion: 1, notAdmitted: [], preemptions: [], findings: [], jars: [],
    admitted: [{ key: 'ns/p2-0', name: 'p2-0', namespace: 'ns', tier: 'P2', catalogTier: 'P2', strategy: 'redeploy', cores: 1, memoryMiB: 1024, jarDigests: [] }],
    capacityBefore: { cores: 10, memoryMiB: 1e4 }, capacityAfter: { cores: 9, memoryMiB: 9e3 },
  };
  const build = (mode: 'planned' | 'emergency') => buildReport({ evacuationId: 'e', sourceAz: 'az-a', targetAz: 'az-b', mode, startedAtMs: T0, endedAtMs: at(50), plan, policy: tiersPolicy(), outcomes: [outcome] });

  it('carries the savepoint per job and the planned figures per tier, in JSON and HTML; an emergency has none', async () => {
    const report = build('planned');
    expect(report.jobs[0]).toMatchObject({ savepointPath: SP, snapshotAgeSeconds: 0 });
    expect(report.tiers.find((t) => t.tier === 'P2')!.planned).toEqual({ stopped: 1, toSavepointSeconds: 9, savepointToRunningSeconds: 31, totalSeconds: 40 });
    const html = await renderReportHtml(report);
    expect(html).toMatch(/<table id="planned">.*<tr data-tier="P2"><th>P2<\/th><td data-field="stopped">1<\/td><td data-field="toSavepointSeconds">9/s);
    expect(build('emergency').tiers.every((t) => t.planned === undefined)).toBe(true);
    expect(await renderReportHtml(build('emergency'))).not.toContain('id="planned"');
  });
});

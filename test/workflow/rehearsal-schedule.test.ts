/**
 * Scheduled rehearsals on the real Temporal dev server: a schedule created with a pause
 * window (the server's next run times skip it), triggered now, a second trigger while the
 * first drill runs is skipped (overlap SKIP), and the run is listed with its verdict.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../../client/drill-client.js';
import { RehearsalSchedules } from '../../client/rehearsal-schedules.js';
import { parsePauseWindow } from '../../domain/pause-window.js';
import { parseRunbook } from '../../domain/runbook.js';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, waitFor, workflowBundle } from '../setup/evacuation-harness.js';

const TIME_SCALE = 100;

describe('rehearsal schedules', () => {
  let h: EvacuationHarness | undefined;
  let drills: DrillClient | undefined;
  const created: string[] = [];

  beforeAll(async () => {
    await workflowBundle();
  });

  afterEach(async () => {
    if (drills) for (const id of created) await drills.client.schedule.getHandle(id).delete().catch(() => undefined);
    await drills?.close();
    await h?.close();
  });

  it('creates a schedule, runs it now, skips an overlapping trigger and lists the run with its verdict', async () => {
    h = await EvacuationHarness.start({ jobs: 30, seed: 3, timeScale: TIME_SCALE });
    drills = await DrillClient.connect(h.settings);
    const schedules = new RehearsalSchedules(drills.client, h.settings.taskQueue, drills);
    const p2 = [...h.sourceJobs().values()].filter((j) => j.tier === 'P2').slice(0, 2).map(jobKey);
    expect(p2).toHaveLength(2);
    const runbook = parseRunbook([
      'name: canary', 'sourceAz: az-a', 'targetAz: az-b', 'steps:',
      '  - approval: { prompt: "go?", timeoutSeconds: 300 }',
      `  - evacuate: { mode: drill, jobs: [${p2.join(', ')}] }`,
      // 120 wall s at time scale 100: the verdict, not the speed, is under test here.
      '  - verify: { rtoSeconds: { P2: 12000 } }',
      '  - failback: {}',
    ].join('\n'), 'canary.yaml');
    const id = `rehearsal-${Date.now()}`;
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const window = parsePauseWindow(`${new Date(now).toISOString().slice(0, 16)}Z/${new Date(now + 3 * 3600_000).toISOString().slice(0, 16)}Z`);
    await schedules.create({
      scheduleId: id, cron: ['*/10 * * * *'], pauseWindows: [window],
      input: DrillClient.input(runbook, 'canary.yaml', { requestedBy: `schedule:${id}` }),
    });
    created.push(id);

    const before = await schedules.describe(id);
    expect(before).toMatchObject({ scheduleId: id, runbook: 'canary', cron: ['*/10 * * * *'], paused: false, pauseWindows: [window.text], runs: [] });
    // The server applies the pause window: no run time falls inside it.
    expect(before.nextRuns.length).toBeGreaterThan(0);
    for (const t of before.nextRuns) expect(Date.parse(t)).toBeGreaterThanOrEqual(window.toMs);

    await schedules.trigger(id);
    const drillId = await waitFor('the triggered drill at its gate', async () => {
      const runs = (await schedules.describe(id)).runs;
      const run = runs[0];
      if (!run) return undefined;
      return (await drills!.status(run.drillId).catch(() => undefined))?.phase === 'awaiting-approval' ? run.drillId : undefined;
    });
    expect(drillId.startsWith(`${id}-`)).toBe(true);

    // A second trigger while the first rehearsal runs is skipped (overlap SKIP).
    await schedules.trigger(id);
    const skipped = await waitFor('the overlapping trigger to be skipped', async () => {
      const d = await schedules.describe(id);
      return d.skippedOverlaps >= 1 ? d : undefined;
    });
    expect(skipped.runs.map((r) => r.drillId)).toEqual([drillId]);
    expect(skipped.runs[0]).toMatchObject({ status: 'RUNNING', phase: 'awaiting-approval' });

    await drills.decide(drillId, { decision: 'approve', by: 'scheduler-test' });
    const result = await drills.result(drillId);
    expect(result.requestedBy).toBe(`schedule:${id}`);
    expect(result.steps.map((s) => s.state), JSON.stringify(result.steps)).toEqual(['passed', 'passed', 'passed', 'passed']);

    const listed = (await schedules.list()).find((s) => s.scheduleId === id);
    expect(listed?.runs).toEqual([expect.objectContaining({ drillId, status: 'COMPLETED', phase: 'passed', passed: true })]);

    await schedules.pause(id, 'change freeze');
    expect(await schedules.describe(id)).toMatchObject({ paused: true, note: 'change freeze' });
    await schedules.delete(id);
    expect((await schedules.list()).some((s) => s.scheduleId === id)).toBe(false);
  });
});

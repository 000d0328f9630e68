/**
 * Guarantee 2 on the simulator: no job RUNNING in two AZs at once. In an emergency the
 * source copies of jobs started while az-a is down are fenced in absentia (pending fences);
 * when az-a answers again — mid-evacuation or after it — the fencing follow-up workflow
 * suspends them. Real Temporal dev server, worker and simulator.
 */
import { describe, expect, it } from 'vitest';
import { failbackWorkflowId, fenceWorkflowId, recordsKey, type FencePassResult } from '../../domain/evacuation.js';
import type { FailbackResult } from '../../workflows/failback.js';
import { SOURCE_AZ, reportKey, workflowBundle } from '../setup/evacuation-harness.js';
import { SMALL_FLEET, reached, runScenario } from '../setup/fault-scenarios.js';
import { guaranteeProblems } from '../setup/guarantees.js';
import { historyMarks } from '../setup/history-events.js';

/** Moved jobs' source copies RUNNING in az-a now (keys). */
async function runningInSource(h: Parameters<typeof guaranteeProblems>[0], keys: string[]): Promise<string[]> {
  const source = await h.sim.client.listDeployments(SOURCE_AZ);
  const running = new Set(source.filter((d) => d.status.jobStatus?.state === 'RUNNING').map((d) => `${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`));
  return keys.filter((k) => running.has(k));
}

describe('fencing (guarantee 2)', { timeout: 300_000 }, () => {
  it('the source AZ coming back mid-evacuation ends with no job RUNNING in both AZs', async () => {
    await workflowBundle();
    await runScenario(SMALL_FLEET, { fault: 'source AZ back mid-evacuation (fencing)', when: 'at 40 %' }, {
      sourceUp: true,
      inject: async (h, id, _workers, signal) => {
        await reached(h, id, 0.4, signal);
        await h.sim.client.setAzDown(SOURCE_AZ, false);
      },
      check: async ({ h, id, report }) => {
        // Jobs started while az-a was down were fenced in absentia and suspended when it came back.
        const unreachable = report.jobs.filter((j) => j.fence === 'unreachable').map(reportKey);
        expect(unreachable.length).toBeGreaterThan(3);
        const follow = await h.handle(fenceWorkflowId(recordsKey(report))).result() as FencePassResult;
        expect(follow.pending).toEqual([]);
        expect(follow.fencedLater).toEqual(expect.arrayContaining(unreachable));
        expect(await runningInSource(h, unreachable)).toEqual([]);
        expect(report.fencing?.pending).toEqual([]);
        // Jobs started after it came back were suspended by their own fence step.
        expect(report.jobs.filter((j) => j.fence === 'stopped').length).toBeGreaterThan(0);
        expect(await guaranteeProblems(h, id, report, true)).toEqual([]);
      },
    });
  });

  it('a source AZ still down at the end: the report lists the pending fences; the follow-up suspends them when it answers', async () => {
    await runScenario({ ...SMALL_FLEET, jobs: 30 }, { fault: 'source AZ back after the evacuation (fencing)', when: 'after the end' }, {
      check: async ({ h, id, report }) => {
        const moved = report.jobs.filter((j) => j.outcome === 'running' && j.fence === 'unreachable').map(reportKey).sort();
        expect(moved.length).toBeGreaterThan(3);
        expect(report.fencing?.pending).toEqual(expect.arrayContaining(moved));
        expect(report.fencing?.followUpWorkflowId).toBe(fenceWorkflowId(recordsKey(report)));
        const handle = h.handle(fenceWorkflowId(recordsKey(report)));
        expect((await handle.describe()).status.name).toBe('RUNNING');

        await h.sim.client.setAzDown(SOURCE_AZ, false);
        const follow = await handle.result() as FencePassResult;
        expect(follow.pending).toEqual([]);
        expect(await runningInSource(h, moved)).toEqual([]);
        expect(await guaranteeProblems(h, id, report, true)).toEqual([]);
      },
    });
  });

  it('a drill failback started the moment the source AZ answers does the pending fences first: every moved job RUNNING in az-a again', async () => {
    await runScenario({ ...SMALL_FLEET, jobs: 30 }, { fault: 'failback as the source AZ answers (fencing)', when: 'after the end' }, {
      check: async ({ h, id, report }) => {
        const moved = report.jobs.filter((j) => j.outcome === 'running' && j.fence === 'unreachable').map(reportKey).sort();
        expect(moved.length).toBeGreaterThan(3);
        expect(report.fencing?.pending).toEqual(expect.arrayContaining(moved));

        await h.sim.client.setAzDown(SOURCE_AZ, false);
        // The emergency evacuation stands in for a drill's (drillOwned), as the drill workflow's failback step runs it.
        await h.temporal.workflow.start('failbackDrill', {
          taskQueue: h.settings.taskQueue, workflowId: failbackWorkflowId(id), args: [{ drillId: id, drillOwned: true, window: 20 }],
        });
        const fb = await h.resultWithin<FailbackResult>(failbackWorkflowId(id), 90_000);
        expect(fb.failed).toEqual([]);
        expect(fb.restoredFromTarget).toBeGreaterThanOrEqual(moved.length);
        // A fencing pass after a restore would have suspended the source copy for good.
        expect(await runningInSource(h, moved)).toEqual(moved);
        const follow = await h.handle(fenceWorkflowId(recordsKey(report))).describe();
        expect(follow.status.name).toBe('COMPLETED');
        const firstRestore = historyMarks(await h.history(failbackWorkflowId(id))).find((m) => m.kind === 'activity-scheduled' && m.name === 'failbackJob');
        expect(follow.closeTime!.getTime()).toBeLessThanOrEqual(firstRestore!.atMs);
      },
    });
  });
});

/**
 * `startJobs` (activities/job-batch.ts) heartbeats while its platform calls wait out HTTP 429s
 * (issue 12): the start burst of a live worker must never be taken for a lost one. Nothing is
 * mocked: the simulator's fault injection answers 40 % of the platform API calls 429 with a
 * 2 s Retry-After, the platform client and the activities retry in place after it
 * (platform/transient-retry.ts), and tiers.yaml sets the start step's heartbeat timeout to its
 * minimum, 3 s. A burst of a few jobs then takes longer than 3 s: without the heartbeat the
 * server times the activity out (ACTIVITY_TASK_TIMED_OUT, heartbeat) and starts it again on a
 * second attempt, re-running steps the first attempt is still running. The test checks that at
 * least one burst outlasted the heartbeat timeout (else it proves nothing), that no startJobs
 * activity timed out and that every one completed on its first attempt.
 * Checked to fail with the heartbeat removed from `startJobs` (both ran on the same fleet).
 * Slow lane (AZ_EVAC_SLOW=1): an evacuation through seconds of Retry-After per job.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { EvacuationHarness, workflowBundle } from '../setup/evacuation-harness.js';

const EventType = temporal.api.enums.v1.EventType;
const HEARTBEAT_TIMEOUT_S = 3;
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

describe('startJobs heartbeats through 429s', { timeout: 300_000 }, () => {
  let h: EvacuationHarness | undefined;
  const id = `hb-429-${Date.now() % 1e9}`;
  afterAll(async () => h?.close([id]));

  it('no faked process: simulator 429s with Retry-After outlast a 3 s heartbeat timeout, and no start burst times out or runs twice', async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({
      jobs: 12, seed: 5, timeScale: 100, maxStateBytes: 1e9,
      heartbeatTimeoutSeconds: { startStep: HEARTBEAT_TIMEOUT_S, startupWaitMin: 30 },
    });
    await h.prepareEmergency();
    await h.sim.client.setFaults({ apiFailureRate: 0.4, kinds: ['throttled'], retryAfterSeconds: 2 });
    await h.start(id);
    const { report } = await h.finish(id);
    await h.sim.client.setFaults({ apiFailureRate: 0 });
    expect(report.jobs.filter((j) => j.tier !== 'P3').length).toBeGreaterThan(0);

    const bursts: Array<{ workflowId: string; attempt: number; seconds: number }> = [];
    const timedOut: string[] = [];
    for await (const wf of h.temporal.workflow.list({ query: `TaskQueue = '${h.settings.taskQueue}'` })) {
      const history = await h.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const events = history.events ?? [];
      const byId = new Map(events.map((e) => [Number(e.eventId), e]));
      const isStartJobs = (scheduledId: unknown): boolean => byId.get(Number(scheduledId))?.activityTaskScheduledEventAttributes?.activityType?.name === 'startJobs';
      for (const e of events) {
        const done = e.activityTaskCompletedEventAttributes;
        if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && done && isStartJobs(done.scheduledEventId)) {
          const started = byId.get(Number(done.startedEventId))!;
          bursts.push({ workflowId: wf.workflowId, attempt: started.activityTaskStartedEventAttributes?.attempt ?? 0, seconds: (ms(e.eventTime) - ms(started.eventTime)) / 1000 });
        }
        const out = e.activityTaskTimedOutEventAttributes;
        if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT && out && isStartJobs(out.scheduledEventId)) timedOut.push(`${wf.workflowId}: ${out.failure?.message ?? 'timed out'}`);
      }
    }
    // The faults made bursts outlast the heartbeat timeout (else this test proves nothing) ...
    expect(bursts.length).toBeGreaterThan(0);
    expect(Math.max(...bursts.map((b) => b.seconds))).toBeGreaterThan(HEARTBEAT_TIMEOUT_S);
    // ... and none was timed out and started again.
    expect(timedOut).toEqual([]);
    expect(bursts.filter((b) => b.attempt !== 1)).toEqual([]);
  });
});

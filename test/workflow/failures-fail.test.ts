/**
 * Failures fail, never hang (issue 12): engine faults injected at the activity boundary
 * (a Temporal activity interceptor on the in-process production worker: real workflows, real
 * activities, real simulator and dev server) must end in a report or a failed workflow,
 * never in a workflow waiting forever or a workflow task retried forever.
 *
 * Each case fails without its fix: a failed tier workflow left evacuateAz waiting for it;
 * the fencing follow-up closed before the seal failed the evacuation before its report; an
 * abort or resume accepted while the report was written (or after an abort) was applied; a
 * job cancelled with its shard was reported "failed after retries"; a progress signal that failed was an
 * unhandled rejection that failed the workflow task on every retry; an Update still telling the
 * tiers when the report was written was cut off by the evacuation's return (no
 * allHandlersFinished). A failed evacuation, an aborted one and a failed job close as Failed
 * with their counts in the failure.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns } from '../../client/run-list.js';
import { fenceWorkflowId, recordsKey } from '../../domain/evacuation.js';
import { countText } from '../../domain/outcome-message.js';
import type { Tier } from '../../domain/types.js';
import { EvacuationHarness, SOURCE_AZ, reportKey, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { testTemporalAddress } from '../setup/temporal.js';
import { buildWorker } from '../../worker/build.js';

/** A gate an activity waits at until the test opens it; `reached` resolves when the first call arrives. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((r) => { this.open = r; });
  private arrived!: (what: string) => void;
  readonly reached = new Promise<string>((r) => { this.arrived = r; });
  hold(what: string): Promise<void> {
    this.arrived(what);
    return this.opened;
  }
  release(): void {
    this.open();
  }
}

/**
 * What the interceptor does, set per evacuation by the test. `holdFirstBurst` holds only a
 * start burst of evacuation `evacuationId` (its shard workflow ids start with it): never a
 * late retry left over from another case. The gate learns the shard and the burst's jobs.
 */
const faults: { failLoadOfTier?: Tier; holdReport?: Gate; holdFirstBurst?: { gate: Gate; evacuationId: string } } = {};

/** Activity faults: a non-retryable failure of one tier's job loading, and gates. */
const inbound: ActivityInboundCallsInterceptor = {
  async execute(input, next) {
    const type = Context.current().info.activityType;
    if (type === 'loadTierJobs' && input.args[1] === faults.failLoadOfTier) {
      throw ApplicationFailure.nonRetryable(`injected: the plan store refused tier ${String(input.args[1])}`, 'InjectedFault');
    }
    if (type === 'writeReport' && faults.holdReport) await faults.holdReport.hold('writeReport');
    const hold = faults.holdFirstBurst;
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    if (type === 'startJobs' && hold && workflowId.startsWith(`${hold.evacuationId}/`)) {
      faults.holdFirstBurst = undefined;
      await hold.gate.hold(JSON.stringify({ workflowId, keys: (input.args[0] as { jobs: Array<{ key: string }> }).jobs.map((j) => j.key) }));
    }
    return next(input);
  },
};

// Each wait inside a case is bounded and names what it waited for; the case's own bound is
// their sum and more (a case beside another file on 2 busy cores took over 120 s, hanging nowhere).
/** `p`, or an Error with `why()` after `ms` wall milliseconds. */
async function within<T>(p: Promise<T>, ms: number, why: () => Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), ms); });
  try {
    const r = await Promise.race([p, late]);
    if (r !== 'late') return r;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(await why());
}

describe('failures fail, never hang', { timeout: 240_000 }, () => {
  let h: EvacuationHarness;
  const ids: string[] = [];
  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({
      jobs: 40, seed: 12, timeScale: 100,
      // RPOs of 6,000 model s (60 s wall): each case takes az-a down, which stops its
      // replication, and the next case starts right after. With P0 at 12 s and P2 at 18 s wall,
      // a first case that ran long on a busy machine left no snapshot inside the RPO: the second
      // case's jobs were not admitted and none reached the startup wait it holds.
      tiers: { P0: { rpoSeconds: 6000 }, P1: { maxConcurrency: 4, rpoSeconds: 6000 }, P2: { maxConcurrency: 6, rpoSeconds: 6000 } },
      interceptors: { activity: [() => ({ inbound })] },
    });
  });
  afterAll(async () => {
    await h?.close(ids);
  });

  it('a failed tier workflow ends its tier: lower tiers run, the report names the failure, the evacuation ends failed; a closed fencing follow-up and an abort or resume while the report is written change nothing', async () => {
    const id = `failfast-tier-${Date.now()}`;
    ids.push(id);
    const reportGate = new Gate();
    Object.assign(faults, { failLoadOfTier: 'P1', holdReport: reportGate });
    await h.prepareEmergency();
    await h.start(id);
    // The fencing follow-up, closed by an operator before the evacuation seals it.
    const runId = (await h.handle(id).describe()).runId;
    const followUp = fenceWorkflowId(recordsKey({ evacuationId: id, runId }));
    await waitFor('the fencing follow-up', async () => ((await h.handle(followUp).describe()).status.name === 'RUNNING' ? true : undefined), 30_000);
    await h.handle(followUp).terminate('closed by the test before the seal');

    await reportGate.reached;
    expect((await h.client.progress(id)).phase).toBe('reporting');
    await expect(h.client.abort(id, 'vitest', 'too late')).rejects.toThrow(/is already reporting; nothing left to abort/);
    await expect(h.client.resume(id, 'vitest')).rejects.toThrow(/is reporting; nothing to resume/);
    reportGate.release();

    const result = await h.resultWithin<Awaited<ReturnType<typeof h.client.result>>>(id, 60_000);
    expect(result.phase).toBe('failed');
    expect(result.success).toBe(false);
    const { report } = await h.finish(id);
    expect(report.tierFailures?.P1).toMatch(/injected: the plan store refused tier P1/);

    // It closes as Failed in Temporal, the report's counts in the failure, its result inside.
    expect((await h.handle(id).describe()).status.name).toBe('FAILED');
    const failure = await h.handle(id).result().then(() => 'completed', (err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('EvacuationFailed');
    expect(cause.nonRetryable).toBe(true);
    const total = (f: (t: (typeof report.tiers)[number]) => number): string => countText(report.tiers.reduce((n, t) => n + f(t), 0));
    expect(cause.message).toContain(`emergency evacuation az-a → az-b failed: ${total((t) => t.failed)} of ${total((t) => t.jobs)} jobs failed`);
    expect(cause.message).toMatch(/tier P1 workflow failed: .*injected: the plan store refused tier P1/);
    expect(cause.details?.[0]).toEqual(result);
    // `az-evac list --status failed` finds it, its outcome read from inside the failure.
    const listed = await waitFor('the failed run in visibility', async () => (await listRuns(h.temporal, h.settings.taskQueue, { limit: 20, status: 'failed' })).find((r) => r.id === id), 30_000);
    expect(listed).toMatchObject({ status: 'FAILED', phase: 'failed', outcome: 'failed' });
    const p1 = report.jobs.filter((j) => j.tier === 'P1');
    expect(p1.length).toBeGreaterThan(0);
    for (const j of p1) expect(j.reason, reportKey(j)).toMatch(/no outcome recorded: the P1 tier workflow failed \(.*injected/);
    // Lower tiers still ran (strict order waits for a tier to end: a failed one ends too).
    const p2 = report.jobs.filter((j) => j.tier === 'P2');
    expect(p2.length).toBeGreaterThan(0);
    expect(p2.filter((j) => j.outcome !== 'running')).toEqual([]);
    expect(report.abortedBy).toBeUndefined();
  });

  it("jobs whose shard workflow is cancelled are reported cancelled, not 'failed after retries'; resume after an abort is refused", async () => {
    const id = `failfast-cancel-${Date.now()}`;
    ids.push(id);
    const burstGate = new Gate();
    Object.assign(faults, { failLoadOfTier: undefined, holdReport: undefined, holdFirstBurst: { gate: burstGate, evacuationId: id } });
    await h.sim.client.setAzDown(SOURCE_AZ, false);
    await h.prepareEmergency();
    await h.start(id);
    const held = JSON.parse(await within(burstGate.reached, 60_000, async () => `no start burst of ${id} in 60 s; progress ${JSON.stringify(await h.client.progress(id))}`)) as { workflowId: string; keys: string[] };
    expect(held.keys.length).toBeGreaterThan(0);
    // The held burst keeps its shard, hence the evacuation, open.
    await h.client.pause(id, 'vitest', 'hold on');
    await h.client.abort(id, 'vitest', 'drill over');
    await expect(h.client.resume(id, 'vitest')).rejects.toThrow(/is aborted; nothing to resume/);
    await h.handle(held.workflowId).cancel();
    // The cancelled shard records an outcome for every one of its jobs and closes as Cancelled.
    const closed = await waitFor('the cancelled shard to close', async () => {
      const status = (await h.handle(held.workflowId).describe()).status.name;
      return status === 'RUNNING' ? undefined : status;
    }, 30_000);
    expect(closed).toBe('CANCELLED');
    burstGate.release();

    const result = await h.resultWithin<Awaited<ReturnType<typeof h.client.result>>>(id, 60_000);
    expect(result.phase).toBe('aborted');
    const aborted = await h.handle(id).result().then(() => 'completed', (err: unknown) => err);
    expect(((aborted as WorkflowFailedError).cause as ApplicationFailure).type).toBe('EvacuationAborted');
    expect(((aborted as WorkflowFailedError).cause as ApplicationFailure).message).toMatch(/^emergency evacuation az-a → az-b aborted by vitest: drill over: \d+ of \d+ jobs failed/);
    const { report } = await h.finish(id);
    for (const victim of held.keys) {
      const line = report.jobs.find((j) => reportKey(j) === victim);
      expect(line?.outcome, victim).toBe('failed');
      expect(line?.reason?.startsWith(`cancelled during the start step (workflow ${held.workflowId} was cancelled)`), `${victim}: ${line?.reason}`).toBe(true);
      expect(line?.reason, victim).not.toMatch(/failed after retries/);
    }
  });
});

describe('a progress signal that fails', { timeout: 60_000 }, () => {
  it('fails the workflow with the reason instead of failing its workflow task forever', async () => {
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const taskQueue = `progress-reporter-${randomUUID()}`;
    const worker = await Worker.create({
      connection, taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: new URL('./fixtures/progress-reporter-workflow.ts', import.meta.url).pathname, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } }),
    });
    const running = worker.run();
    const client = new Client({ connection: await Connection.connect({ address: testTemporalAddress() }) });
    try {
      const handle = await client.workflow.start('reportToMissingParent', { taskQueue, workflowId: `progress-${randomUUID()}`, args: ['no-such-parent-workflow'] });
      const outcome = await Promise.race([
        handle.result().then(() => 'completed', (err: unknown) => err),
        new Promise((r) => setTimeout(() => r('still running after 20 s (workflow task failing over and over?)'), 20_000)),
      ]);
      expect(outcome).toBeInstanceOf(WorkflowFailedError);
      const cause = (outcome as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('ProgressSignalFailed');
      expect(cause.message).toMatch(/progress signal to the parent workflow failed/);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
    }
  });
});

describe('an Update still running when the evacuation ends', { timeout: 240_000 }, () => {
  it('finishes before the evacuation closes: the pause returns its progress instead of failing with the closed workflow', async () => {
    // The workflows bundled with an interceptor that holds the evacuation's control signals
    // to its tiers for 20 s (a workflow timer): a pause accepted while the last tier runs is
    // still telling it when the report has been written.
    const slowControl = await bundleWorkflowCode({
      workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname,
      workflowInterceptorModules: [new URL('./fixtures/slow-tier-control.ts', import.meta.url).pathname],
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const h = await EvacuationHarness.start({ jobs: 24, seed: 13, timeScale: 100, worker: 'none' });
    const worker = await buildWorker(h.settings, h.sim.client, { workflowBundle: slowControl });
    const running = worker.run();
    const id = `handlers-finish-${Date.now()}`;
    try {
      await h.prepareEmergency();
      await h.start(id);
      // Every tier with jobs has started (a tier started after the pause would start paused) and
      // one still runs jobs. A tier counts as started only once it has jobs in flight: the
      // evacuation marks a tier running before its child workflow has started, and a pause
      // accepted in that window is handed to the new tier by the evacuation's own loop, which
      // this interceptor would then hold for its 20 s (the loop, not only the Update, waits).
      await waitFor('every tier started, one running jobs', async () => {
        const p = await h.client.progress(id);
        const tiers = p.tiers.filter((t) => t.planned > 0);
        return tiers.length > 0 && tiers.every((t) => t.state !== 'waiting' && (t.state === 'done' || t.running + t.succeeded + t.failed + t.skipped > 0)) && tiers.some((t) => t.state === 'running' && t.running > 0) ? p : undefined;
      }, 60_000);
      const paused = await h.client.pause(id, 'vitest');
      expect(paused.paused).toBe(true);
      // The tiers were told only after the report: the evacuation ended as it would have.
      const result = await h.client.result(id);
      expect(result.phase).toBe('done');
      expect(['reporting', 'done']).toContain(paused.phase);
    } finally {
      await h.handle(id).terminate('test teardown').catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await h.close();
    }
  });
});

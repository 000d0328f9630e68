/**
 * Health, readiness and draining of the processes the Helm chart runs (deploy/helm/az-evac):
 *  - the worker process (worker/main.ts) answers /healthz and /readyz once polling; SIGTERMed
 *    mid-evacuation it stops being ready, every activity it had in flight completes (its
 *    ActivityTaskCompleted carries the worker's identity), and it exits 0;
 *  - the console answers /healthz and /readyz without sign-in, and /readyz turns 503 naming
 *    Temporal when its Temporal server stops (a dedicated dev server, stopped by the test).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../console/start.js';
import type { EvacuationProgress } from '../../domain/evacuation.js';
import { startTemporalDevServer, startWorkerProcess, type Started } from '../../launchers/local-processes.js';
import { EvacuationHarness, waitFor } from '../setup/evacuation-harness.js';

const finishedJobs = (p: EvacuationProgress): number => p.tiers.reduce((n, t) => n + t.succeeded + t.failed + t.skipped, 0);

async function probe(url: string): Promise<{ status: number; body: { status: string; state?: string; reason?: string } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { status: string; state?: string; reason?: string } };
}

/** An activity a worker had started and not finished. */
interface InFlight { workflowId: string; runId: string; activityId: string; type: string }

describe('worker health and SIGTERM drain', () => {
  let h: EvacuationHarness | undefined;
  const ids: string[] = [];
  const workers: Started[] = [];

  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await h?.close(ids.splice(0));
    h = undefined;
  });

  it('is ready once polling; SIGTERM mid-evacuation: not ready, in-flight activities complete, exit 0', async () => {
    // Time scale 10: a job's start-up waits take seconds of wall time, so activities are in flight when the signal comes.
    h = await EvacuationHarness.start({ jobs: 40, seed: 12, timeScale: 10, worker: 'none' });
    let output = '';
    const worker = await startWorkerProcess({ ...h.workerEnv(), AZ_EVAC_WORKER_SHUTDOWN_GRACE_SECONDS: '90' }, (t) => { output += t; });
    workers.push(worker);
    const health = /"health":"(http:\/\/[^"]+)"/.exec(output)?.[1];
    expect(health, output).toBeDefined();
    expect(await probe(`${health}/healthz`)).toEqual({ status: 200, body: { status: 'ok', state: 'RUNNING' } });
    expect(await probe(`${health}/readyz`)).toEqual({ status: 200, body: { status: 'ok', state: 'RUNNING' } });

    await h.prepareEmergency();
    const id = `evac-drain-${Date.now()}`;
    ids.push(id);
    await h.start(id);
    const tq = h.settings.taskQueue;
    const inFlight = await waitFor('job activities in flight', async () => {
      const p = await h!.client.progress(id);
      if (!p.plan || finishedJobs(p) === 0) return undefined; // past planning, into the jobs
      const found: InFlight[] = [];
      for await (const wf of h!.temporal.workflow.list({ query: `TaskQueue = '${tq}' AND ExecutionStatus = 'Running'` })) {
        const d = await h!.handle(wf.workflowId).describe();
        for (const a of d.raw.pendingActivities ?? []) {
          if (a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) {
            found.push({ workflowId: wf.workflowId, runId: wf.runId, activityId: a.activityId!, type: a.activityType?.name ?? '?' });
          }
        }
      }
      return found.length > 0 ? found : undefined;
    }, 120_000, 100);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => worker.child.once('exit', (code, signal) => r({ code, signal })));
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    // Draining: alive, no longer ready (it stopped polling).
    const draining = await waitFor('readyz 503 while draining', async () => {
      const r = await probe(`${health}/readyz`).catch(() => undefined);
      return r && r.status === 503 ? r : undefined;
    }, 10_000, 50);
    expect(draining.body.state).toMatch(/STOPPING|DRAINING|DRAINED/);
    expect((await exited)).toEqual({ code: 0, signal: null });
    expect(output).toContain('drained, exiting');

    // Every activity in flight at the signal completed, by this worker, after the signal.
    const identity = `${worker.child.pid}@${hostname()}`;
    const problems: string[] = [];
    let completedAfterSignal = 0;
    for (const a of inFlight) {
      const events = (await h.temporal.workflow.getHandle(a.workflowId, a.runId).fetchHistory()).events ?? [];
      const scheduledId = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === a.activityId)?.eventId?.toString();
      const closed = events.find((e) => [e.activityTaskCompletedEventAttributes, e.activityTaskFailedEventAttributes, e.activityTaskCanceledEventAttributes, e.activityTaskTimedOutEventAttributes]
        .some((x) => x?.scheduledEventId?.toString() === scheduledId));
      const done = closed?.activityTaskCompletedEventAttributes;
      if (!done) problems.push(`${a.workflowId} ${a.type} #${a.activityId}: ${closed ? 'closed without completing' : 'not closed'}`);
      else if (done.identity !== identity) problems.push(`${a.workflowId} ${a.type} #${a.activityId}: completed by ${done.identity}, not ${identity}`);
      else if (Number(closed.eventTime?.seconds ?? 0) * 1000 >= signalledAt - 1000) completedAfterSignal++;
    }
    expect(problems).toEqual([]);
    expect(completedAfterSignal).toBeGreaterThan(0);
  }, 240_000);
});

describe('console health and readiness', () => {
  let dir: string | undefined;
  let server: (Started & { address: string }) | undefined;
  let running: RunningConsole | undefined;
  let h: EvacuationHarness | undefined;

  afterEach(async () => {
    await running?.close().catch(() => undefined);
    await server?.stop();
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    running = undefined; server = undefined; h = undefined; dir = undefined;
  });

  it('answers /healthz and /readyz without sign-in; /readyz is 503 naming Temporal once Temporal stops', async () => {
    dir = await mkdtemp(join(tmpdir(), 'az-evac-health-'));
    server = await startTemporalDevServer(dir, { headless: true });
    h = await EvacuationHarness.start({ jobs: 4, seed: 1, worker: 'none', temporalAddress: server.address });
    running = await startConsole({ ...h.settings, consolePort: 0, consoleHost: '127.0.0.1', consoleTokens: `olga:operator:${randomBytes(18).toString('hex')}` });
    expect(await probe(`${running.url}healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await probe(`${running.url}readyz`)).toEqual({ status: 200, body: { status: 'ok' } });

    await h.client.close();
    await h.temporal.connection.close();
    await server.stop();
    const down = await probe(`${running.url}readyz`);
    expect(down.status).toBe(503);
    expect(down.body.reason).toMatch(/^Temporal does not answer/);
    expect(await probe(`${running.url}healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
  }, 120_000);
});

/**
 * Drills on the real Temporal dev server and simulator: an approval gate holds the drill
 * until approved, then the drill evacuates, verifies and fails back (every drilled job
 * RUNNING in the source AZ again, the target AZ as it was); a rejection after a fault lifts
 * the fault and moves nothing; an abort during the evacuation still fails every job back.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AzBusyError, assertAzsFree } from '../../client/az-holds.js';
import { DrillClient } from '../../client/drill-client.js';
import { azHoldWorkflowId } from '../../domain/az-hold.js';
import type { DrillResult, DrillStatus } from '../../domain/drill.js';
import { parseRunbook, type Runbook } from '../../domain/runbook.js';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, SMALL_STATE_BYTES, SOURCE_AZ, TARGET_AZ, waitFor, workflowBundle } from '../setup/evacuation-harness.js';

/** State capped: drills stop every job with a savepoint, whose time grows with state (not what is tested here). */
const OPTIONS = { jobs: 40, seed: 11, timeScale: 100, maxStateBytes: SMALL_STATE_BYTES } as const;

/** State of every resource of an AZ: key → spec state. */
async function azState(h: EvacuationHarness, az: string): Promise<Map<string, string>> {
  const list = await h.sim.client.listDeployments(az);
  return new Map(list.map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, String((d.manifest.spec.job as { state?: string } | undefined)?.state)]));
}

/** Every job of the fleet that ran in the source AZ runs there again, and the target AZ holds what it held before. */
async function expectFailedBack(h: EvacuationHarness, targetBefore: Map<string, string>): Promise<void> {
  const source = await h.sim.client.listDeployments(SOURCE_AZ);
  const byKey = new Map(source.map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, d]));
  const notRunning = [...h.sourceJobs().keys()].filter((k) => byKey.get(k)?.status.jobStatus?.state !== 'RUNNING');
  expect(notRunning, 'jobs not RUNNING in the source AZ after failback').toEqual([]);
  expect(Object.fromEntries(await azState(h, TARGET_AZ))).toEqual(Object.fromEntries(targetBefore));
}

/**
 * Wait until workflow `id` waits with nothing in flight: no workflow task, activity or child
 * workflow pending. @returns the durations of its open timers, seconds
 */
async function idleAtGate(h: EvacuationHarness, id: string): Promise<number[]> {
  return waitFor('the drill idle at its approval gate', async () => {
    const { raw } = await h.handle(id).describe();
    // The drill's holds on its AZs (azHold children) run for its whole life by design.
    const children = (raw.pendingChildren ?? []).filter((c) => c.workflowTypeName !== 'azHold');
    if (raw.pendingWorkflowTask || raw.pendingActivities?.length || children.length) return undefined;
    const open = new Map<string, number>();
    for (const e of (await h.history(id)).events ?? []) {
      const started = e.timerStartedEventAttributes;
      if (started?.timerId) open.set(started.timerId, Number(String(started.startToFireTimeout?.seconds ?? 0)));
      const closed = e.timerFiredEventAttributes?.timerId ?? e.timerCanceledEventAttributes?.timerId;
      if (closed) open.delete(closed);
    }
    return [...open.values()];
  });
}

describe('drills', () => {
  let h: EvacuationHarness | undefined;
  let drills: DrillClient | undefined;

  beforeAll(async () => {
    await workflowBundle();
  });

  afterEach(async () => {
    await drills?.close();
    await h?.close();
    h = undefined;
    drills = undefined;
  });

  async function setUp(): Promise<{ h: EvacuationHarness; drills: DrillClient }> {
    h = await EvacuationHarness.start(OPTIONS);
    drills = await DrillClient.connect(h.settings);
    return { h, drills };
  }

  const start = (d: DrillClient, runbook: Runbook, id: string) =>
    d.start(DrillClient.input(runbook, 'test.yaml', { requestedBy: 'vitest' }), id);

  it('waits at the approval gate, proceeds on approve, verifies and fails back (full-AZ runbook, az-a down)', async () => {
    const { h, drills } = await setUp();
    const runbook = parseRunbook(await readFile(new URL('../../runbooks/full-az-drill.sim.yaml', import.meta.url), 'utf8'), 'full-az-drill.sim.yaml');
    // At time scale 100 orchestration overhead weighs 100× against tiers.yaml's RTOs (a P2
    // target of 540 model s is 5.4 wall s): hold this run to 50 model minutes per tier.
    runbook.steps[4] = { verify: { rtoSeconds: { P0: 3000, P1: 3000, P2: 3000, P3: 3000 }, requireCheckpointWithinSeconds: 600 } };
    const targetBefore = await azState(h, TARGET_AZ);
    const id = `drill-approve-${Date.now()}`;
    await start(drills, runbook, id);

    const gate = await waitFor('the approval gate', async () => {
      const s = await drills.status(id);
      return s.phase !== 'running' ? s : undefined;
    });
    expect(gate.phase, JSON.stringify(gate.steps)).toBe('awaiting-approval');
    expect(gate.approval?.prompt).toMatch(/Take az-a down/);
    expect(gate.steps.map((s) => s.state)).toEqual(['passed', 'running', 'pending', 'pending', 'pending', 'pending', 'pending']);
    // Idle at the gate with only the gate's timer open: nothing but a decision (or that timer,
    // 30 min away) can move the drill, so what its status says now is what it holds.
    expect(await idleAtGate(h, id)).toEqual([1800]);
    const held = await drills.status(id);
    expect(held.phase).toBe('awaiting-approval');
    expect(held.evacuationId).toBeUndefined();
    await h.sim.client.capacity(SOURCE_AZ); // az-a still up: the fault waits for the approval

    await drills.decide(id, { decision: 'approve', by: 'alice', comment: 'game day' });
    await expect(drills.decide(id, { decision: 'approve', by: 'bob' })).rejects.toThrow(/no open approval gate/);
    const result = await h.resultWithin<DrillResult>(id, 90_000);
    expect(result.steps.map((s) => `${s.kind}:${s.state}`), JSON.stringify(result.steps, null, 1)).toEqual([
      'readiness:passed', 'approval:passed', 'fault:passed', 'evacuate:passed', 'verify:passed', 'failback:passed', 'report:passed',
    ]);
    expect(result.passed).toBe(true);
    expect(result.decisions).toEqual([expect.objectContaining({ index: 1, decision: 'approve', by: 'alice', comment: 'game day' })]);
    expect(result.steps[4]!.checks!.map((c) => c.name)).toEqual(expect.arrayContaining(['P2 RTO', 'P2 RPO', 'P0–P2 RUNNING', 'checkpointing in target']));
    expect(result.steps[5]!.summary).toMatch(/az-a is up again; \d+ job\(s\) restored in az-a from fresh savepoints/);
    await expectFailedBack(h, targetBefore);
    const report = JSON.parse(await readFile(result.reportFile!, 'utf8')) as DrillStatus;
    expect(report.steps).toHaveLength(7);
    const html = await readFile(result.reportHtmlFile!, 'utf8');
    // the drill section (steps, checks) above the evacuation's report with its Vega-Lite timeline
    expect(html.includes('id="drill-steps"'), 'drill steps table').toBe(true);
    expect(/moved job\(s\) RUNNING in az-b with a completed checkpoint/.test(html), 'verify checks').toBe(true);
    expect(html.indexOf('id="drill-steps"') < html.indexOf('<svg'), 'timeline below the drill section').toBe(true);
  });

  it('cleans up on reject: the fault is lifted and nothing is evacuated', async () => {
    const { h, drills } = await setUp();
    const runbook = parseRunbook([
      'name: reject-me', 'sourceAz: az-a', 'targetAz: az-b', 'steps:',
      '  - fault: { simulator: { azDown: az-a } }',
      '  - approval: { prompt: "Evacuate now?", timeoutSeconds: 600 }',
      '  - evacuate: { mode: emergency }', '  - failback: {}',
    ].join('\n'), 'reject.yaml');
    const id = `drill-reject-${Date.now()}`;
    await start(drills, runbook, id);
    await waitFor('the approval gate', async () => ((await drills.status(id)).phase === 'awaiting-approval' ? true : undefined));
    await expect(h.sim.client.capacity(SOURCE_AZ)).rejects.toThrow(/down/);

    await drills.decide(id, { decision: 'reject', by: 'carol', comment: 'not today' });
    const result = await h.resultWithin<DrillResult>(id, 90_000);
    expect(result.phase).toBe('rejected');
    expect(result.passed).toBe(false);
    expect(result.steps.map((s) => s.state)).toEqual(['passed', 'rejected', 'not-run', 'not-run']);
    expect(result.steps[1]!.summary).toBe('rejected by carol ("not today")');
    expect(result.cleanup).toEqual([expect.objectContaining({ kind: 'fault-teardown', state: 'passed', summary: 'az-a is up again' })]);
    await h.sim.client.capacity(SOURCE_AZ);
    expect(result.evacuationId).toBeUndefined();
    // A drill that did not pass closes as Failed in Temporal (DrillRejected), not Completed.
    expect((await h.handle(id).describe()).status.name).toBe('FAILED');
  });

  it('fails every drilled job back after an abort during the evacuation', async () => {
    const { h, drills } = await setUp();
    const runbook = parseRunbook(['name: abort-me', 'sourceAz: az-a', 'targetAz: az-b', 'steps:',
      '  - evacuate: { mode: drill }', '  - verify: {}', '  - failback: {}'].join('\n'), 'abort.yaml');
    const targetBefore = await azState(h, TARGET_AZ);
    const id = `drill-abort-${Date.now()}`;
    await start(drills, runbook, id);
    const evacuationId = await waitFor('jobs RUNNING in the target AZ', async () => {
      const s = await drills.status(id);
      if (!s.evacuationId) return undefined;
      const p = await h.client.progress(s.evacuationId).catch(() => undefined);
      return p && p.tiers.some((t) => t.succeeded > 0) ? s.evacuationId : undefined;
    });
    await drills.abort(id, 'dave', 'target AZ needed for a release');
    await expect(drills.abort(id, 'dave', 'again')).rejects.toThrow(/already/);
    const result = await h.resultWithin<DrillResult>(id, 90_000);
    expect(result.phase).toBe('aborted');
    expect(result.abortedBy).toBe('dave: target AZ needed for a release');
    expect(result.steps.find((s) => s.kind === 'evacuate')!.state).toBe('aborted');
    expect(result.steps.find((s) => s.kind === 'failback')!.state).toBe('not-run');
    expect(result.cleanup, JSON.stringify(result.cleanup)).toEqual([expect.objectContaining({ kind: 'failback', state: 'passed' })]);
    const evac = await h.client.progress(evacuationId);
    expect(evac.phase).toBe('aborted');
    expect(evac.tiers.reduce((n, t) => n + t.succeeded, 0)).toBeGreaterThan(0);
    await expectFailedBack(h, targetBefore);
    // the failback moved the jobs that ran in the target AZ, not only untouched ones
    expect(result.cleanup[0]!.summary).toMatch(/[1-9]\d* job\(s\) restored in az-a from fresh savepoints/);
    expect([...h.sourceJobs().values()].map(jobKey).length).toBeGreaterThan(0);
  });

  it('lists the drills of its own task queue; one whose worker is gone is listed RUNNING without a phase, without holding up the list', async () => {
    const { h, drills } = await setUp();
    const orphanQueue = `${h.settings.taskQueue}-no-worker`;
    const orphans = await DrillClient.connect({ ...h.settings, taskQueue: orphanQueue });
    const runbook = parseRunbook(['name: held', 'sourceAz: az-a', 'targetAz: az-b', 'steps:', '  - approval: { prompt: hold, timeoutSeconds: 600 }', '  - evacuate: { mode: drill }', '  - failback: {}'].join('\n'), 'held.yaml');
    const orphan = await orphans.start(DrillClient.input(runbook, 'held.yaml', { requestedBy: 'vitest' }), `drill-orphan-${Date.now()}`);
    try {
      const mine = await start(drills, runbook, `drill-listed-${Date.now()}`);
      await waitFor('the gate', async () => ((await drills.status(mine)).phase === 'awaiting-approval' ? true : undefined));
      const listed = await waitFor('both drills listed', async () => {
        const [own, other] = await Promise.all([drills.list(), orphans.list(20, 1_000)]);
        return own.some((d) => d.drillId === mine) && other.some((d) => d.drillId === orphan) ? { own, other } : undefined;
      });
      expect(listed.own.find((d) => d.drillId === mine)).toMatchObject({ status: 'RUNNING', phase: 'awaiting-approval' });
      expect(listed.own.map((d) => d.drillId)).not.toContain(orphan);
      const began = Date.now();
      const other = await orphans.list(20, 1_000);
      expect(Date.now() - began).toBeLessThan(10_000);
      expect(other.find((d) => d.drillId === orphan)).toEqual(expect.not.objectContaining({ phase: expect.anything() }));
      expect(other.find((d) => d.drillId === orphan)!.status).toBe('RUNNING');
      // A drill's id given to an evacuation control says which controls fit.
      await expect(h.client.pause(mine, 'vitest', 'wrong id')).rejects.toThrow(/pause of drill-listed-\d+ rejected: .*takes no pause .*drills take approve, reject and abort/);
      await drills.abort(mine, 'vitest', 'test over');
    } finally {
      await orphans.client.workflow.getHandle(orphan).terminate('test teardown').catch(() => undefined);
      await orphans.close();
    }
  });

  it('runs one evacuation or drill at a time per AZ: a second drill and an emergency are refused naming the drill that holds az-a, a scheduled start is rejected, an emergency with the override runs beside it', async () => {
    const { h, drills } = await setUp();
    const held = parseRunbook(['name: holder', 'sourceAz: az-a', 'targetAz: az-b', 'steps:', '  - approval: { prompt: hold, timeoutSeconds: 600 }', '  - evacuate: { mode: drill }', '  - failback: {}'].join('\n'), 'holder.yaml');
    const holder = await start(drills, held, `drill-holder-${Date.now()}`);
    await waitFor('the holder at its gate', async () => ((await drills.status(holder)).phase === 'awaiting-approval' ? true : undefined));
    const named = new RegExp(`az-a is in use by drill ${holder} \\(az-a → az-b, running since .*, requested by vitest\\)`);

    // From the CLI or the console: refused before anything starts.
    const other = parseRunbook(['name: other', 'sourceAz: az-b', 'targetAz: az-a', 'steps:', '  - evacuate: { mode: drill }', '  - failback: {}'].join('\n'), 'other.yaml');
    await expect(start(drills, other, `drill-second-${Date.now()}`)).rejects.toThrow(AzBusyError);
    await expect(h.client.start(h.request(), `evac-second-${Date.now()}`)).rejects.toThrow(named);
    await expect(h.client.start(h.request({ mode: 'planned', overrideRunning: true }), `evac-planned-${Date.now()}`)).rejects.toThrow(/planned evacuation az-a → az-b refused: az-a is in use/);

    // As a Temporal Schedule starts a rehearsal (no client check): the drill itself refuses, before its first step.
    const scheduled = `drill-scheduled-${Date.now()}`;
    await h.temporal.workflow.start('drill', { workflowId: scheduled, taskQueue: h.settings.taskQueue, args: [{ ...DrillClient.input(other, 'other.yaml', { requestedBy: 'schedule' }), taskQueue: h.settings.taskQueue }] });
    const refused = await h.resultWithin<DrillResult>(scheduled, 60_000);
    expect(refused.phase).toBe('rejected');
    expect(refused.refused).toMatch(new RegExp(`^drill az-b → az-a refused: az-a is in use by drill ${holder}`));
    expect(refused.steps.map((s) => s.state)).toEqual(['not-run', 'not-run']);

    // An emergency with the explicit override runs beside the drill, and says so.
    const beside = `evac-beside-${Date.now()}`;
    await h.client.syncCatalog();
    await h.client.start(h.request({ overrideRunning: true }), beside);
    const p = await waitFor('the emergency under way', async () => {
      const progress = await h.client.progress(beside);
      return progress.plan ? progress : undefined;
    });
    expect(p.runsBeside).toEqual([`drill ${holder} (az-a → az-b)`]);
    await h.client.abort(beside, 'vitest', 'test over');
    await h.resultWithin(beside, 60_000);

    // The holder ends: its holds close with it and the AZs are free again.
    await drills.decide(holder, { decision: 'reject', by: 'vitest' });
    await h.resultWithin(holder, 60_000);
    // Released by the holder as it returns: each hold completes once it has that signal, or, when
    // the holder closes before the hold's task has run (a loaded worker), the parent close policy
    // terminates it. Either way it is closed (a hold left RUNNING would fail this).
    for (const az of ['az-a', 'az-b']) {
      await waitFor(`the hold on ${az} closed`, async () => (['COMPLETED', 'TERMINATED'].includes((await h.handle(azHoldWorkflowId(h.settings.taskQueue, az)).describe()).status.name) ? true : undefined));
    }
    await expect(assertAzsFree(h.temporal, h.settings.taskQueue, { workflowId: 'next', kind: 'drill', mode: 'drill', sourceAz: 'az-a', targetAz: 'az-b' })).resolves.toBeUndefined();
  });

  it('az-evac drill run follows a drill to its end, prints every step and exits 0 when it passed', async () => {
    const { h } = await setUp();
    const jobs = [...h.sourceJobs().values()].filter((j) => j.tier === 'P2').slice(0, 2).map(jobKey);
    const file = join(h.settings.stateDir, 'cli-canary.yaml');
    await writeFile(file, ['name: cli-canary', 'sourceAz: az-a', 'targetAz: az-b', 'steps:',
      `  - evacuate: { mode: drill, jobs: [${jobs.join(', ')}] }`, '  - verify: { rtoSeconds: { P2: 3000 } }', '  - failback: {}', '  - report: {}'].join('\n'));
    const bin = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'drill', 'run', file, '--id', `drill-cli-${Date.now()}`], { env: { ...process.env, ...h.workerEnv() } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/Started drill drill-cli-/);
    expect(out).toMatch(/drill drill-cli-\d+ \(cli-canary: az-a → az-b, by .*\): passed/);
    expect(out).toMatch(/✓ {2}1\. evacuate {2}passed .*: done: 2 RUNNING/);
    expect(out).toMatch(/✓ {2}3\. failback {2}passed .*2 job\(s\) restored in az-a from fresh savepoints/);
    expect(out).toMatch(/Report: .*\.drill\.html/);
  });
});

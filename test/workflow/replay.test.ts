/**
 * Replay safety of the evacuation workflows: histories of a real (small) evacuation on the
 * dev server replay against the current workflow bundle without nondeterminism errors,
 * and so does a STORED history (test/fixtures/histories/), so that a change to workflow
 * code that would break evacuations already running when a new worker is deployed fails
 * here instead of in an emergency.
 *
 * The fixture fails on purpose when workflow code changes its commands (e.g. a regular
 * activity becomes a local one, a child is started in a different order). Either make the
 * change replay-safe (`patched()` / a new workflow type), or — only when no evacuation can
 * be running with the old code — re-record it deliberately:
 *
 *   AZ_EVAC_RECORD_HISTORIES=1 npx vitest run --project temporal test/workflow/replay.test.ts
 *
 * and commit the new fixture with the workflow change.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobWorkflowId, shardWorkflowId, tierWorkflowId } from '../../domain/evacuation.js';
import type { Strategy } from '../../domain/types.js';
import { EvacuationHarness, reportKey, workflowBundle } from '../setup/evacuation-harness.js';

/** Recorded at f857279, with a child workflow per job: stands for evacuations running when workers upgrade to the batched shard. Never re-recorded. */
const CHILD_PER_JOB_FIXTURE = fileURLToPath(new URL('../fixtures/histories/evacuation-20-jobs.json', import.meta.url));
/** Recorded with the batched shard (workflows/shard-jobs.ts); re-record it only as described above. */
const FIXTURE = fileURLToPath(new URL('../fixtures/histories/evacuation-20-jobs-batched.json', import.meta.url));
const RECORD = process.env.AZ_EVAC_RECORD_HISTORIES === '1';

/** A stored history: the workflow id (replay needs it) and the history in Temporal's JSON form. */
interface StoredHistory {
  workflowId: string;
  workflowType: string;
  history: unknown;
}

type History = Awaited<ReturnType<EvacuationHarness['history']>>;
const HistoryProto = temporal.api.history.v1.History;

/**
 * A history as plain JSON (longs and bytes as strings, enums by name) and back. The SDK's
 * historyToJSON/historyFromJSON cannot be used here: with the protobufjs copies this install
 * has, their proto3-JSON serializer rejects the History type ("type must be a Type").
 */
const historyToPlain = (h: History): unknown => HistoryProto.toObject(HistoryProto.decode(HistoryProto.encode(h).finish()), { longs: String, enums: String, bytes: String });
const historyFromPlain = (o: unknown): History => HistoryProto.fromObject(o as Record<string, unknown>);

/** Replay `histories` against the current bundle. @returns one line per history that did not replay */
async function replayFailures(histories: Array<{ workflowId: string; history: History }>): Promise<string[]> {
  const failures: string[] = [];
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    replayed++;
    if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message}`);
  }
  expect(replayed).toBe(histories.length);
  return failures;
}

const workflowTypeOf = (h: History): string => h.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';

describe('replay of evacuation histories', () => {
  const id = `evac-replay-${Date.now()}`;
  let h: EvacuationHarness;
  const recorded: Array<{ workflowId: string; history: History }> = [];

  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 20, seed: 4, timeScale: 100, tiers: { P2: { maxConcurrency: 2 } } });
    await h.prepareEmergency();
    await h.start(id);
    const { report } = await h.finish(id);
    // The evacuation, its tiers and their first shards (every strategy runs in some shard).
    const tiers = [...new Set(report.jobs.filter((j) => j.startSeconds !== undefined).map((j) => j.tier))];
    const ids = [id, ...tiers.flatMap((t) => [tierWorkflowId(id, t), shardWorkflowId(id, t, 0)])];
    for (const workflowId of ids) recorded.push({ workflowId, history: await h.history(workflowId) });
  }, 120_000);

  afterAll(async () => {
    await h?.close([id]);
  });

  it('replays the histories of a finished evacuation without nondeterminism', async () => {
    const types = recorded.map((r) => workflowTypeOf(r.history));
    expect(types).toEqual(expect.arrayContaining(['evacuateAz', 'evacuateTier', 'evacuateTierShard']));
    expect(types).not.toContain('evacuateJob');
    expect(await replayFailures(recorded)).toEqual([]);
  });

  it('replays the stored fixture (histories of evacuations already running when workers upgrade)', async () => {
    if (RECORD) {
      const stored: StoredHistory[] = recorded.map((r) => ({
        workflowId: r.workflowId, workflowType: workflowTypeOf(r.history), history: historyToPlain(r.history),
      }));
      await mkdir(dirname(FIXTURE), { recursive: true });
      // One history per line: small, and a re-recording diffs per workflow.
      await writeFile(FIXTURE, `{"recordedAt":${JSON.stringify(new Date().toISOString())},"histories":[\n${stored.map((x) => JSON.stringify(x)).join(',\n')}\n]}\n`);
    }
    const fixture = JSON.parse(await readFile(FIXTURE, 'utf8')) as { histories: StoredHistory[] };
    expect(fixture.histories.map((s) => s.workflowType)).toEqual(expect.arrayContaining(['evacuateAz', 'evacuateTier', 'evacuateTierShard']));
    const histories = fixture.histories.map((s) => ({ workflowId: s.workflowId, history: historyFromPlain(s.history) }));
    expect(await replayFailures(histories)).toEqual([]);
  });

  it('replays histories recorded with a child workflow per job (shards without the shard-runs-job-activities patch)', async () => {
    const fixture = JSON.parse(await readFile(CHILD_PER_JOB_FIXTURE, 'utf8')) as { histories: StoredHistory[] };
    expect(fixture.histories.map((s) => s.workflowType)).toEqual(expect.arrayContaining(['evacuateAz', 'evacuateTier', 'evacuateTierShard', 'evacuateJob']));
    const histories = fixture.histories.map((s) => ({ workflowId: s.workflowId, history: historyFromPlain(s.history) }));
    expect(await replayFailures(histories)).toEqual([]);
  });
});

/**
 * Drill job workflows recorded before drills stopped each job with a savepoint (they fenced
 * the source and restored its newest replicated snapshot; no `stopSource` activity, no patch
 * marker) replay against the current bundle: workflows/job.ts runs the stop step in a drill
 * only behind patched('drill-stop-with-savepoint'). The fixture was recorded at 5a15cab with
 *
 *   AZ_EVAC_RECORD_DRILL_HISTORIES=1 npx vitest run --project temporal test/workflow/replay.test.ts
 *
 * and must not be re-recorded with newer code (it stands for drills already running when
 * workers upgrade).
 */
describe('replay of drill job histories recorded before drills stopped with a savepoint', () => {
  const DRILL_FIXTURE = fileURLToPath(new URL('../fixtures/histories/drill-jobs-before-stop-step.json', import.meta.url));
  const RECORD_DRILL = process.env.AZ_EVAC_RECORD_DRILL_HISTORIES === '1';
  const inputOf = (h: History): { mode?: string } => {
    const data = h.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    return data ? JSON.parse(Buffer.from(data).toString('utf8')) as { mode?: string } : {};
  };
  const activityTypes = (h: History): string[] => (h.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
  const patchMarkers = (h: History): number => (h.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;

  it.runIf(RECORD_DRILL)('records the fixture (only with AZ_EVAC_RECORD_DRILL_HISTORIES=1, on the code before the drill stop step)', async () => {
    const id = `drill-replay-${Date.now()}`;
    const h = await EvacuationHarness.start({ jobs: 40, seed: 43, timeScale: 100 });
    try {
      await h.client.syncCatalog();
      await h.start(id, { mode: 'drill' });
      const { report } = await h.finish(id);
      const ran = report.jobs.filter((j) => j.outcome === 'running');
      const jobs = (['promote-standby', 'resume-standby', 'redeploy'] satisfies Strategy[]).flatMap((s) => ran.filter((j) => j.strategy === s).slice(0, 1));
      for (const j of ran) if (jobs.length < 3 && !jobs.includes(j)) jobs.push(j);
      expect(jobs.length, JSON.stringify(report.jobs.map((j) => [reportKey(j), j.strategy, j.outcome, j.reason]))).toBeGreaterThanOrEqual(2);
      const stored: StoredHistory[] = [];
      for (const j of jobs) {
        const workflowId = jobWorkflowId(id, reportKey(j));
        stored.push({ workflowId, workflowType: 'evacuateJob', history: historyToPlain(await h.history(workflowId)) });
      }
      await mkdir(dirname(DRILL_FIXTURE), { recursive: true });
      await writeFile(DRILL_FIXTURE, `{"recordedAt":${JSON.stringify(new Date().toISOString())},"histories":[\n${stored.map((x) => JSON.stringify(x)).join(',\n')}\n]}\n`);
    } finally {
      await h.close([id]);
    }
  }, 120_000);

  it('replays them without nondeterminism', async () => {
    const fixture = JSON.parse(await readFile(DRILL_FIXTURE, 'utf8')) as { histories: StoredHistory[] };
    const histories = fixture.histories.map((s) => ({ workflowId: s.workflowId, history: historyFromPlain(s.history) }));
    expect(histories.length).toBeGreaterThanOrEqual(2);
    for (const { workflowId, history } of histories) {
      // What makes them old drills: mode drill, no stop step, no patch marker.
      expect(inputOf(history).mode, workflowId).toBe('drill');
      expect(activityTypes(history), workflowId).not.toContain('stopSource');
      expect(patchMarkers(history), workflowId).toBe(0);
    }
    expect(await replayFailures(histories)).toEqual([]);
  });
});

describe('replay of tier runs whose watch signalled the adopted shards (before TIER_WATCH_DESCRIBES)', () => {
  it('replays every run of the recorded tier, the watch\'s signals included, and its shard\'s first runs without nondeterminism', async () => {
    const file = fileURLToPath(new URL('../fixtures/histories/tier-watch-signals.json', import.meta.url));
    const stored = JSON.parse(await readFile(file, 'utf8')) as { histories: Array<{ workflowId: string; workflowType: string; history: Record<string, unknown> }> };
    const histories = stored.histories.map((s) => ({ workflowId: s.workflowId, history: historyFromPlain(s.history) }));
    // The fixture holds what it stands for: a tier run whose watch signalled its adopted shard after a timer.
    const watched = histories.filter((s) => s.workflowId.endsWith('/tier/P2') && (s.history.events ?? []).some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)
      && (s.history.events ?? []).some((e) => e.timerFiredEventAttributes));
    expect(watched.length).toBeGreaterThan(0);
    expect(await replayFailures(histories)).toEqual([]);
  });
});

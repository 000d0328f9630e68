/**
 * A protection pass in shards (workflows/protect.ts, workflows/protect-shard.ts) on the
 * simulator: a fleet of more jobs than one shard holds, per-az-buckets (only savepoints restore
 * across AZs), a replication outage az-a → az-b so that every P1/P2 job of az-a is due a
 * savepoint. One pass with a history budget of 20 events (so it continues as new between
 * shards): every shard of the catalog ran as its own child workflow with a small history, the
 * pass's runs stayed near their budget, at most `savepointsAtOncePerAz` savepoints were in
 * flight per AZ across all shards, every due job of az-a got its savepoint, and once the outage
 * ends every job is protected. On the single-workflow pass there were no shard children and
 * the one history grew with the fleet. A slow test (AZ_EVAC_SLOW=1: about 60 s on this machine
 * under load); `npm test` checks the shards through test/integration/metrics.test.ts.
 */
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { protectionShards } from '../../domain/protection.js';
import { jobKey } from '../../domain/types.js';
import type { ProtectionPassResult, ProtectionProgress } from '../../workflows/protect.js';
import { EvacuationHarness, SMALL_STATE_BYTES, SOURCE_AZ, TARGET_AZ, waitFor, workflowBundle } from '../setup/evacuation-harness.js';

/** tiers.yaml protection.savepointsAtOncePerAz (the repository's). */
const AT_ONCE = 2;
const BUDGET = 20;
/** Events a shard of at most 50 jobs may reach: assessment, one savepoint (and workflow task) per job, retention. */
const SHARD_EVENTS = 450;

let h: EvacuationHarness;
const ids: string[] = [];

beforeAll(async () => {
  await workflowBundle();
  h = await EvacuationHarness.start({ jobs: 110, seed: 15, timeScale: 100, layout: 'per-az-buckets', maxStateBytes: SMALL_STATE_BYTES });
}, 120_000);

afterAll(async () => {
  await h?.sim.client.setReplicationDown(SOURCE_AZ, TARGET_AZ, false).catch(() => undefined);
  await h?.close();
});

const ms = (t: temporal.api.history.v1.IHistoryEvent): number => Number(t.eventTime!.seconds) * 1000 + Math.floor((t.eventTime!.nanos ?? 0) / 1e6);

it('runs the pass in shard children of at most 50 jobs with bounded histories, holds the per-AZ savepoint bound across them, and protects every due job', async () => {
  await h.client.syncCatalog();
  const catalog = (await h.state.catalogs.latest())!;
  const due = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ && ['P1', 'P2'].includes(j.tier)).map(jobKey).sort();
  expect(catalog.jobs.length).toBeGreaterThan(50);
  expect(due.length).toBeGreaterThan(10);
  await h.sim.client.setReplicationDown(SOURCE_AZ, TARGET_AZ, true);
  // Every P1/P2 job of az-a past its refresh point in az-b (the outage holds their savepoints back).
  await waitFor('every P1/P2 job of az-a due', async () => {
    const s = await h.client.protectionStatus();
    return s.due.savepoints >= due.length ? s : undefined;
  }, 90_000, 1000);

  const id = `protection-shards-${Date.now()}`;
  ids.push(id);
  const handle = await h.temporal.workflow.start('protectFleet', { workflowId: id, taskQueue: h.settings.taskQueue, args: [{ continueAsNewAfterEvents: BUDGET }] });
  const pass = await handle.result() as ProtectionPassResult;
  await h.sim.client.setReplicationDown(SOURCE_AZ, TARGET_AZ, false);

  // Every shard of the catalog ran once, as its own workflow, each with at most 50 jobs of one AZ and tier.
  const shards = protectionShards(catalog.jobs, catalog.platform.azs.map((a) => a.name));
  expect(shards.length).toBeGreaterThan(4);
  expect(pass.totals).toMatchObject({ shards: shards.length, jobs: catalog.jobs.length, failures: 0 });
  expect(pass.before.jobs).toBe(catalog.jobs.length);
  const inFlight = new Map<string, Array<[number, number]>>();
  const lengths: number[] = [];
  for (const [k, s] of shards.entries()) {
    const shard = h.temporal.workflow.getHandle(`${id}/shard/${k}`);
    const d = await shard.describe();
    expect(d.status.name, `shard ${k}`).toBe('COMPLETED');
    expect(s.indices.length).toBeLessThanOrEqual(50);
    lengths.push(d.historyLength);
    // Savepoint activities of the shard: scheduled → completed, per AZ.
    const events = (await shard.fetchHistory()).events ?? [];
    const scheduled = new Map<string, number>();
    for (const e of events) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'takeProtectionSavepoint') scheduled.set(String(e.eventId), ms(e));
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      const from = done ? scheduled.get(String(done.scheduledEventId)) : undefined;
      if (from !== undefined) inFlight.set(s.az, [...(inFlight.get(s.az) ?? []), [from, ms(e)]]);
    }
  }
  expect(Math.max(...lengths)).toBeLessThan(SHARD_EVENTS);
  // At most AT_ONCE savepoints in flight per AZ at any moment, across every shard of that AZ.
  for (const [az, spans] of inFlight) {
    const edges = spans.flatMap(([a, b]) => [[a, 1], [b, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let now = 0;
    let most = 0;
    for (const [, d] of edges) most = Math.max(most, (now += d));
    expect(most, az).toBeLessThanOrEqual(AT_ONCE);
    expect(most, az).toBeGreaterThanOrEqual(1);
  }

  // The pass continued as new between shards: each run near its budget, none growing with the fleet.
  const runs: number[] = [];
  for await (const r of h.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(r.historyLength);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(Math.max(...runs)).toBeLessThan(BUDGET + 40);
  const progress = await handle.query<ProtectionProgress>('protectionProgress');
  expect(progress).toMatchObject({ phase: 'done', tasks: catalog.jobs.length, done: catalog.jobs.length, savepoints: pass.totals!.savepoints });

  // Every due job of az-a got its savepoint; replication delivers them once the outage ends.
  expect(pass.savepoints.map((s) => s.job).filter((k) => due.includes(k)).sort()).toEqual(due);
  const after = await waitFor('every job protected after the outage', async () => {
    const s = await h.client.protectionStatus();
    return s.counts.unprotected === 0 ? s : undefined;
  }, 60_000, 1000);
  expect(after.counts.protected).toBeGreaterThanOrEqual(due.length);
  console.log(`protection-shards: ${shards.length} shards, largest shard history ${Math.max(...lengths)} events, pass runs ${runs.join('/')} events, ${pass.totals!.savepoints} savepoints`);
}, 240_000);

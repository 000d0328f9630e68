/**
 * Continuous protection on the two real apiservers and two S3 servers (versitygw), with the
 * object stores NOT replicating az-a → az-b (platform profile `notReplicated`, per-az-buckets
 * layout: only savepoints restore across AZs). The production worker (AZ_EVAC_PLATFORM=k8s, no
 * simulator URL) runs protection passes (workflows/protect.ts) with the repository's tiers.yaml
 * (P1, P2 protected) on the simulator's clock. The operator stand-in answers the
 * FlinkStateSnapshots the adapter creates, writing real-format savepoints into az-a's S3.
 * One P2 job's savepoints always fail (the simulator's failSavepoint fault). Then az-a fails
 * (apiserver stopped, store down) and an emergency evacuation restores the protected jobs in
 * az-b from the shipped copies.
 * Between the first two passes, retention (tiers.yaml keepPerJob 2) is run by two more passes on
 * older shipped copies put into az-b's S3 beside the real ones: one while an evacuation into az-b
 * is running (retention holds there), one after it ended.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EvacuationClient } from '../../client/evacuation-client.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import type { EvacuationReport } from '../../domain/report.js';
import { jobKey } from '../../domain/types.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from '../../platform/kube/flink-resource.js';
import { FLINK_STATE_SNAPSHOTS, savepointProgress, triggerSavepoint } from '../../platform/kube/savepoint-trigger.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
import { COMPLETED_AT_METADATA, SHIPPED_FROM_METADATA } from '../../platform/s3/snapshot-shipping.js';
import { startSearchAttributes } from '../../client/search-attributes.js';
import type { ProtectionPassResult } from '../../workflows/protect.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities/deps.js';
import { createProtectionActivities } from '../../activities/protect.js';
import type { ShippedSavepoint } from '../../platform/ports.js';
import { buildPlatform, buildWorker } from '../../worker/build.js';
import { SMALL_STATE_BYTES, reportKey, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { testControlPlane } from '../setup/kube.js';
import { kubeWorkerSettings, startKubeTestPlatform, type KubeTestPlatform } from '../setup/kube-platform.js';
import { testTemporalAddress } from '../setup/temporal.js';
import { testClients, testS3 } from '../setup/s3.js';

const TIME_SCALE = 20;
const PROTECTED = ['P1', 'P2'];

let p: KubeTestPlatform;
let settings: Settings;
let first: ProtectionPassResult;
let second: ProtectionPassResult;
let failing: string;
let protectedInA: string[];
let runningBefore: Map<string, { generation?: number; jobId?: string }>;
let runningAfter: Map<string, { generation?: number; jobId?: string; state?: string }>;
let snapshotsLeft: number;
/** Retention cases: a job, the copies put beside its real one in az-b, and what was left after each pass. */
interface RetentionCase { job: string; real: string; copies: Record<string, string>; whileHeld: string[]; after: string[] }
let retention: { held: ProtectionPassResult; pass: ProtectionPassResult; evacuationId: string; needed: RetentionCase; newest: RetentionCase; standby: string };
/** A ship of a savepoint replaced since the pass saw it: what the ship step copied instead, and the job's shipped copy from the first pass. */
let stale: { job: string; gone: string; copied: ShippedSavepoint; firstCopy: string };
let report: EvacuationReport;
let triggeredAt: number;
let endedAt: number;
const cp = testControlPlane();

async function deployments(az: string): Promise<FlinkDeploymentObject[]> {
  return ((await p.admin.get(az)!.custom.listClusterCustomObject({ ...FLINK_DEPLOYMENTS })) as { items: FlinkDeploymentObject[] }).items;
}

/** Shipped copies of `job` listed in az-b (complete or not), by path. */
async function shippedInB(job: string): Promise<string[]> {
  const j = p.fleet.jobs.find((x) => jobKey(x) === job)!;
  return (await p.objects.listSnapshots('az-b', snapshotOwner(j, runningBefore.get(job)?.jobId))).filter((c) => c.shippedFrom !== undefined).map((c) => c.path).sort();
}

/**
 * Put a copy of the shipped savepoint `real` beside it in az-b (same job id, another savepoint
 * name) marked as shipped, completed `offsetSeconds` after it; `damaged`: one data file left out,
 * so it is complete (`_metadata`) but not restorable. @returns its path
 */
async function putCopy(s3: S3Client, bucket: string, real: { path: string; completedAtEpochSeconds: number }, offsetSeconds: number, damaged = false): Promise<string> {
  const dir = real.path.slice(`s3://${bucket}/`.length);
  const at = dir.lastIndexOf('/savepoint-') + '/savepoint-'.length + 7;
  const copy = `${dir.slice(0, at)}${randomBytes(6).toString('hex')}`;
  const objects = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${dir}/` }))).Contents ?? []).map((o) => o.Key!);
  const data = objects.filter((k) => !k.endsWith('/_metadata'));
  expect(data.length, real.path).toBeGreaterThan(0);
  for (const k of damaged ? data.slice(1) : data) await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `${copy}${k.slice(dir.length)}`, CopySource: `${bucket}/${k}` }));
  await s3.send(new CopyObjectCommand({
    Bucket: bucket, Key: `${copy}/_metadata`, CopySource: `${bucket}/${dir}/_metadata`, MetadataDirective: 'REPLACE',
    Metadata: { [SHIPPED_FROM_METADATA]: `s3://elsewhere/${copy}`, [COMPLETED_AT_METADATA]: String(real.completedAtEpochSeconds + offsetSeconds) },
  }));
  return `s3://${bucket}/${copy}`;
}

/**
 * Retention through the protection pass on az-b's real S3. Two jobs whose savepoints the first
 * pass shipped get more copies beside the real one: `needed` (a P1 job with a cold standby in
 * az-b) four older ones (-100 to -400 s), the -200 one named by its standby as
 * spec.job.initialSavepointPath; `newest` (a P2 job: no new savepoint of it is due during these
 * passes) two newer but damaged copies (+1, +2 s, a file missing) and one older (-100 s), so its
 * real copy, the newest restorable, is not among the newest two. A pass while an evacuation into az-b runs (started as the client starts
 * one, its first workflow task delayed: visibility shows it running) deletes nothing there; the
 * next pass, after it ended, expires.
 */
async function retentionPasses(client: EvacuationClient): Promise<typeof retention> {
  const bucketB = p.fleet.platform.azs.find((a) => a.name === 'az-b')!.stateBucket;
  const byKey = (k: string) => p.fleet.jobs.find((j) => jobKey(j) === k)!;
  const shipped = (k: string) => first.shipped.find((x) => x.job === k)!;
  const candidates = protectedInA.filter((k) => k !== failing && shipped(k));
  const needed = candidates.find((k) => byKey(k).standby?.az === 'az-b');
  const newest = candidates.find((k) => k !== needed && byKey(k).tier === 'P2');
  expect({ needed, newest }, `jobs of az-a shipped by the first pass: ${candidates.join(', ')}`).toEqual({ needed: expect.any(String), newest: expect.any(String) });
  const s3 = testClients();
  const cb = s3.client(testS3().endpoints['az-b']!);
  const put = async (job: string, offsets: Record<string, [number, boolean?]>): Promise<RetentionCase> => {
    const copies: Record<string, string> = {};
    for (const [name, [offset, damaged]] of Object.entries(offsets)) copies[name] = await putCopy(cb, bucketB, shipped(job), offset, damaged);
    return { job, real: shipped(job).path, copies, whileHeld: [], after: [] };
  };
  const cases = {
    needed: await put(needed!, { o1: [-100], o2: [-200], o3: [-300], o4: [-400] }),
    newest: await put(newest!, { d1: [1, true], d2: [2, true], o1: [-100] }),
  };
  const sb = byKey(needed!).standby!;
  await p.admin.get('az-b')!.custom.patchNamespacedCustomObject(
    { ...FLINK_DEPLOYMENTS, namespace: sb.namespace, name: sb.name, body: { spec: { job: { initialSavepointPath: cases.needed.copies.o2 } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  s3.destroy();
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const temporal = new Client({ connection, namespace: settings.temporalNamespace });
  const evacuationId = `kube-protect-retention-hold-${Date.now()}`;
  try {
    const running = await temporal.workflow.start('evacuateAz', {
      taskQueue: settings.taskQueue, workflowId: evacuationId, args: [], startDelay: '1h',
      typedSearchAttributes: startSearchAttributes({ kind: 'evacuation', run: evacuationId, mode: 'emergency', sourceAz: 'az-a', targetAz: 'az-b' }),
    });
    const held = await client.protectNow();
    for (const c of Object.values(cases)) c.whileHeld = await shippedInB(c.job);
    await running.terminate('retention test: the evacuation ends');
    const pass = await client.protectNow();
    for (const c of Object.values(cases)) c.after = await shippedInB(c.job);
    return { held, pass, evacuationId, ...cases, standby: `${sb.namespace}/${sb.name}` };
  } finally {
    await connection.close();
  }
}

/**
 * The ship step, as a pass runs it (the worker's activity over the adapter and az-a/az-b's real
 * S3), told to ship a savepoint of a job the first pass shipped that no longer exists (the job's
 * savepoint retention replaced it after the assessment): it ships the job's newest savepoint of
 * az-a instead, already in az-b (nothing copied twice), not a "not found".
 */
async function shipReplacedSavepoint(): Promise<typeof stale> {
  const job = protectedInA.find((k) => k !== failing && first.shipped.some((s) => s.job === k))!;
  const taken = first.savepoints.find((s) => s.job === job)!.path;
  const gone = `${taken.slice(0, taken.lastIndexOf('-') + 1)}000000000000`;
  const owner = snapshotOwner(p.fleet.jobs.find((j) => jobKey(j) === job)!, runningBefore.get(job)?.jobId);
  const { shipProtectionSavepoint } = createProtectionActivities({ objects: p.objects, shipping: p.kube } as unknown as ActivityDeps);
  const copied = await new MockActivityEnvironment({ activityType: 'shipProtectionSavepoint' }).run<[], ShippedSavepoint, () => Promise<ShippedSavepoint>>(() => shipProtectionSavepoint({ job, fromAz: 'az-a', toAz: 'az-b', path: gone, owner }));
  return { job, gone, copied, firstCopy: first.shipped.find((s) => s.job === job)!.path };
}

beforeAll(async () => {
  // State capped (SMALL_STATE_BYTES): each savepoint and restore takes model time in proportion to state, which is not what is tested here.
  p = await startKubeTestPlatform({ jobs: 10, seed: 15, timeScale: TIME_SCALE, layout: 'per-az-buckets', notReplicated: [{ from: 'az-a', to: 'az-b' }], maxStateBytes: SMALL_STATE_BYTES });
  protectedInA = p.fleet.jobs.filter((j) => j.az === 'az-a' && PROTECTED.includes(j.tier)).map(jobKey).sort();
  failing = protectedInA[0]!;
  await p.sim.client.setFaults({ failSavepoint: [failing] });
  // The simulator's seeded savepoints reach S3 when the fleet loads, so S3 dates them all "just
  // now": removed from az-a's S3, every protected job must take a savepoint before anything is shipped.
  const s3 = testClients();
  const bucketA = p.fleet.platform.azs.find((a) => a.name === 'az-a')!.stateBucket;
  const clientA = s3.client(testS3().endpoints['az-a']!);
  for (const k of protectedInA) {
    const prefix = `${p.fleet.jobs.find((j) => jobKey(j) === k)!.savepointPrefix}/`;
    const listed = await clientA.send(new ListObjectsV2Command({ Bucket: bucketA, Prefix: prefix }));
    for (const o of listed.Contents ?? []) await clientA.send(new DeleteObjectCommand({ Bucket: bucketA, Key: o.Key! }));
  }
  s3.destroy();
  settings = await kubeWorkerSettings(p.fleet.platform, {
    ...loadSettings({}), temporalAddress: testTemporalAddress(), stateDir: await mkdtemp(join(tmpdir(), 'az-evac-protect-')),
    timeScale: TIME_SCALE, taskQueue: `kube-protect-${process.pid}-${Date.now()}`,
  });
  const worker = await buildWorker(settings, await buildPlatform(settings), { workflowBundle: await workflowBundle() });
  const running = worker.run();
  const client = await EvacuationClient.connect(settings);
  try {
    await client.syncCatalog();
    const snapshot = async () => new Map((await deployments('az-a')).map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, { generation: d.metadata.generation, jobId: d.status?.jobStatus?.jobId, state: d.status?.jobStatus?.state }]));
    runningBefore = await snapshot();
    first = await client.protectNow();
    stale = await shipReplacedSavepoint();
    retention = await retentionPasses(client);
    second = await client.protectNow();
    runningAfter = await snapshot();
    snapshotsLeft = ((await p.admin.get('az-a')!.custom.listClusterCustomObject({ ...FLINK_STATE_SNAPSHOTS })) as { items: unknown[] }).items.length;
    // The AZ fails.
    await cp.handle.stopAz('az-a');
    await p.sim.client.setAzDown('az-a', true);
    await client.syncCatalog();
    const id = `kube-protect-evac-${Date.now()}`;
    triggeredAt = Date.now() / 1000;
    await client.start({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', requestedBy: 'vitest' }, id);
    const result = await client.result(id);
    endedAt = Date.now() / 1000;
    report = JSON.parse(await readFile(result.reportFile, 'utf8')) as EvacuationReport;
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await client.close();
    await cp.handle.startAz('az-a').catch(() => undefined);
  }
}, 600_000);

afterAll(async () => {
  await p?.sim.client.setAzDown('az-a', false).catch(() => undefined);
  await p?.close();
  if (settings) await rm(settings.stateDir, { recursive: true, force: true });
});

it('before protection acts, every P1/P2 job of az-a is unprotected: nothing of it reaches az-b', () => {
  expect(protectedInA.length).toBeGreaterThanOrEqual(3);
  const unprotected = first.unprotected.map((u) => u.job);
  for (const k of protectedInA) expect(unprotected, k).toContain(k);
  for (const u of first.unprotected.filter((x) => protectedInA.includes(x.job))) expect(u.reason).toMatch(/^az-b: no restorable snapshot/);
});

it('takes a savepoint of each through a FlinkStateSnapshot and ships it to az-b, verified; the failing job is reported with the operator reason after its retries', () => {
  expect(first.savepoints.map((s) => s.job).sort()).toEqual(protectedInA.filter((k) => k !== failing));
  for (const s of first.savepoints) expect(s.path).toMatch(/^s3:\/\/[^/]+-az-a\/.+\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
  const bucketB = p.fleet.platform.azs.find((a) => a.name === 'az-b')!.stateBucket;
  expect(first.shipped.map((s) => s.job).sort()).toEqual(protectedInA.filter((k) => k !== failing));
  for (const s of first.savepoints) expect(first.shipped.find((x) => x.job === s.job), s.job).toMatchObject({ toAz: 'az-b', path: s.path.replace(/^s3:\/\/[^/]+\//, `s3://${bucketB}/`) });
  expect(first.failures).toEqual([{ job: failing, step: 'savepoint', reason: expect.stringMatching(/savepoint failed: operator: FlinkStateSnapshot .* FAILED.*injected failSavepoint fault/) }]);
});

it("ships the job's newest savepoint at ship time: one replaced since the pass saw it is not a failure, its successor is shipped", () => {
  expect(stale.gone).not.toBe(first.savepoints.find((s) => s.job === stale.job)!.path);
  // The newest savepoint of az-a is the one the first pass took and shipped (or a newer one the operator took since).
  expect(stale.copied.path.replace(/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/, '')).toBe(stale.firstCopy.replace(/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/, ''));
  expect(stale.copied.path).not.toContain('000000000000');
  if (stale.copied.path === stale.firstCopy) expect(stale.copied.copiedBytes).toBe(0);
  expect(stale.copied.files).toBeGreaterThan(0);
});

it('after the pass every P1/P2 job of az-a is inside its RPO in az-b except the one whose savepoints fail, which says why', () => {
  const still = second.unprotected.filter((u) => protectedInA.includes(u.job));
  expect(still.map((u) => u.job)).toEqual([failing]);
  expect(still[0]!.reason).toMatch(/^az-b: no restorable snapshot/);
  expect(second.failures.map((f) => f.job)).toEqual([failing]);
});

it('retention deletes nothing in an AZ an evacuation is restoring into, while it runs', () => {
  const { held, needed, newest, evacuationId } = retention;
  expect(held.retentionHeld).toEqual([{ az: 'az-b', by: `evacuation ${evacuationId}` }]);
  expect(held.expired).toEqual([]);
  for (const c of [needed, newest]) expect(c.whileHeld, c.job).toEqual(expect.arrayContaining([c.real, ...Object.values(c.copies)]));
});

it('then expires shipped copies beyond the newest two per job, never the newest restorable one nor one a FlinkDeployment in that AZ restores from', () => {
  const { pass, needed, newest } = retention;
  expect(pass.retentionHeld).toEqual([]);
  expect(pass.failures.filter((f) => f.step === 'retention')).toEqual([]);
  // needed: its copies beyond the newest two are gone (o3, o4), except the one its standby in az-b
  // names as initialSavepointPath (o2); the newest two stay (the real one and o1, or a newer
  // savepoint shipped since and the real one: a P1 job may be due again during these passes).
  expect(pass.expired).toEqual(expect.arrayContaining([needed.copies.o3, needed.copies.o4]));
  expect(needed.after).not.toContain(needed.copies.o3);
  expect(needed.after).not.toContain(needed.copies.o4);
  expect(needed.after, retention.standby).toContain(needed.copies.o2);
  expect(pass.expired).not.toContain(needed.copies.o2);
  expect(needed.after).toHaveLength(3);
  // newest: its real copy, the newest restorable one, stays behind two newer damaged copies; the older one goes.
  expect(newest.after).toEqual([newest.real, newest.copies.d1!, newest.copies.d2!].sort());
  expect(pass.expired).toContain(newest.copies.o1);
  // Every path expired was one of the copies put there or a real one superseded since: never a job's own savepoint in az-b.
  for (const e of pass.expired) expect(e).toMatch(new RegExp(`^s3://${p.fleet.platform.azs.find((a) => a.name === 'az-b')!.stateBucket}/`));
});

it('never suspends, restarts or reconfigures a job: same generation, same Flink job id, still RUNNING; its FlinkStateSnapshots are removed', () => {
  for (const [k, before] of runningBefore) expect(runningAfter.get(k), k).toMatchObject({ generation: before.generation, jobId: before.jobId });
  for (const k of protectedInA) expect(runningAfter.get(k)!.state, k).toBe('RUNNING');
  expect(snapshotsLeft).toBe(0);
});

it('an AZ failure then restores every protected job in az-b from the shipped savepoint, paying the RPO protection predicted', () => {
  const lines = new Map(report.jobs.map((j) => [reportKey(j), j]));
  const newestShipped = new Map<string, ProtectionPassResult['shipped'][number]>();
  // Every pass ships: the retention passes between the first and the second too (a P1 job may be due again then).
  for (const s of [...first.shipped, ...retention.held.shipped, ...retention.pass.shipped, ...second.shipped]) {
    const seen = newestShipped.get(s.job);
    if (!seen || s.completedAtEpochSeconds >= seen.completedAtEpochSeconds) newestShipped.set(s.job, s);
  }
  for (const k of protectedInA.filter((x) => x !== failing)) {
    const line = lines.get(k)!;
    const shipped = newestShipped.get(k)!;
    expect(line.outcome, `${k}: ${line.reason}`).toBe('running');
    expect(line.snapshotPath, k).toBe(shipped.path);
    // The age paid is the shipped savepoint's age when the job's snapshot was chosen: after the trigger, before the report.
    expect(line.snapshotAgeSeconds!, k).toBeGreaterThanOrEqual(triggeredAt - shipped.completedAtEpochSeconds - 1);
    expect(line.snapshotAgeSeconds!, k).toBeLessThanOrEqual(endedAt - shipped.completedAtEpochSeconds + 1);
  }
  const broken = lines.get(failing)!;
  expect(broken.outcome).not.toBe('running');
});

it('on an operator without FlinkStateSnapshots, a new savepointTriggerNonce takes one savepoint, reported in status.jobStatus.savepointInfo, and the job runs on', async () => {
  const apis = p.worker.get('az-b')!;
  const job = p.fleet.jobs.find((j) => j.az === 'az-b' && PROTECTED.includes(j.tier))!;
  const read = async () => (await p.admin.get('az-b')!.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace: job.namespace, name: job.name })) as FlinkDeploymentObject;
  const before = await read();
  const trigger = await triggerSavepoint(apis, job.namespace, job.name, { id: '4242', format: 'canonical', useResource: false });
  expect(trigger).toMatchObject({ via: 'nonce', id: '4242' });
  const done = await waitFor('the nonce savepoint reported complete', async () => {
    const progress = await savepointProgress(apis, trigger);
    return progress.state === 'completed' ? progress : undefined;
  }, 30_000);
  const bucketB = p.fleet.platform.azs.find((a) => a.name === 'az-b')!.stateBucket;
  expect(done.path).toMatch(new RegExp(`^s3://${bucketB}/.+/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$`));
  const after = await read();
  expect(after.status?.jobStatus).toMatchObject({ jobId: before.status?.jobStatus?.jobId, state: 'RUNNING', savepointInfo: { lastSavepoint: { location: done.path, triggerNonce: 4242, triggerType: 'MANUAL' } } });
  // The same id again changes nothing: the nonce is already set.
  await triggerSavepoint(apis, job.namespace, job.name, { id: '4242', format: 'canonical', useResource: false });
  expect((await read()).metadata.generation).toBe(after.metadata.generation);
  // The savepoint is complete and restorable in az-b's S3.
  const owner = snapshotOwner(job, before.status?.jobStatus?.jobId);
  await waitFor('the savepoint in S3', async () => {
    const choice = await p.objects.findSnapshot('az-b', owner, { dirKeys: [done.path], nowEpochSeconds: Math.floor(Date.now() / 1000) + 1 });
    return choice.kind === 'snapshot' ? choice : undefined;
  }, 30_000);
});

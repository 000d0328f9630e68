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
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EvacuationClient } from '../../client/evacuation-client.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import type { EvacuationReport } from '../../domain/report.js';
import { jobKey } from '../../domain/types.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from '../../platform/kube/flink-resource.js';
import { FLINK_STATE_SNAPSHOTS, savepointProgress, triggerSavepoint } from '../../platform/kube/savepoint-trigger.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
import type { ProtectionPassResult } from '../../workflows/protect.js';
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
let report: EvacuationReport;
let triggeredAt: number;
let endedAt: number;
const cp = testControlPlane();

async function deployments(az: string): Promise<FlinkDeploymentObject[]> {
  return ((await p.admin.get(az)!.custom.listClusterCustomObject({ ...FLINK_DEPLOYMENTS })) as { items: FlinkDeploymentObject[] }).items;
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

it('after the pass every P1/P2 job of az-a is inside its RPO in az-b except the one whose savepoints fail, which says why', () => {
  const still = second.unprotected.filter((u) => protectedInA.includes(u.job));
  expect(still.map((u) => u.job)).toEqual([failing]);
  expect(still[0]!.reason).toMatch(/^az-b: no restorable snapshot/);
  expect(second.failures.map((f) => f.job)).toEqual([failing]);
});

it('never suspends, restarts or reconfigures a job: same generation, same Flink job id, still RUNNING; its FlinkStateSnapshots are removed', () => {
  for (const [k, before] of runningBefore) expect(runningAfter.get(k), k).toMatchObject({ generation: before.generation, jobId: before.jobId });
  for (const k of protectedInA) expect(runningAfter.get(k)!.state, k).toBe('RUNNING');
  expect(snapshotsLeft).toBe(0);
});

it('an AZ failure then restores every protected job in az-b from the shipped savepoint, paying the RPO protection predicted', () => {
  const lines = new Map(report.jobs.map((j) => [reportKey(j), j]));
  const newestShipped = new Map<string, ProtectionPassResult['shipped'][number]>();
  for (const s of [...first.shipped, ...second.shipped]) {
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

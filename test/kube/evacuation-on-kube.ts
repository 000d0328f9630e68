/**
 * The whole evacuation on the two real apiservers, shared by evacuation.test.ts (reduced
 * fleet, default run), evacuation.slow.test.ts (300 jobs) and failback.slow.test.ts (its failback): a generated fleet seeded
 * into az-a and az-b, the production Worker on the platform buildPlatform makes of
 * AZ_EVAC_PLATFORM=k8s settings with NO simulator URL (worker kubeconfig contexts, the
 * profile file and S3 per AZ: versitygw), a catalog sync, az-a's apiserver STOPPED (and its object store down),
 * then `az-evac plan --json` (the RTO forecast read from each job's snapshot in az-b's S3),
 * then az-a → az-b in emergency mode. Checks every P0–P2 job of az-a ends with its
 * FlinkDeployment STABLE / RUNNING in az-b (read as admin from the apiserver), restored
 * from the reported snapshot (read from the stand-in's simulator), and records the wall time.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EvacuationClient } from '../../client/evacuation-client.js';
import { runCli } from '../../cli/program.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import { recordsKey, type EvacuationResult } from '../../domain/evacuation.js';
import { predictionSummary, type EvacuationReport } from '../../domain/report.js';
import { jobKey, type FleetJob, type Plan } from '../../domain/types.js';
import { ACTION_ANNOTATIONS } from '../../domain/fence.js';
import { messageOf } from '../../domain/error-message.js';
import type { FailbackResult } from '../../workflows/failback.js';
import type { SimulatedDeployment } from '../../simulator/control-client.js';
import { listFlinkDeployments } from '../../platform/kube/az-apis.js';
import type { FlinkDeploymentObject } from '../../platform/kube/flink-resource.js';
import { buildStateStores } from '../../platform/state-stores.js';
import { buildPlatform, buildWorker } from '../../worker/build.js';
import { reportKey, workflowBundle } from '../setup/evacuation-harness.js';
import { testControlPlane } from '../setup/kube.js';
import { kubeWorkerSettings, startKubeTestPlatform, type KubeTestPlatform } from '../setup/kube-platform.js';
import { testTemporalAddress } from '../setup/temporal.js';

const CRITICAL = ['P0', 'P1', 'P2'];

/**
 * Declare the evacuation tests of a fleet of `jobs` primaries.
 * @param o.failback `refused`: after the evacuation, a failback is refused while az-a's apiserver
 *   is stopped (a call, seconds); `home`: then, once az-a answers, the failback runs to its end
 *   and every moved job is checked home (each stops with a savepoint in proportion to its state:
 *   ~100 s wall for the 80-job fleet at time scale 20, hence failback.slow.test.ts); absent: neither.
 */
export function evacuationOnKube(o: { jobs: number; seed: number; timeScale: number; minCritical: number; failback?: 'refused' | 'home' }): void {
  let p: KubeTestPlatform;
  /** With `failback`: the refusal while az-a's apiserver is stopped, then the failback once it answers. */
  let refused: string | undefined;
  let failback: FailbackResult | undefined;
  let settings: Settings;
  let result: EvacuationResult;
  let report: EvacuationReport;
  let target: Map<string, FlinkDeploymentObject>;
  /** The stand-in's simulated az-b right after the evacuation (what each copy restored from). */
  let simulatedTarget: Map<string, SimulatedDeployment>;
  let carriedOver: string[];
  let wallSeconds: number;
  let planned: Plan;
  let catalogNominal: boolean[];
  const cp = testControlPlane();

  beforeAll(async () => {
    p = await startKubeTestPlatform(o);
    settings = await kubeWorkerSettings(p.fleet.platform, {
      ...loadSettings({}), temporalAddress: testTemporalAddress(), stateDir: await mkdtemp(join(tmpdir(), 'az-evac-kube-')),
      timeScale: o.timeScale, taskQueue: `kube-evac-${process.pid}-${Date.now()}`,
    });
    expect(settings.simulatorUrl).toBe('');
    const warnings: string[] = [];
    const platform = await buildPlatform(settings, (line) => warnings.push(line));
    expect(warnings).toEqual([]);
    const worker = await buildWorker(settings, platform, { workflowBundle: await workflowBundle() });
    const running = worker.run();
    const client = await EvacuationClient.connect(settings);
    try {
      const synced = await client.syncCatalog();
      expect(synced.jobs).toBe(p.fleet.jobs.length);
      await cp.handle.stopAz('az-a');
      await p.sim.client.setAzDown('az-a', true);
      // A sync during the outage keeps az-a's jobs from the previous version.
      carriedOver = (await client.syncCatalog()).carriedOver;
      // Before the trigger: what the on-call engineer runs, in process.
      let out = '';
      const code = await runCli(['plan', '--from', 'az-a', '--to', 'az-b', '--json'], {
        out: (t) => { out += t; }, err: (t) => { out += t; }, interactive: false, ask: async () => '',
        env: { AZ_EVAC_TEMPORAL_ADDRESS: settings.temporalAddress, AZ_EVAC_TASK_QUEUE: settings.taskQueue, AZ_EVAC_STATE: settings.stateDir },
      });
      expect(code, out).toBe(0);
      planned = JSON.parse(out) as Plan;
      const state = buildStateStores(settings);
      try {
        catalogNominal = (await state.catalogs.latest())!.jobs.map((j) => j.stateSizeNominal === true);
      } finally {
        state.close();
      }
      const started = Date.now();
      const id = `kube-evac-${o.jobs}-${Date.now()}`;
      await client.start({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', requestedBy: 'vitest' }, id);
      result = await client.result(id);
      wallSeconds = (Date.now() - started) / 1000;
      report = JSON.parse(await readFile(result.reportFile, 'utf8')) as EvacuationReport;
      const list = await listFlinkDeployments(p.admin.get('az-b')!);
      target = new Map(list.map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d]));
      simulatedTarget = new Map((await p.sim.client.listDeployments('az-b')).map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, d]));
      console.log(`[kube evacuation] ${o.jobs} jobs (${report.jobs.length} in az-a) az-a → az-b on real apiservers at time scale ${o.timeScale}: ${wallSeconds.toFixed(1)} s wall`);
      const forecast = planned.rto?.jobs ?? [];
      const accuracy = predictionSummary(report);
      console.log(`[kube evacuation] plan --json before the trigger: ${forecast.filter((j) => j.inputs.stateFrom === 'snapshot').length} of ${forecast.filter((j) => j.strategy !== 'promote-standby').length} restoring jobs sized from their snapshot's _metadata in S3; ` +
        `predicted to miss: ${forecast.filter((j) => j.misses).map((j) => `${j.key} (${j.tier}, ${(j.inputs.stateBytes / 2 ** 30).toFixed(1)} GiB, ${j.seconds}s > ${j.rtoTargetSeconds}s)`).join(', ') || 'none'}; ` +
        `report: ${accuracy.predictedMisses} predicted / ${accuracy.achievedMisses} achieved misses, median |achieved − predicted| ${accuracy.medianErrorSeconds}s`);
      if (o.failback) refused = await client.failback({ drillId: id, requestedBy: 'vitest' }).then(() => 'ran', messageOf);
      if (o.failback === 'home') {
        await cp.handle.startAz('az-a');
        await p.sim.client.setAzDown('az-a', false);
        const t0 = Date.now();
        failback = await client.failback({ drillId: id, requestedBy: 'vitest' });
        console.log(`[kube failback] ${failback.jobs} jobs az-b → az-a in ${((Date.now() - t0) / 1000).toFixed(1)} s wall: ${JSON.stringify(failback.tiers)}`);
      }
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await client.close();
      if (!failback) await cp.handle.startAz('az-a').catch(() => undefined);
    }
  }, 900_000);

  afterAll(async () => {
    await p?.close();
    if (settings) await rm(settings.stateDir, { recursive: true, force: true });
  });

  it('syncs the catalog from both apiservers, and carries az-a over while its apiserver is stopped', () => {
    expect(carriedOver).toEqual(['az-a']);
  });

  it("flags before the trigger, in `plan --json`, the jobs whose state read from their snapshot's _metadata in az-b's S3 cannot be restored within their tier's RTO", () => {
    // Kubernetes reports no state size: the catalog's is the nominal default for every job.
    expect(catalogNominal.length).toBeGreaterThan(0);
    expect(catalogNominal.every(Boolean)).toBe(true);
    const rto = planned.rto!;
    expect(rto.jobs.map((j) => j.key)).toEqual(planned.admitted.map((a) => a.key));
    const fleet = new Map(p.fleet.jobs.map((j) => [jobKey(j), j]));
    const restoring = rto.jobs.filter((j) => j.strategy !== 'promote-standby');
    const sized = restoring.filter((j) => j.inputs.stateFrom === 'snapshot');
    expect(sized.length).toBeGreaterThan(restoring.length / 2);
    // The size is the snapshot's (the stand-in writes _metadata for the job's whole state), not the nominal 1 GiB.
    for (const j of sized) expect(j.inputs.stateBytes, j.key).toBe(fleet.get(j.key)!.stateSizeBytes);
    for (const j of restoring.filter((x) => x.inputs.stateFrom !== 'snapshot')) expect(j.inputs.stateFrom, j.key).toBe('default');
    // Oversized: state alone takes longer to restore than the tier's RTO allows.
    const oversized = sized.filter((j) => j.parts.restore + j.parts.startup > j.rtoTargetSeconds).map((j) => j.key);
    expect(oversized.length).toBeGreaterThan(0);
    const flagged = planned.findings.filter((f) => f.code === 'predicted-rto-miss');
    expect(flagged.map((f) => f.job).sort()).toEqual(rto.jobs.filter((j) => j.misses).map((j) => j.key).sort());
    for (const key of oversized) {
      const f = flagged.find((x) => x.job === key);
      expect(f, key).toMatchObject({ blocking: false });
      expect(f!.message).toContain(rto.jobs.find((j) => j.key === key)!.inputs.snapshotPath!);
    }
  });

  it('puts each job\'s predicted time to RUNNING beside its achieved one in the report', () => {
    const running = report.jobs.filter((j) => j.outcome === 'running');
    expect(running.length).toBeGreaterThan(0);
    for (const j of running) {
      expect(j.predicted, reportKey(j)).toBeDefined();
      expect(j.rtoSeconds).toBeGreaterThan(0);
    }
  });

  it('ends with every P0–P2 job of az-a STABLE / RUNNING in az-b, restored from the reported snapshot', async () => {
    const source = new Map<string, FleetJob>(p.fleet.jobs.filter((j) => j.az === 'az-a').map((j) => [jobKey(j), j]));
    expect(report.jobs.map(reportKey).sort()).toEqual([...source.keys()].sort());
    const critical = report.jobs.filter((j) => CRITICAL.includes(j.tier));
    expect(critical.length).toBeGreaterThanOrEqual(o.minCritical);
    const simulated = simulatedTarget;
    const problems: string[] = [];
    for (const j of critical) {
      const job = source.get(reportKey(j))!;
      const standby = j.strategy !== 'redeploy' && job.standby?.az === 'az-b' ? job.standby : undefined;
      const where = standby ? `${standby.namespace}/${standby.name}` : reportKey(j);
      const d = target.get(where);
      if (j.outcome !== 'running') problems.push(`${reportKey(j)} (${j.tier}) ended ${j.outcome}: ${j.reason}`);
      else if (d?.status?.lifecycleState !== 'STABLE' || d.status.jobStatus?.state !== 'RUNNING') {
        problems.push(`${reportKey(j)}: ${where} in az-b is ${d ? `${d.status?.lifecycleState}/${d.status?.jobStatus?.state}` : 'absent'}`);
      } else if (d.status.jobStatus.jobId !== j.jobId) problems.push(`${reportKey(j)}: report jobId ${j.jobId}, apiserver ${d.status.jobStatus.jobId}`);
      else if (j.strategy === 'promote-standby') {
        if (d.metadata.labels?.['az-evac.io/role'] !== 'active') problems.push(`${reportKey(j)}: promoted standby not labelled active`);
      } else if (!j.snapshotPath || (d.spec.job as { initialSavepointPath?: string }).initialSavepointPath !== j.snapshotPath) {
        problems.push(`${reportKey(j)}: initialSavepointPath ≠ reported snapshot ${String(j.snapshotPath)}`);
      } else if (simulated.get(where)?.status.jobStatus?.restoredFrom !== j.snapshotPath) {
        problems.push(`${reportKey(j)}: restored from ${String(simulated.get(where)?.status.jobStatus?.restoredFrom)}, not ${j.snapshotPath}`);
      }
    }
    expect(problems).toEqual([]);
    expect(result.success).toBe(true);
    expect(wallSeconds).toBeGreaterThan(0);
  });

  it('marks every copy it brought up in az-b with the run, its trigger and an AzEvacApplied Event, as kubectl describe shows them', async () => {
    const admin = p.admin.get('az-b')!;
    const source = new Map<string, FleetJob>(p.fleet.jobs.filter((j) => j.az === 'az-a').map((j) => [jobKey(j), j]));
    const applied = report.jobs.filter((j) => j.outcome === 'running');
    expect(applied.length).toBeGreaterThanOrEqual(o.minCritical);
    const problems: string[] = [];
    for (const j of applied) {
      const job = source.get(reportKey(j))!;
      const standby = j.strategy !== 'redeploy' && job.standby?.az === 'az-b' ? job.standby : undefined;
      const where = standby ? `${standby.namespace}/${standby.name}` : reportKey(j);
      const d = target.get(where)!;
      const annotations = d.metadata.annotations ?? {};
      if (annotations[ACTION_ANNOTATIONS.appliedBy] !== recordsKey(report)) problems.push(`${where}: applied-by ${String(annotations[ACTION_ANNOTATIONS.appliedBy])}`);
      // The Events kubectl describe lists: involvedObject kind, name and uid of this FlinkDeployment.
      const fieldSelector = `involvedObject.kind=FlinkDeployment,involvedObject.name=${d.metadata.name},involvedObject.uid=${d.metadata.uid}`;
      const events = (await admin.core.listNamespacedEvent({ namespace: d.metadata.namespace!, fieldSelector })).items.filter((e) => e.reason === 'AzEvacApplied');
      if (events.length !== 1 || !events[0]!.message?.includes(`emergency evacuation ${recordsKey(report)} of az-a into az-b, triggered by vitest`)) {
        problems.push(`${where}: ${events.length} AzEvacApplied Event(s): ${events.map((e) => e.message).join(' | ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.runIf(o.failback)('failback: refused while az-a\'s apiserver is stopped, naming it and the fix', () => {
    expect(refused).toMatch(/failback of .* into az-a refused: the API server of az-a does not answer \(.*\)\. Fix: wait until az-a is healthy again/);
  });

  it.runIf(o.failback === 'home')('failback: once az-a answers, every moved job STABLE / RUNNING in az-a from a savepoint of its az-b run, marked as kubectl describe shows, its az-b copy not running', async () => {
    expect(failback!.failed).toEqual([]);
    const moved = report.jobs.filter((j) => j.outcome === 'running');
    expect(failback).toMatchObject({ mode: 'emergency', restoredFromTarget: moved.length });
    const admin = p.admin.get('az-a')!;
    const sourceNow = new Map((await listFlinkDeployments(admin)).map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d]));
    const targetNow = new Map((await listFlinkDeployments(p.admin.get('az-b')!)).map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d]));
    const simulated = new Map((await p.sim.client.listDeployments('az-a')).map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, d]));
    const jobs = new Map<string, FleetJob>(p.fleet.jobs.filter((j) => j.az === 'az-a').map((j) => [jobKey(j), j]));
    const problems: string[] = [];
    for (const j of moved) {
      const key = reportKey(j);
      const d = sourceNow.get(key);
      if (d?.status?.lifecycleState !== 'STABLE' || d.status.jobStatus?.state !== 'RUNNING') problems.push(`${key}: in az-a ${d ? `${d.status?.lifecycleState}/${d.status?.jobStatus?.state}` : 'absent'}`);
      const from = simulated.get(key)?.status.jobStatus?.restoredFrom;
      if (!(j.jobId && from?.includes(`/savepoint-${j.jobId.slice(0, 6)}-`))) problems.push(`${key}: restored from ${String(from)}, not a savepoint of its az-b run ${String(j.jobId)}`);
      if (d?.metadata.annotations?.[ACTION_ANNOTATIONS.failedBackBy] !== recordsKey(report)) problems.push(`${key}: failed-back-by ${String(d?.metadata.annotations?.[ACTION_ANNOTATIONS.failedBackBy])}`);
      const fieldSelector = `involvedObject.kind=FlinkDeployment,involvedObject.name=${d?.metadata.name},involvedObject.uid=${d?.metadata.uid}`;
      const events = (await admin.core.listNamespacedEvent({ namespace: d?.metadata.namespace ?? 'default', fieldSelector })).items.filter((e) => e.reason === 'AzEvacFailedBack');
      if (events.length !== 1) problems.push(`${key}: ${events.length} AzEvacFailedBack Events`);
      const job = jobs.get(key)!;
      const standby = j.strategy !== 'redeploy' && job.standby?.az === 'az-b' ? job.standby : undefined;
      const t = targetNow.get(standby ? `${standby.namespace}/${standby.name}` : key);
      const standbyAgain = standby?.kind === 'hot' && t?.metadata.labels?.['az-evac.io/role'] === 'standby';
      if (t && (t.spec.job as { state?: string }).state === 'running' && !standbyAgain) problems.push(`${key}: its az-b copy ${t.metadata.name} still running`);
    }
    expect(problems).toEqual([]);
  });

  it('suspends exactly the P3 jobs the plan preempts in az-b, through the apiserver, each marked as kubectl describe shows it', async () => {
    expect(report.preemptions.length).toBeGreaterThan(0);
    expect(report.preemptionError).toBeUndefined();
    const suspendedP3 = [...target.entries()]
      .filter(([, d]) => d.metadata.labels?.['az-evac.io/tier'] === 'P3' && d.metadata.labels?.['az-evac.io/role'] !== 'standby' && (d.spec.job as { state?: string }).state === 'suspended')
      .map(([key]) => key)
      .sort();
    expect(suspendedP3).toEqual(report.preemptions.map((x) => x.key).sort());
    const admin = p.admin.get('az-b')!;
    const problems: string[] = [];
    for (const key of suspendedP3) {
      const d = target.get(key)!;
      if (d.status?.lifecycleState !== 'SUSPENDED') problems.push(`${key}: ${String(d.status?.lifecycleState)}`);
      const annotations = d.metadata.annotations ?? {};
      if (annotations[ACTION_ANNOTATIONS.preemptedBy] !== recordsKey(report)) problems.push(`${key}: preempted-by ${String(annotations[ACTION_ANNOTATIONS.preemptedBy])}`);
      if (!annotations[ACTION_ANNOTATIONS.reason]?.startsWith('preempted by the emergency evacuation')) problems.push(`${key}: reason ${String(annotations[ACTION_ANNOTATIONS.reason])}`);
      // The Events kubectl describe lists for this FlinkDeployment (kind, name and uid).
      const fieldSelector = `involvedObject.kind=FlinkDeployment,involvedObject.name=${d.metadata.name},involvedObject.uid=${d.metadata.uid}`;
      const events = (await admin.core.listNamespacedEvent({ namespace: d.metadata.namespace!, fieldSelector })).items.filter((e) => e.reason === 'AzEvacPreempted');
      if (events.length !== 1) problems.push(`${key}: ${events.length} AzEvacPreempted Event(s)`);
    }
    expect(problems).toEqual([]);
  });
}

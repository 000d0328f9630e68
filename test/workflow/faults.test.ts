/**
 * Faults during an evacuation, on the real Temporal dev server and simulator: a job whose
 * apply is always rejected (422) fails alone, with the reason, while the rest move; and the
 * worker process SIGKILLed mid-evacuation — a new worker process finishes the evacuation
 * and no job is created or redeployed twice; and (a known bug, pinned) a start step re-run
 * after its job is RUNNING redeploys it from a newer snapshot.
 */
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { loadFlinkDeploymentValidator } from '../../domain/crd-validator.js';
import type { EvacuationProgress, StartJobResult } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { jobKey, type FleetJob, type JobKey } from '../../domain/types.js';
import { FileCatalogStore } from '../../platform/catalog-file-store.js';
import { FileEvacuationStore } from '../../platform/evacuation-file-store.js';
import { startWorkerProcess, type Started } from '../../launchers/local-processes.js';
import { loadTiersFile } from '../../worker/build.js';
import { EvacuationHarness, SOURCE_AZ, TARGET_AZ, reportKey, waitFor, workflowBundle } from '../setup/evacuation-harness.js';

/** Problems with the admitted P0–P2 jobs of `report` not RUNNING in the target AZ (per the simulator), except `except`. */
async function notRunning(h: EvacuationHarness, id: string, report: EvacuationReport, except: JobKey[] = []): Promise<string[]> {
  const admitted = new Set((await h.plan(id)).plan.admitted.filter((p) => p.tier !== 'P3').map((p) => p.key));
  const source = h.sourceJobs();
  const target = await h.targetDeployments();
  const problems: string[] = [];
  for (const j of report.jobs.filter((x) => admitted.has(reportKey(x)) && !except.includes(reportKey(x)))) {
    const where = h.targetOf(source.get(reportKey(j))!, j.strategy).key;
    const state = target.get(where)?.status.jobStatus?.state;
    if (j.outcome !== 'running' || state !== 'RUNNING') problems.push(`${reportKey(j)}: report ${j.outcome} (${j.reason ?? ''}), simulator ${state ?? 'absent'}`);
  }
  expect(admitted.size).toBeGreaterThan(10);
  return problems;
}

const finishedJobs = (p: EvacuationProgress): number => p.tiers.reduce((n, t) => n + t.succeeded + t.failed + t.skipped, 0);
const plannedJobs = (p: EvacuationProgress): number => p.tiers.reduce((n, t) => n + t.planned, 0);

describe('evacuation under faults', () => {
  let h: EvacuationHarness | undefined;
  let ids: string[] = [];
  const workers: Started[] = [];

  beforeAll(async () => {
    await workflowBundle();
  });

  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await h?.close(ids);
    h = undefined;
    ids = [];
  });

  it('fails only the job whose apply is rejected, naming the rejection', async () => {
    h = await EvacuationHarness.start({ jobs: 80, seed: 21, timeScale: 100 });
    // The smallest P2 job of az-a: the plan admits it whatever the capacity.
    const victim: FleetJob = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ && j.tier === 'P2').sort((a, b) => a.resources.cores - b.resources.cores)[0]!;
    const key = jobKey(victim);
    await h.sim.client.setFaults({ failApply: [key] });
    await h.prepareEmergency();
    const id = `evac-failapply-${Date.now()}`;
    ids.push(id);
    await h.start(id);
    const { result, report } = await h.finish(id);

    expect((await h.plan(id)).plan.admitted.map((p) => p.key)).toContain(key);
    const line = report.jobs.find((j) => reportKey(j) === key)!;
    expect(line.outcome).toBe('failed');
    expect(line.reason).toMatch(/ManifestRejected/);
    expect(line.reason).toMatch(/admission webhook denied/);
    expect(line.reason).toContain(key);
    expect((await h.targetDeployments()).has(key)).toBe(false);

    expect(await notRunning(h, id, report, [key])).toEqual([]);
    expect(report.tiers.find((t) => t.tier === 'P2')!.failed).toBe(1);
    expect(report.success).toBe(false);
    expect(result.success).toBe(false);
  });

  it('finishes after the worker process is SIGKILLed mid-evacuation, applying no job twice', async () => {
    h = await EvacuationHarness.start({ jobs: 100, seed: 8, timeScale: 100, worker: 'none', tiers: { P1: { maxConcurrency: 4 }, P2: { maxConcurrency: 6 } } });
    const first = await startWorkerProcess(h.workerEnv());
    workers.push(first);
    await h.prepareEmergency();
    const id = `evac-kill-${Date.now()}`;
    ids.push(id);
    await h.start(id);

    const atKill = await waitFor('half the jobs done', async () => {
      const p = await h!.client.progress(id);
      return p.plan && finishedJobs(p) >= plannedJobs(p) / 2 ? p : undefined;
    }, 90_000, 100);
    const exited = new Promise((r) => first.child.once('exit', (_code, signal) => r(signal)));
    first.child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAtMs = Date.now();
    expect(finishedJobs(atKill)).toBeLessThan(plannedJobs(atKill));

    workers.push(await startWorkerProcess(h.workerEnv()));
    const { result, report } = await h.finish(id);
    expect(result.phase).toBe('done');
    expect(await notRunning(h, id, report)).toEqual([]);
    // The second worker did part of the work.
    const t0 = Date.parse(report.startedAt);
    expect(report.jobs.filter((j) => j.rtoSeconds !== undefined && t0 + j.rtoSeconds * 1000 > killedAtMs).length).toBeGreaterThan(0);

    // Idempotent steps: per resource in az-b at most one create, one nonce redeploy, one
    // spec change and one deploy, whatever the kill interrupted.
    const counters = (await h.sim.client.stats({ az: TARGET_AZ })).counters[TARGET_AZ] ?? {};
    const twice = Object.entries(counters)
      .filter(([, c]) => c.created > 1 || c.redeploys > 1 || c.specChanges > 1 || c.deploys > 1)
      .map(([k, c]) => `${k}: ${JSON.stringify(c)}`);
    expect(twice).toEqual([]);
    expect(Object.values(counters).filter((c) => c.created === 1 || c.redeploys === 1).length).toBeGreaterThan(20);
  }, 300_000);

  // A retried start step (lost completion, worker crash) of a job this run already
  // deployed must not choose again: the job writes newer checkpoints of its own in the
  // target AZ, and restoring from one would restart a RUNNING job.
  it('re-running the start step of a job this run already deployed changes nothing', async () => {
    h = await EvacuationHarness.start({ jobs: 40, seed: 8, timeScale: 100 });
    await h.prepareEmergency();
    const id = `evac-retry-${Date.now()}`;
    ids.push(id);
    await h.start(id);
    const { report } = await h.finish(id);
    const activities = createActivities({
      cluster: h.sim.client, objects: h.sim.client, fleet: h.sim.client,
      catalogs: new FileCatalogStore(join(h.settings.stateDir, 'catalog')),
      evacuations: new FileEvacuationStore(join(h.settings.stateDir, 'evacuations')),
      loadTiers: () => loadTiersFile(h!.settings.tiersFile), validateManifest: await loadFlinkDeploymentValidator(),
      preloadConcurrency: h.settings.preloadConcurrency, reportDir: join(h.settings.stateDir, 'reports'),
    });
    const job = report.jobs.find((j) => j.strategy === 'redeploy' && j.outcome === 'running' && j.snapshotPath)!;
    const key = reportKey(job);
    // Let the job checkpoint in the target AZ (a few checkpoint intervals of model time).
    await new Promise((r) => setTimeout(r, 3_000));
    const before = (await h.sim.client.stats({ az: TARGET_AZ, key })).counters[TARGET_AZ]?.[key];
    const ref: Parameters<typeof activities.startJob>[0] = { evacuationId: id, key, strategy: 'redeploy', mode: 'emergency', preload: true };
    const retry = await new MockActivityEnvironment({ attempt: 2 }).run(activities.startJob, ref) as StartJobResult;
    await new Promise((r) => setTimeout(r, 1_000));
    const after = (await h.sim.client.stats({ az: TARGET_AZ, key })).counters[TARGET_AZ]?.[key];
    expect(retry.action).toBe('deployed');
    const retried = retry.action === 'deployed' ? retry.snapshotPath : undefined;
    // The retry reports the snapshot the run restored from, not one the job wrote since…
    expect(retried).toBe(job.snapshotPath);
    // …and applies nothing: no spec change, no redeploy of the RUNNING job.
    expect(after?.specChanges).toBe(before?.specChanges);
    expect(after?.deploys).toBe(before?.deploys);
  });
});

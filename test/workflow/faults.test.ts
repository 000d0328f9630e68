/**
 * Faults during an evacuation, on the real Temporal dev server and simulator: a job whose
 * apply is always rejected (422) fails alone, with the reason, while the rest move; and a
 * start step re-run after its job is RUNNING in the target AZ (and has checkpointed there)
 * changes nothing. The worker process SIGKILLed mid-evacuation is a row of
 * fault-injection.test.ts (at 25, 50 and 90 %, with guarantees 1–3).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { loadFlinkDeploymentValidator } from '../../domain/crd-validator.js';
import type { StartJobResult } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { jobKey, type FleetJob, type JobKey } from '../../domain/types.js';
import { buildStateStores } from '../../platform/state-stores.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
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

describe('evacuation under faults', () => {
  // One stack and one evacuation for the file: the rejected job's failure and the start-step
  // retry of another (moved) job are read from the same run.
  let h: EvacuationHarness;
  let id: string;
  let victim: JobKey;
  let ran: Awaited<ReturnType<EvacuationHarness['finish']>>;

  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 80, seed: 21, timeScale: 100 });
    // The smallest P2 job of az-a: the plan admits it whatever the capacity.
    const job: FleetJob = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ && j.tier === 'P2').sort((a, b) => a.resources.cores - b.resources.cores)[0]!;
    victim = jobKey(job);
    await h.sim.client.setFaults({ failApply: [victim] });
    await h.prepareEmergency();
    id = `evac-failapply-${Date.now()}`;
    await h.start(id);
    ran = await h.finish(id);
  });

  afterAll(async () => {
    await h?.close(id ? [id] : []);
  });

  it('fails only the job whose apply is rejected, naming the rejection', async () => {
    const { result, report } = ran;
    const key = victim;
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

  // A retried start step (lost completion, worker crash) of a job this run already
  // deployed must not choose again: the job writes newer checkpoints of its own in the
  // target AZ, and restoring from one would restart a RUNNING job.
  it('re-running the start step of a job this run already deployed changes nothing', async () => {
    const { report } = ran;
    const activities = createActivities({
      cluster: h.sim.client, objects: h.sim.client, fleet: h.sim.client,
      ...buildStateStores(h.settings),
      loadTiers: () => loadTiersFile(h.settings.tiersFile), validateManifest: await loadFlinkDeploymentValidator(),
      preloadConcurrency: h.settings.preloadConcurrency,
    });
    const job = report.jobs.find((j) => j.strategy === 'redeploy' && j.outcome === 'running' && j.snapshotPath)!;
    const key = reportKey(job);
    // The job checkpoints in the target AZ: a snapshot newer than the one it restored from
    // is there for the retry to (wrongly) choose.
    // The job's own job ids: the catalog's (its source run, whose snapshot it restored) and its target run's.
    const catalogJob = (await buildStateStores(h.settings).catalogs.latest())!.jobs.find((j) => jobKey(j) === key)!;
    const owner = snapshotOwner(catalogJob, job.jobId);
    await waitFor('a checkpoint of the moved job newer than its restore point, in the target AZ', async () => {
      const listed = await h.sim.client.listSnapshots(TARGET_AZ, owner);
      const restored = listed.find((e) => e.path === job.snapshotPath);
      return restored && listed.some((e) => e.hasMetadata && e.completedAtEpochSeconds > restored.completedAtEpochSeconds) ? true : undefined;
    }, 60_000, 100);
    const before = (await h.sim.client.stats({ az: TARGET_AZ, key })).counters[TARGET_AZ]?.[key];
    expect(before?.specChanges).toBeGreaterThan(0); // the observer sees this job's applies
    const ref: Parameters<typeof activities.startJob>[0] = { evacuationId: id, runId: report.runId, key, strategy: 'redeploy', mode: 'emergency', preload: true };
    const retry = await new MockActivityEnvironment({ attempt: 2 }).run(activities.startJob, ref) as StartJobResult;
    // An apply counts a spec change (and a nonce change a redeploy) synchronously, before the
    // operator deploys: read right after the retry returns, no wait needed.
    const after = (await h.sim.client.stats({ az: TARGET_AZ, key })).counters[TARGET_AZ]?.[key];
    expect(retry.action).toBe('deployed');
    const retried = retry.action === 'deployed' ? retry.snapshotPath : undefined;
    // The retry reports the snapshot the run restored from, not one the job wrote since…
    expect(retried).toBe(job.snapshotPath);
    // …and applies nothing: no spec change, no redeploy of the RUNNING job.
    expect(after?.specChanges).toBe(before?.specChanges);
    expect(after?.redeploys).toBe(before?.redeploys);
    expect(after?.deploys).toBe(before?.deploys);
  });
});

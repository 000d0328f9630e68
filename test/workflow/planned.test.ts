/**
 * A planned evacuation (`--mode planned`, domain/planned-stop.ts) on the simulator: every job
 * is stopped with a savepoint in the live source AZ first and restored in the target AZ from
 * exactly that savepoint (none from a snapshot that existed before); a job whose
 * stop-with-savepoint fails (the simulator's failSavepoint fault) is not moved, keeps running
 * in the source and is reported failed with the operator's error. Real Temporal dev server,
 * worker and simulator.
 */
import { describe, expect, it } from 'vitest';
import { parseS3Uri } from '../../domain/snapshot-layout.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, SMALL_STATE_BYTES, SOURCE_AZ, reportKey, workflowBundle } from '../setup/evacuation-harness.js';

const keyOf = (path: string | undefined): string | undefined => (path === undefined ? undefined : parseS3Uri(path)?.key);

describe('planned evacuation', { timeout: 300_000 }, () => {
  it('restores every job from exactly the savepoint its source took; a failed savepoint leaves the job running in the source', async () => {
    await workflowBundle();
    // State capped: every job stops with a savepoint, whose time grows with state (not what is tested here).
    const h = await EvacuationHarness.start({ jobs: 40, seed: 43, maxStateBytes: SMALL_STATE_BYTES });
    const id = `planned-${Date.now() % 1e9}`;
    try {
      const inSource = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ);
      const refused = inSource.find((j) => j.tier === 'P2' && !j.standby)!;
      await h.sim.client.setFaults({ failSavepoint: [jobKey(refused)] });
      // Every snapshot the source jobs had before: none of them may be restored from.
      const before = new Set<string>();
      for (const j of inSource) {
        const live = await h.sim.client.getDeployment(SOURCE_AZ, j.namespace, j.name);
        for (const e of await h.sim.client.listSnapshots(SOURCE_AZ, snapshotOwner(j, live?.jobId))) before.add(keyOf(e.path)!);
      }
      expect(before.size, 'the source jobs\' snapshots before the move').toBeGreaterThan(inSource.length);
      await h.client.syncCatalog();

      await h.start(id, { mode: 'planned' });
      const { result, report } = await h.finish(id);
      expect(result.phase).toBe('done');
      expect(report.mode).toBe('planned');
      const source = new Map((await h.sim.client.listDeployments(SOURCE_AZ)).map((d) => [`${d.manifest.metadata.namespace}/${d.manifest.metadata.name}`, d]));
      const target = await h.targetDeployments();

      // The refused job: not moved, still RUNNING in the source, failed with the operator's error.
      const failed = report.jobs.find((j) => reportKey(j) === jobKey(refused))!;
      expect(failed).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/stop-with-savepoint of .* in az-a failed: the operator reports: .*SavepointError.*; the job was not moved and keeps running in az-a/) });
      expect(failed.savepointPath).toBeUndefined();
      const still = source.get(jobKey(refused))!;
      expect(still.manifest.spec.job).toMatchObject({ state: 'running' });
      expect(still.status).toMatchObject({ lifecycleState: 'STABLE', jobStatus: { state: 'RUNNING' } });
      expect(target.has(jobKey(refused))).toBe(false);

      // Every other P0–P2 job moved after its source stopped with a savepoint.
      const moved = report.jobs.filter((j) => j.tier !== 'P3' && reportKey(j) !== jobKey(refused));
      expect(moved.length).toBeGreaterThan(5);
      for (const line of moved) {
        expect(line, reportKey(line)).toMatchObject({ outcome: 'running', savepointPath: expect.stringMatching(/^s3:\/\/.*\/savepoint-/) });
        const src = source.get(reportKey(line))!;
        expect(src.status.jobStatus?.upgradeSavepointPath, reportKey(line)).toBe(line.savepointPath);
        expect(src.status.jobStatus?.state).toBe('SUSPENDED');
        expect(before.has(keyOf(line.savepointPath)!), `${reportKey(line)}: a fresh savepoint`).toBe(false);
        if (line.strategy === 'promote-standby') continue;
        // Restored from exactly that savepoint, in the target AZ's replica: no rewind.
        expect(keyOf(line.snapshotPath), reportKey(line)).toBe(keyOf(line.savepointPath));
        expect(line.snapshotAgeSeconds).toBe(0);
        const job = inSource.find((j) => jobKey(j) === reportKey(line))!;
        const copy = target.get(line.strategy === 'resume-standby' && job.standby ? `${job.standby.namespace}/${job.standby.name}` : reportKey(line))!;
        expect(copy.status.jobStatus?.restoredFrom, reportKey(line)).toBe(line.snapshotPath);
      }
      expect(moved.some((l) => l.strategy === 'promote-standby')).toBe(true);
      expect(moved.some((l) => l.strategy === 'redeploy')).toBe(true);

      // The report's planned figures.
      const p2 = report.tiers.find((t) => t.tier === 'P2')!;
      expect(p2.planned).toMatchObject({ stopped: expect.any(Number) });
      expect(p2.planned!.toSavepointSeconds).toBeGreaterThan(0);
      expect(p2.planned!.savepointToRunningSeconds).toBeGreaterThan(0);
      expect(p2.planned!.totalSeconds).toBeCloseTo(Math.max(...moved.filter((l) => l.tier === 'P2').map((l) => l.rtoSeconds!)), 1);
      expect(report.success).toBe(false);
    } finally {
      await h.close([id]);
    }
  });
});

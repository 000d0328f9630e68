/**
 * Restored means restored (docs/design.md#restored-means-restored), end to end on the
 * simulator: jobs report RUNNING while their tasks still restore state, the first checkpoint
 * completes after the restore, and a restore that fails loops RESTARTING ↔ RUNNING. The engine
 * counts a restored job RUNNING only once a checkpoint completed after its restore, and fails a
 * job whose restore loops with the JobManager's exception while the others move. Real Temporal
 * dev server, worker and simulator; one evacuation.
 */
import { describe, expect, it } from 'vitest';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, SOURCE_AZ, reportKey, workflowBundle } from '../setup/evacuation-harness.js';

const TIME_SCALE = 100;

describe('restored means restored', { timeout: 300_000 }, () => {
  it('a job whose restore loops fails with the exception while the others move; restored jobs count RUNNING only after a checkpoint after their restore', async () => {
    await workflowBundle();
    const h = await EvacuationHarness.start({ jobs: 30, seed: 43, timeScale: TIME_SCALE });
    const id = `restored-${Date.now() % 1e9}`;
    try {
      const source = h.sourceJobs();
      const victim = [...source.values()].find((j) => j.az === SOURCE_AZ && j.tier === 'P2' && !j.standby)!;
      await h.sim.client.setFaults({ failRestore: [jobKey(victim)] });
      await h.prepareEmergency();
      await h.start(id);
      const { report } = await h.finish(id);

      const failed = report.jobs.filter((j) => j.outcome === 'failed');
      expect(failed.map(reportKey)).toEqual([jobKey(victim)]);
      expect(failed[0]!.reason).toMatch(/restore loop: the job restarted \d+ times restoring s3:\/\/\S+ without completing a checkpoint; last failure: java\.io\.FileNotFoundException: .*injected failRestore fault/);

      const target = await h.targetDeployments();
      const restored = report.jobs.filter((j) => j.outcome === 'running' && j.snapshotPath !== undefined);
      expect(restored.length).toBeGreaterThan(3);
      for (const line of restored) {
        const deployed = target.get(h.targetOf(source.get(reportKey(line))!, line.strategy).key)!;
        const jobStatus = deployed.status.jobStatus!;
        expect(line.restore, reportKey(line)).toMatchObject({ kind: 'checkpoint-after-restore', restoredPath: line.snapshotPath });
        const checkpointAtMs = (line.restore as { checkpointAtMs: number }).checkpointAtMs;
        // The operator reported the job RUNNING before its tasks finished restoring...
        const restoreMs = (jobStatus.startup!.phases.stateRestore * 1000) / TIME_SCALE;
        expect(restoreMs, reportKey(line)).toBeGreaterThan(0);
        expect(checkpointAtMs - jobStatus.startTime! * 1000, reportKey(line)).toBeGreaterThanOrEqual(restoreMs - 1);
        // ...and the engine counted it RUNNING only after the first checkpoint after the restore.
        expect(line.rtoSeconds!, reportKey(line)).toBeGreaterThanOrEqual(line.restoreVerifiedSeconds!);
      }
      // Jobs started without state count on the operator's RUNNING alone.
      const stateless = report.jobs.filter((j) => j.outcome === 'running' && j.snapshotPath === undefined && j.strategy !== 'promote-standby');
      for (const line of stateless) expect(line.restore, reportKey(line)).toEqual({ kind: 'nothing-restored' });
    } finally {
      await h.close([id]);
    }
  });
});

/**
 * Jobs suspended in the source AZ stay suspended in the target and are reported, never
 * started RUNNING (docs/design.md "Operator rules the renderer follows"): a redeployed job is
 * applied with `state: suspended` and the path of its newest complete snapshot (the operator
 * leaves a resource applied suspended before its first deployment, flink-kubernetes-operator
 * release-1.15.0 AbstractFlinkResourceReconciler L112-115); a P1 job's cold standby is left as
 * it is. Real Temporal dev server, worker and simulator.
 */
import { describe, expect, it } from 'vitest';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, SOURCE_AZ, TARGET_AZ, reportKey, waitFor, workflowBundle } from '../setup/evacuation-harness.js';

describe('jobs suspended in the source AZ', { timeout: 300_000 }, () => {
  it('stay suspended in the target and are reported skipped with what was done', async () => {
    await workflowBundle();
    const h = await EvacuationHarness.start({ jobs: 30, seed: 31 });
    const id = `suspended-source-${Date.now() % 1e9}`;
    try {
      const inSource = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ);
      const p2 = inSource.find((j) => j.tier === 'P2' && !j.standby)!;
      const p1 = inSource.find((j) => j.tier === 'P1' && j.standby?.kind === 'cold' && j.standby.az === TARGET_AZ)!;
      for (const j of [p2, p1]) {
        await h.sim.client.suspend(SOURCE_AZ, j.namespace, j.name);
        await waitFor(`${jobKey(j)} SUSPENDED`, async () => ((await h.sim.client.getDeployment(SOURCE_AZ, j.namespace, j.name))?.lifecycleState === 'SUSPENDED' ? true : undefined));
      }
      await h.prepareEmergency();
      await h.start(id);
      const { report } = await h.finish(id);
      const line = (key: string) => report.jobs.find((j) => reportKey(j) === key)!;
      const target = await h.targetDeployments();

      expect(line(jobKey(p2))).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/suspended in az-a before the evacuation: deployed suspended in az-b with initialSavepointPath s3:\/\//) });
      const redeployed = target.get(jobKey(p2))!;
      expect(redeployed.manifest.spec.job).toMatchObject({ state: 'suspended', initialSavepointPath: expect.stringMatching(/^s3:\/\//) });
      expect(redeployed.status.jobStatus?.state).not.toBe('RUNNING');

      expect(line(jobKey(p1))).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/left suspended, its standby in az-b not started/) });
      const standby = target.get(`${p1.standby!.namespace}/${p1.standby!.name}`)!;
      expect(standby.manifest.spec.job!.state).toBe('suspended');
      // Every other job still moved.
      expect(report.jobs.filter((j) => j.outcome === 'running').length).toBeGreaterThan(5);
    } finally {
      await h.close([id]);
    }
  });
});

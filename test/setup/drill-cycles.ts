/**
 * Guarantee 4 on the simulator (nothing leaked): drill az-a → az-b, fail back
 * (workflows/failback.ts), and compare each AZ's resources with what it had before: the
 * FlinkDeployments (by key, with spec.job.state and the az-evac role label), the HA
 * ConfigMap sets and, per the failback policy (preloaded jars stay in the target's jar
 * cache), the jar cache after the first cycle: later cycles must not grow it.
 */
import { expect } from 'vitest';
import { failbackWorkflowId } from '../../domain/evacuation.js';
import { EvacuationHarness, SOURCE_AZ, TARGET_AZ, waitFor } from './evacuation-harness.js';
import { recordFigure } from './guarantees.js';
import { simulatorResources } from './resource-readers.js';
import { resourceDifferences as differences, type ResourceSets } from './resource-sets.js';

/** The resources of both AZs now. */
function resources(h: EvacuationHarness): Promise<ResourceSets> {
  return simulatorResources(h.sim.client, h.fleet.platform, [SOURCE_AZ, TARGET_AZ]);
}

/**
 * Run `cycles` drill + failback cycles on one fleet and assert zero growth after each.
 * @returns per cycle the jobs moved and the wall seconds of drill and failback
 */
export async function drillFailbackCycles(o: { cycles: number; jobs: number; seed: number; timeScale: number; suite: 'default' | 'slow'; maxStateBytes?: number }): Promise<void> {
  const h = await EvacuationHarness.start({ jobs: o.jobs, seed: o.seed, timeScale: o.timeScale, tiers: { P1: { maxConcurrency: 5 }, P2: { maxConcurrency: 10 } }, ...(o.maxStateBytes === undefined ? {} : { maxStateBytes: o.maxStateBytes }) });
  const ids: string[] = [];
  const t0 = Date.now();
  let moved = 0;
  try {
    await h.client.syncCatalog();
    const before = await resources(h);
    expect(before[SOURCE_AZ]!.deployments.length).toBeGreaterThan(5);
    let jarsAfterFirst: ResourceSets | undefined;
    for (let cycle = 1; cycle <= o.cycles; cycle++) {
      const id = `drill-cycle-${cycle}-${Date.now()}`;
      ids.push(id, failbackWorkflowId(id));
      await h.start(id, { mode: 'drill' });
      const { report } = await h.finish(id);
      const running = report.jobs.filter((j) => j.outcome === 'running').length;
      expect(running).toBeGreaterThan(5);
      moved += running;
      // The drill changed both AZs…
      expect(differences(before, await resources(h)).length).toBeGreaterThan(0);
      const fb = await h.client.failback({ drillId: id, startupTimeoutSeconds: 600 / o.timeScale });
      expect(fb.failed).toEqual([]);
      expect(fb.restoredFromTarget).toBeGreaterThan(0);
      // …and the failback put back exactly what was there (HA ConfigMaps appear as resumed jobs start: poll).
      jarsAfterFirst ??= await resources(h);
      const reference = jarsAfterFirst;
      const left = await waitFor(`cycle ${cycle}: resources as before`, async () => {
        const d = differences(before, await resources(h), cycle > 1 ? reference : undefined);
        return d.length === 0 ? d : undefined;
      }, 30_000, 500).catch(async () => differences(before, await resources(h), cycle > 1 ? reference : undefined));
      expect(left, `cycle ${cycle}`).toEqual([]);
    }
    await recordFigure({
      fault: `${o.cycles} drill + failback cycles (leak check)`, when: 'az-a → az-b → az-a', suite: o.suite,
      outcomes: { jobs: moved, running: moved, failed: 0, skipped: 0 }, wallSeconds: Math.round((Date.now() - t0) / 100) / 10,
      note: 'zero growth: FlinkDeployments, HA ConfigMaps, jar cache',
    });
  } finally {
    await h.close(ids);
  }
}

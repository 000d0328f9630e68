/**
 * Bounded histories (issue 12), slow lane (AZ_EVAC_SLOW=1; two fleets, ~80 s on 2 busy
 * cores): with a continue-as-new budget of 20 events, the evacuation's history and every run
 * of every tier stay under fixed event counts at N and at 2N jobs; more jobs make more tier
 * runs, not longer ones.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tierWorkflowId } from '../../domain/evacuation.js';
import type { Tier } from '../../domain/types.js';
import { EvacuationHarness, workflowBundle } from '../setup/evacuation-harness.js';
import { runsOf } from '../setup/history-events.js';

/** The budget of continue-as-new.test.ts. */
const BUDGET = 20;

describe('bounded histories: event counts stay fixed while the job count doubles', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    await workflowBundle();
  });

  /** Largest history of the evacuation and of any run of any of its tiers, for a fleet of `jobs` primary jobs. */
  async function largestHistories(jobs: number): Promise<{ evacuation: number; tierRun: number; tierRuns: number; admitted: number }> {
    const h = await EvacuationHarness.start({ jobs, seed: 22, timeScale: 100, tiers: { P1: { maxConcurrency: 2 }, P2: { maxConcurrency: 2 } } });
    const id = `can-size-${jobs}-${Date.now()}`;
    try {
      await h.prepareEmergency();
      await h.start(id, { continueAsNewAfterEvents: BUDGET });
      const { result } = await h.finish(id);
      expect(result.phase).toBe('done');
      let tierRun = 0;
      let tierRuns = 0;
      for (const t of ['P0', 'P1', 'P2', 'P3'] satisfies Tier[]) {
        for (const r of await runsOf(h.temporal, tierWorkflowId(id, t))) {
          tierRun = Math.max(tierRun, r.events);
          tierRuns++;
        }
      }
      return { evacuation: (await h.handle(id).describe()).historyLength, tierRun, tierRuns, admitted: (await h.plan(id)).plan.admitted.length };
    } finally {
      await h.close([id]);
    }
  }

  it('the evacuation stays under 200 events and every tier run under its budget + 40, at N and 2N jobs', async () => {
    const small = await largestHistories(30);
    const large = await largestHistories(60);
    expect(large.admitted, 'the fleet doubled').toBeGreaterThanOrEqual(small.admitted * 1.6);
    for (const s of [small, large]) {
      expect(s.evacuation, JSON.stringify(s)).toBeLessThan(200);
      expect(s.tierRun, JSON.stringify(s)).toBeLessThan(BUDGET + 40);
    }
    // More jobs: more tier runs (the tier continues as new), not longer ones.
    expect(large.tierRuns, JSON.stringify({ small, large })).toBeGreaterThan(small.tierRuns);
  });
});

/**
 * Fault injection on a larger fleet (AZ_EVAC_SLOW=1): the scenarios of
 * fault-injection.test.ts on ~150 jobs at time scale 50, each checked against guarantees 1–3
 * and recorded in the fault table of docs/guarantees.md.
 */
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../setup/evacuation-harness.js';
import { LARGE_FLEET, apiFailures, baseline, targetApiDown, temporalRestarted, workerKilled } from '../setup/fault-scenarios.js';

const fleet = LARGE_FLEET;
let baselineSeconds: number | undefined;

describe('evacuation under faults (larger fleet)', { timeout: 1_200_000 }, () => {
  it('fault-free baseline', async () => {
    await workflowBundle();
    baselineSeconds = await baseline(fleet);
  });

  it.each([0.25, 0.5, 0.9])('worker SIGKILLed at %s and restarted 10 s later', async (fraction) => {
    expect((await workerKilled(fleet, fraction, 10_000, baselineSeconds)).report.success).toBe(true);
  });

  it('two workers, one SIGKILLed at half', async () => {
    expect((await workerKilled(fleet, 0.5, 0, baselineSeconds, true)).report.success).toBe(true);
  });

  it.each([0.1, 0.3])('%s of the API calls fail', async (rate) => {
    await apiFailures(fleet, rate, baselineSeconds);
  });

  it("the target AZ's API down for 30 s wall", async () => {
    await targetApiDown(fleet, 0.3, 30_000, baselineSeconds);
  });

  it('the Temporal dev server restarted after 15 s down', async () => {
    expect((await temporalRestarted(fleet, 0.4, 15_000, baselineSeconds)).report.success).toBe(true);
  });
});

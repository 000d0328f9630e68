/**
 * Guarantee 4 on the simulator, reduced form: 2 drill + failback cycles leave each AZ with
 * exactly the resources it had before (20 cycles, state as generated, in
 * failback-leak.slow.test.ts). State capped (SMALL_STATE_BYTES): what is left behind is tested, not
 * how long big state takes to stop with a savepoint.
 */
import { describe, it } from 'vitest';
import { SMALL_STATE_BYTES, workflowBundle } from '../setup/evacuation-harness.js';
import { drillFailbackCycles } from '../setup/drill-cycles.js';

describe('drill + failback leaves nothing behind (guarantee 4)', () => {
  it('2 cycles: FlinkDeployments, HA ConfigMaps and the jar cache as before', async () => {
    await workflowBundle();
    await drillFailbackCycles({ cycles: 2, jobs: 40, seed: 12, timeScale: 100, suite: 'default', maxStateBytes: SMALL_STATE_BYTES });
  }, 300_000);
});

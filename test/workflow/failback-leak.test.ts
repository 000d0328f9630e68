/**
 * Guarantee 4 on the simulator, reduced form: 2 drill + failback cycles leave each AZ with
 * exactly the resources it had before (20 cycles in failback-leak.slow.test.ts).
 */
import { describe, it } from 'vitest';
import { workflowBundle } from '../setup/evacuation-harness.js';
import { drillFailbackCycles } from '../setup/drill-cycles.js';

describe('drill + failback leaves nothing behind (guarantee 4)', () => {
  it('2 cycles: FlinkDeployments, HA ConfigMaps and the jar cache as before', async () => {
    await workflowBundle();
    await drillFailbackCycles({ cycles: 2, jobs: 40, seed: 12, timeScale: 100, suite: 'default' });
  }, 300_000);
});

/** Guarantee 4 on the simulator, soak: 20 drill + failback cycles with zero growth (AZ_EVAC_SLOW=1). */
import { describe, it } from 'vitest';
import { workflowBundle } from '../setup/evacuation-harness.js';
import { drillFailbackCycles } from '../setup/drill-cycles.js';

describe('drill + failback leaves nothing behind (guarantee 4, soak)', () => {
  it('20 cycles: FlinkDeployments, HA ConfigMaps and the jar cache as before', async () => {
    await workflowBundle();
    await drillFailbackCycles({ cycles: 20, jobs: 80, seed: 12, timeScale: 100, suite: 'slow' });
  }, 3_600_000);
});

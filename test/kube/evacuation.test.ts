/**
 * Evacuation az-a → az-b on the two real apiservers with az-a's apiserver stopped, reduced
 * fleet for the default run (the 300-job fleet is evacuation.slow.test.ts), then a failback
 * refused while az-a's apiserver is stopped. The failback run to its end on the apiservers
 * (every job home once az-a answers, ~100 s wall) is failback.slow.test.ts; the default suite
 * runs failbacks to their end on the apiservers in drill-cycles.test.ts and, after an
 * emergency, on the simulator in test/workflow/fencing.test.ts.
 */
import { describe } from 'vitest';
import { evacuationOnKube } from './evacuation-on-kube.js';

describe('evacuation on real apiservers (80 jobs)', () => {
  evacuationOnKube({ jobs: 80, seed: 21, timeScale: 20, minCritical: 20, failback: 'refused' });
});

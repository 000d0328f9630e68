/**
 * Evacuation az-a → az-b on the two real apiservers with az-a's apiserver stopped, reduced
 * fleet for the default run (the 300-job fleet is evacuation.slow.test.ts), then its failback:
 * refused while az-a's apiserver is stopped, every job home once it answers.
 */
import { describe } from 'vitest';
import { evacuationOnKube } from './evacuation-on-kube.js';

describe('evacuation on real apiservers (80 jobs)', () => {
  evacuationOnKube({ jobs: 80, seed: 21, timeScale: 20, minCritical: 20, failback: true });
});

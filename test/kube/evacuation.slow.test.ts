/**
 * Evacuation of a 300-job fleet az-a → az-b on the two real apiservers with az-a's
 * apiserver stopped before the evacuation starts (AZ_EVAC_SLOW=1). The wall time is printed
 * (`[kube evacuation] ...`) and recorded in docs/kubernetes.md.
 */
import { describe } from 'vitest';
import { evacuationOnKube } from './evacuation-on-kube.js';

describe('evacuation on real apiservers (300 jobs)', () => {
  evacuationOnKube({ jobs: 300, seed: 7, timeScale: 20, minCritical: 100 });
});

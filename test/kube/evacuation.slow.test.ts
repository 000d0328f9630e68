/**
 * Evacuation of a 300-job fleet az-a → az-b on the two real apiservers with az-a's
 * apiserver stopped before the evacuation starts (AZ_EVAC_SLOW=1). The wall time is printed
 * (`[kube evacuation] ...`) and recorded in docs/kubernetes.md. Time scale 10, not 20: since a
 * restore counts only after its first checkpoint, one or more of 150 P2 jobs missed the 30-wall-
 * second start-up budget at time scale 20 in two runs (the stand-in's status writes and
 * JobManager REST answers for 300 jobs take wall time the scale does not shrink).
 */
import { describe } from 'vitest';
import { evacuationOnKube } from './evacuation-on-kube.js';

describe('evacuation on real apiservers (300 jobs)', () => {
  evacuationOnKube({ jobs: 300, seed: 7, timeScale: 10, minCritical: 100 });
});

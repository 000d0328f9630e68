/**
 * Failback after an emergency on the two real apiservers (AZ_EVAC_SLOW=1): the 80-job
 * evacuation of evacuation.test.ts, a failback refused while az-a's apiserver is stopped, then,
 * once it answers, every moved job STABLE / RUNNING in az-a again from a savepoint of its az-b
 * run, marked as `kubectl describe` shows, its az-b copy not running. Each job stops with a
 * savepoint in az-b whose time grows with its state (up to 500 GB here), ~100 s wall in all at
 * time scale 20: the default suite keeps the refusal (evacuation.test.ts), failbacks to their
 * end on the apiservers (drill-cycles.test.ts) and the failback after an emergency on the
 * simulator (test/workflow/fencing.test.ts).
 */
import { describe } from 'vitest';
import { evacuationOnKube } from './evacuation-on-kube.js';

describe('evacuation on real apiservers (80 jobs), then its failback', () => {
  evacuationOnKube({ jobs: 80, seed: 21, timeScale: 20, minCritical: 20, failback: 'home' });
});

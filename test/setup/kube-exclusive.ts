/**
 * setupFiles of the `kube` vitest project: one kube file at a time holds the shared local
 * control plane (kube files stop and start its apiservers and count its resources), while
 * the other worker runs temporal or unit files (./lane-sequencer.ts). The lock file lives in
 * the control plane's state dir (./exclusive.ts).
 */
import { join } from 'node:path';
import { holdExclusively } from './exclusive.js';
import { testControlPlane } from './kube.js';

holdExclusively(join(testControlPlane().stateDir, 'test-file.lock'), 'the kube control plane');

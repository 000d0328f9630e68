/**
 * Helpers for tests of the `kube` vitest project (test/kube): the shared local control plane
 * started by test/setup/kube-global-setup.ts.
 */
import { inject } from 'vitest';
import { openLocalControlPlane, type LocalControlPlane } from '../../launchers/local-control-plane.js';
import type { ProvidedControlPlane } from './kube-global-setup.js';

/**
 * The run's local control plane: kubeconfig paths (admin and worker, one context per AZ),
 * plus `openLocalControlPlane(stateDir)` for tokens and stopAz/startAz. A test that stops an
 * AZ must start it again before it ends (the clusters are shared by every file of the run).
 * @throws Error when called outside the `kube` project (no global setup ran)
 */
export function testControlPlane(): ProvidedControlPlane & { handle: LocalControlPlane } {
  const provided = inject('kubeControlPlane');
  if (!provided) {
    throw new Error("no local control plane for this test: put it under test/kube/ (vitest project 'kube'), whose globalSetup starts one");
  }
  return { ...provided, handle: openLocalControlPlane(provided.stateDir) };
}

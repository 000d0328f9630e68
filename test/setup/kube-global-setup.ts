/**
 * vitest globalSetup for the `kube` project: starts the local two-AZ control plane
 * (launchers/local-control-plane.ts: etcd + kube-apiserver per AZ, CRDs, Nodes, the
 * least-privilege worker RBAC) once per test run in a temp dir, provides it to tests as
 * `kubeControlPlane` (read it with `testControlPlane()` from ./kube.js), and stops it on
 * teardown. Builds the binaries first on a cold machine (`scripts/kube.sh install`, 10-35 min;
 * `.ci/run` does that in its own phase before the tests).
 *
 * Set `AZ_EVAC_KUBE_STATE=<dir>` to run the tests against clusters you started yourself
 * (`scripts/kube.sh start <dir>`); nothing is started or stopped then.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openLocalControlPlane, startLocalControlPlane, type LocalControlPlane } from '../../launchers/local-control-plane.js';

/** What tests get through `inject('kubeControlPlane')`. */
export interface ProvidedControlPlane {
  /** State dir: `openLocalControlPlane(stateDir)` gives stopAz/startAz and the clusters' tokens. */
  stateDir: string;
  /** Admin kubeconfig, one context per AZ (named after it). */
  kubeconfigPath: string;
  /** Least-privilege worker kubeconfig, one context per AZ. */
  workerKubeconfigPath: string;
  azs: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeControlPlane: ProvidedControlPlane;
  }
}

function provided(cp: LocalControlPlane): ProvidedControlPlane {
  return { stateDir: cp.stateDir, kubeconfigPath: cp.kubeconfigPath, workerKubeconfigPath: cp.workerKubeconfigPath, azs: cp.clusters.map((c) => c.az) };
}

/** vitest globalSetup entry: returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.AZ_EVAC_KUBE_STATE;
  if (external) {
    project.provide('kubeControlPlane', provided(openLocalControlPlane(external)));
    return async () => {};
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'az-evac-kube-'));
  const started = Date.now();
  const cp = await startLocalControlPlane({ stateDir });
  console.log(`kube-global-setup: ${cp.clusters.length} clusters ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('kubeControlPlane', provided(cp));
  return async () => {
    await cp.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
}

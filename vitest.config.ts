/**
 * Three vitest projects:
 *  - `unit`: pure tests, test/unit/**, default pool, no servers.
 *  - `temporal`: test/workflow/** and test/integration/**, against one real Temporal dev
 *    server per run (test/setup/temporal-global-setup.ts), in the `forks` pool because the
 *    Temporal SDK's native core-bridge module does not like worker threads.
 *  - `kube`: test/kube/**, against a Temporal dev server, the local two-AZ Kubernetes
 *    control plane (test/setup/kube-global-setup.ts) and versitygw per AZ.
 * All three share one pool, two files at a time (server-backed files mostly wait on
 * time-scaled wall clocks, not on the CPU); a kube file holds the shared control
 * plane alone (test/setup/kube-exclusive.ts), so at most one kube file runs at a time;
 * test/setup/lane-sequencer.ts orders the files so that the other worker runs temporal files
 * meanwhile.
 * Files named `*.slow.test.ts` run only with AZ_EVAC_SLOW=1.
 */
import './config/require-node.ts'; // first: a clear error on a Node older than package.json's engines
import { configDefaults, defineConfig } from 'vitest/config';
import LaneSequencer from './test/setup/lane-sequencer.js';

const slowExcluded = process.env.AZ_EVAC_SLOW === '1' ? [] : ['**/*.slow.test.ts'];
const exclude = [...configDefaults.exclude, ...slowExcluded];

/**
 * Test files that run at once (all three projects): two by default (a server-backed file
 * mostly waits on time-scaled wall clocks, not on the CPU); AZ_EVAC_TEST_FILES=1 runs them
 * one by one (docs/testing.md).
 */
const SERVER_FILES_AT_ONCE = Number(process.env.AZ_EVAC_TEST_FILES ?? 2);
if (!Number.isInteger(SERVER_FILES_AT_ONCE) || SERVER_FILES_AT_ONCE < 1) {
  throw new Error(`AZ_EVAC_TEST_FILES=${process.env.AZ_EVAC_TEST_FILES} is not a whole number >= 1. Fix: set it to how many test files may run at once (e.g. 1), or unset it`);
}

export default defineConfig({
  test: {
    passWithNoTests: true,
    // Interleaves kube and temporal files so that the kube lock rarely holds a worker idle.
    sequence: { sequencer: LaneSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude,
          // In the same pool as the server-backed files: the sequencer puts unit files last,
          // where they fill the worker that would otherwise idle while the last long file ends.
          maxWorkers: SERVER_FILES_AT_ONCE,
          sequence: { groupOrder: 1 },
          // Property tests run hundreds of cases (bad-input's tiers.yaml mutations: 3.9 s at load
          // 15): beside two server-backed files the default 5 s timed one out in a full run here.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'temporal',
          include: ['test/workflow/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude,
          globalSetup: ['test/setup/temporal-global-setup.ts', 'test/setup/s3-global-setup.ts', 'test/setup/workflow-bundle-global-setup.ts'],
          pool: 'forks',
          maxWorkers: SERVER_FILES_AT_ONCE,
          // One group (same maxWorkers) with `kube` and `unit`: one pool for all three.
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'kube',
          include: ['test/kube/**/*.test.ts'],
          exclude,
          // A Temporal dev server, the local two-AZ control plane (etcd + kube-apiserver
          // per AZ, built by scripts/kube.sh) and one S3 server per AZ (the k8s platform's
          // object store) per run.
          globalSetup: ['test/setup/temporal-global-setup.ts', 'test/setup/kube-global-setup.ts', 'test/setup/s3-global-setup.ts', 'test/setup/workflow-bundle-global-setup.ts'],
          pool: 'forks',
          setupFiles: ['test/setup/kube-exclusive.ts'],
          maxWorkers: SERVER_FILES_AT_ONCE,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});

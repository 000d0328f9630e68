/**
 * Three vitest projects:
 *  - `unit`: pure tests, test/unit/**, default pool, no servers.
 *  - `temporal`: test/workflow/** and test/integration/**, against one real Temporal dev
 *    server per run (test/setup/temporal-global-setup.ts), in the `forks` pool because the
 *    Temporal SDK's native core-bridge module does not like worker threads.
 *  - `kube`: test/kube/**, against a Temporal dev server, the local two-AZ Kubernetes
 *    control plane (test/setup/kube-global-setup.ts) and versitygw per AZ, one file at a time.
 * Files named `*.slow.test.ts` run only with AZ_EVAC_SLOW=1.
 */
import './config/require-node.ts'; // first: a clear error on a Node older than package.json's engines
import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

const slowExcluded = process.env.AZ_EVAC_SLOW === '1' ? [] : ['**/*.slow.test.ts'];
const exclude = [...configDefaults.exclude, ...slowExcluded];

export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'temporal',
          include: ['test/workflow/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude,
          globalSetup: ['test/setup/temporal-global-setup.ts', 'test/setup/s3-global-setup.ts'],
          pool: 'forks',
          // The dev server and each file's Worker share the CPU: one file per 2 cores
          // (serial on a 2-core machine).
          maxWorkers: Math.max(1, Math.floor(availableParallelism() / 2)),
          // Projects with different maxWorkers need distinct group orders; run after `unit`.
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
          globalSetup: ['test/setup/temporal-global-setup.ts', 'test/setup/kube-global-setup.ts', 'test/setup/s3-global-setup.ts'],
          pool: 'forks',
          // Two apiservers, two etcds and the dev server share the CPU: one file at a time.
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});

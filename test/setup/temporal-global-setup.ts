/**
 * vitest globalSetup of the `temporal` and `kube` projects: starts ONE real Temporal dev
 * server per project and run (launchers/local-processes.ts startTemporalDevServer: the pinned
 * CLI installed first, `scripts/temporal.sh start`, SQLite in a temp dir, free port,
 * headless), provides its address to tests as `temporalAddress` (read it with
 * `testTemporalAddress()` from ./temporal.js), and stops it on teardown.
 *
 * Set `AZ_EVAC_TEMPORAL_ADDRESS=host:port` to run the tests against a server you started
 * yourself (`npm run temporal -- start`); nothing is started or stopped then.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer } from '../../launchers/local-processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** gRPC address (`127.0.0.1:<port>`) of the Temporal dev server shared by the test run. */
    temporalAddress: string;
  }
}

/** vitest globalSetup entry: returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.AZ_EVAC_TEMPORAL_ADDRESS;
  if (external) {
    project.provide('temporalAddress', external);
    return async () => {};
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'az-evac-temporal-'));
  // The launcher kills the server if vitest exits without teardown.
  const server = await startTemporalDevServer(stateDir, { headless: true, onProgress: (line) => console.log(`temporal-global-setup: ${line}`) })
    .catch(async (err: unknown) => {
      await rm(stateDir, { recursive: true, force: true });
      throw err;
    });
  project.provide('temporalAddress', server.address);
  return async () => {
    await server.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
}

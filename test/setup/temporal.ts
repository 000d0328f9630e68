/**
 * Helpers for tests of the `temporal` vitest project (test/workflow, test/integration).
 */
import { inject } from 'vitest';

/**
 * gRPC address (`127.0.0.1:<port>`) of the Temporal dev server started once per test run by
 * test/setup/temporal-global-setup.ts. Use it with `Connection.connect({ address })` or
 * `TestWorkflowEnvironment.createFromExistingServer({ address })`.
 *
 * @throws Error when called outside the `temporal` project (no global setup ran).
 */
export function testTemporalAddress(): string {
  const address = inject('temporalAddress');
  if (!address) {
    throw new Error(
      "no Temporal server for this test: put it under test/workflow/ or test/integration/ (vitest project 'temporal'), whose globalSetup starts one",
    );
  }
  return address;
}

/**
 * vitest globalSetup for the `temporal` project: starts one real S3 server (versitygw,
 * posix backend, `scripts/s3.sh`, built on first use) per AZ — `az-a` and `az-b`, so the
 * symmetric layout (same bucket names, different endpoints) can be laid out — on free
 * ports with per-run random credentials, and provides them to tests as `s3` (read it with
 * `testS3()` from ./s3.js). Stops them and removes their roots on teardown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startS3Servers } from '../../launchers/local-processes.js';

/** What tests get: one endpoint per AZ and the credentials every server accepts. */
export interface TestS3 {
  endpoints: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: TestS3;
  }
}

/** vitest globalSetup entry: returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'az-evac-s3-'));
  const servers = await startS3Servers(root, ['az-a', 'az-b']);
  project.provide('s3', { endpoints: servers.endpoints, accessKeyId: servers.accessKeyId, secretAccessKey: servers.secretAccessKey });
  return async () => {
    await servers.stop();
    rmSync(root, { recursive: true, force: true });
  };
}

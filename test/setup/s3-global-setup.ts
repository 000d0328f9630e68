/**
 * vitest globalSetup for the `temporal` project: starts one real S3 server (versitygw,
 * posix backend, `scripts/s3.sh`, built on first use) per AZ — `az-a` and `az-b`, so the
 * symmetric layout (same bucket names, different endpoints) can be laid out — on free
 * ports with per-run random credentials, and provides them to tests as `s3` (read it with
 * `testS3()` from ./s3.js). Stops them and removes their roots on teardown.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startS3Server, type StartedS3 } from '../../platform/local-processes.js';

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
  const credentials = { accessKeyId: `test${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(18).toString('hex') };
  const root = mkdtempSync(join(tmpdir(), 'az-evac-s3-'));
  const servers: StartedS3[] = [];
  try {
    for (const az of ['az-a', 'az-b']) servers.push(await startS3Server({ rootDir: join(root, az), credentials }));
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  project.provide('s3', { endpoints: { 'az-a': servers[0]!.endpoint, 'az-b': servers[1]!.endpoint }, ...credentials });
  return async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  };
}

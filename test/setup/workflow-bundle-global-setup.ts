/**
 * vitest globalSetup of the `temporal` and `kube` projects: bundles workflows/index.ts once
 * per project and run (bundleWorkflowCode, ~3 s of CPU on the 2-core machine) instead of once
 * per test file, writes the code and its source map to a temp dir and provides their paths
 * as `workflowBundle` (read with `workflowBundle()` from ./evacuation-harness.js). Removes the
 * dir on teardown. Worker processes (worker/main.ts) still bundle for themselves, as in
 * production.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { WORKFLOWS_PATH } from '../../worker/build.js';

/** Where the run's workflow bundle is: code and source map files. */
export interface ProvidedWorkflowBundle {
  codePath: string;
  sourceMapPath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundle: ProvidedWorkflowBundle;
  }
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };

/** vitest globalSetup entry: returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'az-evac-workflow-bundle-'));
  const { code, sourceMap } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const provided = { codePath: join(dir, 'workflows.js'), sourceMapPath: join(dir, 'workflows.js.map') };
  await writeFile(provided.codePath, code);
  await writeFile(provided.sourceMapPath, sourceMap);
  project.provide('workflowBundle', provided);
  return () => rm(dir, { recursive: true, force: true });
}

#!/usr/bin/env node
// `npm run build`: the production build in dist/, run with plain `node` (no tsx):
//   1. tsc -p tsconfig.build.json   (domain, platform, activities, workflows, worker, cli, ...)
//   2. the files the code reads beside itself (resolved against import.meta.url): the Flink
//      operator CRD schema and examples (vendor/flink-operator), the console page
//      (console/public), the RBAC manifests the local control plane applies (deploy/rbac)
//   3. the workflow bundle (bundleWorkflowCode of dist/workflows/index.js) at
//      dist/workflow-bundle.js, which worker/build.ts loads instead of bundling at every start.
// Exits non-zero on the first failing step, naming it.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
/** Source-tree paths copied into dist/ at the same relative path. */
const ASSETS = ['vendor/flink-operator', 'console/public', 'deploy/rbac'];

function step(name, fn) {
  const started = Date.now();
  try {
    fn();
  } catch (err) {
    process.stderr.write(`build: ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  process.stderr.write(`build: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

step('tsc -p tsconfig.build.json', () => {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc exited ${r.status ?? r.signal}; fix the type errors above`);
});

step(`copy ${ASSETS.join(', ')}`, () => {
  for (const path of ASSETS) {
    mkdirSync(dirname(join(DIST, path)), { recursive: true });
    cpSync(join(ROOT, path), join(DIST, path), { recursive: true });
  }
});

// Bundling is async; run it after the synchronous steps.
const started = Date.now();
try {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const noop = () => undefined;
  const logger = { trace: noop, debug: noop, info: noop, log: noop, warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`) };
  const { code } = await bundleWorkflowCode({ workflowsPath: join(DIST, 'workflows', 'index.js'), logger });
  writeFileSync(join(DIST, 'workflow-bundle.js'), code);
} catch (err) {
  process.stderr.write(`build: workflow bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stderr.write(`build: workflow bundle dist/workflow-bundle.js (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

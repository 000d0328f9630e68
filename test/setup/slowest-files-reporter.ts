/**
 * Vitest reporter that prints the ten slowest test files when the run ends (`.ci/run` adds it
 * with `--reporter=./test/setup/slowest-files-reporter.ts` beside the default one).
 *
 * A file's time, in seconds, is the sum of vitest's per-module diagnostic durations:
 * environment setup + runner preparation + import (collect) + setup files + every test and hook
 * (beforeAll/afterAll included, where this project's files start their stacks). It is the
 * time the file held a worker, not the wall time of the run: the temporal and kube projects
 * run files one after another, so on a 2-core machine the sum of these is close to the run.
 * The JSON reporter's startTime/endTime cannot give this: its startTime is the first test's
 * start, so it leaves out a file's beforeAll.
 * Source: vitest's Reporter API, TestModule.diagnostic() (vitest.dev/api/advanced/test-module).
 */
import type { Reporter, TestModule } from 'vitest/node';

const SHOWN = 10;

/** Seconds the file held its worker (see the module comment). */
function fileSeconds(module: TestModule): number {
  const d = module.diagnostic();
  return (d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration) / 1000;
}

export default class SlowestFilesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = testModules
      .map((m) => ({ file: m.relativeModuleId, seconds: fileSeconds(m), state: m.state() }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, SHOWN);
    if (rows.length === 0) return;
    const lines = rows.map((r) => `${r.seconds.toFixed(1).padStart(7)}s  ${r.file}${r.state === 'passed' ? '' : `  (${r.state})`}`);
    process.stdout.write(`\n=== ten slowest test files (setup, import, hooks and tests)\n${lines.join('\n')}\n`);
  }
}

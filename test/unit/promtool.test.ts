/**
 * promtool over deploy/ (scripts/promtool.sh check): the alert rules parse, their unit tests
 * (deploy/prometheus/az-evac-alerts.test.yaml) pass, and every dashboard query parses. Runs
 * the promtool the CI promtool phase builds into ~/.cache/az-evac; in CI a missing promtool
 * fails this test (the phase runs before the tests), elsewhere it is skipped with how to get it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO, 'scripts/promtool.sh');
const version = /^readonly PROM_VERSION="(v[\d.]+)"$/m.exec(readFileSync(SCRIPT, 'utf8'))?.[1];
const binary = join(process.env.AZ_EVAC_CACHE ?? join(homedir(), '.cache/az-evac'), `bin/promtool-${version}/promtool`);
const cached = existsSync(binary);
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

describe('promtool over the alert rules and the dashboard', () => {
  it('finds promtool where the CI phase puts it', () => {
    expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
    if (inCi) expect(cached, `${binary} is missing. Fix: run bash scripts/promtool.sh install (the .ci/run promtool phase) before the tests`).toBe(true);
  });

  it.skipIf(!cached)(`checks the rules, runs their unit tests and checks every dashboard query${cached ? '' : ` (skipped: no ${binary}; bash scripts/promtool.sh install builds it)`}`, async () => {
    const { stdout, stderr } = await promisify(execFile)('bash', [SCRIPT, 'check'], { cwd: REPO });
    expect(stdout).toMatch(/az-evac-alerts\.yaml\n {2}SUCCESS: \d+ rules found/);
    expect(stdout).toMatch(/az-evac-alerts\.test\.yaml\n {2}SUCCESS/);
    expect(stdout).toMatch(/dashboard-rules\.yaml\n {2}SUCCESS: \d+ rules found/);
    expect(stderr).toContain('promtool.sh: alert rules, their unit tests and the dashboard\'s queries pass');
  }, 60_000);
});

/**
 * az-evac against a production-shaped Temporal service, not the dev server (AZ_EVAC_SLOW=1):
 * scripts/temporal-server.sh starts the Temporal server built from the Go module proxy on
 * PostgreSQL (persistence and SQL visibility), TLS on the frontend, 4 history shards, with a
 * namespace that has none of az-evac's search attributes. The worker process refuses it with
 * the fix; `az-evac setup temporal` creates them; then an emergency evacuation of a ~400-job
 * simulated fleet (≈ 200 jobs in az-a) runs through the worker process, everything connecting
 * over TLS through Temporal's environment configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME). Measured: server start, setup,
 * the evacuation; written to .az-evac/production-temporal.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvacuationReport } from '../../domain/report.js';
import { startWorkerProcess, type Started } from '../../launchers/local-processes.js';
import { EvacuationHarness, SOURCE_AZ } from '../setup/evacuation-harness.js';
import { guaranteeProblems, outcomeCounts } from '../setup/guarantees.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(REPO, 'scripts/temporal-server.sh');
const BIN = join(REPO, 'bin/az-evac.mjs');
const run = promisify(execFile);

/** `export K=V` lines into an object. */
function parseExports(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** This process's environment without Temporal settings of the machine, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_') || k.startsWith('AZ_EVAC_TEMPORAL_')) delete env[k];
  return { ...env, ...extra };
}

describe('production-shaped Temporal: server on PostgreSQL, TLS, 4 shards', () => {
  let dir: string;
  let temporalEnv: Record<string, string>;
  let h: EvacuationHarness | undefined;
  let worker: Started | undefined;
  const figures: Record<string, number | string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'az-evac-temporal-server-'));
    const t0 = Date.now();
    const started = await run('bash', [SCRIPT, 'start', dir], { timeout: 1_800_000 });
    figures.serverStartSeconds = Math.round((Date.now() - t0) / 100) / 10;
    temporalEnv = parseExports(started.stdout);
    expect(Object.keys(temporalEnv).sort()).toEqual(['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_NAME']);
  }, 1_900_000);

  afterAll(async () => {
    await worker?.stop();
    await h?.close();
    if (dir) {
      await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the worker refuses the new namespace, setup creates the attributes, then ~200 jobs evacuate over TLS', async () => {
    const env = childEnv(temporalEnv);
    // Plaintext to the TLS frontend fails with the fix named.
    const plain = await run(process.execPath, [BIN, 'setup', 'temporal'], { env: childEnv({ TEMPORAL_ADDRESS: temporalEnv.TEMPORAL_ADDRESS! }), timeout: 120_000 }).then(() => undefined, (e: { stderr: string }) => e.stderr);
    expect(plain).toMatch(/cannot reach Temporal at 127\.0\.0\.1:\d+ \(TEMPORAL_ADDRESS\), namespace default, no TLS: .*Fix: /);

    // The harness's simulator and fleet; the worker is a process (worker/main.ts).
    h = await EvacuationHarness.start({ jobs: 400, seed: 31, timeScale: 100, worker: 'none', temporalEnv, tiers: { P1: { maxConcurrency: 10 }, P2: { maxConcurrency: 40 }, P3: { maxConcurrency: 20 } } });
    const refused = await startWorkerProcess(h.workerEnv()).then(() => 'started', (e: Error) => e.message);
    expect(refused).toMatch(/lacks the search attributes az-evac's workflows set: .*Fix: run `az-evac setup temporal`/);

    let t = Date.now();
    const setup = await run(process.execPath, [BIN, 'setup', 'temporal'], { env, timeout: 120_000 });
    figures.setupSeconds = Math.round((Date.now() - t) / 100) / 10;
    expect(setup.stdout).toMatch(/namespace default, TLS \(CA .*ca\.pem\): created AzEvacSourceAz, AzEvacTargetAz, AzEvacMode, AzEvacTier, AzEvacKind, AzEvacJob, AzEvacRun/);
    const again = await run(process.execPath, [BIN, 'setup', 'temporal'], { env, timeout: 120_000 });
    expect(again.stdout).toContain('nothing to create');

    t = Date.now();
    worker = await startWorkerProcess(h.workerEnv());
    figures.workerStartSeconds = Math.round((Date.now() - t) / 100) / 10;

    await h.prepareEmergency();
    const id = `evac-prod-temporal-${Date.now()}`;
    t = Date.now();
    await h.start(id);
    const { report } = await h.finish(id);
    figures.evacuationSeconds = Math.round((Date.now() - t) / 100) / 10;
    const counts = outcomeCounts(report as EvacuationReport);
    Object.assign(figures, { jobsInScope: counts.jobs, running: counts.running, failed: counts.failed, skipped: counts.skipped });

    expect(counts.jobs).toBeGreaterThan(150);
    expect(await guaranteeProblems(h, id, report, false)).toEqual([]);
    const critical = report.jobs.filter((j) => j.tier !== 'P3');
    expect(report.success).toBe(true);
    expect(critical.filter((j) => j.outcome !== 'running').map((j) => `${j.namespace}/${j.name}: ${j.outcome} ${j.reason ?? ''}`)).toEqual([]);

    // SQL visibility answers queries over az-evac's search attributes.
    const listed: string[] = [];
    for await (const w of h.temporal.workflow.list({ query: `AzEvacKind = 'evacuation' AND AzEvacSourceAz = '${SOURCE_AZ}'` })) listed.push(w.workflowId);
    expect(listed).toContain(id);

    figures.measuredAt = new Date().toISOString();
    await mkdir(join(REPO, '.az-evac'), { recursive: true });
    await writeFile(join(REPO, '.az-evac/production-temporal.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`production-shaped Temporal: ${JSON.stringify(figures)}`);
  }, 1_800_000);
});

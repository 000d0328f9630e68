/**
 * The demo as `az-evac demo --no-s3` runs it (cli/demo.ts: its own Temporal dev server, the
 * simulator process, a worker process and the console), on a small fleet: it prints where its
 * worker and console serve /metrics, and once its evacuation ends the worker's /metrics counts
 * that run, its jobs by tier and outcome and its tier RTOs exactly as the report does. Slow lane
 * (AZ_EVAC_SLOW=1): it starts a dev server of its own; test/integration/metrics.test.ts checks
 * the same figures on the shared stack in every run.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../cli/demo.js';
import type { EvacuationReport } from '../../domain/report.js';
import { sample } from '../setup/prometheus-text.js';

describe('az-evac demo', () => {
  it("prints its /metrics URLs; after the run the worker's /metrics counts the evacuation, its jobs and tier RTOs as the report does", async () => {
    const saved = { ...process.env };
    const stateDir = await mkdtemp(join(tmpdir(), 'az-evac-demo-metrics-'));
    // The demo's own dev server, state and task queue: nothing of the shared test stack.
    delete process.env.AZ_EVAC_TEMPORAL_ADDRESS;
    process.env.AZ_EVAC_STATE = stateDir;
    const lines: string[] = [];
    let worker = '';
    let consoleMetrics = '';
    try {
      const report = await runDemo({
        jobs: 30, seed: 3, timeScale: 50, preload: true, s3: false, log: (l) => lines.push(l),
        onReport: async (reportFile, metrics) => {
          worker = await (await fetch(metrics.worker)).text();
          consoleMetrics = await (await fetch(metrics.console)).text();
          return JSON.parse(await readFile(reportFile, 'utf8')) as EvacuationReport;
        },
      });
      expect(lines).toContainEqual(expect.stringMatching(/^Metrics \(Prometheus\): worker http:\/\/127\.0\.0\.1:\d+\/metrics, console http:\/\/127\.0\.0\.1:\d+\/metrics$/));
      const outcome = report.abortedBy ? 'aborted' : report.success ? 'success' : 'failed';
      expect(sample(worker, 'az_evac_evacuations_total', { mode: 'emergency', outcome })).toBe(1);
      for (const t of report.tiers) {
        for (const o of ['running', 'failed', 'skipped'] as const) {
          const expected = report.jobs.filter((j) => j.tier === t.tier && j.outcome === o).length;
          expect(sample(worker, 'az_evac_jobs_total', { tier: t.tier, mode: 'emergency', outcome: o }) ?? 0, `${t.tier} ${o}`).toBe(expected);
        }
        if (t.rtoSeconds !== null) expect(sample(worker, 'az_evac_tier_rto_seconds', { tier: t.tier, mode: 'emergency' }), t.tier).toBe(t.rtoSeconds);
        expect(sample(worker, 'az_evac_tier_rto_target_seconds', { tier: t.tier, mode: 'emergency' }), t.tier).toBe(t.rtoTargetSeconds);
      }
      expect(sample(worker, 'az_evac_catalog_syncs_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(2);
      expect(consoleMetrics).toContain('# TYPE az_evac_console_requests_total counter');
    } finally {
      process.env = saved;
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});

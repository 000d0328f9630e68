/**
 * az-evac's Prometheus metrics (platform/prometheus-metrics.ts): what a report, a plan's
 * findings and a catalog sync put on /metrics, and that the alert rules and the Grafana
 * dashboard in deploy/ name only metrics that exist (the worker's and the console's).
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../domain/report.js';
import type { Finding, Plan, PlannedJob, Tier } from '../../domain/types.js';
import { countingApiErrors } from '../../platform/api-error-counting.js';
import { PlatformError } from '../../platform/errors.js';
import { createPrometheusMetrics } from '../../platform/prometheus-metrics.js';
import { DEFAULT_RTO_RATES } from '../../domain/rto-estimate.js';
import { assessProtection } from '../../domain/protection.js';
import { tiersPolicy } from './fixtures/fleet.js';
import { sample } from '../setup/prometheus-text.js';

const T0 = 1_800_000_000_000;
const planned = (name: string, tier: Tier): PlannedJob => ({ key: `ns/${name}`, name, namespace: 'ns', tier, catalogTier: tier, strategy: 'redeploy', cores: 1, memoryMiB: 1024, jarDigests: [] });

function report() {
  const plan: Plan = {
    sourceAz: 'az-a', targetAz: 'az-b', catalogVersion: 1,
    admitted: [planned('a', 'P0'), planned('b', 'P2'), planned('c', 'P2')], notAdmitted: [], preemptions: [],
    findings: [], capacityBefore: { cores: 10, memoryMiB: 10 }, capacityAfter: { cores: 2, memoryMiB: 2 }, jars: [],
  };
  const done = (name: string, tier: Tier, outcome: 'running' | 'failed', endSeconds: number, snapshotAgeSeconds?: number) => ({
    key: `ns/${name}`, name, namespace: 'ns', tier, strategy: 'redeploy' as const, outcome, steps: {},
    startedAtMs: T0, endedAtMs: T0 + endSeconds * 1000, ...(snapshotAgeSeconds !== undefined ? { snapshotAgeSeconds } : {}),
  });
  return buildReport({
    evacuationId: 'evac-1', sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill', startedAtMs: T0, endedAtMs: T0 + 60_000,
    plan, policy: tiersPolicy(), outcomes: [done('a', 'P0', 'running', 4, 30), done('b', 'P2', 'running', 42, 120), done('c', 'P2', 'failed', 50)],
  });
}


describe('Prometheus metrics', () => {
  it("records a run's outcome, jobs by tier and outcome, tier RTO and RPO paid against targets", async () => {
    const m = createPrometheusMetrics();
    const r = report();
    expect(r.success).toBe(false);
    m.engine.recordReport(r);
    const text = await m.registry.metrics();
    expect(sample(text, 'az_evac_evacuations_total', { mode: 'drill', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'az_evac_evacuations_total', { mode: 'drill', outcome: 'success' })).toBeUndefined();
    expect(sample(text, 'az_evac_jobs_total', { tier: 'P2', mode: 'drill', outcome: 'running' })).toBe(1);
    expect(sample(text, 'az_evac_jobs_total', { tier: 'P2', mode: 'drill', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'az_evac_tier_rto_seconds', { tier: 'P2', mode: 'drill' })).toBe(42);
    expect(sample(text, 'az_evac_tier_rto_target_seconds', { tier: 'P2', mode: 'drill' })).toBe(r.tiers.find((t) => t.tier === 'P2')!.rtoTargetSeconds);
    expect(sample(text, 'az_evac_tier_rpo_paid_seconds', { tier: 'P0', mode: 'drill' })).toBe(30);
    // A tier in which nothing ran has no achieved RTO: no series, rather than an older run's.
    expect(sample(text, 'az_evac_tier_rto_seconds', { tier: 'P1', mode: 'drill' })).toBeUndefined();
  });

  it('counts protection passes: savepoints taken and failed, copies and bytes shipped, the last pass\'s duration', async () => {
    const m = createPrometheusMetrics();
    m.engine.recordProtectionPass({ savepointsTaken: 5, savepointsFailed: 1, copiesShipped: 4, copiesFailed: 0, shippedBytes: 4096, durationSeconds: 42 });
    m.engine.recordProtectionPass({ savepointsTaken: 2, savepointsFailed: 1, copiesShipped: 1, copiesFailed: 1, shippedBytes: 1024, durationSeconds: 7.5 });
    const text = await m.registry.metrics();
    expect(sample(text, 'az_evac_protection_passes_total', {})).toBe(2);
    expect(sample(text, 'az_evac_protection_savepoints_total', { outcome: 'taken' })).toBe(7);
    expect(sample(text, 'az_evac_protection_savepoints_total', { outcome: 'failed' })).toBe(2);
    expect(sample(text, 'az_evac_protection_copies_total', { outcome: 'shipped' })).toBe(5);
    expect(sample(text, 'az_evac_protection_copies_total', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'az_evac_protection_shipped_bytes_total', {})).toBe(5120);
    expect(sample(text, 'az_evac_protection_pass_duration_seconds', {})).toBe(7.5);
    expect(sample(text, 'az_evac_protection_last_pass_timestamp_seconds', {})).toBeGreaterThan(1_700_000_000);
  });

  it("keeps only the last plan's findings, and the last stored catalog's time", async () => {
    const m = createPrometheusMetrics();
    const f = (code: Finding['code'], blocking: boolean): Finding => ({ job: 'ns/x', code, blocking, message: '' });
    m.engine.recordFindings([f('jars-missing', true), f('jars-missing', true), f('zonal-volume', false)]);
    m.engine.recordFindings([f('jars-missing', true)]);
    m.engine.recordCatalogSync({ ok: true, jobs: 12, endedAtMs: 1_700_000_000_000 });
    m.engine.recordCatalogSync({ ok: false });
    const text = await m.registry.metrics();
    expect(sample(text, 'az_evac_readiness_findings', { code: 'jars-missing', blocking: 'true' })).toBe(1);
    expect(sample(text, 'az_evac_readiness_findings', { code: 'zonal-volume' })).toBeUndefined();
    expect(sample(text, 'az_evac_catalog_last_success_timestamp_seconds')).toBe(1_700_000_000);
    expect(sample(text, 'az_evac_catalog_syncs_total', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'az_evac_catalog_jobs')).toBe(12);
  });

  it('counts failed platform calls by adapter, AZ, port method and error class (a stand-in port object, the wrapper is what is tested)', async () => {
    const m = createPrometheusMetrics();
    const port = {
      calls: 0,
      async getDeployment(az: string, _ns: string, name: string): Promise<string> {
        this.calls += 1;
        if (name === 'gone') throw new PlatformError('not-found', `${az}: ${name} not found`, false);
        if (name === 'busy') throw new PlatformError('throttled', 'slow down', true, 2);
        if (name === 'odd') throw new TypeError('not a platform error');
        if (name === 'cancelled') throw Object.assign(new Error('aborted'), { name: 'AbortError' });
        return name;
      },
      readFleet(): Promise<never> { return Promise.reject(new PlatformError('unavailable', 'no AZ answers', true)); },
    };
    const counted = countingApiErrors(port, 'kubernetes', (e) => m.engine.recordPlatformApiError(e));
    await expect(counted.getDeployment('az-b', 'ns', 'ok')).resolves.toBe('ok');
    await expect(counted.getDeployment('az-b', 'ns', 'gone')).rejects.toThrow('az-b: gone not found');
    await expect(counted.getDeployment('az-b', 'ns', 'gone')).rejects.toBeInstanceOf(PlatformError);
    await expect(counted.getDeployment('az-a', 'ns', 'busy')).rejects.toMatchObject({ code: 'throttled', retryAfterSeconds: 2 });
    await expect(counted.getDeployment('az-a', 'ns', 'odd')).rejects.toBeInstanceOf(TypeError);
    await expect(counted.getDeployment('az-a', 'ns', 'cancelled')).rejects.toThrow('aborted');
    await expect(counted.readFleet()).rejects.toThrow('no AZ answers');
    expect(port.calls).toBe(6); // methods run on the port itself, once per call
    const text = await m.registry.metrics();
    const errors = (labels: Record<string, string>) => sample(text, 'az_evac_platform_api_errors_total', { platform: 'kubernetes', ...labels });
    expect(errors({ az: 'az-b', operation: 'getDeployment', class: 'not-found' })).toBe(2);
    expect(errors({ az: 'az-a', operation: 'getDeployment', class: 'throttled' })).toBe(1);
    expect(errors({ az: 'az-a', operation: 'getDeployment', class: 'unclassified' })).toBe(1);
    expect(errors({ az: '', operation: 'readFleet', class: 'unavailable' })).toBe(1);
    // Neither the successful call nor the cancelled one is counted: four series, no more.
    expect([...text.matchAll(/^az_evac_platform_api_errors_total\{/gm)]).toHaveLength(4);
  });

  it("counts the last plan's jobs predicted to miss their tier's RTO, per tier (0 for a tier that fits)", async () => {
    const m = createPrometheusMetrics();
    const job = (key: string, tier: Tier, misses: boolean) => ({
      key, tier, strategy: 'redeploy' as const, seconds: misses ? 900 : 100, rtoTargetSeconds: 540, misses,
      parts: { dispatchWait: 0, startup: 100, jarFetch: 0, restore: 0 }, inputs: { stateBytes: 0, stateFrom: 'catalog' as const, jarBytes: 0, jarsFrom: 'none' as const },
    });
    const forecast = (jobs: ReturnType<typeof job>[]) => ({ rates: DEFAULT_RTO_RATES, timeScale: 1, jobs });
    m.engine.recordForecast(forecast([job('ns/a', 'P1', true), job('ns/b', 'P1', true), job('ns/c', 'P2', false)]));
    m.engine.recordForecast(forecast([job('ns/a', 'P1', true), job('ns/c', 'P2', false)]));
    const text = await m.registry.metrics();
    expect(sample(text, 'az_evac_predicted_rto_miss_jobs', { tier: 'P1' })).toBe(1);
    expect(sample(text, 'az_evac_predicted_rto_miss_jobs', { tier: 'P2' })).toBe(0);
    expect(sample(text, 'az_evac_predicted_rto_miss_jobs', { tier: 'P0' })).toBeUndefined();
  });

  it("gives per tier the worst RPO it would pay now and its unprotected jobs, from the last assessment only", async () => {
    const m = createPrometheusMetrics();
    const NOW = 1_800_000_000;
    const newest = (age: number) => ({ kind: 'snapshot' as const, path: 's3://b/sp', snapshotKind: 'savepoint' as const, completedAtEpochSeconds: NOW - age });
    const of = (key: string, tier: Tier, other: Parameters<typeof assessProtection>[0]['otherAzs'][string]) =>
      assessProtection({ job: key, tier, az: 'az-a', rpoSeconds: 900, otherAzs: { 'az-b': other } }, { tiers: ['P0', 'P1', 'P2'], refreshAtRpoFraction: 0.5 }, {}, NOW);
    m.engine.recordProtection([of('ns/old', 'P0', newest(900)), of('ns/old2', 'P0', { kind: 'none', reason: 'none' })]);
    m.engine.recordProtection([of('ns/a', 'P1', newest(40)), of('ns/b', 'P1', newest(75)), of('ns/c', 'P1', newest(2000)), of('ns/d', 'P2', { kind: 'none', reason: 'none' }), of('ns/e', 'P2', { kind: 'unknown', reason: '503' })]);
    const text = await m.registry.metrics();
    expect(sample(text, 'az_evac_tier_snapshot_age_seconds', { tier: 'P1' })).toBe(2000);
    expect(sample(text, 'az_evac_unprotected_jobs', { tier: 'P1' })).toBe(1);
    // A tier whose jobs have no restorable snapshot has no RPO now; both of its jobs are unprotected.
    expect(sample(text, 'az_evac_tier_snapshot_age_seconds', { tier: 'P2' })).toBeUndefined();
    expect(sample(text, 'az_evac_unprotected_jobs', { tier: 'P2' })).toBe(2);
    // The previous assessment's tier is gone.
    expect(sample(text, 'az_evac_tier_snapshot_age_seconds', { tier: 'P0' })).toBeUndefined();
    expect(sample(text, 'az_evac_unprotected_jobs', { tier: 'P0' })).toBeUndefined();
  });

  it('the alert rules and the dashboard name only metrics the worker or the console exports', async () => {
    const worker = await createPrometheusMetrics().registry.getMetricsAsJSON();
    // The console's own: its request counter (console/server.ts) and process metrics under az_evac_console_.
    const known = new Set([...worker.map((x) => x.name), 'az_evac_console_requests_total']);
    const rules = parse(await readFile(new URL('../../deploy/prometheus/az-evac-alerts.yaml', import.meta.url), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const dashboard = JSON.parse(await readFile(new URL('../../deploy/grafana/az-evac-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exprs = [...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))];
    expect(exprs.length).toBeGreaterThan(10);
    const named = exprs.flatMap((e) => [...e.matchAll(/\baz_evac_[a-z_]+/g)].map((x) => x[0]));
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !known.has(n))).toEqual([]);
    expect(rules.groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual(expect.arrayContaining(['AzEvacCatalogSyncFailing', 'AzEvacReadinessBlocking', 'AzEvacJobsUnprotected']));
  });
});

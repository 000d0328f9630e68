/**
 * az-evac's own metrics, in Prometheus form (prom-client), for the worker's `/metrics`
 * (worker/health.ts). Every worker process records what its own activities did: counters
 * are summed across workers by Prometheus (`sum by (...)`), gauges carry the last value the
 * recording worker saw. Names follow Prometheus conventions (base units: seconds, bytes;
 * `_total` for counters). The alert rules in deploy/prometheus/ and the dashboard in
 * deploy/grafana/ read these names; test/unit/metrics.test.ts keeps them in step.
 *
 * Where each comes from:
 * - evacuations, jobs, tier RTO and RPO: the evacuation's report (activities/report.ts), once
 *   per evacuation or drill run, so a drill's missed RTO is visible on a dashboard;
 * - readiness findings, jobs predicted to miss their tier's RTO, the RPO each tier would pay now
 *   and its unprotected jobs: the plan of the last evacuation, drill or plan preview
 *   (activities/plan.ts);
 * - catalog sync: each sync activity (activities/catalog-sync.ts);
 * - protection loop: each finished protection pass (activities/protection-pass.ts): savepoints
 *   taken and failed (after their retries), copies and bytes shipped, the pass's duration;
 * - jar preload: bytes copied by the preload activity (activities/jars.ts);
 * - platform API errors: every failed call of an activity to Kubernetes, S3 or the simulator
 *   (platform/api-error-counting.ts, wired in worker/build.ts).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EvacuationReport } from '../domain/report.js';
import type { Finding, RtoForecast } from '../domain/types.js';
import { tierRpoNow, type TierRpoNow } from '../domain/rpo-now.js';
import type { JobProtection } from '../domain/protection.js';
import type { EngineMetrics, PlatformApiError } from './ports.js';

/** The registry behind `/metrics` and the recorder activities use. */
export interface PrometheusMetrics {
  registry: Registry;
  engine: EngineMetrics;
}

/**
 * Create a registry with Node's process metrics (`az_evac_process_*`, `az_evac_nodejs_*`) and
 * the engine's metrics. One per process (prom-client refuses a metric name twice in a registry).
 */
export function createPrometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'az_evac_' });
  const registers = [registry];
  const evacuations = new Counter({
    name: 'az_evac_evacuations_total', help: 'Evacuation runs that wrote a report, by mode and outcome (success, failed, aborted)',
    labelNames: ['mode', 'outcome'] as const, registers,
  });
  const jobs = new Counter({
    name: 'az_evac_jobs_total', help: 'Jobs of evacuation runs by tier, mode and outcome (running = RUNNING in the target AZ, failed, skipped)',
    labelNames: ['tier', 'mode', 'outcome'] as const, registers,
  });
  const rto = new Gauge({
    name: 'az_evac_tier_rto_seconds', help: 'Trigger to the last job of the tier RUNNING in the last evacuation run of this mode, wall seconds',
    labelNames: ['tier', 'mode'] as const, registers,
  });
  const rtoTarget = new Gauge({
    name: 'az_evac_tier_rto_target_seconds', help: "The tier's RTO target in the last evacuation run (tiers.yaml rtoSeconds on the platform's clock), seconds",
    labelNames: ['tier', 'mode'] as const, registers,
  });
  const rpo = new Gauge({
    name: 'az_evac_tier_rpo_paid_seconds', help: 'Age of the oldest snapshot a job of the tier restored from in the last evacuation run of this mode, seconds',
    labelNames: ['tier', 'mode'] as const, registers,
  });
  const rpoTarget = new Gauge({
    name: 'az_evac_tier_rpo_target_seconds', help: "The tier's RPO limit in the last evacuation run (tiers.yaml rpoSeconds), seconds",
    labelNames: ['tier', 'mode'] as const, registers,
  });
  const findings = new Gauge({
    name: 'az_evac_readiness_findings', help: 'Readiness findings of the last plan (evacuation, drill or preview), by code and whether they block a job',
    labelNames: ['code', 'blocking'] as const, registers,
  });
  const predictedMisses = new Gauge({
    name: 'az_evac_predicted_rto_miss_jobs', help: "Jobs of the last plan (evacuation, drill or preview) predicted to miss their tier's RTO, by tier",
    labelNames: ['tier'] as const, registers,
  });
  const snapshotAge = new Gauge({
    name: 'az_evac_tier_snapshot_age_seconds', help: "RPO now: the oldest, among the tier's jobs in the last plan or protection assessment, of the age of the job's newest restorable snapshot in the target AZ (a plan) or in any other AZ (an assessment): the worst RPO an evacuation would pay now, seconds on the platform's clock",
    labelNames: ['tier'] as const, registers,
  });
  const unprotected = new Gauge({
    name: 'az_evac_unprotected_jobs', help: "Jobs of a protected tier (tiers.yaml protection.tiers) in the last plan or protection assessment with no restorable snapshot within the tier's RPO in the target AZ, or another AZ (readiness finding 'unprotected' and protect status say why)",
    labelNames: ['tier'] as const, registers,
  });
  const syncs = new Counter({
    name: 'az_evac_catalog_syncs_total', help: 'Catalog sync attempts by outcome (ok, failed)',
    labelNames: ['outcome'] as const, registers,
  });
  const lastSync = new Gauge({
    name: 'az_evac_catalog_last_success_timestamp_seconds', help: 'When the last catalog sync that stored a catalog ended, Unix seconds', registers,
  });
  const catalogJobs = new Gauge({ name: 'az_evac_catalog_jobs', help: 'Jobs in the last catalog stored', registers });
  const preloadBytes = new Counter({ name: 'az_evac_jar_preload_bytes_total', help: 'Jar bytes copied into target AZs by preloads', registers });
  const protectionSavepoints = new Counter({
    name: 'az_evac_protection_savepoints_total', help: 'Savepoints the protection loop took, by outcome (taken; failed: after its retries, with the operator\'s reason in the pass and the next plan)',
    labelNames: ['outcome'] as const, registers,
  });
  const protectionCopies = new Counter({
    name: 'az_evac_protection_copies_total', help: 'Savepoint copies the protection loop shipped to AZs whose stores do not replicate, by outcome (shipped, failed)',
    labelNames: ['outcome'] as const, registers,
  });
  const protectionBytes = new Counter({ name: 'az_evac_protection_shipped_bytes_total', help: 'Bytes the protection loop copied between AZs (shipped savepoints)', registers });
  const protectionPasses = new Counter({ name: 'az_evac_protection_passes_total', help: 'Protection passes that ended', registers });
  const protectionDuration = new Gauge({ name: 'az_evac_protection_pass_duration_seconds', help: 'How long the last protection pass took, wall seconds (a pass longer than the schedule interval skips the next run)', registers });
  const protectionLast = new Gauge({ name: 'az_evac_protection_last_pass_timestamp_seconds', help: 'When the last protection pass ended, Unix seconds', registers });
  const apiErrors = new Counter({
    name: 'az_evac_platform_api_errors_total',
    help: 'Failed platform calls of activities, by adapter (kubernetes, s3, simulator), AZ, port method and error class (platform/errors.ts code, or unclassified)',
    labelNames: ['platform', 'az', 'operation', 'class'] as const, registers,
  });

  const engine: EngineMetrics = {
    recordReport(report: EvacuationReport): void {
      const outcome = report.abortedBy ? 'aborted' : report.success ? 'success' : 'failed';
      evacuations.inc({ mode: report.mode, outcome });
      for (const j of report.jobs) jobs.inc({ tier: j.tier, mode: report.mode, outcome: j.outcome });
      for (const t of report.tiers) {
        const labels = { tier: t.tier, mode: report.mode };
        rtoTarget.set(labels, t.rtoTargetSeconds);
        rpoTarget.set(labels, t.rpoTargetSeconds);
        // A tier with no job RUNNING has no achieved figure: the series goes away rather than keep an old run's.
        if (t.rtoSeconds === null) rto.remove(labels);
        else rto.set(labels, t.rtoSeconds);
        if (t.worstRpoSeconds === null) rpo.remove(labels);
        else rpo.set(labels, t.worstRpoSeconds);
      }
    },
    recordFindings(list: Finding[]): void {
      findings.reset();
      for (const f of list) findings.inc({ code: f.code, blocking: String(f.blocking) });
    },
    recordForecast(forecast: RtoForecast): void {
      predictedMisses.reset();
      for (const j of forecast.jobs) predictedMisses.inc({ tier: j.tier }, j.misses ? 1 : 0);
    },
    recordProtection(list: readonly JobProtection[]): void {
      engine.recordProtectionTiers(tierRpoNow(list));
    },
    recordProtectionTiers(tiers: readonly TierRpoNow[]): void {
      snapshotAge.reset();
      unprotected.reset();
      for (const t of tiers) {
        unprotected.set({ tier: t.tier }, t.unprotected);
        if (t.worstAgeSeconds !== null) snapshotAge.set({ tier: t.tier }, t.worstAgeSeconds);
      }
    },
    recordProtectionPass(pass): void {
      protectionPasses.inc();
      protectionSavepoints.inc({ outcome: 'taken' }, pass.savepointsTaken);
      protectionSavepoints.inc({ outcome: 'failed' }, pass.savepointsFailed);
      protectionCopies.inc({ outcome: 'shipped' }, pass.copiesShipped);
      protectionCopies.inc({ outcome: 'failed' }, pass.copiesFailed);
      if (pass.shippedBytes > 0) protectionBytes.inc(pass.shippedBytes);
      protectionDuration.set(pass.durationSeconds);
      protectionLast.set(Date.now() / 1000);
    },
    recordCatalogSync(result: { ok: true; jobs: number; endedAtMs: number } | { ok: false }): void {
      syncs.inc({ outcome: result.ok ? 'ok' : 'failed' });
      if (!result.ok) return;
      lastSync.set(result.endedAtMs / 1000);
      catalogJobs.set(result.jobs);
    },
    recordPreloadBytes(bytes: number): void {
      if (bytes > 0) preloadBytes.inc(bytes);
    },
    recordPlatformApiError(error: PlatformApiError): void {
      apiErrors.inc({ platform: error.platform, az: error.az, operation: error.operation, class: error.class });
    },
  };
  return { registry, engine };
}

/**
 * The forecast part of a plan made after the plan itself (activities/plan.ts forecastPlan): the
 * RPO now of every restoring job (Plan.protection), the RTO forecast (Plan.rto) and the findings
 * both add, all informational (never blocking: a job's admission does not depend on them). An
 * evacuation stores its plan first, dispatches its first tier (P0's hot-standby promotions need
 * none of this), and stores this apart under its own key; the stores merge it into the plan they
 * return (platform/evacuation-file-store.ts, platform/s3/replicated-state-store.ts), so every
 * reader of a plan (job steps, the report) sees one plan, with its forecast once it exists.
 */
import type { Finding, Plan } from './types.js';

/** What forecastPlan adds to a stored plan. */
export interface PlanForecast {
  rto: NonNullable<Plan['rto']>;
  protection: NonNullable<Plan['protection']>;
  /** Findings added to the plan's own (unprotected jobs, predicted RTO misses): all non-blocking. */
  findings: Finding[];
}

/**
 * `plan` with `forecast` merged in: Plan.rto and Plan.protection set, the forecast's findings
 * appended. A new object; `plan` is not changed.
 * @throws Error when `forecast` carries a blocking finding (the plan's admissions were decided without it)
 */
export function planWithForecast(plan: Plan, forecast: PlanForecast): Plan {
  const blocking = forecast.findings.filter((f) => f.blocking);
  if (blocking.length > 0) throw new Error(`a forecast cannot add blocking findings (the plan's admissions are already decided): ${blocking.map((f) => `${f.code} ${f.job}`).join(', ')}`);
  return { ...plan, rto: forecast.rto, protection: forecast.protection, findings: [...plan.findings, ...forecast.findings] };
}

/**
 * `stored` (a StoredPlan, platform/ports.ts) with `forecast` merged in (planWithForecast) and
 * `pendingForecast` dropped. A new object; `stored` is not changed.
 * @throws Error when `stored` is not waiting for a forecast (made with its forecast, or merged already), or as planWithForecast
 */
export function withForecast<S extends { plan: Plan; pendingForecast?: unknown }>(stored: S, forecast: PlanForecast): S {
  if (!stored.pendingForecast) throw new Error(`the plan of catalog v${stored.plan.catalogVersion} (${stored.plan.sourceAz} → ${stored.plan.targetAz}) is not waiting for a forecast; store a forecast only for a plan stored with pendingForecast`);
  const merged: S = { ...stored, plan: planWithForecast(stored.plan, forecast) };
  delete merged.pendingForecast;
  return merged;
}

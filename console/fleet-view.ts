/**
 * What the console shows of the fleet and of a plan, as small JSON: per AZ and tier the
 * jobs and cores of the catalog, and a plan's summary (what moves, what is preempted, what
 * will not fit, readiness findings, the RPO an evacuation would pay now and the unprotected
 * jobs) with at most `maxRows` items per list. Pure.
 */
import { summarizePlan, type TierSummary } from '../domain/planner.js';
import { tierRpoNow, type TierRpoNow } from '../domain/rpo-now.js';
import type { JobProtection } from '../domain/protection.js';
import { TIERS, type Catalog, type Finding, type JobRtoForecast, type NotAdmitted, type Plan, type Preemption, type RtoRates, type Tier } from '../domain/types.js';

/** One AZ of the fleet at a glance. */
export interface AzView {
  az: string;
  zone: string;
  tiers: Array<{ tier: Tier; jobs: number; cores: number }>;
  jobs: number;
  cores: number;
}

/** The fleet at a glance. */
export interface FleetView {
  catalogVersion: number;
  catalogTakenAt: string;
  azs: AzView[];
}

/** Jobs and cores per AZ and tier of `catalog`. */
export function fleetView(catalog: Catalog): FleetView {
  const azs = catalog.platform.azs.map((a): AzView => {
    const mine = catalog.jobs.filter((j) => j.az === a.name);
    const tiers = TIERS.map((tier) => {
      const t = mine.filter((j) => j.tier === tier);
      return { tier, jobs: t.length, cores: t.reduce((n, j) => n + j.resources.cores, 0) };
    });
    return { az: a.name, zone: a.zone, tiers, jobs: mine.length, cores: tiers.reduce((n, t) => n + t.cores, 0) };
  });
  return { catalogVersion: catalog.version, catalogTakenAt: catalog.takenAt, azs };
}

/** A list cut to its first rows, with the full count. */
export interface Capped<T> {
  count: number;
  items: T[];
}

const cap = <T>(items: T[], max: number): Capped<T> => ({ count: items.length, items: items.slice(0, max) });

/** A plan as the trigger dialog shows it. */
export interface PlanView {
  sourceAz: string;
  targetAz: string;
  catalogVersion: number;
  tiers: TierSummary[];
  capacityBefore: Plan['capacityBefore'];
  capacityAfter: Plan['capacityAfter'];
  preemptions: Capped<Pick<Preemption, 'key' | 'cores' | 'forJob'>>;
  notAdmitted: Capped<NotAdmitted>;
  findings: Capped<Finding> & { blocking: number; byCode: Record<string, number> };
  /** The plan's RTO forecast (Plan.rto): the jobs predicted to miss their tier's RTO, slowest first, with the estimate and its inputs, and the rates used; absent without a forecast. */
  predictedRto?: { rates: RtoRates; timeScale: number; misses: Capped<JobRtoForecast> };
  /**
   * The RPO an evacuation would pay now (Plan.protection, domain/rpo-now.ts): per tier the worst age
   * against the tier's RPO and the counts, and the unprotected jobs with why; absent in plans
   * made before it existed.
   */
  rpoNow?: { tiers: TierRpoNow[]; unprotected: Capped<JobProtection>; notLookedUp: number };
}

/** Summary of `plan` for the trigger dialog and the readiness column. */
export function planView(plan: Plan, maxRows = 25): PlanView {
  const byCode: Record<string, number> = {};
  for (const f of plan.findings) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  const findings = [...plan.findings].sort((a, b) => Number(b.blocking) - Number(a.blocking));
  return {
    sourceAz: plan.sourceAz, targetAz: plan.targetAz, catalogVersion: plan.catalogVersion,
    tiers: summarizePlan(plan), capacityBefore: plan.capacityBefore, capacityAfter: plan.capacityAfter,
    preemptions: cap(plan.preemptions.map((p) => ({ key: p.key, cores: p.cores, forJob: p.forJob })), maxRows),
    notAdmitted: cap(plan.notAdmitted, maxRows),
    findings: { ...cap(findings, maxRows), blocking: plan.findings.filter((f) => f.blocking).length, byCode },
    ...(plan.rto ? {
      predictedRto: {
        rates: plan.rto.rates, timeScale: plan.rto.timeScale,
        misses: cap(plan.rto.jobs.filter((j) => j.misses).sort((a, b) => b.seconds - a.seconds), maxRows),
      },
    } : {}),
    ...(plan.protection ? {
      rpoNow: { tiers: tierRpoNow(plan.protection.jobs), unprotected: cap(plan.protection.jobs.filter((j) => j.state === 'unprotected'), maxRows), notLookedUp: plan.protection.notLookedUp.length },
    } : {}),
  };
}

/**
 * The scope of an evacuation: which of the failed AZ's jobs to move (CLI `--tier`, `--team`,
 * `--job`; EvacuationRequest.scope). Pure.
 */
import { TIERS, jobKey } from './types.js';
import type { Catalog, FleetJob, Tier } from './types.js';

/** Restriction of the evacuation; filters combine with AND; an absent or empty list does not filter. */
export interface PlanScope {
  /** Catalog tiers (before lifting) to move. */
  tiers?: Tier[];
  teams?: string[];
  /** Job keys `namespace/name`, or bare names (matching that name in any namespace). */
  jobs?: string[];
}

/**
 * Validates the scope and returns the in-scope predicate for source-AZ jobs (linear in jobs).
 * @throws Error for an unknown tier, team or job, or a job not in the source AZ.
 */
export function scopeFilter(catalog: Catalog, sourceAz: string, scope: PlanScope | undefined): (job: FleetJob) => boolean {
  const tiers = scope?.tiers?.length ? new Set(scope.tiers) : undefined;
  const teams = scope?.teams?.length ? new Set(scope.teams) : undefined;
  const jobs = scope?.jobs?.length ? new Set(scope.jobs) : undefined;
  scope?.tiers?.forEach((t, i) => {
    if (!TIERS.includes(t)) throw new Error(`scope.tiers[${i}]: unknown tier '${String(t)}'; use one of ${TIERS.join(', ')}`);
  });
  if (teams) {
    const known = new Set(catalog.jobs.map((j) => j.team));
    scope?.teams?.forEach((t, i) => {
      if (!known.has(t)) throw new Error(`scope.teams[${i}]: unknown team '${t}'; known teams: ${[...known].sort().join(', ')}`);
    });
  }
  if (jobs) {
    const azsOf = new Map<string, Set<string>>();
    for (const j of catalog.jobs) {
      for (const id of [jobKey(j), j.name]) azsOf.set(id, (azsOf.get(id) ?? new Set()).add(j.az));
    }
    scope?.jobs?.forEach((s, i) => {
      const azs = azsOf.get(s);
      if (!azs) throw new Error(`scope.jobs[${i}]: unknown job '${s}'; name a catalog job as namespace/name or name`);
      if (!azs.has(sourceAz)) {
        throw new Error(`scope.jobs[${i}]: job '${s}' runs in ${[...azs].join(', ')}, not in source AZ ${sourceAz}; drop it from the scope`);
      }
    });
  }
  return (job) =>
    (!tiers || tiers.has(job.tier)) && (!teams || teams.has(job.team)) && (!jobs || jobs.has(jobKey(job)) || jobs.has(job.name));
}

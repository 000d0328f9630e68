/**
 * AZ capacity of a generated fleet: how many cores and MiB each AZ can allocate, sized so
 * that an AZ evacuation is tight but feasible — every P0–P2 job fits only after the planner
 * preempts some of the target AZ's P3 jobs, and the failed AZ's P3 jobs do not all fit.
 * Tiers are EFFECTIVE tiers (after lineage lifting, domain/lineage.ts), as the planner sees
 * them: a P3 producer lifted to P0 needs capacity as P0 and is never preempted.
 */
import { analyzeLineage } from '../domain/lineage.js';
import type { Capacity, FleetJob } from '../domain/types.js';

/** Share of the target AZ's preemptible P3 requests that an evacuation must preempt (see azCapacities). */
export const PREEMPTED_P3_SHARE = 0.1;

/**
 * Allocatable (total, not free) cores and MiB per AZ in `azs`. Rule, for each AZ X, with
 * effective tiers computed over all `jobs` (a whole-AZ evacuation keeps every job live,
 * moved or staying, so one analysis serves every source AZ):
 * - own(X) = requests of X's primaries + X's hot standbys (cold standbys request nothing);
 * - need(Y→X) = requests of Y's primaries of effective tier P0–P2 (lifted P3 producers
 *   included) that must start in X: all but P0s whose hot standby already runs in X;
 * - preemptible(X) = requests of X's P3 primaries not lifted by lineage;
 * - allocatable(X) = own(X) + max(0, max over Y ≠ X of need(Y→X) − PREEMPTED_P3_SHARE × preemptible(X)).
 * So planEvacuation(Y → X) with targetFree = allocatable(X) − own(X) admits every P0–P2 job
 * only after preempting some of X's P3 jobs.
 * @param jobs primaries, each with `az` in `azs`; `resources` in cores and MiB.
 */
export function azCapacities(azs: string[], jobs: FleetJob[]): Record<string, Capacity> {
  // Evacuating a whole AZ keeps every job live (moved or staying), so one lineage analysis
  // gives the effective tiers the planner uses for any source AZ.
  const lineage = analyzeLineage(jobs);
  const effectiveP3 = (job: FleetJob) => lineage.get(job)!.tier === 'P3';
  const out: Record<string, Capacity> = {};
  for (const x of azs) {
    const own = { cores: 0, memoryMiB: 0 };
    const preemptible = { cores: 0, memoryMiB: 0 };
    for (const job of jobs) {
      if (job.az === x) add(own, job.resources);
      if (job.az === x && job.tier === 'P3' && effectiveP3(job)) add(preemptible, job.resources);
      if (job.standby?.kind === 'hot' && job.standby.az === x) add(own, job.resources);
    }
    const need = { cores: 0, memoryMiB: 0 };
    for (const y of azs.filter((a) => a !== x)) {
      const n = { cores: 0, memoryMiB: 0 };
      for (const job of jobs) {
        const promotedInX = job.tier === 'P0' && job.standby?.kind === 'hot' && job.standby.az === x;
        if (job.az === y && !effectiveP3(job) && !promotedInX) add(n, job.resources);
      }
      need.cores = Math.max(need.cores, n.cores);
      need.memoryMiB = Math.max(need.memoryMiB, n.memoryMiB);
    }
    out[x] = {
      cores: own.cores + Math.max(0, need.cores - Math.round(PREEMPTED_P3_SHARE * preemptible.cores)),
      memoryMiB: own.memoryMiB + Math.max(0, need.memoryMiB - Math.round(PREEMPTED_P3_SHARE * preemptible.memoryMiB)),
    };
  }
  return out;
}

function add(total: Capacity, more: Capacity): void {
  total.cores += more.cores;
  total.memoryMiB += more.memoryMiB;
}

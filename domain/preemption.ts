/**
 * Which preemptible jobs in the target AZ to suspend to make room for a higher-tier job
 * (docs/design.md#tiers-capacity-and-lineage: P3 jobs already running in the target may be suspended). Pure.
 *
 * Choice, per shortfall: if one candidate covers the whole remaining shortfall, take the
 * SMALLEST such candidate and stop; otherwise take the candidate covering the most of the
 * shortfall (largest first) and repeat. This preempts few jobs (a big shortfall is covered
 * by big jobs) without destroying a large job when a small one suffices (a small shortfall).
 * Nothing is preempted when all remaining candidates together could not cover the shortfall:
 * suspending a job that does not make the higher-tier job fit only adds damage.
 */
import { jobKey } from './types.js';
import type { Capacity, FleetJob } from './types.js';

/** A candidate with its key computed once (choice runs in a loop over all candidates). */
interface Candidate {
  job: FleetJob;
  key: string;
}

/** The candidates not yet preempted, across the whole plan. */
export class PreemptionPool {
  private readonly left: Set<Candidate>;
  private readonly total: Capacity = { cores: 0, memoryMiB: 0 };

  /** @param candidates preemptible jobs running in the target AZ (the caller filters tier, policy, lineage). */
  constructor(candidates: readonly FleetJob[]) {
    this.left = new Set(candidates.map((job) => ({ job, key: jobKey(job) })));
    for (const job of candidates) {
      this.total.cores += job.resources.cores;
      this.total.memoryMiB += job.resources.memoryMiB;
    }
  }

  /**
   * Remove and return the jobs to preempt to cover `shortfall` (cores, MiB; a dimension ≤ 0
   * is already covered). Returns [] when the shortfall is covered already or cannot be covered
   * even by every remaining candidate. Cost O(candidates) per job taken.
   */
  take(shortfall: Capacity): FleetJob[] {
    const need = { cores: Math.max(0, shortfall.cores), memoryMiB: Math.max(0, shortfall.memoryMiB) };
    if (need.cores > this.total.cores || need.memoryMiB > this.total.memoryMiB) return [];
    const taken: FleetJob[] = [];
    while (need.cores > 0 || need.memoryMiB > 0) {
      const chosen = this.smallestSufficient(need) ?? this.largestContribution(need);
      if (!chosen) break; // unreachable: the totals cover the need
      const r = chosen.job.resources;
      this.left.delete(chosen);
      this.total.cores -= r.cores;
      this.total.memoryMiB -= r.memoryMiB;
      need.cores -= r.cores;
      need.memoryMiB -= r.memoryMiB;
      taken.push(chosen.job);
    }
    return taken;
  }

  private smallestSufficient(need: Capacity): Candidate | undefined {
    let best: Candidate | undefined;
    for (const c of this.left) {
      const r = c.job.resources;
      if (r.cores < need.cores || r.memoryMiB < need.memoryMiB) continue;
      if (!best || compareSize(c, best) < 0) best = c;
    }
    return best;
  }

  /** The candidate covering the largest fraction of the need (summed over both dimensions). */
  private largestContribution(need: Capacity): Candidate | undefined {
    let best: Candidate | undefined;
    let bestScore = 0;
    for (const c of this.left) {
      const r = c.job.resources;
      const score = fraction(r.cores, need.cores) + fraction(r.memoryMiB, need.memoryMiB);
      if (score > bestScore || (score === bestScore && best && compareSize(c, best) > 0)) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }
}

/** Share of `want` that `have` covers, in [0, 1]; 0 when nothing is wanted. */
function fraction(have: number, want: number): number {
  return want > 0 ? Math.min(have, want) / want : 0;
}

/** By cores, then MiB, then key: a total order so the choice is deterministic. */
function compareSize(a: Candidate, b: Candidate): number {
  const ra = a.job.resources;
  const rb = b.job.resources;
  return ra.cores - rb.cores || ra.memoryMiB - rb.memoryMiB || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * Zero-overhead lower bound of an evacuation on the simulator: the makespan the
 * simulator's own latency model allows for the same plan, tier windows and admission
 * order, if orchestration (Temporal, activities, HTTP) took no time at all.
 *
 * Model: tiers in admission order; a tier's jobs are list-scheduled into `maxConcurrency`
 * slots in plan order; the next tier starts when the previous one has dispatched its last
 * job (borrowIdleSlots) or finished (strict). A job's duration is `startupSeconds` of the
 * simulator (deploy count 1) — hot standby promotions take LATENCY.promoteStandbySeconds.
 * Jar fetch: from the cache when preloading (the copy itself is not counted), else from
 * the repository with contention = min(window, jobs of the tier), which is how many
 * start-ups fetch at once in the first wave.
 */
import type { Catalog, Plan, TiersPolicy } from '../domain/types.js';
import { jobKey } from '../domain/types.js';
import { readSpec } from '../domain/flink-spec.js';
import { LATENCY, startupSeconds } from '../simulator/latency-model.js';

/** Inputs of the bound. */
export interface BoundInput {
  plan: Plan;
  catalog: Catalog;
  policy: TiersPolicy;
  preload: boolean;
  seed: number;
}

/** Lower bound in model seconds: total makespan and when P0 is done. */
export interface Bound {
  seconds: number;
  p0Seconds: number;
}

/** Compute the bound. Pure. */
export function lowerBound(input: BoundInput): Bound {
  const jobs = new Map(input.catalog.jobs.filter((j) => j.az === input.plan.sourceAz).map((j) => [jobKey(j), j]));
  let tierStart = 0;
  let end = 0;
  let p0Seconds = 0;
  for (const tier of input.policy.admissionOrder) {
    const planned = input.plan.admitted.filter((p) => p.tier === tier);
    if (planned.length === 0) continue;
    const window = input.policy.tiers[tier].maxConcurrency;
    const slots: number[] = Array.from({ length: Math.min(window, planned.length) }, () => tierStart);
    let lastDispatch = tierStart;
    let tierEnd = tierStart;
    for (const p of planned) {
      const job = jobs.get(p.key);
      let duration: number = LATENCY.promoteStandbySeconds;
      if (p.strategy !== 'promote-standby' && job) {
        const spec = readSpec(job.deployment);
        duration = startupSeconds({
          key: p.key, stateSizeBytes: job.stateSizeBytes, jarBytes: job.jars.reduce((n, j) => n + j.sizeBytes, 0),
          preloaded: input.preload, concurrentRepoDownloads: Math.min(window, planned.length),
          replicas: spec.taskManagerReplicas, restored: true, seed: input.seed, deployCount: 1,
        }).total;
      }
      // Earliest free slot (slots stay small: at most `window` entries).
      let best = 0;
      for (let i = 1; i < slots.length; i++) if ((slots[i] ?? 0) < (slots[best] ?? 0)) best = i;
      const start = slots[best] ?? tierStart;
      slots[best] = start + duration;
      lastDispatch = Math.max(lastDispatch, start);
      tierEnd = Math.max(tierEnd, start + duration);
    }
    if (tier === 'P0') p0Seconds = tierEnd;
    end = Math.max(end, tierEnd);
    tierStart = input.policy.borrowIdleSlots ? lastDispatch : tierEnd;
  }
  return { seconds: end, p0Seconds };
}

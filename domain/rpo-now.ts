/**
 * RPO now, as shown before anyone needs it: per tier, the worst RPO an evacuation would pay now
 * and the jobs unprotected, and the `unprotected` readiness findings, from jobs assessed by
 * domain/protection.ts (a plan's restoring jobs toward its target AZ, Plan.protection). Also
 * turns a snapshot lookup (`findSnapshot` with no RPO) into the NewestSnapshot that assessment
 * takes. Pure (docs/protection.md#rpo-now).
 *
 * Ages are seconds on the clock of the snapshot times and of the policy's RPOs (the platform's;
 * on a simulator at time scale N the policy's RPOs were divided by N, see TiersPolicy.timeScale).
 */
import type { JobProtection, NewestSnapshot } from './protection.js';
import { TIERS, type Finding, type SnapshotChoice, type Tier } from './types.js';

/**
 * The NewestSnapshot of one AZ from its lookup: the chosen snapshot (any age), none with the
 * lookup's reason, or, when the lookup threw, unknown with the error's message.
 */
export function newestSnapshotOf(lookup: SnapshotChoice | Error): NewestSnapshot {
  if (lookup instanceof Error) return { kind: 'unknown', reason: lookup.message };
  if (lookup.kind === 'none') return { kind: 'none', reason: lookup.reason };
  return { kind: 'snapshot', path: lookup.snapshot.path, snapshotKind: lookup.snapshot.kind, completedAtEpochSeconds: lookup.snapshot.completedAtEpochSeconds };
}

/** One tier's RPO now. */
export interface TierRpoNow {
  tier: Tier;
  /** Jobs assessed. */
  jobs: number;
  protected: number;
  /** Jobs of a protected tier (tiers.yaml `protection.tiers`) without a restorable snapshot within the RPO in some other AZ. */
  unprotected: number;
  /** Jobs of a tier protection does not cover (their RPO now is still counted in `worstAgeSeconds`). */
  notRequired: number;
  /** Jobs with no restorable snapshot at all in some other AZ (or a store that did not answer): no RPO-now. */
  withoutSnapshot: number;
  /** The largest RPO now (JobProtection.rpoNowSeconds) among the tier's jobs, seconds: the worst RPO an evacuation would pay now (null: no job has one). */
  worstAgeSeconds: number | null;
  /** The tier's RPO, seconds. */
  rpoTargetSeconds: number;
}

/** Per tier (in TIERS order, only tiers with a job in `list`): counts and the worst RPO it would pay now. */
export function tierRpoNow(list: readonly JobProtection[]): TierRpoNow[] {
  return TIERS.flatMap((tier) => {
    const mine = list.filter((j) => j.tier === tier);
    if (mine.length === 0) return [];
    const ages = mine.flatMap((j) => (j.rpoNowSeconds !== undefined ? [j.rpoNowSeconds] : []));
    const count = (s: JobProtection['state']): number => mine.filter((j) => j.state === s).length;
    return [{
      tier, jobs: mine.length, protected: count('protected'), unprotected: count('unprotected'), notRequired: count('not-required'),
      withoutSnapshot: mine.length - ages.length,
      worstAgeSeconds: ages.length > 0 ? Math.round(Math.max(...ages) * 100) / 100 : null, rpoTargetSeconds: mine[0]!.rpoSeconds,
    }];
  });
}

/**
 * The `unprotected` readiness findings: one per unprotected job, not blocking (the job is still
 * moved; its tier's onNoSnapshot decides how it starts), naming why and what to check.
 */
export function unprotectedFindings(list: readonly JobProtection[]): Finding[] {
  return list.filter((j) => j.state === 'unprotected').map((j) => ({
    job: j.job,
    code: 'unprotected',
    blocking: false,
    message: `${j.job} (${j.tier}) is unprotected: no restorable snapshot within its ${j.rpoSeconds} s RPO: ${j.reason ?? 'no reason recorded'}. ` +
      `An evacuation now would apply its tier's onNoSnapshot. Fix: check its savepoints (the operator's status and Events, Flink's checkpoint failures) ` +
      `and the replication or shipping of its state to ${j.azs.filter((a) => !a.withinRpo).map((a) => a.az).join(', ') || 'the other AZ'} (docs/protection.md).`,
  }));
}

/**
 * Per tier, the RPO now of several parts of a fleet assessed apart (a protection pass's shards)
 * as tierRpoNow of all their jobs would give it: counts added, the worst age the largest.
 * @returns in TIERS order, only tiers present in some part
 */
export function mergeTierRpoNow(parts: ReadonlyArray<readonly TierRpoNow[]>): TierRpoNow[] {
  const all = parts.flat();
  return TIERS.flatMap((tier) => {
    const mine = all.filter((t) => t.tier === tier);
    if (mine.length === 0) return [];
    const ages = mine.flatMap((t) => (t.worstAgeSeconds !== null ? [t.worstAgeSeconds] : []));
    const add = (f: (t: TierRpoNow) => number): number => mine.reduce((n, t) => n + f(t), 0);
    return [{
      tier, jobs: add((t) => t.jobs), protected: add((t) => t.protected), unprotected: add((t) => t.unprotected), notRequired: add((t) => t.notRequired),
      withoutSnapshot: add((t) => t.withoutSnapshot), worstAgeSeconds: ages.length > 0 ? Math.max(...ages) : null, rpoTargetSeconds: mine[0]!.rpoTargetSeconds,
    }];
  });
}

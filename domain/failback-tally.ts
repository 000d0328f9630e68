/**
 * What the moves of a failback did, summed (workflows/failback.ts and its shards,
 * workflows/failback-shard.ts): the shards hand tallies, never per-job results, to the
 * failback, so its history and payloads do not grow with the job count. Pure: no I/O.
 */

/** Moves summed: jobs back per action and target action, the failed ones with their reasons, the last one RUNNING. */
export interface FailbackTally {
  /** Jobs moved back (a result: restored or never stopped). */
  moved: number;
  /** Restored in the source AZ from the fresh savepoint of the drilled copy. */
  restoredFromTarget: number;
  /** Restored from their own newest snapshot (they never ran in the target AZ). */
  restoredOwn: number;
  /** Never stopped (or suspended before the drill): left alone. */
  untouched: number;
  /** The drill's redeployed copies deleted in the target AZ. */
  removed: number;
  /** Hot standbys restarted and labelled standby again. */
  standbys: number;
  /** Jobs whose move back failed after retries, with the reason. */
  failed: Array<{ key: string; reason: string }>;
  /** When the last of the moved jobs was seen RUNNING in the source AZ, epoch ms (absent: none was restored). */
  lastRunningAtMs?: number;
}

/** A tally of nothing. */
export function emptyTally(): FailbackTally {
  return { moved: 0, restoredFromTarget: 0, restoredOwn: 0, untouched: 0, removed: 0, standbys: 0, failed: [] };
}

/** The parts of one job's failback result a tally counts (activities/failback.ts FailbackJobResult). */
export interface MovedJob {
  action: 'restored-from-target' | 'restored-own' | 'untouched';
  target: 'deleted' | 'suspended' | 'standby-restarted' | 'none';
  /** When it was seen RUNNING in the source AZ again, epoch ms (absent: untouched). */
  runningAtMs?: number;
}

/** Add one job's result to `t` (in place). */
export function addResult(t: FailbackTally, r: MovedJob): void {
  t.moved += 1;
  if (r.action === 'restored-from-target') t.restoredFromTarget += 1;
  if (r.action === 'restored-own') t.restoredOwn += 1;
  if (r.action === 'untouched') t.untouched += 1;
  if (r.target === 'deleted') t.removed += 1;
  if (r.target === 'standby-restarted') t.standbys += 1;
  if (r.runningAtMs !== undefined) t.lastRunningAtMs = Math.max(t.lastRunningAtMs ?? r.runningAtMs, r.runningAtMs);
}

/** The sum of `tallies` (a new tally). */
export function mergeTallies(tallies: FailbackTally[]): FailbackTally {
  const sum = emptyTally();
  for (const t of tallies) {
    sum.moved += t.moved;
    sum.restoredFromTarget += t.restoredFromTarget;
    sum.restoredOwn += t.restoredOwn;
    sum.untouched += t.untouched;
    sum.removed += t.removed;
    sum.standbys += t.standbys;
    sum.failed.push(...t.failed);
    if (t.lastRunningAtMs !== undefined) sum.lastRunningAtMs = Math.max(sum.lastRunningAtMs ?? t.lastRunningAtMs, t.lastRunningAtMs);
  }
  return sum;
}

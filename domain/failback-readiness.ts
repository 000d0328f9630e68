/**
 * Failback of a real evacuation (emergency or planned), the pure parts: whether the former
 * source AZ can take back the jobs the evacuation moved out of it, and whether each job is
 * re-protected, i.e. what it runs as now in the former target AZ has its snapshots replicated
 * back into the former source AZ's object store (docs/operating.md "Failback after a real
 * evacuation"). A project decision: the move back itself is a planned move (stop with a
 * savepoint, restore exactly that savepoint), and needs that replication to work.
 */
import type { Capacity, SnapshotCandidate } from './types.js';

/** A job that moves back, as the readiness check counts it. */
export interface MovingBack {
  /** `namespace/name`. */
  key: string;
  /** Resources its source copy requests when it runs (PlannedJob.cores, memoryMiB). */
  cores: number;
  memoryMiB: number;
}

/**
 * Why the source AZ cannot hold the jobs moving back, or undefined when it can.
 * @param free the source AZ's free capacity (ClusterPort.capacity)
 * @param jobs the jobs whose source copy does not run now (suspended by a fence, or absent):
 *   each needs its full request again; a copy that still runs holds its request already
 */
export function capacityRefusal(sourceAz: string, free: Capacity, jobs: readonly MovingBack[]): string | undefined {
  const cores = jobs.reduce((n, j) => n + j.cores, 0);
  const memoryMiB = jobs.reduce((n, j) => n + j.memoryMiB, 0);
  if (free.cores >= cores && free.memoryMiB >= memoryMiB) return undefined;
  return `${sourceAz} has ${free.cores} cores and ${free.memoryMiB} MiB free; the ${jobs.length} job(s) moving back need ${cores} cores and ${memoryMiB} MiB. ` +
    `Fix: add nodes in ${sourceAz} (or wait for its cluster autoscaler), then run the failback again`;
}

/**
 * Why a job is not re-protected yet, or undefined when it is: some snapshot (checkpoint or
 * savepoint, `_metadata` present) of the run it is now (`jobId`, in the former target AZ) has
 * reached the former source AZ's replica within the tier's RPO. Until then, the savepoint
 * its move back would stop it with could not be restored there either.
 * @param candidates the job's snapshot directories listed in the source AZ's replica (ObjectStorePort.listSnapshots)
 * @param rpoSeconds the tier's RPO on the platform's clock; nowEpochSeconds "now"
 * @param waitedSeconds how long the caller has waited for one to arrive (named in the reason)
 */
export function replicaRefusal(
  where: { key: string; jobId: string; sourceAz: string; targetAz: string }, candidates: readonly SnapshotCandidate[], rpoSeconds: number, nowEpochSeconds: number, waitedSeconds = 0,
): string | undefined {
  const complete = candidates.filter((c) => c.hasMetadata);
  const newest = complete.reduce<SnapshotCandidate | undefined>((a, c) => (!a || c.completedAtEpochSeconds > a.completedAtEpochSeconds ? c : a), undefined);
  if (newest && nowEpochSeconds - newest.completedAtEpochSeconds <= rpoSeconds) return undefined;
  const seen = newest ? `its newest there, ${newest.path}, is ${Math.round(nowEpochSeconds - newest.completedAtEpochSeconds)} s old` : 'none is there';
  return `not re-protected: no snapshot of its run in ${where.targetAz} (job ${where.jobId}) has reached ${where.sourceAz}'s object store within the tier's RPO (${Math.round(rpoSeconds)} s); ${seen}${waitedSeconds > 0 ? ` after waiting ${Math.round(waitedSeconds)} s` : ''}. ` +
    `It keeps running in ${where.targetAz}. Fix: restore replication of ${where.targetAz}'s snapshots into ${where.sourceAz}, then run the failback again`;
}

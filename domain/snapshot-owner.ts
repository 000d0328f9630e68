/**
 * Whose snapshots a lookup may return: the job ids a job has had (docs/flink-snapshots.md,
 * "Only the job's own snapshots"). A hot standby runs the same job graph under the same
 * checkpoint and savepoint prefixes as its primary, with its own Flink job id; so a prefix
 * alone mixes the two, and a P0 that falls back to redeploy would restore the standby's state.
 * Lookups therefore list only
 *   `<checkpointPrefix>/<jobId>/chk-` (Flink's checkpoint layout: one directory per job id,
 *   Flink docs "Checkpoints" → "Directory Structure") and
 *   `<savepointPrefix>/savepoint-<first 6 hex of jobId>-` (the savepoint directory name Flink
 *   gives, `AbstractFsCheckpointStorageAccess.initializeLocationForSavepoint`),
 * for each job id of the owner. Savepoints carry only 6 hex digits of the job id: two job ids
 * under one prefix that share them (1 in 16.7 million per pair) cannot be told apart.
 *
 * Where the job ids come from: catalog sync records `status.jobStatus.jobId` of each primary
 * FlinkDeployment (never its standby's) in `FleetJob.jobIds`, newest first, merged with what
 * the previous catalog version held for the same `namespace/name` and cut at MAX_JOB_IDS
 * (mergeJobIds). Callers that know a newer id (a copy's status, an evacuation outcome) put it first.
 */
import { flattenFlinkConfiguration } from './flink-config.js';
import type { FleetJob } from './types.js';

/** Job ids kept per job in the catalog, newest first (older ones age out: their snapshots are beyond any RPO). */
export const MAX_JOB_IDS = 8;

/** Flink's JobID as text: 32 lowercase hex digits (`JobID.toHexString`). */
const JOB_ID = /^[0-9a-f]{32}$/;

/** The snapshots a lookup may return: the job's prefixes (keys in the state bucket) and its job ids, newest first. */
export interface SnapshotOwner {
  checkpointPrefix: string;
  savepointPrefix: string;
  /** Flink job ids (32 hex), newest first, ≤ MAX_JOB_IDS. Empty: the lookup finds nothing, and says why. */
  jobIds: string[];
  /** `s3.entropy.key` from the job's Flink configuration, when set (entropy injection). */
  entropyKey?: string;
}

/**
 * `newer` ids (undefined ones dropped) before `older`, duplicates removed, at most MAX_JOB_IDS.
 * @throws Error naming the value when an id is not Flink's 32-hex JobID
 */
export function mergeJobIds(newer: Array<string | undefined>, older: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const id of [...newer, ...older]) {
    if (id === undefined || id === '' || out.includes(id)) continue;
    if (!JOB_ID.test(id)) throw new Error(`job id ${JSON.stringify(id)} is not a Flink JobID (32 lowercase hex digits, status.jobStatus.jobId)`);
    out.push(id);
  }
  return out.slice(0, MAX_JOB_IDS);
}

/**
 * The owner of `job`'s snapshots: its prefixes, `newer` ids (e.g. a copy's status.jobStatus.jobId)
 * before the catalog's `jobIds`, and its entropy key.
 */
export function snapshotOwner(job: Pick<FleetJob, 'checkpointPrefix' | 'savepointPrefix' | 'jobIds' | 'deployment'>, ...newer: Array<string | undefined>): SnapshotOwner {
  let entropyKey: unknown;
  try {
    entropyKey = flattenFlinkConfiguration(job.deployment.spec.flinkConfiguration ?? {})['s3.entropy.key'];
  } catch {
    entropyKey = undefined;
  }
  return {
    checkpointPrefix: job.checkpointPrefix,
    savepointPrefix: job.savepointPrefix,
    jobIds: mergeJobIds(newer, job.jobIds),
    ...(typeof entropyKey === 'string' && entropyKey !== '' ? { entropyKey } : {}),
  };
}

/**
 * Why nothing of `owner` can be looked up, or undefined when it can: no job id known, or
 * entropy injection in its snapshot prefixes (Flink docs "Amazon S3" → "Entropy injection for
 * S3 file systems": data files go to paths with random characters where the key was, so they
 * lie outside every prefix az-evac replicates or maps).
 */
export function ownerProblem(owner: SnapshotOwner): string | undefined {
  const key = owner.entropyKey;
  if (key !== undefined && (owner.checkpointPrefix.includes(key) || owner.savepointPrefix.includes(key))) {
    return (
      `not relocatable: the job's snapshot path ${owner.checkpointPrefix.includes(key) ? owner.checkpointPrefix : owner.savepointPrefix} ` +
      `contains its entropy key s3.entropy.key=${JSON.stringify(key)}, so its state files lie at random paths; ` +
      `fix: drop s3.entropy.key from the job's checkpoint path`
    );
  }
  if (owner.jobIds.length === 0) {
    return (
      'no Flink job id known for this job (catalog sync records status.jobStatus.jobId of the running job); ' +
      'az-evac restores only from snapshots of the job\'s own job ids, never from whatever lies under its prefixes. ' +
      'Fix: sync the catalog while the job runs'
    );
  }
  return undefined;
}

/**
 * The key prefixes a lookup lists (ListObjectsV2 with `/` delimiter): one per job id for
 * checkpoints, one per distinct 6-hex savepoint tag. Keys have no bucket and no leading `/`.
 */
export function ownerListingPrefixes(owner: SnapshotOwner): { checkpoints: string[]; savepoints: string[] } {
  return {
    checkpoints: owner.jobIds.map((id) => `${owner.checkpointPrefix}/${id}/chk-`),
    savepoints: [...new Set(owner.jobIds.map((id) => `${owner.savepointPrefix}/savepoint-${id.slice(0, 6)}-`))],
  };
}

/**
 * Snapshot choice: which replicated checkpoint or savepoint a job restores from in the
 * target AZ. No I/O of its own: the object store adapter (platform/s3/snapshot-listing.ts, and the
 * simulator's simulator/snapshots.ts the same way) lists the job's candidate directories and
 * passes a `check` that reads one `_metadata` and checks its files; the choice calls it newest
 * first and stops at the first complete, restorable one, so older snapshots cost nothing.
 *
 * Rules (docs/design.md#snapshot-layout-and-completeness, #relocatability):
 * - `_metadata` is written last; without it the snapshot is incomplete → skipped.
 * - Cross-AZ replication does not keep order: `_metadata` may arrive before the files it
 *   references (`referencedFilesPresent === false`) → skipped; an older one is used instead.
 * - Savepoints are self-contained and relocatable (relative paths since Flink 1.11,
 *   FLINK-5763). Checkpoints are not: their `_metadata` holds absolute `s3://bucket/key`
 *   paths, so a replicated checkpoint restores in the other AZ only under the `symmetric`
 *   layout (same bucket names and keys, only `s3.endpoint` differs). Under `per-az-buckets`
 *   checkpoints are refused.
 *
 * Choice: the NEWEST complete, restorable snapshot wins, checkpoint or savepoint alike.
 * The RPO actually paid is the snapshot's age, so the newest restorable snapshot minimises
 * data loss; Flink restores a retained checkpoint "just as from a savepoint by using the
 * checkpoint's meta data file" provided the JobManager can reach the files it refers to
 * (Flink docs, "Checkpoints" → "Resuming from a retained checkpoint",
 * https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/state/checkpoints/#resuming-from-a-retained-checkpoint).
 * Savepoints are preferred only on a tie (same completion second): they are the
 * owner-controlled, canonical-format snapshot meant for moving a job, whereas checkpoints
 * are Flink-owned recovery logs (Flink docs, "Checkpoints vs. Savepoints",
 * https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/state/checkpoints_vs_savepoints/).
 * A savepoint is also what remains when checkpoints are refused (per-az-buckets).
 *
 * Nothing older than the tier's RPO is chosen, and nothing beyond it is checked.
 */
import type { SkippedSnapshot, SnapshotCandidate, SnapshotChoice, SnapshotEntry, StorageLayout } from './types.js';
import { parseS3Uri } from './snapshot-layout.js';

/** What a lookup wants. All times in seconds. */
export interface SnapshotQuery {
  /**
   * Object-store layout across AZs (from the catalog's PlatformProfile), when the snapshot is
   * to be restored from another AZ's replica. Absent: restored in the AZ that wrote it (a
   * job's own checkpoints), so the per-az-buckets refusal of checkpoints does not apply.
   */
  layout?: StorageLayout;
  /** "Now", epoch seconds (passed in so the choice is deterministic in tests). */
  nowEpochSeconds: number;
  /** The tier's RPO: the oldest snapshot age, in seconds, that may be restored, ≥ 0. Absent: any age. */
  rpoSeconds?: number;
  /** Only checkpoints or only savepoints. Absent: both. */
  kind?: SnapshotCandidate['kind'];
  /**
   * Only these snapshot directories, as `s3://bucket/key` paths or bare keys, compared by key
   * (AZs name their replicas' buckets apart). Absent: every candidate.
   */
  dirKeys?: string[];
}

/** Reads one candidate's `_metadata` and checks its files in the replica (the adapter's I/O). */
export type CheckSnapshot = (candidate: SnapshotCandidate) => Promise<SnapshotEntry>;

/**
 * Choose the snapshot to restore from, checking candidates newest first and stopping at the
 * first complete, restorable one within the RPO.
 *
 * Candidates may come in any order. Without `_metadata`, or a checkpoint under the
 * per-az-buckets layout, a candidate is passed over without a check; one older than the RPO
 * ends the search (every later one is older still); any other is checked with `check` (one call
 * per candidate, at most one at a time). `skipped` lists every candidate newer than the chosen
 * one (or, when none is chosen, every candidate that matched the query) with the reason it was
 * passed over. Ages are `nowEpochSeconds - completedAtEpochSeconds`, clamped at 0 (a replica
 * clock slightly ahead must not yield a negative age).
 *
 * @returns `{ kind: 'snapshot', snapshot, ageSeconds, skipped }` or `{ kind: 'none', reason, skipped }`
 *   where `reason` says no snapshot exists, names the newest one's reason when none is
 *   complete and restorable (e.g. the first missing file), or names the age of the newest
 *   one with `_metadata` (not checked: nothing beyond the RPO is) against the RPO
 * @throws Error when `rpoSeconds` or `nowEpochSeconds` is not a finite number ≥ 0; whatever `check` throws
 */
export async function chooseSnapshot(candidates: SnapshotCandidate[], query: SnapshotQuery, check: CheckSnapshot): Promise<SnapshotChoice> {
  if (query.rpoSeconds !== undefined) assertSeconds('rpoSeconds', query.rpoSeconds);
  assertSeconds('nowEpochSeconds', query.nowEpochSeconds);
  const within = query.dirKeys ? new Set(query.dirKeys.map(keyOf)) : undefined;
  const ordered = candidates
    .filter((c) => (query.kind === undefined || c.kind === query.kind) && (within === undefined || within.has(keyOf(c.path))))
    .sort(newestFirst);
  if (ordered.length === 0) {
    const which = [query.kind ?? 'checkpoint or savepoint', ...(within ? [`among ${within.size} given director${within.size === 1 ? 'y' : 'ies'}`] : [])].join(' ');
    return { kind: 'none', reason: `no ${which} found in the target AZ replica`, skipped: [] };
  }
  const skipped: SkippedSnapshot[] = [];
  for (const [i, candidate] of ordered.entries()) {
    const refused = refusedUnchecked(candidate, query.layout);
    if (refused !== undefined) {
      skipped.push({ path: candidate.path, reason: refused });
      continue;
    }
    const ageSeconds = ageOf(candidate, query.nowEpochSeconds);
    if (query.rpoSeconds !== undefined && ageSeconds > query.rpoSeconds) {
      // Every remaining candidate is older still: none can be within RPO, none is checked.
      const rpo = query.rpoSeconds;
      const tooOld = ordered.slice(i).map((c) => ({
        path: c.path,
        reason: refusedUnchecked(c, query.layout) ?? `${Math.round(ageOf(c, query.nowEpochSeconds))} s old, beyond the RPO of ${rpo} s`,
      }));
      return {
        kind: 'none',
        reason: `newest ${candidate.kind} with _metadata ${candidate.path} is ${Math.round(ageSeconds)} s old, beyond the RPO of ${rpo} s`,
        skipped: [...skipped, ...tooOld],
      };
    }
    const entry = await check(candidate);
    const unusable = unusableAfterCheck(entry);
    if (unusable !== undefined) {
      skipped.push({ path: entry.path, reason: unusable });
      continue;
    }
    return { kind: 'snapshot', snapshot: entry, ageSeconds: ageOf(entry, query.nowEpochSeconds), skipped };
  }
  const newest = skipped[0]!;
  return {
    kind: 'none',
    reason: `none of the ${ordered.length} snapshot(s) in the target AZ replica is complete and restorable; newest ${newest.path}: ${newest.reason}`,
    skipped,
  };
}

/** Why a candidate is passed over before its `_metadata` is read, or undefined when it must be checked. */
function refusedUnchecked(c: SnapshotCandidate, layout: StorageLayout | undefined): string | undefined {
  if (!c.hasMetadata) {
    return 'incomplete: no _metadata (Flink writes it last; the snapshot was cut short or is still replicating)';
  }
  if (c.kind === 'checkpoint' && layout === 'per-az-buckets') {
    return (
      'checkpoint not restorable across AZs under the per-az-buckets layout: its _metadata holds absolute ' +
      's3:// paths into the source AZ bucket (only savepoints are relocatable)'
    );
  }
  return undefined;
}

/** Why a checked snapshot cannot be restored from this replica, or undefined when it can. */
function unusableAfterCheck(entry: SnapshotEntry): string | undefined {
  if (entry.problem !== undefined) return entry.problem;
  if (!entry.hasMetadata) return 'incomplete: _metadata disappeared while the snapshot was checked (retention deleted it)';
  if (!entry.referencedFilesPresent) {
    const m = entry.missing;
    return m
      ? `replication lag: _metadata is present but ${m.count} file(s) it references ${m.count === 1 ? 'is' : 'are'} not in this replica, first ${m.first}`
      : 'replication lag: _metadata is present but files it references are not yet in this replica';
  }
  return undefined;
}

/**
 * Newest first; on equal completion time a savepoint before a checkpoint, a higher checkpoint
 * number before a lower one (S3 times have whole seconds), then by path.
 */
function newestFirst(a: SnapshotCandidate, b: SnapshotCandidate): number {
  if (a.completedAtEpochSeconds !== b.completedAtEpochSeconds) return b.completedAtEpochSeconds - a.completedAtEpochSeconds;
  if (a.kind !== b.kind) return a.kind === 'savepoint' ? -1 : 1;
  const na = /\/chk-(\d+)$/.exec(a.path);
  const nb = /\/chk-(\d+)$/.exec(b.path);
  if (na && nb && Number(na[1]) !== Number(nb[1])) return Number(nb[1]) - Number(na[1]);
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The key of an `s3://bucket/key` path (a bare key as it is). */
function keyOf(path: string): string {
  return parseS3Uri(path)?.key ?? path.replace(/^\/+|\/+$/g, '');
}

/** Age in seconds at `now` (epoch seconds), clamped at 0. */
function ageOf(c: SnapshotCandidate, now: number): number {
  return Math.max(0, now - c.completedAtEpochSeconds);
}

function assertSeconds(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`chooseSnapshot: ${name} must be a finite number of seconds ≥ 0, got ${String(value)}`);
  }
}

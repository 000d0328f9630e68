/**
 * Snapshot choice: which replicated checkpoint or savepoint a job restores from in the
 * target AZ. Pure: the caller lists the replica (ObjectStorePort) and passes entries in.
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
 * Nothing older than the tier's RPO is chosen.
 */
import type { SkippedSnapshot, SnapshotChoice, SnapshotEntry, StorageLayout } from './types.js';

/** Inputs besides the entries. All times in seconds. */
export interface SnapshotChoiceOptions {
  /** Object-store layout across AZs (from the catalog's PlatformProfile). */
  layout: StorageLayout;
  /** The tier's RPO: the oldest snapshot age, in seconds, that may be restored. ≥ 0. */
  rpoSeconds: number;
  /** "Now", epoch seconds (passed in so the choice is deterministic in workflows and tests). */
  nowEpochSeconds: number;
}

/**
 * Choose the snapshot to restore from.
 *
 * Entries may come in any order. `skipped` lists every snapshot newer than the chosen one
 * (or, when none is chosen, every entry) with the reason it was passed over; snapshots older
 * than the chosen one are not listed. Ages are `nowEpochSeconds - completedAtEpochSeconds`,
 * clamped at 0 (a replica clock slightly ahead must not yield a negative age).
 *
 * @returns `{ kind: 'snapshot', snapshot, ageSeconds, skipped }` or
 *   `{ kind: 'none', reason, skipped }` where `reason` says no snapshot exists, none is
 *   complete and restorable, or names the newest restorable one's age against the RPO.
 * @throws Error when `rpoSeconds` or `nowEpochSeconds` is not a finite number ≥ 0.
 */
export function chooseSnapshot(entries: SnapshotEntry[], opts: SnapshotChoiceOptions): SnapshotChoice {
  assertSeconds('rpoSeconds', opts.rpoSeconds);
  assertSeconds('nowEpochSeconds', opts.nowEpochSeconds);
  if (entries.length === 0) {
    return { kind: 'none', reason: 'no checkpoint or savepoint found in the target AZ replica', skipped: [] };
  }
  const ordered = [...entries].sort(newestFirst);
  const skipped: SkippedSnapshot[] = [];
  for (const entry of ordered) {
    const unusable = whyUnusable(entry, opts.layout);
    if (unusable !== undefined) {
      skipped.push({ path: entry.path, reason: unusable });
      continue;
    }
    const ageSeconds = ageOf(entry, opts.nowEpochSeconds);
    if (ageSeconds > opts.rpoSeconds) {
      // Every remaining entry is older still: none can be within RPO.
      const tooOld = ordered.slice(ordered.indexOf(entry)).map((e) => ({
        path: e.path,
        reason: whyUnusable(e, opts.layout) ?? `${Math.round(ageOf(e, opts.nowEpochSeconds))} s old, beyond the RPO of ${opts.rpoSeconds} s`,
      }));
      return {
        kind: 'none',
        reason:
          `newest restorable ${entry.kind} ${entry.path} is ${Math.round(ageSeconds)} s old, beyond the RPO of ` +
          `${opts.rpoSeconds} s`,
        skipped: [...skipped, ...tooOld],
      };
    }
    return { kind: 'snapshot', snapshot: entry, ageSeconds, skipped };
  }
  return {
    kind: 'none',
    reason: `none of the ${entries.length} snapshot(s) in the target AZ replica is complete and restorable (see skipped)`,
    skipped,
  };
}

/** Why an entry cannot be restored in the target AZ, or undefined when it can. */
function whyUnusable(entry: SnapshotEntry, layout: StorageLayout): string | undefined {
  if (entry.problem !== undefined) return entry.problem;
  if (!entry.hasMetadata) {
    return 'incomplete: no _metadata (Flink writes it last; the snapshot was cut short or is still replicating)';
  }
  if (!entry.referencedFilesPresent) {
    return 'replication lag: _metadata is present but files it references are not yet in this replica';
  }
  if (entry.kind === 'checkpoint' && layout === 'per-az-buckets') {
    return (
      'checkpoint not restorable across AZs under the per-az-buckets layout: its _metadata holds absolute ' +
      's3:// paths into the source AZ bucket (only savepoints are relocatable)'
    );
  }
  return undefined;
}

/** Newest first; on equal completion time a savepoint before a checkpoint; then by path. */
function newestFirst(a: SnapshotEntry, b: SnapshotEntry): number {
  if (a.completedAtEpochSeconds !== b.completedAtEpochSeconds) {
    return b.completedAtEpochSeconds - a.completedAtEpochSeconds;
  }
  if (a.kind !== b.kind) return a.kind === 'savepoint' ? -1 : 1;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Age in seconds at `now` (epoch seconds), clamped at 0. */
function ageOf(entry: SnapshotEntry, now: number): number {
  return Math.max(0, now - entry.completedAtEpochSeconds);
}

function assertSeconds(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`chooseSnapshot: ${name} must be a finite number of seconds ≥ 0, got ${String(value)}`);
  }
}

/**
 * The newest complete snapshot of `entries` (its `_metadata` and every file it references
 * present) that `match` accepts, by completion time; undefined when none.
 */
export function newestComplete(entries: SnapshotEntry[], match: (e: SnapshotEntry) => boolean): SnapshotEntry | undefined {
  return entries.filter((e) => e.hasMetadata && e.referencedFilesPresent && e.problem === undefined && match(e))
    .sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds)[0];
}

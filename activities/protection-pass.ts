/**
 * What a protection pass leaves behind (docs/protection.md "The protection loop"): its figures on
 * the worker's /metrics (savepoints taken and failed, copies and bytes shipped, the pass's
 * duration) and its record in the report store, `protection-last-pass.json`, which the next
 * plan and assessment read so that a job whose savepoint failed shows the operator's reason in
 * its `unprotected` reason, and which `az-evac protect status` prints.
 */
import { PlatformError } from '../platform/errors.js';
import type { ProtectionPassResult } from '../workflows/protect.js';
import type { ActivityDeps } from './deps.js';
import { activityLog } from './log.js';

/** Name of the last pass's record in the report store. */
export const LAST_PASS_NAME = 'protection-last-pass.json';

/** The record of the last protection pass (the report store's LAST_PASS_NAME). */
export interface ProtectionPassRecord {
  /** When it ended, epoch seconds. */
  endedAtEpochSeconds: number;
  durationSeconds: number;
  catalogVersion: number;
  before: ProtectionPassResult['before'];
  savepoints: number;
  shipped: number;
  shippedBytes: number;
  expired: number;
  /** Per job, what failed after its retries, with the operator's or the store's reason. */
  failures: ProtectionPassResult['failures'];
}

/**
 * The failed savepoints of the last pass by job key, for domain/protection.ts ProtectionInput.lastFailure.
 * Empty when no pass was recorded or the record cannot be read (never fails a plan).
 */
export async function lastSavepointFailures(deps: Pick<ActivityDeps, 'reports'>): Promise<Map<string, { reason: string; atEpochSeconds: number }>> {
  const record = await readLastPass(deps).catch((err: unknown) => {
    activityLog({}).warn('last protection pass not read', { error: String(err) });
    return undefined;
  });
  const out = new Map<string, { reason: string; atEpochSeconds: number }>();
  for (const f of record?.failures ?? []) if (f.step === 'savepoint') out.set(f.job, { reason: f.reason, atEpochSeconds: record!.endedAtEpochSeconds });
  return out;
}

/** The last pass's record, or undefined when none was recorded. @throws the store's error for anything but an absent record */
export async function readLastPass(deps: Pick<ActivityDeps, 'reports'>): Promise<ProtectionPassRecord | undefined> {
  try {
    return JSON.parse(await deps.reports.read(deps.reports.refOf(LAST_PASS_NAME))) as ProtectionPassRecord;
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return undefined;
    throw err;
  }
}

/** Build the pass-record activities over `deps`. */
export function createProtectionPassActivities(deps: ActivityDeps) {
  return {
    /**
     * Record a finished pass: its counts on /metrics (EngineMetrics.recordProtectionPass) and
     * its record in the report store (replacing the previous pass's).
     */
    async recordProtectionPass(t: { result: ProtectionPassResult; durationSeconds: number; endedAtMs: number }): Promise<void> {
      const r = t.result;
      const record: ProtectionPassRecord = {
        endedAtEpochSeconds: Math.floor(t.endedAtMs / 1000), durationSeconds: t.durationSeconds, catalogVersion: r.catalogVersion, before: r.before,
        savepoints: r.savepoints.length, shipped: r.shipped.length, shippedBytes: r.shipped.reduce((n, s) => n + s.bytes, 0), expired: r.expired.length, failures: r.failures,
      };
      deps.metrics?.recordProtectionPass({
        savepointsTaken: record.savepoints, savepointsFailed: r.failures.filter((f) => f.step === 'savepoint').length,
        copiesShipped: record.shipped, copiesFailed: r.failures.filter((f) => f.step === 'ship').length,
        shippedBytes: record.shippedBytes, durationSeconds: t.durationSeconds,
      });
      await deps.reports.put(LAST_PASS_NAME, JSON.stringify(record, null, 2));
      activityLog({}).info('protection pass recorded', { ...record, failures: record.failures.length });
    },

    /** The last pass's record (`az-evac protect status`), or null when none was recorded. */
    async lastProtectionPass(): Promise<ProtectionPassRecord | null> {
      return (await readLastPass(deps)) ?? null;
    },
  };
}

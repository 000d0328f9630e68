/**
 * What a protection pass leaves behind (docs/protection.md "The protection loop"): its figures on
 * the worker's /metrics (savepoints taken and failed, copies and bytes shipped, the pass's
 * duration) and its record in the report store, `protection-last-pass.json`, which the next
 * plan and assessment read so that a job whose savepoint failed shows the operator's reason in
 * its `unprotected` reason, and which `az-evac protect status` prints.
 */
import { PlatformError } from '../platform/errors.js';
import type { TierRpoNow } from '../domain/rpo-now.js';
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
  /** Per job, what failed after its retries, with the operator's or the store's reason (the first ones the pass listed). */
  failures: ProtectionPassResult['failures'];
  /** All failures, also those not listed (absent in records of passes before shards). */
  failuresTotal?: number;
}

/**
 * What failed in the last pass by job key, for domain/protection.ts ProtectionInput.lastFailure:
 * its failed savepoint (the operator's reason) or a copy the store refused (the store's reason;
 * a savepoint failure wins, a job whose savepoint failed ships nothing). Retention failures are
 * left out: they do not make a job unprotected. Only the failures the record lists (at most
 * MAX_LISTED_FAILURES of workflows/protect.ts). Empty when no pass was recorded or the record
 * cannot be read (never fails a plan).
 */
export async function lastProtectionFailures(deps: Pick<ActivityDeps, 'reports'>): Promise<Map<string, { step: 'savepoint' | 'ship'; reason: string; atEpochSeconds: number }>> {
  const record = await readLastPass(deps).catch((err: unknown) => {
    activityLog({}).warn('last protection pass not read', { error: String(err) });
    return undefined;
  });
  const out = new Map<string, { step: 'savepoint' | 'ship'; reason: string; atEpochSeconds: number }>();
  for (const f of record?.failures ?? []) {
    if (f.step === 'retention' || out.get(f.job)?.step === 'savepoint') continue;
    out.set(f.job, { step: f.step, reason: f.reason, atEpochSeconds: record!.endedAtEpochSeconds });
  }
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
     * Record a finished pass: its counts on /metrics (EngineMetrics.recordProtectionPass), the
     * RPO now per tier its shards assessed (`tiers`: EngineMetrics.recordProtectionTiers), and
     * its record in the report store (replacing the previous pass's). Counts come from the
     * result's `totals`; a result without them (passes before shards) is counted from its lists.
     */
    async recordProtectionPass(t: { result: ProtectionPassResult; durationSeconds: number; endedAtMs: number; tiers?: TierRpoNow[] }): Promise<void> {
      const r = t.result;
      const failed = (step: ProtectionPassResult['failures'][number]['step']): number => r.totals?.failuresByStep[step] ?? r.failures.filter((f) => f.step === step).length;
      const record: ProtectionPassRecord = {
        endedAtEpochSeconds: Math.floor(t.endedAtMs / 1000), durationSeconds: t.durationSeconds, catalogVersion: r.catalogVersion, before: r.before,
        savepoints: r.totals?.savepoints ?? r.savepoints.length, shipped: r.totals?.shipped ?? r.shipped.length,
        shippedBytes: r.totals?.shippedBytes ?? r.shipped.reduce((n, s) => n + s.bytes, 0), expired: r.totals?.expired ?? r.expired.length,
        failures: r.failures, failuresTotal: r.totals?.failures ?? r.failures.length,
      };
      if (t.tiers) deps.metrics?.recordProtectionTiers(t.tiers);
      deps.metrics?.recordProtectionPass({
        savepointsTaken: record.savepoints, savepointsFailed: failed('savepoint'), copiesShipped: record.shipped, copiesFailed: failed('ship'),
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

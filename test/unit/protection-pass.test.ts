/**
 * The last protection pass's record (activities/protection-pass.ts) as the next plan and
 * assessment read it, on the file report store: a refused copy reaches the job's
 * `unprotected` reason as a failed savepoint does; a retention failure does not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LAST_PASS_NAME, lastProtectionFailures, type ProtectionPassRecord } from '../../activities/protection-pass.js';
import { FileReportStore } from '../../platform/report-file-store.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it('the failures of the last pass by job: savepoints and refused copies with their reason and the pass end, not retention; none without a record', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'az-evac-last-pass-'));
  dirs.push(dir);
  const reports = new FileReportStore(dir);
  expect(await lastProtectionFailures({ reports })).toEqual(new Map());
  const record: ProtectionPassRecord = {
    endedAtEpochSeconds: 1_800_000_000, durationSeconds: 12, catalogVersion: 3, before: { jobs: 4, protected: 1, unprotected: 3, notRequired: 0 },
    savepoints: 2, shipped: 1, shippedBytes: 10, expired: 0,
    failures: [
      { job: 'ns/a', step: 'savepoint', reason: 'operator: FlinkStateSnapshot ns/a-az-evac-1 FAILED' },
      { job: 'ns/b', step: 'ship', reason: 'ns/b: ship s3://a/sp to az-b: forbidden: AccessDenied' },
      { job: 'ns/c', step: 'retention', reason: 'ns/c: list az-b: unavailable' },
      { job: 'ns/d', step: 'ship', reason: 'ns/d: ship s3://a/sp to az-c: ManifestRejected' },
      { job: 'ns/d', step: 'savepoint', reason: 'timed out' },
    ],
  };
  await reports.put(LAST_PASS_NAME, JSON.stringify(record));
  expect(Object.fromEntries(await lastProtectionFailures({ reports }))).toEqual({
    'ns/a': { step: 'savepoint', reason: record.failures[0]!.reason, atEpochSeconds: 1_800_000_000 },
    'ns/b': { step: 'ship', reason: record.failures[1]!.reason, atEpochSeconds: 1_800_000_000 },
    'ns/d': { step: 'savepoint', reason: 'timed out', atEpochSeconds: 1_800_000_000 },
  });
});

import { describe, expect, it } from 'vitest';
import { capacityRefusal, replicaRefusal } from '../../domain/failback-readiness.js';
import type { SnapshotCandidate } from '../../domain/types.js';

describe('failback readiness (pure)', () => {
  const jobs = [{ key: 'ns/a', cores: 4, memoryMiB: 8192 }, { key: 'ns/b', cores: 2, memoryMiB: 4096 }];

  it('the source AZ must hold every job moving back, cores and memory, and the refusal names both sides and the fix', () => {
    expect(capacityRefusal('az-a', { cores: 6, memoryMiB: 12_288 }, jobs)).toBeUndefined();
    expect(capacityRefusal('az-a', { cores: 5, memoryMiB: 100_000 }, jobs)).toBe(
      'az-a has 5 cores and 100000 MiB free; the 2 job(s) moving back need 6 cores and 12288 MiB. Fix: add nodes in az-a (or wait for its cluster autoscaler), then run the failback again');
    expect(capacityRefusal('az-a', { cores: 100, memoryMiB: 12_287 }, jobs)).toContain('need 6 cores and 12288 MiB');
    expect(capacityRefusal('az-a', { cores: 0, memoryMiB: 0 }, [])).toBeUndefined();
  });

  describe('re-protected: a complete snapshot of the current run in the source replica within the RPO', () => {
    const where = { key: 'ns/a', jobId: 'b'.repeat(32), sourceAz: 'az-a', targetAz: 'az-b' };
    const cand = (path: string, at: number, hasMetadata = true): SnapshotCandidate => ({ kind: 'checkpoint', path, completedAtEpochSeconds: at, hasMetadata });

    it('is re-protected with a complete snapshot within the RPO (the newest counts)', () => {
      expect(replicaRefusal(where, [cand('s3://a/cp/chk-1', 100), cand('s3://a/cp/chk-2', 950)], 60, 1000)).toBeUndefined();
      expect(replicaRefusal(where, [cand('s3://a/cp/chk-2', 940)], 60, 1000)).toBeUndefined();
    });

    it('is not with none, only incomplete ones, or only ones older than the RPO; the reason names the run, the AZs and the fix', () => {
      expect(replicaRefusal(where, [], 60, 1000)).toBe(`not re-protected: no snapshot of its run in az-b (job ${where.jobId}) has reached az-a's object store within the tier's RPO (60 s); none is there. ` +
        "It keeps running in az-b. Fix: restore replication of az-b's snapshots into az-a, then run the failback again");
      expect(replicaRefusal(where, [cand('s3://a/cp/chk-3', 999, false)], 60, 1000)).toContain('none is there');
      expect(replicaRefusal(where, [cand('s3://a/cp/chk-1', 900)], 60, 1000)).toContain('its newest there, s3://a/cp/chk-1, is 100 s old');
      expect(replicaRefusal(where, [], 60, 1000, 61.4)).toContain('none is there after waiting 61 s. It keeps running in az-b.');
    });
  });
});

/**
 * The simulator's snapshot lookup (simulator/snapshots.ts) follows the production path's
 * semantics on the snapshots real Flink made (test/fixtures/flink/, relocated into one AZ's
 * in-memory replica as the S3 integration test puts them into versitygw): only the job's own
 * job ids are listed, candidates are resolved newest first, the first complete one wins.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SnapshotQuery } from '../../domain/snapshot-choice.js';
import type { SnapshotOwner } from '../../domain/snapshot-owner.js';
import { ObjectStore } from '../../simulator/object-store.js';
import { findSnapshot, listSnapshotCandidates } from '../../simulator/snapshots.js';
import { allFixtures, filesUnder, fixtureSnapshots, relocateMetadata, writtenPrefix, type Fixture } from './fixtures/flink.js';

const BUCKET = 'flink-state';
const STANDBY_ID = '5eadbeef00112233445566778899aabb';
const T0 = 1_800_000_000;

/**
 * A replica holding `fx` under `base`: its shared/ files (but `except`), then each snapshot
 * one second apart in checkpoint-id order (`_metadata` relocated), and, when `standby`, the
 * same snapshots again under a standby's job id, newer still.
 */
function replica(fx: Fixture, base: string, o: { except?: string; only?: string[]; standby?: boolean } = {}): ObjectStore {
  const store = new ObjectStore();
  store.createBucket(BUCKET);
  const put = (key: string, body: Uint8Array, at: number): void => store.put(BUCKET, key, { sizeBytes: body.length, lastModifiedEpochSeconds: at, body });
  const snapshots = fixtureSnapshots(fx).filter((s) => !o.only || o.only.includes(s.dir));
  const copy = (id: string, tag: string, t: number): void => {
    for (const f of filesUnder(fx, `checkpoints/${fx.info.jobId}/shared`)) {
      const key = `${base}/checkpoints/${id}/shared/${f.slice(f.lastIndexOf('/') + 1)}`;
      if (o.except === undefined || `${base}/${o.except.slice(writtenPrefix(fx).length)}` !== key.replace(id, fx.info.jobId)) put(key, readFileSync(join(fx.dir, f)), t);
    }
    snapshots.forEach((s, i) => {
      const dir = s.dir.replace(fx.info.jobId, id).replace(/savepoint-[0-9a-f]{6}-/, `savepoint-${tag}-`);
      for (const f of filesUnder(fx, s.dir).filter((f) => !f.endsWith('/_metadata'))) put(`${base}/${dir}/${f.slice(s.dir.length + 1)}`, readFileSync(join(fx.dir, f)), t + i);
      const bytes = relocateMetadata(readFileSync(join(fx.dir, s.dir, '_metadata')), `${writtenPrefix(fx)}checkpoints/${fx.info.jobId}/`, `s3://${BUCKET}/${base}/checkpoints/${id}/`);
      put(`${base}/${dir}/_metadata`, bytes, t + i);
    });
  };
  copy(fx.info.jobId, fx.info.jobId.slice(0, 6), T0);
  if (o.standby) copy(STANDBY_ID, STANDBY_ID.slice(0, 6), T0 + 100);
  return store;
}

const query: SnapshotQuery = { layout: 'symmetric', rpoSeconds: 3600, nowEpochSeconds: T0 + 200 };

describe.each(allFixtures)('simulator snapshot lookup over real Flink snapshots ($label)', (fx) => {
  const owner = (jobId = fx.info.jobId): SnapshotOwner => ({ checkpointPrefix: 'job/checkpoints', savepointPrefix: 'job/savepoints', jobIds: [jobId] });
  const newestFirst = fixtureSnapshots(fx).reverse();
  const newest = newestFirst[0]!;
  const pathOf = (dir: string): string => `s3://${BUCKET}/job/${dir}`;
  const dropped = newest.referenced.find((p) => p.includes('/shared/'))!;

  it("chooses the newest complete snapshot and never lists the standby's newer ones", async () => {
    const store = replica(fx, 'job', { standby: true });
    expect(listSnapshotCandidates(store, BUCKET, owner()).map((c) => c.path)).toEqual(newestFirst.map((s) => pathOf(s.dir)));
    expect(await findSnapshot(store, BUCKET, owner(), query)).toMatchObject({ kind: 'snapshot', snapshot: { path: pathOf(newest.dir), referencedFilesPresent: true }, skipped: [] });
    const standby = await findSnapshot(store, BUCKET, owner(STANDBY_ID), query);
    expect(standby.kind === 'snapshot' && standby.snapshot.completedAtEpochSeconds).toBeGreaterThanOrEqual(T0 + 100);
  });

  it('refuses the copy missing one shared/ file, naming it, and falls back to the next older complete one', async () => {
    const store = replica(fx, 'job', { except: dropped });
    const fallback = newestFirst.slice(1).find((s) => !s.referenced.includes(dropped))!;
    const choice = await findSnapshot(store, BUCKET, owner(), query);
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path: pathOf(fallback.dir) } });
    expect(choice.skipped[0]).toEqual({ path: pathOf(newest.dir), reason: expect.stringContaining(`first s3://${BUCKET}/job/${dropped.slice(writtenPrefix(fx).length)}`) });
  });

  it('fails with a reason naming the missing file when none is complete', async () => {
    const store = replica(fx, 'job', { except: dropped, only: [newest.dir] });
    const choice = await findSnapshot(store, BUCKET, owner(), query);
    expect(choice.kind === 'none' && choice.reason).toContain(`first s3://${BUCKET}/job/${dropped.slice(writtenPrefix(fx).length)}`);
  });
});

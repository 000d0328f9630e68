import { describe, expect, it } from 'vitest';
import { readFlinkMetadata } from '../../domain/flink-metadata.js';
import { CHECKPOINTING } from '../../simulator/checkpointing.js';
import { DEFAULT_MODEL, savepointSeconds } from '../../simulator/latency-model.js';
import type { StoredObject } from '../../simulator/object-store.js';
import { fleetJob, simWith } from './fixtures/sim-platform.js';

const JOB = fleetJob('az-a', 'job-a');

function checkpointDirs(sim: ReturnType<typeof simWith>['sim'], az: string): string[] {
  const store = sim.stores.store(az);
  const jobDirs = store.list('flink-state', { prefix: `${JOB.checkpointPrefix}/`, delimiter: '/' }).commonPrefixes;
  return jobDirs.flatMap((d) => store.list('flink-state', { prefix: d, delimiter: '/' }).commonPrefixes).filter((p) => /chk-\d+\/$/.test(p));
}

describe('simulated checkpointing', () => {
  it('seeds 3 checkpoints and 2 savepoints per running job, replicated to the other AZ', () => {
    const { sim } = simWith([JOB]);
    for (const az of ['az-a', 'az-b']) {
      const snaps = sim.listSnapshots(az, JOB);
      expect(snaps.filter((s) => s.kind === 'checkpoint')).toHaveLength(3);
      expect(snaps.filter((s) => s.kind === 'savepoint')).toHaveLength(2);
      expect(snaps.every((s) => s.hasMetadata && s.referencedFilesPresent)).toBe(true);
      expect(snaps[0]!.path).toMatch(/^s3:\/\/flink-state\/checkpoints\/ns\/job-a\/[0-9a-f]{32}\/chk-\d+$/);
      expect(snaps.find((s) => s.kind === 'savepoint')!.path).toMatch(/^s3:\/\/flink-state\/savepoints\/ns\/job-a\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    }
  });

  it("writes data files before _metadata, and _metadata (Flink's format) references its files: own relative, shared/ absolute", () => {
    const { sim, advance } = simWith([JOB]);
    const writes: Array<[string, StoredObject]> = [];
    const put = sim.stores.put.bind(sim.stores);
    sim.stores.put = (az, bucket, key, obj) => {
      if (az === 'az-a') writes.push([key, obj]);
      put(az, bucket, key, obj);
    };
    advance(CHECKPOINTING.defaultIntervalSeconds);
    const chk = writes.filter(([k]) => k.startsWith(JOB.checkpointPrefix));
    expect(chk.length).toBeGreaterThanOrEqual(3);
    const [metaKey, meta] = chk.at(-1)!;
    expect(metaKey).toMatch(/\/chk-\d+\/_metadata$/);
    const dir = metaKey.slice(0, -'/_metadata'.length);
    const read = readFlinkMetadata(meta.body as Uint8Array, { snapshotDir: `s3://flink-state/${dir}` });
    expect(read.properties).toMatchObject({ type: 'checkpoint' });
    expect(read.files.map((f) => f.path).sort()).toEqual(chk.slice(0, -1).map(([k]) => `s3://flink-state/${k}`).sort());
    expect(read.files.map((f) => [f.scope, f.relative]).sort()).toEqual([['exclusive', true], ['shared', false]]);
  });

  it('retains the newest 3 checkpoints and 2 savepoints while the job runs', () => {
    const { sim, advance } = simWith([JOB]);
    const before = checkpointDirs(sim, 'az-a');
    advance(5 * 60);
    const after = checkpointDirs(sim, 'az-a');
    expect(after).toHaveLength(CHECKPOINTING.retainedCheckpoints);
    expect(after.some((d) => before.includes(d))).toBe(false);
    advance(CHECKPOINTING.savepointIntervalSeconds);
    const savepoints = sim.listSnapshots('az-a', JOB).filter((s) => s.kind === 'savepoint');
    expect(savepoints).toHaveLength(CHECKPOINTING.retainedSavepoints);
    expect(sim.listSnapshots('az-a', JOB)[0]!.completedAtEpochSeconds).toBeGreaterThan(savepoints[0]!.completedAtEpochSeconds - 60);
    advance(120); // replicated deletes arrive too: the replica stays bounded
    expect(checkpointDirs(sim, 'az-b').length).toBeLessThanOrEqual(CHECKPOINTING.retainedCheckpoints + 1);
  });

  it('stops checkpointing when the job is suspended or its AZ is down', () => {
    const { sim, advance } = simWith([JOB]);
    sim.setAzDown('az-a', true);
    const objects = sim.stores.store('az-a').objectCount();
    advance(300);
    expect(sim.stores.store('az-a').objectCount()).toBe(objects);
    sim.setAzDown('az-a', false);
    sim.suspend('az-a', 'ns', 'job-a');
    advance(30);
    const newest = sim.listSnapshots('az-a', JOB)[0]!;
    expect(newest.kind).toBe('savepoint'); // taken on suspend (upgradeMode savepoint)
    expect(sim.getDeployment('az-a', 'ns', 'job-a')).toMatchObject({ jobState: 'SUSPENDED', upgradeSavepointPath: newest.path });
    advance(300);
    expect(sim.listSnapshots('az-a', JOB)[0]!.path).toBe(newest.path);
  });

  it('a periodic savepoint takes time in proportion to the state (the model savepoint time) and completes when it ends; its failure writes none', () => {
    const GiB = 1024 ** 3;
    const small = fleetJob('az-a', 'small', 1 * GiB);
    const big = fleetJob('az-a', 'big', 20 * GiB);
    const failing = fleetJob('az-a', 'failing', 1 * GiB);
    const { sim, advance } = simWith([small, big, failing]);
    sim.setFaults({ failSavepoint: ['ns/failing'] });
    const savepoints = (job: typeof small): number[] => sim.listSnapshots('az-a', job).filter((e) => e.kind === 'savepoint').map((e) => e.completedAtEpochSeconds);
    const tick = sim.clock.epoch(sim.clock.now()) + 20 * 60; // fleet load: first periodic savepoint 20 min in
    // The manual clock moves in whole seconds: a completion shows at most 1 s after it is due.
    const completesAt = (bytes: number) => ({ min: tick + savepointSeconds(DEFAULT_MODEL, bytes), max: tick + savepointSeconds(DEFAULT_MODEL, bytes) + 1 });
    advance(20 * 60 + Math.ceil(savepointSeconds(DEFAULT_MODEL, 1 * GiB)));
    expect(Math.max(...savepoints(small))).toBeGreaterThanOrEqual(completesAt(1 * GiB).min);
    expect(Math.max(...savepoints(small))).toBeLessThanOrEqual(completesAt(1 * GiB).max);
    expect(Math.max(...savepoints(big))).toBeLessThan(tick); // 20 GiB takes longer
    advance(Math.ceil(savepointSeconds(DEFAULT_MODEL, 20 * GiB) - savepointSeconds(DEFAULT_MODEL, 1 * GiB)));
    expect(Math.max(...savepoints(big))).toBeGreaterThanOrEqual(completesAt(20 * GiB).min);
    expect(Math.max(...savepoints(big))).toBeLessThanOrEqual(completesAt(20 * GiB).max);
    expect(Math.max(...savepoints(failing))).toBeLessThan(tick);
  });
});

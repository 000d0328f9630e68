/**
 * Protection's ports on the simulator (simulator/protection.ts): savepoints through the simulated
 * operator take the platform model's time for the job's state; copies between AZs move through
 * the source AZ's object-store bandwidth; results and errors read as the production adapters'
 * (platform/kube/savepoint-trigger.ts, platform/s3/snapshot-shipping.ts).
 */
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../platform/errors.js';
import type { PlatformProfile } from '../../domain/types.js';
import { DEFAULT_MODEL } from '../../simulator/latency-model.js';
import { fleetJob, PLATFORM, simWith } from './fixtures/sim-platform.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const NOT_REPLICATED: PlatformProfile = { ...PLATFORM, notReplicated: [{ from: 'az-a', to: 'az-b' }] };

function platformError(fn: () => unknown): PlatformError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlatformError) return err;
    throw err;
  }
  throw new Error('expected a PlatformError');
}

async function rejection(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof PlatformError)) throw new Error(`expected a PlatformError, got ${String(err)}`);
  return err;
}

describe('simulator protection: savepoints through the simulated operator', () => {
  it('a savepoint completes after base + state / write rate of the job (time grows with state); the job runs on, its spec untouched', () => {
    const small = fleetJob('az-a', 'small', 2 * GiB);
    const big = fleetJob('az-a', 'big', 20 * GiB);
    const { sim, advance } = simWith([small, big]);
    advance(5);
    const generation = (name: string): number => sim.listDeployments('az-a').find((d) => d.manifest.metadata.name === name)!.generation;
    const before = { small: generation('small'), big: generation('big') };
    const ts = sim.protection.triggerSavepoint('az-a', 'ns', 'small', { id: '101', format: 'native' });
    const tb = sim.protection.triggerSavepoint('az-a', 'ns', 'big', { id: '102', format: 'native' });
    expect(ts).toMatchObject({ az: 'az-a', namespace: 'ns', name: 'small', via: 'flinkstatesnapshot', id: '101', resource: 'small-az-evac-101' });
    // 5 s + 2 GiB at 500 MiB/s = 9.1 s; 5 s + 20 GiB at 500 MiB/s = 46 s.
    advance(8);
    expect(sim.protection.savepointProgress(ts)).toEqual({ state: 'pending', detail: 'FlinkStateSnapshot ns/small-az-evac-101 IN_PROGRESS' });
    advance(2);
    const done = sim.protection.savepointProgress(ts);
    expect(done.state).toBe('completed');
    const path = (done as { path: string }).path;
    expect(path).toMatch(/^s3:\/\/flink-state\/savepoints\/ns\/small\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(sim.listSnapshots('az-a', small).find((e) => e.path === path)).toMatchObject({ kind: 'savepoint', hasMetadata: true, referencedFilesPresent: true });
    advance(30);
    expect(sim.protection.savepointProgress(tb).state).toBe('pending');
    advance(7);
    expect(sim.protection.savepointProgress(tb).state).toBe('completed');
    expect({ small: generation('small'), big: generation('big') }).toEqual(before);
    expect(sim.getDeployment('az-a', 'ns', 'big')!.jobState).toBe('RUNNING');
    sim.protection.releaseSavepointTrigger(ts);
    sim.protection.releaseSavepointTrigger(ts); // idempotent
    expect(sim.protection.savepointProgress(ts)).toEqual({ state: 'failed', reason: 'FlinkStateSnapshot ns/small-az-evac-101 was deleted before it completed' });
  });

  it('savepoints written at once in one AZ share its object-store write bandwidth (objectStoreWriteBytesPerSecond); another AZ\'s are not slowed', () => {
    // 1 GiB/s of writes per AZ: four 10 GiB savepoints at once get 256 MiB/s each (5 s + 40 s),
    // where one alone writes at 500 MiB/s (5 s + 20.5 s), as az-b's does.
    const jobs = [1, 2, 3, 4].map((i) => fleetJob('az-a', `job-${i}`, 10 * GiB));
    const { sim, advance } = simWith([...jobs, fleetJob('az-b', 'job-b', 10 * GiB)], { model: { ...DEFAULT_MODEL, objectStoreWriteBytesPerSecond: 1 * GiB } });
    const inA = jobs.map((j, i) => sim.protection.triggerSavepoint('az-a', 'ns', j.name, { id: `2${i}`, format: 'native' }));
    const inB = sim.protection.triggerSavepoint('az-b', 'ns', 'job-b', { id: '30', format: 'native' });
    advance(26);
    expect(sim.protection.savepointProgress(inB).state).toBe('completed');
    expect(inA.map((t) => sim.protection.savepointProgress(t).state)).toEqual(['pending', 'pending', 'pending', 'pending']);
    advance(18);
    expect(inA.map((t) => sim.protection.savepointProgress(t).state)).toEqual(['pending', 'pending', 'pending', 'pending']);
    advance(2);
    expect(inA.map((t) => sim.protection.savepointProgress(t).state)).toEqual(['completed', 'completed', 'completed', 'completed']);
  });

  it('is idempotent by id: the same trigger twice takes one savepoint', () => {
    const job = fleetJob('az-a', 'job-a');
    const { sim, advance } = simWith([job]);
    const savepoints = (): number => sim.listSnapshots('az-a', job).filter((e) => e.kind === 'savepoint').length;
    const before = savepoints();
    const t1 = sim.protection.triggerSavepoint('az-a', 'ns', 'job-a', { id: '7', format: 'native' });
    const t2 = sim.protection.triggerSavepoint('az-a', 'ns', 'job-a', { id: '7', format: 'native' });
    expect(t2).toEqual(t1);
    advance(20);
    expect(savepoints()).toBe(Math.min(before + 1, 2)); // two retained (checkpointing.ts), the new one among them
    expect(sim.protection.stats.triggered).toBe(1);
  });

  it('reports the operator\'s reason: FAILED under the failSavepoint fault, ABANDONED for a job that is not running; refuses a missing FlinkDeployment and a bad id', () => {
    const { sim, advance } = simWith([fleetJob('az-a', 'job-a'), fleetJob('az-a', 'job-b')]);
    sim.setFaults({ failSavepoint: ['ns/job-a'] });
    const failing = sim.protection.triggerSavepoint('az-a', 'ns', 'job-a', { id: '1', format: 'native' });
    advance(20);
    const failed = sim.protection.savepointProgress(failing);
    expect(failed.state).toBe('failed');
    expect((failed as { reason: string }).reason).toMatch(/^operator: FlinkStateSnapshot ns\/job-a-az-evac-1 FAILED after 1 attempt\(s\): .*savepoint/);
    sim.suspend('az-a', 'ns', 'job-b');
    advance(60);
    const abandoned = sim.protection.savepointProgress(sim.protection.triggerSavepoint('az-a', 'ns', 'job-b', { id: '2', format: 'native' }));
    expect(abandoned.state).toBe('failed');
    expect((abandoned as { reason: string }).reason).toContain('ABANDONED (the job was not running)');
    const missing = platformError(() => sim.protection.triggerSavepoint('az-a', 'ns', 'nope', { id: '3', format: 'native' }));
    expect([missing.code, missing.message]).toEqual(['not-found', 'FlinkDeployment ns/nope does not exist in az-a']);
    expect(platformError(() => sim.protection.triggerSavepoint('az-a', 'ns', 'job-a', { id: 'Bad-Id', format: 'native' })).code).toBe('invalid');
    sim.setAzDown('az-a', true);
    expect(platformError(() => sim.protection.savepointProgress(failing)).code).toBe('az-down');
  });
});

describe('simulator protection: shipping savepoints between AZs', () => {
  it('copies a savepoint into the other AZ at the modelled bandwidth, _metadata last, marked shipped with the source\'s completion time; a retried ship copies nothing', async () => {
    const job = fleetJob('az-a', 'job-a', 2 * GiB);
    const { sim, advance } = simWith([job], { platform: NOT_REPLICATED });
    const t = sim.protection.triggerSavepoint('az-a', 'ns', 'job-a', { id: '11', format: 'native' });
    advance(10);
    const progress = sim.protection.savepointProgress(t);
    expect(progress.state).toBe('completed');
    const path = (progress as { path: string }).path;
    const source = sim.listSnapshots('az-a', job).find((e) => e.path === path)!;
    expect(sim.listSnapshots('az-b', job)).toEqual([]); // not replicated
    let shipped: Awaited<ReturnType<typeof sim.protection.shipSavepoint>> | undefined;
    const ship = sim.protection.shipSavepoint('az-a', 'az-b', path).then((s) => (shipped = s));
    // 2 GiB at 200 MiB/s per copy: 10.24 s.
    advance(10);
    await Promise.resolve();
    expect(shipped).toBeUndefined();
    expect(sim.listSnapshots('az-b', job)).toEqual([]);
    advance(1);
    await ship;
    expect(shipped).toEqual({ path, files: 1, copiedBytes: 2 * GiB, completedAtEpochSeconds: Math.floor(source.completedAtEpochSeconds) });
    const owner = { checkpointPrefix: job.checkpointPrefix, savepointPrefix: job.savepointPrefix, jobIds: [sim.getDeployment('az-a', 'ns', 'job-a')!.jobId!] };
    const candidates = sim.snapshotCandidates('az-b', owner);
    expect(candidates).toEqual([{ kind: 'savepoint', path, completedAtEpochSeconds: Math.floor(source.completedAtEpochSeconds), hasMetadata: true, shippedFrom: path }]);
    const choice = await sim.findSnapshot('az-b', owner, { layout: 'symmetric', nowEpochSeconds: sim.clock.epoch(sim.clock.now()) });
    expect(choice).toMatchObject({ kind: 'snapshot', snapshot: { path, kind: 'savepoint' } });
    const again = sim.protection.shipSavepoint('az-a', 'az-b', path);
    advance(1);
    expect((await again).copiedBytes).toBe(0);
  });

  it('copies at once share the source AZ\'s object-store bandwidth (with restores): two take twice as long as one', async () => {
    const jobs = [fleetJob('az-a', 'job-a', 2 * GiB), fleetJob('az-a', 'job-b', 2 * GiB)];
    const model = { ...DEFAULT_MODEL, objectStoreReadBytesPerSecond: 200 * MiB };
    const { sim, advance } = simWith(jobs, { platform: NOT_REPLICATED, model });
    const paths = jobs.map((j, i) => {
      const t = sim.protection.triggerSavepoint('az-a', 'ns', j.name, { id: String(20 + i), format: 'native' });
      advance(10);
      return (sim.protection.savepointProgress(t) as { path: string }).path;
    });
    const ended: number[] = [];
    const start = sim.clock.now();
    const ships = paths.map((p) => sim.protection.shipSavepoint('az-a', 'az-b', p).then(() => ended.push(sim.clock.now() - start)));
    for (let s = 0; s < 25 && ended.length < 2; s++) {
      advance(1);
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(ships);
    // 4 GiB through 200 MiB/s: 20.48 s, not 10.24 s.
    expect(Math.min(...ended)).toBeGreaterThanOrEqual(20);
  });

  it('refuses what the S3 adapter refuses: a checkpoint, a path outside the source\'s state bucket, a savepoint without _metadata; retention deletes only shipped copies', async () => {
    const job = fleetJob('az-a', 'job-a');
    const { sim, advance } = simWith([job], { platform: NOT_REPLICATED });
    const checkpoint = sim.listSnapshots('az-a', job).find((e) => e.kind === 'checkpoint')!.path;
    expect((await rejection(sim.protection.shipSavepoint('az-a', 'az-b', checkpoint))).message).toContain('is not a savepoint directory');
    expect((await rejection(sim.protection.shipSavepoint('az-a', 'az-b', 's3://other-bucket/savepoints/x'))).code).toBe('invalid');
    const gone = await rejection(sim.protection.shipSavepoint('az-a', 'az-b', 's3://flink-state/savepoints/ns/job-a/savepoint-000000-000000000000'));
    expect([gone.code, gone.message]).toEqual(['not-found', 's3://flink-state/savepoints/ns/job-a/savepoint-000000-000000000000/_metadata does not exist: the savepoint is incomplete or was expired; take a new one']);
    const own = sim.listSnapshots('az-a', job).find((e) => e.kind === 'savepoint')!.path;
    expect(platformError(() => sim.protection.deleteShipped('az-a', own)).message).toContain('was not shipped by az-evac');
    const ship = sim.protection.shipSavepoint('az-a', 'az-b', own);
    advance(15);
    await ship;
    expect(sim.listSnapshots('az-b', job).map((e) => e.path)).toEqual([own]);
    expect(sim.protection.deleteShipped('az-b', own)).toBe(2);
    expect(sim.listSnapshots('az-b', job)).toEqual([]);
    expect(sim.protection.deleteShipped('az-b', own)).toBe(0);
    sim.setAzDown('az-b', true);
    expect((await rejection(sim.protection.shipSavepoint('az-a', 'az-b', own))).code).toBe('az-down');
  });
});

describe('simulator protection: a declared replication outage', () => {
  it('declareNotReplicated lists the pair in the profile the fleet is read with (the next catalog), and withdraws it; replication itself is the outage control\'s', () => {
    const { sim } = simWith([fleetJob('az-a', 'job-a')]);
    sim.declareNotReplicated('az-a', 'az-b', true);
    sim.declareNotReplicated('az-a', 'az-b', true);
    expect(sim.readFleet().platform.notReplicated).toEqual([{ from: 'az-a', to: 'az-b' }]);
    sim.declareNotReplicated('az-a', 'az-b', false);
    expect(sim.readFleet().platform.notReplicated).toBeUndefined();
    expect(platformError(() => sim.declareNotReplicated('az-a', 'az-a', true)).code).toBe('invalid');
    expect(platformError(() => sim.declareNotReplicated('az-a', 'az-x', true)).code).toBe('not-found');
  });
});

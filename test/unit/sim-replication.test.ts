import { describe, expect, it } from 'vitest';
import type { PlatformProfile } from '../../domain/types.js';
import { REPLICATION_LAG_SECONDS } from '../../simulator/replication.js';
import { fleetJob, PLATFORM, simWith } from './fixtures/sim-platform.js';

const JOB = fleetJob('az-a', 'job-a');

describe('simulated cross-AZ replication', () => {
  it('delivers new snapshots to the other AZ with a lag, out of order: the newest replica is sometimes incomplete', () => {
    const { sim, advance } = simWith([JOB]);
    let missingMetadata = 0;
    let missingFiles = 0;
    let checks = 0;
    for (let s = 0; s < 20 * 60; s += 5) {
      advance(5);
      const newestSource = sim.listSnapshots('az-a', JOB).find((e) => e.kind === 'checkpoint')!;
      const replica = sim.listSnapshots('az-b', JOB).filter((e) => e.kind === 'checkpoint');
      const newest = replica[0]!;
      checks++;
      if (!newest.hasMetadata) missingMetadata++;
      else if (!newest.referencedFilesPresent) missingFiles++;
      expect(replica.some((e) => e.hasMetadata && e.referencedFilesPresent)).toBe(true);
      expect(newestSource.hasMetadata).toBe(true);
    }
    expect(missingMetadata).toBeGreaterThan(0);
    expect(missingFiles).toBeGreaterThan(0);
    expect(missingMetadata + missingFiles).toBeLessThan(checks);
  });

  it('seeds an incomplete newest replica for the requested share of jobs, completed later', () => {
    const { sim, advance } = simWith([JOB], { load: { incompleteReplicaFraction: 1 } });
    const newest = sim.listSnapshots('az-b', JOB)[0]!;
    expect(newest.kind).toBe('checkpoint');
    expect(newest.hasMetadata && newest.referencedFilesPresent).toBe(false);
    expect(sim.listSnapshots('az-a', JOB)[0]!.hasMetadata).toBe(true);
    sim.setAzDown('az-a', true); // the source died: in-flight replication stalls
    advance(120);
    const stalled = sim.listSnapshots('az-b', JOB).find((e) => e.path === newest.path)!;
    expect(stalled.hasMetadata && stalled.referencedFilesPresent).toBe(false);
    sim.setAzDown('az-a', false);
    advance(100);
    const again = sim.listSnapshots('az-b', JOB).find((e) => e.path === newest.path);
    expect(again?.hasMetadata && again.referencedFilesPresent).toBe(true);
  });

  it('under per-az-buckets replicates into the other bucket name: checkpoints do not resolve there, savepoints do', () => {
    const platform: PlatformProfile = {
      layout: 'per-az-buckets',
      azs: PLATFORM.azs.map((a) => ({ ...a, stateBucket: `flink-state-${a.name}`, artifactBucket: `flink-artifacts-${a.name}` })),
    };
    const job = fleetJob('az-a', 'job-a');
    const conf = job.deployment.spec.flinkConfiguration as Record<string, string>;
    conf['execution.checkpointing.dir'] = 's3://flink-state-az-a/checkpoints/ns/job-a';
    conf['execution.checkpointing.savepoint-dir'] = 's3://flink-state-az-a/savepoints/ns/job-a';
    (job.deployment.spec.job as Record<string, unknown>).jarURI = 's3://flink-artifacts-az-a/jars/app-1.0.jar';
    const { sim } = simWith([job], { platform });
    const replica = sim.listSnapshots('az-b', job);
    expect(replica.length).toBe(5);
    expect(replica.every((e) => e.path.startsWith('s3://flink-state-az-b/'))).toBe(true);
    expect(replica.filter((e) => e.kind === 'checkpoint').every((e) => e.hasMetadata && !e.referencedFilesPresent)).toBe(true);
    expect(replica.filter((e) => e.kind === 'savepoint').every((e) => e.hasMetadata && e.referencedFilesPresent)).toBe(true);
    expect(sim.listSnapshots('az-a', job).every((e) => e.referencedFilesPresent)).toBe(true);
  });

  it('never replicates a pair the platform declares not replicating (notReplicated); the other direction still does', () => {
    const jobB = fleetJob('az-b', 'job-b');
    const platform: PlatformProfile = { ...PLATFORM, notReplicated: [{ from: 'az-a', to: 'az-b' }] };
    const { sim, advance } = simWith([JOB, jobB], { platform });
    advance(10 * 60);
    expect(sim.listSnapshots('az-a', JOB).length).toBeGreaterThan(0);
    expect(sim.listSnapshots('az-b', JOB)).toEqual([]);
    expect(sim.listSnapshots('az-a', jobB).some((e) => e.hasMetadata && e.referencedFilesPresent)).toBe(true);
  });

  it('a replication outage of one pair holds its replications (the replica ages, the other pair goes on) and delivers them once it ends', () => {
    const jobB = fleetJob('az-b', 'job-b');
    const { sim, advance } = simWith([JOB, jobB]);
    advance(3 * 60);
    const now = (): number => sim.clock.epoch(sim.clock.now());
    const newestComplete = (az: string, job: typeof JOB): number => sim.listSnapshots(az, job).find((e) => e.hasMetadata && e.referencedFilesPresent)?.completedAtEpochSeconds ?? 0;
    const outageAt = now();
    sim.stores.setReplicationDown('az-a', 'az-b', true);
    expect(sim.stores.replicationOutages()).toEqual([{ from: 'az-a', to: 'az-b' }]);
    advance(10 * 60);
    expect(newestComplete('az-a', JOB)).toBeGreaterThan(now() - 90);
    expect(newestComplete('az-b', JOB)).toBeLessThanOrEqual(outageAt);
    expect(newestComplete('az-a', jobB)).toBeGreaterThan(now() - 2 * 60); // az-b → az-a is not in the outage
    expect(sim.stores.counts().replicationsHeld).toBeGreaterThan(0);
    sim.stores.setReplicationDown('az-a', 'az-b', false);
    const endedAt = now();
    advance(2 * 60);
    expect(sim.stores.counts().replicationsHeld).toBe(0);
    expect(newestComplete('az-b', JOB)).toBeGreaterThan(endedAt);
    expect(() => sim.stores.setReplicationDown('az-a', 'az-a', true)).toThrow(/does not replicate into itself/);
    expect(() => sim.stores.setReplicationDown('az-a', 'az-x', true)).toThrow(/az-x is not part of the simulated platform/);
  });

  it('an AZ down for hours holds one entry per key, not one per write (memory O(objects)), and once it is back its replica is the source\'s current state', () => {
    const jobB = fleetJob('az-b', 'job-b');
    const { sim, advance } = simWith([jobB]);
    advance(3 * 60);
    const complete = (az: string): number[] => sim.listSnapshots(az, jobB).filter((e) => e.hasMetadata && e.referencedFilesPresent).map((e) => e.completedAtEpochSeconds);
    sim.setAzDown('az-a', true); // the failed AZ: az-b → az-a cannot deliver
    advance(60 * 60);
    const heldAfter1h = sim.stores.counts().replicationsHeld;
    const pendingAfter1h = sim.scheduler.pending();
    advance(2 * 60 * 60); // 120 more checkpoints of job-b, each several objects
    const { replicationsHeld, objects } = sim.stores.counts();
    expect(sim.scheduler.pending()).toBeLessThanOrEqual(pendingAfter1h); // nothing parked per write
    expect(replicationsHeld).toBeGreaterThan(0);
    expect(replicationsHeld).toBeLessThanOrEqual(heldAfter1h);
    expect(replicationsHeld).toBeLessThanOrEqual(objects); // a key, not a write: never more than the objects there are
    const newestAtReturn = Math.max(...complete('az-b'));
    const sourcePaths = new Set(sim.listSnapshots('az-b', jobB).map((e) => e.path));
    sim.setAzDown('az-a', false);
    advance(REPLICATION_LAG_SECONDS.max + 1);
    expect(sim.stores.counts().replicationsHeld).toBe(0);
    expect(Math.max(...complete('az-a'))).toBeGreaterThanOrEqual(newestAtReturn);
    for (const e of sim.listSnapshots('az-b', jobB)) sourcePaths.add(e.path);
    expect(sim.listSnapshots('az-a', jobB).filter((e) => !sourcePaths.has(e.path))).toEqual([]); // retired during the outage: never delivered, or deleted again
  });
});

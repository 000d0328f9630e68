import { describe, expect, it } from 'vitest';
import type { PlatformProfile } from '../../domain/types.js';
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
});

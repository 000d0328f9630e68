/**
 * The simulator as its own process (spawned like the demo and the worker's parent do),
 * driven over HTTP through SimulatorClient at time scale 100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderForTargetAz } from '../../domain/render-deployment.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
import { jobKey, type FleetJob } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import { spawnSimulator, type SpawnedSimulator } from '../../simulator/spawn.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';

async function rejection(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

describe('simulator process over HTTP', () => {
  let sim: SpawnedSimulator;
  let fleet: GeneratedFleet;
  let job: FleetJob;

  beforeAll(async () => {
    sim = await spawnSimulator({ timeScale: 100, seed: 3 });
    fleet = generateFleet({ jobs: 16, seed: 3, templates: loadExampleTemplates() });
    const loaded = await sim.client.loadFleet(fleet);
    expect(loaded).toMatchObject({ jobs: 16, standbys: fleet.standbys.length });
    job = fleet.jobs.find((j) => j.az === 'az-a' && (j.tier === 'P2' || j.tier === 'P3'))!;
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('reads the fleet back from the resources, standbys attached to their primaries', async () => {
    const read = await sim.client.readFleet();
    expect(read.unreachableAzs).toEqual([]);
    expect(read.jobs.map(jobKey).sort()).toEqual(fleet.jobs.map(jobKey).sort());
    const withStandby = fleet.jobs.filter((j) => j.standby);
    for (const j of withStandby) {
      expect(read.jobs.find((r) => jobKey(r) === jobKey(j))!.standby).toMatchObject({ az: j.standby!.az, kind: j.standby!.kind });
    }
    const back = read.jobs.find((r) => jobKey(r) === jobKey(job))!;
    expect(back).toMatchObject({ tier: job.tier, team: job.team, jars: job.jars, resources: job.resources, checkpointPrefix: job.checkpointPrefix, lineage: job.lineage });
    // The running job's id from its status: whose snapshots it may restore from.
    expect(back.jobIds).toEqual([(await sim.client.getDeployment(job.az, job.namespace, job.name))!.jobId]);
    expect(back.jobIds![0]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('restores a rendered manifest in az-b and waits for RUNNING over long-polls', async () => {
    const owner = snapshotOwner(job, (await sim.client.getDeployment(job.az, job.namespace, job.name))!.jobId);
    const choice = await sim.client.findSnapshot('az-b', owner, { layout: fleet.platform.layout, nowEpochSeconds: Date.now() / 1000 });
    if (choice.kind !== 'snapshot') throw new Error(`no snapshot chosen: ${choice.reason}`);
    const chosen = choice.snapshot;
    expect(chosen.path).toContain(owner.jobIds[0]!.slice(0, 6));
    const [source, target] = fleet.platform.azs;
    const manifest = renderForTargetAz({ job, source: source!, target: target!, layout: fleet.platform.layout, restore: { path: chosen.path }, evacuationId: 'it-1', nonce: 1 });
    await sim.client.deleteHaConfigMaps('az-b', job.namespace, job.name);
    const applied = await sim.client.apply('az-b', manifest);
    expect(applied.created).toBe(true);
    expect(applied.uid).toBeTruthy();
    // The same spec again: not created, same generation, the same resource (its uid).
    expect(await sim.client.apply('az-b', manifest)).toEqual({ created: false, generation: applied.generation, uid: applied.uid });
    const seen: string[] = [];
    const status = await sim.client.waitForRunning('az-b', job.namespace, job.name, {
      minGeneration: applied.generation,
      timeoutSeconds: 60,
      onProgress: (s) => seen.push(`${s?.lifecycleState}/${s?.jobState}`),
    });
    expect(status).toMatchObject({ lifecycleState: 'STABLE', jobState: 'RUNNING', initialSavepointPath: chosen.path });
    expect(status.jobId).toMatch(/^[0-9a-f]{32}$/);
    const stats = await sim.client.stats({ az: 'az-b', key: jobKey(job) });
    const counters = stats.counters['az-b']![jobKey(job)]!;
    expect(counters).toMatchObject({ created: 1, specChanges: 1, deploys: 1 });
    expect(counters.jarDownloadsCache + counters.jarDownloadsRepository).toBe(1);
    const deployed = (await sim.client.listDeployments('az-b')).find((d) => d.manifest.metadata.name === job.name)!;
    expect(deployed.status.jobStatus).toMatchObject({ restoredFrom: chosen.path, restoreSource: 'initialSavepointPath' });
  });

  it('copes with 2,000 concurrent long-polls on one connection pool', async () => {
    const stuck = { ...job.deployment, metadata: { ...job.deployment.metadata, name: 'stuck-job', namespace: job.namespace } };
    stuck.spec = { ...stuck.spec, job: { ...(stuck.spec.job ?? {}), initialSavepointPath: undefined } };
    await sim.client.setFaults({ neverRunning: [`${job.namespace}/stuck-job`] });
    await sim.client.apply('az-a', stuck);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 2000 }, () => rejection(sim.client.waitForRunning('az-a', job.namespace, 'stuck-job', { minGeneration: 1, timeoutSeconds: 2 }))),
    );
    expect(results.every((e) => e.code === 'timeout' && !e.retryable)).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
    await sim.client.setFaults({ neverRunning: [] });
  });

  it('fails every call to a down AZ with a retryable az-down, and leaves it out of the fleet', async () => {
    await sim.client.setAzDown('az-a', true);
    const err = await rejection(sim.client.capacity('az-a'));
    expect(err).toMatchObject({ code: 'az-down', retryable: true });
    expect((await rejection(sim.client.listSnapshots('az-a', snapshotOwner(job, 'f'.repeat(32))))).code).toBe('az-down');
    const read = await sim.client.readFleet();
    expect(read.unreachableAzs).toEqual(['az-a']);
    expect(read.jobs.every((j) => j.az !== 'az-a')).toBe(true);
    await sim.client.setAzDown('az-a', false);
    expect((await sim.client.capacity('az-a')).cores).toBeGreaterThanOrEqual(0);
  });

  it('starts and ends a replication outage of one AZ pair; an unknown AZ or a pair of one AZ is refused naming it', async () => {
    await sim.client.setReplicationDown('az-a', 'az-b', true);
    await sim.client.setReplicationDown('az-a', 'az-b', false);
    expect(await rejection(sim.client.setReplicationDown('az-a', 'az-z', true))).toMatchObject({ code: 'not-found', message: expect.stringContaining('az-z') });
    expect(await rejection(sim.client.setReplicationDown('az-b', 'az-b', true))).toMatchObject({ code: 'invalid', message: expect.stringContaining('does not replicate into itself') });
  });

  it('injects retryable API faults at the configured rate', async () => {
    await sim.client.setFaults({ apiFailureRate: 1, hangMs: 200 });
    const errors = await Promise.all(Array.from({ length: 30 }, () => rejection(sim.client.capacity('az-b'))));
    expect(errors.every((e) => e.retryable)).toBe(true);
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['unavailable', 'throttled', 'timeout']));
    await sim.client.setFaults({ kinds: ['throttled'], retryAfterSeconds: 3 });
    expect(await rejection(sim.client.getDeployment('az-b', job.namespace, job.name))).toMatchObject({ code: 'throttled', retryAfterSeconds: 3 });
    await sim.client.setFaults({ apiFailureRate: 0, kinds: ['unavailable', 'throttled', 'hang'] });
    const stats = await sim.client.stats();
    expect(stats.faultsInjected.unavailable + stats.faultsInjected.throttled + stats.faultsInjected.hang).toBeGreaterThanOrEqual(31);
    expect(await sim.client.capacity('az-b')).toBeDefined();
  });

  it('rejects bad input with a 4xx naming the field', async () => {
    const noNonce = await rejection(sim.client.restore('az-b', job.namespace, job.name, {} as { savepointRedeployNonce: number }));
    expect(noNonce).toMatchObject({ code: 'invalid', retryable: false });
    expect(noNonce.message).toMatch(/savepointRedeployNonce/);
    const badName = { ...job.deployment, metadata: { ...job.deployment.metadata, name: 'Bad_Name' } };
    const invalid = await rejection(sim.client.apply('az-b', badName));
    expect(invalid).toMatchObject({ code: 'invalid', retryable: false });
    expect(invalid.message).toMatch(/metadata/);
    expect((await rejection(sim.client.capacity('az-z'))).code).toBe('not-found');
  });
});

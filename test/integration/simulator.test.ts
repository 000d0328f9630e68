/**
 * The simulator as its own process (spawned like the demo and the worker's parent do),
 * driven over HTTP through SimulatorClient at time scale 100. Connections are counted on the
 * simulator's side (GET /control/connections: its HTTP server's open sockets and the wait
 * rounds it holds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderForTargetAz } from '../../domain/render-deployment.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
import { jobKey, type FleetJob } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import { SimulatorClient } from '../../platform/simulator-client/client.js';
import { spawnSimulator, type SpawnedSimulator } from '../../simulator/spawn.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';
import { waitFor } from '../setup/evacuation-harness.js';

/** Concurrent waits of one client: more than the 2,000-job window of the 20,000-job bench. */
const WAITS = 3000;

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
  const connections = async (): Promise<{ open: number; pendingWaitRounds: number }> => (await fetch(`${sim.url}/control/connections`)).json() as Promise<{ open: number; pendingWaitRounds: number }>;

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

  // Issue 12's 20,000-job run: 2,000 per-job long-polls held ~2,000 connections, the simulator's
  // listen queue filled and every call failed "simulator unreachable". On per-job long-polls
  // no rounds are held as a batch and thousands of connections are open: this fails.
  it(`holds ${WAITS} concurrent waits of one client on at most 2 connections, while its other calls answer`, async () => {
    const stuck = { ...job.deployment, metadata: { ...job.deployment.metadata, name: 'stuck-job', namespace: job.namespace } };
    stuck.spec = { ...stuck.spec, job: { ...(stuck.spec.job ?? {}), initialSavepointPath: undefined } };
    await sim.client.setFaults({ neverRunning: [`${job.namespace}/stuck-job`] });
    await sim.client.apply('az-a', stuck);
    const client = new SimulatorClient(sim.url);
    const before = await connections();
    const waits = Array.from({ length: WAITS }, () => rejection(client.waitForRunning('az-a', job.namespace, 'stuck-job', { minGeneration: 1, timeoutSeconds: 8 })));
    const held = await waitFor(`${WAITS} wait rounds held by the simulator`, async () => {
      const c = await connections();
      return c.pendingWaitRounds >= WAITS ? c : undefined;
    }, 30_000, 50);
    expect(held.pendingWaitRounds).toBe(WAITS);
    // The per-job long-polls held one connection each: thousands here.
    expect(held.open - before.open).toBeLessThanOrEqual(2);
    // A wait on a running job and a short call answer while the others are held.
    const running = await client.waitForRunning('az-a', job.namespace, job.name, { minGeneration: 1, timeoutSeconds: 30 });
    expect(running.jobState).toBe('RUNNING');
    expect((await client.capacity('az-b')).cores).toBeGreaterThan(0);
    // Each wait still ends as before: a start-up timeout, not retryable.
    const errors = await Promise.all(waits);
    expect(errors.filter((e) => e.code === 'timeout' && !e.retryable)).toHaveLength(WAITS);
    expect(errors[0]!.message).toMatch(/not RUNNING after 8s/);
    expect((await connections()).pendingWaitRounds).toBe(0);
    await sim.client.setFaults({ neverRunning: [] });
  });

  it('answers a batched wait with its own error: the API of its AZ out, retried until the deadline', async () => {
    const client = new SimulatorClient(sim.url);
    await sim.client.setFaults({ apiDownAzs: ['az-a'] });
    const outage = await rejection(client.waitForRunning('az-a', job.namespace, job.name, { minGeneration: 1, timeoutSeconds: 1.5 }));
    await sim.client.setFaults({ apiDownAzs: [] });
    expect(outage).toMatchObject({ code: 'unavailable', retryable: true });
    expect(outage.message).toMatch(new RegExp(`wait for az-a ${job.namespace}/${job.name} RUNNING: could not observe .*API server of az-a unavailable`));
  });

  it('fails every call to a down AZ with a retryable az-down, and leaves it out of the fleet', async () => {
    await sim.client.setAzDown('az-a', true);
    const err = await rejection(sim.client.capacity('az-a'));
    expect(err).toMatchObject({ code: 'az-down', retryable: true });
    expect((await rejection(sim.client.listSnapshots('az-a', snapshotOwner(job, 'f'.repeat(32))))).code).toBe('az-down');
    expect(await rejection(sim.client.waitForRunning('az-a', job.namespace, job.name, { minGeneration: 1, timeoutSeconds: 30 }))).toMatchObject({ code: 'az-down', retryable: true });
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

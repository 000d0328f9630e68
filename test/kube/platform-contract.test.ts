/**
 * Contract of the platform ports (ClusterPort + FleetSource, platform/ports.ts), one suite
 * run against BOTH implementations:
 * - `simulator`: the simulator process over HTTP (SimulatorClient);
 * - `kubernetes`: KubePlatform on the run's real kube-apiserver of az-b, under the
 *   least-privilege worker identity, with the operator stand-in writing status.
 * Each platform gets the same small generated fleet; every test works on fresh copies of an
 * az-b primary (tier labels removed, so they are not fleet jobs). What az-evac writes for
 * people (annotations, Events) is read back outside the ports (on Kubernetes as admin, the
 * way `kubectl describe flinkdeployment` finds Events).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetJob, FlinkDeploymentManifest } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import { snapshotOwner } from '../../domain/snapshot-owner.js';
import type { ClusterPort, FleetSource, ObjectStorePort } from '../../platform/ports.js';
import { spawnSimulator } from '../../simulator/spawn.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { manifestResources } from '../../domain/flink-spec.js';
import { distinctRefs, OBJECT_KINDS, podReferences, type ObjectRef } from '../../domain/target-readiness.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';
import { createHaConfigMaps } from '../../simulator/kube-seed.js';
import { waitFor } from '../setup/evacuation-harness.js';
import { ACTION_ANNOTATIONS, fenceMark, stopVerdict } from '../../domain/fence.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from '../../platform/kube/flink-resource.js';
import { azApis } from '../../platform/kube/az-apis.js';
import { loadKubeConfigs, parseKubeContexts } from '../../platform/kube/kube-configs.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import type { FaultConfig } from '../../simulator/faults.js';
import { testControlPlane } from '../setup/kube.js';
import { startKubeFaultProxies, type KubeFaultProxies } from '../setup/kube-fault-proxy.js';
import { startKubeTestPlatform, withHeadroom } from '../setup/kube-platform.js';

const AZ = 'az-b';
const SEED = 11;
const JOBS = 8;
/** Model seconds per wall second: apply → RUNNING (~2 model min) takes a few wall seconds. */
const TIME_SCALE = 40;
/** The generated fleet's capacity is tight by design; the copies started here need room. */
const HEADROOM = { [AZ]: { cores: 200, memoryMiB: 800_000 } };

type Ports = ClusterPort & FleetSource & ObjectStorePort;

interface ContractTarget {
  ports: Ports;
  fleet: GeneratedFleet;
  /** Leave two stale HA ConfigMaps of `name` in `namespace` of az-b. */
  putStaleHa(namespace: string, name: string): Promise<void>;
  /** Make every state restore of these job keys fail (the simulator's failRestore fault). */
  failRestore(keys: string[]): Promise<unknown>;
  /** The stored spec of a resource in az-b, read as the platform's admin. */
  storedSpec(namespace: string, name: string): Promise<FlinkDeploymentManifest['spec']>;
  /**
   * Read back, outside the ports, a FlinkDeployment's annotations and the Events about it
   * (on Kubernetes as admin, matched by involvedObject kind, name and uid as `kubectl
   * describe` does).
   */
  readBack(namespace: string, name: string): Promise<{ annotations: Record<string, string>; events: Array<{ reason: string; message: string }> }>;
  /** Kubernetes only: take the simulated az-b (what the operator stand-in drives) down or up while its apiserver stays up. */
  simulatedAzDown?(down: boolean): Promise<void>;
  /**
   * Ports whose platform API calls fail at `faults.apiFailureRate` (503, 429 + Retry-After, a
   * stall then 504), and how many faults were injected so far: on Kubernetes a TLS fault proxy
   * in front of the apiservers (process-boundary mock; watches pass), on the simulator its own
   * API faults. Calling it again changes the faults.
   */
  apiTrouble(faults: Partial<FaultConfig>): Promise<{ ports: ClusterPort; injected(): Promise<number> }>;
  close(): Promise<void>;
}

const targets: Record<string, () => Promise<ContractTarget>> = {
  simulator: async () => {
    const sim = await spawnSimulator({ timeScale: TIME_SCALE, seed: SEED, logLevel: 'warn' });
    const fleet = withHeadroom(generateFleet({ jobs: JOBS, seed: SEED, templates: loadExampleTemplates() }), HEADROOM);
    await sim.client.loadFleet(fleet, { staleHaFraction: 0 });
    const storedSpec = async (ns: string, name: string) => (await sim.client.listDeployments(AZ)).find((d) => d.manifest.metadata.namespace === ns && d.manifest.metadata.name === name)!.manifest.spec;
    const injected = async (): Promise<number> => Object.values((await sim.client.stats()).faultsInjected).reduce((a, b) => a + b, 0);
    return {
      apiTrouble: async (faults) => { await sim.client.setFaults(faults); return { ports: sim.client, injected }; },
      ports: sim.client, fleet, putStaleHa: (ns, name) => sim.client.putHaConfigMaps(AZ, ns, name),
      failRestore: (keys) => sim.client.setFaults({ failRestore: keys }), storedSpec, close: () => sim.stop(),
      readBack: async (ns, name) => {
        const d = (await sim.client.listDeployments(AZ)).find((x) => x.manifest.metadata.namespace === ns && x.manifest.metadata.name === name)!;
        const events = (await sim.client.events(AZ)).filter((e) => e.namespace === ns && e.name === name);
        return { annotations: d.manifest.metadata.annotations ?? {}, events: events.map((e) => ({ reason: e.reason, message: e.message })) };
      },
    };
  },
  kubernetes: async () => {
    const p = await startKubeTestPlatform({ jobs: JOBS, seed: SEED, timeScale: TIME_SCALE, headroom: HEADROOM });
    const admin = p.admin.get(AZ)!;
    const storedSpec = async (namespace: string, name: string) =>
      ((await admin.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace, name })) as FlinkDeploymentManifest).spec;
    let proxied: { proxies: KubeFaultProxies; ports: KubePlatform; dir: string } | undefined;
    return {
      apiTrouble: async (faults) => {
        if (!proxied) {
          const cp = testControlPlane();
          const dir = await mkdtemp(join(tmpdir(), 'az-evac-contract-'));
          const proxies = await startKubeFaultProxies(cp.handle, cp.workerKubeconfigPath, dir, SEED);
          proxied = { proxies, dir, ports: new KubePlatform(azApis(loadKubeConfigs(proxies.kubeconfigPath, parseKubeContexts('', ['az-a', 'az-b']))), p.fleet.platform, p.objects) };
        }
        const { proxies, ports } = proxied;
        proxies.faults.set(faults);
        return { ports, injected: async () => Object.values(proxies.faults.injected).reduce((a, b) => a + b, 0) };
      },
      ports: p.kube, fleet: p.fleet, putStaleHa: (ns, name) => createHaConfigMaps(admin, ns, name),
      failRestore: (keys) => p.sim.client.setFaults({ failRestore: keys }), storedSpec,
      close: async () => {
        await proxied?.proxies.close();
        if (proxied) await rm(proxied.dir, { recursive: true, force: true });
        await p.close();
      },
      simulatedAzDown: (down) => p.sim.client.setAzDown(AZ, down),
      readBack: async (ns, name) => {
        const obj = (await admin.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace: ns, name })) as FlinkDeploymentObject;
        const fieldSelector = `involvedObject.kind=FlinkDeployment,involvedObject.name=${name},involvedObject.uid=${obj.metadata.uid}`;
        const events = await admin.core.listNamespacedEvent({ namespace: ns, fieldSelector });
        return { annotations: obj.metadata.annotations ?? {}, events: events.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '' })) };
      },
    };
  },
};

describe.each(Object.keys(targets))('platform ports contract: %s', (kind) => {
  let t: ContractTarget;
  let template: FleetJob;
  let n = 0;
  /** A fresh copy of the template, not a fleet job (no az-evac labels). */
  const copy = (state: 'running' | 'suspended' = 'running', patch: (m: FlinkDeploymentManifest) => void = () => undefined): FlinkDeploymentManifest => {
    const m = structuredClone(template.deployment);
    m.metadata.name = `ct-${kind.slice(0, 4)}-${++n}`;
    m.metadata.labels = { 'az-evac.io/test': 'contract' };
    m.metadata.annotations = {};
    (m.spec.job as Record<string, unknown>).parallelism = 2; // small: one TaskManager, fits the headroom
    (m.spec.job as Record<string, unknown>).state = state;
    patch(m);
    return m;
  };
  const ns = (m: FlinkDeploymentManifest) => m.metadata.namespace ?? 'default';

  beforeAll(async () => {
    t = await targets[kind]!();
    template = t.fleet.jobs.find((j) => j.az === AZ && (j.deployment.spec.job as { upgradeMode?: string }).upgradeMode !== 'last-state')!;
    expect(template, 'the fleet has an az-b primary').toBeDefined();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('apply creates, and applying the same manifest again changes nothing', async () => {
    const m = copy();
    const first = await t.ports.apply(AZ, m);
    expect(first).toMatchObject({ created: true, generation: 1 });
    // The uid is the one the resource reports (an Event about the applied copy names it).
    expect(first.uid).toBeTruthy();
    expect(first.uid).toBe((await t.ports.getDeployment(AZ, ns(m), m.metadata.name))?.uid);
    const second = await t.ports.apply(AZ, m);
    expect(second).toEqual({ created: false, generation: 1, uid: first.uid });
    expect((await t.ports.getDeployment(AZ, ns(m), m.metadata.name))?.generation).toBe(1);
  });

  it('a running deploy reaches STABLE/RUNNING with a jobId, and takes its request from capacity', async () => {
    const m = copy();
    const before = await t.ports.capacity(AZ);
    const { generation } = await t.ports.apply(AZ, m);
    const beats: unknown[] = [];
    const status = await t.ports.waitForRunning(AZ, ns(m), m.metadata.name, { minGeneration: generation, timeoutSeconds: 60, onProgress: (s) => beats.push(s) });
    expect(status).toMatchObject({ specState: 'running', jobState: 'RUNNING' });
    expect(['STABLE', 'DEPLOYED']).toContain(status.lifecycleState);
    expect(status.jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(status.restore).toEqual({ kind: 'nothing-restored' });
    expect(beats.length).toBeGreaterThan(0);
    const after = await t.ports.capacity(AZ);
    expect(before.cores - after.cores).toBe(manifestResources(m).cores);
    expect(before.memoryMiB - after.memoryMiB).toBe(manifestResources(m).memoryMiB);
  });

  it('P1 resume: a suspended first deploy is CREATED; restore via a new redeploy nonce runs it; the same nonce again changes nothing', async () => {
    const m = copy('suspended');
    await t.ports.apply(AZ, m);
    await waitFor('CREATED', async () => ((await t.ports.getDeployment(AZ, ns(m), m.metadata.name))?.lifecycleState === 'CREATED' ? true : undefined), 30_000);
    const owner = snapshotOwner(template, (await t.ports.getDeployment(AZ, template.namespace, template.name))?.jobId);
    const found = await t.ports.findSnapshot(AZ, owner, { kind: 'savepoint', nowEpochSeconds: Date.now() / 1000 });
    const savepoint = found.kind === 'snapshot' ? found.snapshot : undefined;
    const restore = { savepointRedeployNonce: 1, ...(savepoint ? { initialSavepointPath: savepoint.path } : {}) };
    const restored = await t.ports.restore(AZ, ns(m), m.metadata.name, restore, { 'az-evac.io/applied-by': 'evac-ct@r1' });
    expect(restored).toMatchObject({ specState: 'running', generation: 2 });
    // The annotations went in the same patch and do not count as a spec change.
    expect((await t.readBack(ns(m), m.metadata.name)).annotations).toMatchObject({ 'az-evac.io/applied-by': 'evac-ct@r1' });
    // Without a path the restore is a stateless resume that leaves the nonce alone (domain/flink-spec.ts restoreJobPatch).
    if (savepoint) expect(restored).toMatchObject({ initialSavepointPath: savepoint.path, savepointRedeployNonce: 1 });
    const running = await t.ports.waitForRunning(AZ, ns(m), m.metadata.name, { minGeneration: 2, timeoutSeconds: 60, restoring: savepoint !== undefined });
    expect(running.jobId).toMatch(/^[0-9a-f]{32}$/);
    if (savepoint) expect(running.restore).toMatchObject({ kind: 'checkpoint-after-restore', restoredPath: savepoint.path });
    expect((await t.ports.restore(AZ, ns(m), m.metadata.name, restore)).generation).toBe(2);
  });

  // Flink Kubernetes Operator release-1.15.0 DefaultValidator.validateSpecChange L524-531 rejects
  // a nonce change with an empty path on a resource it reconciled before; a stateless resume
  // keeps the nonce and must REMOVE an old path (a merge patch that omits it keeps it).
  it('stateless resume: removes an old initialSavepointPath, keeps the nonce, sets upgradeMode stateless', async () => {
    const m = copy('suspended', (x) => Object.assign(x.spec.job as object, { initialSavepointPath: 's3://flink-state/savepoints/old-drill/savepoint-000000-000000000000', savepointRedeployNonce: 5 }));
    await t.ports.apply(AZ, m);
    const resumed = await t.ports.restore(AZ, ns(m), m.metadata.name, { savepointRedeployNonce: 6 });
    expect(resumed).toMatchObject({ specState: 'running', savepointRedeployNonce: 5, generation: 2 });
    expect(resumed.initialSavepointPath).toBeUndefined();
  });

  // ZooKeeper HA (docs/design.md "Operator rules the renderer follows", rule 7): a resumed cold
  // standby gets a fresh high-availability.zookeeper.path.root in the same merge patch; the old
  // key name is removed; the same request again changes nothing.
  it('restore with haZooKeeperRoot sets the new root in flinkConfiguration, drops the old key name, and is idempotent', async () => {
    const m = copy('suspended', (x) => {
      x.spec.flinkConfiguration = { ...x.spec.flinkConfiguration, 'high-availability.type': 'zookeeper', 'recovery.zookeeper.path.root': '/flink' };
    });
    await t.ports.apply(AZ, m);
    const restore = { savepointRedeployNonce: 7, initialSavepointPath: 's3://flink-state/savepoints/x/savepoint-000000-000000000000', haZooKeeperRoot: '/flink/az-evac/7' };
    const first = await t.ports.restore(AZ, ns(m), m.metadata.name, restore);
    const conf = (await t.storedSpec(ns(m), m.metadata.name)).flinkConfiguration!;
    expect(conf['high-availability.zookeeper.path.root']).toBe('/flink/az-evac/7');
    expect(conf).not.toHaveProperty('recovery.zookeeper.path.root');
    expect((await t.ports.restore(AZ, ns(m), m.metadata.name, restore)).generation).toBe(first.generation);
  });

  it('P3 preemption: suspend stops a running job and frees its capacity; suspending a missing resource is null', async () => {
    const m = copy();
    const { generation } = await t.ports.apply(AZ, m);
    await t.ports.waitForRunning(AZ, ns(m), m.metadata.name, { minGeneration: generation, timeoutSeconds: 60 });
    const running = await t.ports.capacity(AZ);
    const suspended = await t.ports.suspend(AZ, ns(m), m.metadata.name);
    expect(suspended).toMatchObject({ specState: 'suspended', generation: generation + 1 });
    await waitFor('SUSPENDED', async () => ((await t.ports.getDeployment(AZ, ns(m), m.metadata.name))?.lifecycleState === 'SUSPENDED' ? true : undefined), 30_000);
    const freed = await waitFor('capacity freed', async () => {
      const c = await t.ports.capacity(AZ);
      return c.cores > running.cores ? c : undefined;
    }, 30_000);
    expect(freed.cores - running.cores).toBe(manifestResources(m).cores);
    expect(await t.ports.suspend(AZ, ns(m), 'ct-does-not-exist')).toBeNull();
  });

  it('fence: the suspend carries az-evac\'s annotations in the same patch, its Event is recorded once per id, and the copy is seen stopped only once the operator acted', async () => {
    const m = copy();
    const name = m.metadata.name;
    const { generation } = await t.ports.apply(AZ, m);
    await t.ports.waitForRunning(AZ, ns(m), name, { minGeneration: generation, timeoutSeconds: 60 });
    const mark = fenceMark({ evacuationId: 'evac-ct', runId: 'r1', mode: 'drill', sourceAz: AZ, targetAz: 'az-a', requestedBy: 'contract-test' }, Date.now());
    const patched = (await t.ports.suspend(AZ, ns(m), name, mark.annotations))!;
    expect(patched).toMatchObject({ specState: 'suspended', generation: generation + 1 });
    // Annotations do not bump the generation: the same suspend again is a no-op for the operator.
    expect((await t.ports.suspend(AZ, ns(m), name, mark.annotations))!.generation).toBe(generation + 1);
    const event = { namespace: ns(m), name, ...(patched.uid ? { uid: patched.uid } : {}), type: 'Normal' as const, ...mark.event, id: `evac-ct@r1/fenced/${ns(m)}/${name}` };
    await t.ports.recordEvent(AZ, event);
    await t.ports.recordEvent(AZ, event); // a retried step records nothing twice
    const seen = await waitFor('seen stopped', async () => {
      const v = stopVerdict(await t.ports.getDeployment(AZ, ns(m), name), patched.generation);
      return v.stopped ? v : undefined;
    }, 30_000);
    expect(seen.seen).toMatch(/lifecycleState SUSPENDED, .*observedGeneration/);
    const back = await t.readBack(ns(m), name);
    expect(back.annotations).toMatchObject({ ...mark.annotations, [ACTION_ANNOTATIONS.fencedBy]: 'evac-ct@r1' });
    expect(back.events).toEqual([{ reason: 'AzEvacFenced', message: expect.stringContaining('evacuation evac-ct@r1 of az-b into az-a, triggered by contract-test') }]);
  });

  // The lab, not the product: the operator stand-in once took "simulated AZ down" for a
  // rejected spec and never acted on that suspend (a source AZ's apiserver that comes back a
  // moment before its simulated cluster, as every kube fault row does), so the fence stayed
  // "requested" for minutes and the row timed out in CI. Now it lists again and acts.
  it.runIf(kind === 'kubernetes')('operator stand-in: a suspend made while its simulated AZ is down is acted on once the AZ is back', async () => {
    const m = copy();
    const name = m.metadata.name;
    const { generation } = await t.ports.apply(AZ, m);
    await t.ports.waitForRunning(AZ, ns(m), name, { minGeneration: generation, timeoutSeconds: 60 });
    await t.simulatedAzDown!(true);
    let patched;
    try {
      patched = (await t.ports.suspend(AZ, ns(m), name))!;
      // The apiserver took the patch; the simulated cluster is down, so nothing acts on it yet.
      const before = await t.ports.getDeployment(AZ, ns(m), name);
      expect(stopVerdict(before, patched.generation).stopped).toBe(false);
    } finally {
      await t.simulatedAzDown!(false);
    }
    // Well inside the watch's 60 s timeout, after which the old stand-in relisted (and still ignored it).
    await waitFor('seen stopped after the simulated AZ is back', async () => (stopVerdict(await t.ports.getDeployment(AZ, ns(m), name), patched.generation).stopped ? true : undefined), 20_000);
  });

  it('deleteHaConfigMaps removes stale HA ConfigMaps of the job, then finds none', async () => {
    const m = copy();
    await t.putStaleHa(ns(m), m.metadata.name);
    expect(await t.ports.deleteHaConfigMaps(AZ, ns(m), m.metadata.name)).toBe(2);
    expect(await t.ports.deleteHaConfigMaps(AZ, ns(m), m.metadata.name)).toBe(0);
  });

  it('label merges labels, and annotations in the same patch, without a new generation', async () => {
    const m = copy('suspended');
    await t.ports.apply(AZ, m);
    const labelled = await t.ports.label(AZ, ns(m), m.metadata.name, { 'az-evac.io/active': 'true' }, { 'az-evac.io/applied-by': 'evac-ct@r2' });
    expect(labelled.labels).toMatchObject({ 'az-evac.io/test': 'contract', 'az-evac.io/active': 'true' });
    expect(labelled.generation).toBe(1);
    expect((await t.readBack(ns(m), m.metadata.name)).annotations).toMatchObject({ 'az-evac.io/applied-by': 'evac-ct@r2' });
  });

  it("waitForRunning fails with the operator's status.error when the resource goes FAILED", async () => {
    const m = copy('running', (x) => {
      x.spec.image = `registry.elsewhere.example/${String(x.spec.image).split('/').slice(1).join('/')}`;
    });
    const { generation } = await t.ports.apply(AZ, m);
    const err = await t.ports.waitForRunning(AZ, ns(m), m.metadata.name, { minGeneration: generation, timeoutSeconds: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'failed', retryable: false });
    expect((err as Error).message).toMatch(/registry/);
  });

  // API trouble is the platform's, not the job's: a wait reads through it until its deadline, so
  // it never costs a job one of its start-up attempts (platform/kube/wait-for-running.ts). Every
  // platform call fails until 6 faults were injected, then none: before this rule, the kube
  // adapter threw the first failed read of the resource.
  it("waitForRunning reads through API trouble (503 / 429 Retry-After / stall + 504; a fault proxy, process-boundary mock, on Kubernetes) until RUNNING; a FAILED job still fails with its reason", async () => {
    const ok = copy();
    const failing = copy('running', (x) => {
      x.spec.image = `registry.elsewhere.example/${String(x.spec.image).split('/').slice(1).join('/')}`;
    });
    const [a, b] = [await t.ports.apply(AZ, ok), await t.ports.apply(AZ, failing)];
    const trouble = await t.apiTrouble({ apiFailureRate: 1, kinds: ['unavailable', 'throttled', 'hang'], retryAfterSeconds: 1, hangMs: 500 });
    let ended = false;
    const waits = Promise.all([
      trouble.ports.waitForRunning(AZ, ns(ok), ok.metadata.name, { minGeneration: a.generation, timeoutSeconds: 60 }).catch((e: unknown) => e),
      trouble.ports.waitForRunning(AZ, ns(failing), failing.metadata.name, { minGeneration: b.generation, timeoutSeconds: 60 }).catch((e: unknown) => e),
    ]).finally(() => { ended = true; });
    try {
      await waitFor('6 injected API faults (or both waits ended)', async () => (ended || (await trouble.injected()) >= 6 ? true : undefined), 30_000);
    } finally {
      await t.apiTrouble({ apiFailureRate: 0 });
    }
    const [running, failed] = await waits;
    expect(running).toMatchObject({ jobState: 'RUNNING' });
    expect(failed).toBeInstanceOf(PlatformError);
    expect(failed).toMatchObject({ code: 'failed', retryable: false });
    expect((failed as Error).message).toMatch(/registry/);
  });

  // Readiness of the target namespace (domain/target-readiness.ts): the seeded fleet is
  // DR-ready (its namespaces hold what its pods reference, in every AZ); absent objects and an
  // absent namespace are reported, never thrown; the kube side reads as the least-privilege worker.
  it('checkObjects: the fleet namespace holds what its pods reference; absent objects and namespaces are named', async () => {
    const fleetRefs = distinctRefs(t.fleet.jobs.filter((j) => j.namespace === template.namespace).flatMap((j) => podReferences(j.deployment.spec).refs));
    expect(fleetRefs).toContainEqual({ kind: 'ServiceAccount', name: 'flink' });
    expect(await t.ports.checkObjects(AZ, template.namespace, fleetRefs)).toEqual({ namespaceExists: true, missing: [], unchecked: [] });
    const absent: ObjectRef[] = OBJECT_KINDS.map((kind) => ({ kind, name: `ct-absent-${kind.toLowerCase()}` }));
    const partial = await t.ports.checkObjects(AZ, template.namespace, [...fleetRefs, ...absent, ...absent]);
    expect({ ...partial, missing: distinctRefs(partial.missing) }).toEqual({ namespaceExists: true, missing: distinctRefs(absent), unchecked: [] });
    expect(await t.ports.checkObjects(AZ, 'ct-no-such-namespace', fleetRefs)).toEqual({ namespaceExists: false, missing: [], unchecked: [] });
  });

  // Restored means restored (domain/restore-verdict.ts): on Kubernetes the evidence is read from
  // the JobManager's REST API through the API server's service proxy (platform/kube/flink-rest.ts).
  it("a restore counts running after a checkpoint completed after it; a restore that loops fails with the JobManager's exception", async () => {
    const owner = snapshotOwner(template, (await t.ports.getDeployment(AZ, template.namespace, template.name))?.jobId);
    const found = await t.ports.findSnapshot(AZ, owner, { kind: 'savepoint', nowEpochSeconds: Date.now() / 1000 });
    if (found.kind !== 'snapshot') throw new Error(`no savepoint of ${template.name}: ${found.reason}`);
    const savepoint = found.snapshot;
    const fromSavepoint = (x: FlinkDeploymentManifest) => {
      (x.spec.job as Record<string, unknown>).initialSavepointPath = savepoint.path;
    };
    const ok = copy('running', fromSavepoint);
    const looping = copy('running', fromSavepoint);
    await t.failRestore([`${ns(looping)}/${looping.metadata.name}`]);
    const [a, b] = [await t.ports.apply(AZ, ok), await t.ports.apply(AZ, looping)];
    const [running, err] = await Promise.all([
      t.ports.waitForRunning(AZ, ns(ok), ok.metadata.name, { minGeneration: a.generation, timeoutSeconds: 90, restoring: true }),
      t.ports.waitForRunning(AZ, ns(looping), looping.metadata.name, { minGeneration: b.generation, timeoutSeconds: 90, restoring: true }).catch((e: unknown) => e),
    ]);
    await t.failRestore([]);
    expect(running.restore).toMatchObject({ kind: 'checkpoint-after-restore', restoredPath: savepoint.path, checkpointId: expect.any(Number) });
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'failed', retryable: false, message: expect.stringMatching(/restore loop: the job restarted \d+ times .*FileNotFoundException.*injected failRestore fault/) });
    // The operator's view of the looping job: RUNNING or RESTARTING, never FAILED, no status.error.
    const seen = await t.ports.getDeployment(AZ, ns(looping), looping.metadata.name);
    expect(['RUNNING', 'RESTARTING']).toContain(seen?.jobState);
    expect(seen?.error).toBeUndefined();
  });

  it('getDeployment of a missing resource is null', async () => {
    expect(await t.ports.getDeployment(AZ, template.namespace, 'ct-never-applied')).toBeNull();
  });

  it('readFleet lists every primary with its tier and standby, and no unreachable AZ', async () => {
    const live = await t.ports.readFleet();
    expect(live.unreachableAzs).toEqual([]);
    const byKey = new Map(live.jobs.map((j) => [`${j.az}|${j.namespace}/${j.name}`, j]));
    expect(live.jobs).toHaveLength(t.fleet.jobs.length);
    for (const job of t.fleet.jobs) {
      const got = byKey.get(`${job.az}|${job.namespace}/${job.name}`);
      expect(got, `${job.namespace}/${job.name}`).toBeDefined();
      expect(got).toMatchObject({ tier: job.tier, team: job.team, lineage: job.lineage, jars: job.jars, resources: job.resources });
      expect(got!.standby).toEqual(job.standby);
    }
  });
});

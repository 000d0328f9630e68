/**
 * What only real kube-apiservers can show about the Kubernetes adapter: server-side apply
 * leaves resourceVersion untouched on a second apply; the CRD schema rejects a bad manifest
 * with 422 (non-retryable, the API server's message and the job named); a concurrent writer
 * gets 409 (retryable); the least-privilege identity gets 403 outside its verbs; a missing
 * CRD is a clear setup error; a stopped apiserver is retryable `unavailable` and an
 * unreachable AZ in readFleet.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetJob, FlinkDeploymentManifest } from '../../domain/types.js';
import { FIELD_MANAGER } from '../../platform/ports.js';
import { PlatformError } from '../../platform/errors.js';
import { azApis, type AzApis } from '../../platform/kube/az-apis.js';
import { kubeCall } from '../../platform/kube/errors.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from '../../platform/kube/flink-resource.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import { waitFor } from '../setup/evacuation-harness.js';
import { testControlPlane } from '../setup/kube.js';
import { APPLY_PATCH, MERGE_PATCH, startKubeTestPlatform, type KubeTestPlatform } from '../setup/kube-platform.js';

const AZ = 'az-b';

describe('Kubernetes adapter on real apiservers', () => {
  let p: KubeTestPlatform;
  let template: FleetJob;
  let admin: AzApis;
  let n = 0;
  const copy = (patch: (m: FlinkDeploymentManifest) => void = () => undefined): FlinkDeploymentManifest => {
    const m = structuredClone(template.deployment);
    m.metadata.name = `ka-${++n}`;
    m.metadata.labels = { 'az-evac.io/test': 'adapter' };
    m.metadata.annotations = {};
    (m.spec.job as Record<string, unknown>).parallelism = 2; // small: one TaskManager, fits the headroom
    patch(m);
    return m;
  };
  const read = async (m: FlinkDeploymentManifest) =>
    (await admin.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace: m.metadata.namespace!, name: m.metadata.name })) as FlinkDeploymentObject;

  beforeAll(async () => {
    p = await startKubeTestPlatform({ jobs: 6, seed: 5, timeScale: 40, headroom: { [AZ]: { cores: 200, memoryMiB: 800_000 } } });
    admin = p.admin.get(AZ)!;
    template = p.fleet.jobs.find((j) => j.az === AZ)!;
  });
  afterAll(async () => {
    await p?.close();
  });

  it('server-side apply twice: the second apply leaves resourceVersion and generation unchanged; az-evac owns the fields', async () => {
    // Suspended: after the stand-in's one status write (CREATED) nothing else changes it.
    const m = copy((x) => {
      (x.spec.job as Record<string, unknown>).state = 'suspended';
    });
    await p.kube.apply(AZ, m);
    await waitFor('status CREATED', async () => ((await read(m)).status?.lifecycleState === 'CREATED' ? true : undefined), 30_000);
    const first = await read(m);
    const again = await p.kube.apply(AZ, m);
    const second = await read(m);
    expect(again.created).toBe(false);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(second.metadata.generation).toBe(first.metadata.generation);
    const managers = (second.metadata as { managedFields?: Array<{ manager: string; operation: string }> }).managedFields ?? [];
    expect(managers).toContainEqual(expect.objectContaining({ manager: FIELD_MANAGER, operation: 'Apply' }));
  });

  it('422: a manifest the CRD schema rejects is a non-retryable error with the API server message and the job named', async () => {
    const m = copy((x) => {
      (x.spec.job as Record<string, unknown>).upgradeMode = 'sometimes';
    });
    const err = await p.kube.apply(AZ, m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'invalid', retryable: false });
    const message = (err as Error).message;
    expect(message).toContain(`${m.metadata.namespace}/${m.metadata.name}`);
    expect(message).toContain('(422)');
    expect(message).toMatch(/spec\.job\.upgradeMode.*sometimes/);
    expect(await p.kube.getDeployment(AZ, m.metadata.namespace!, m.metadata.name)).toBeNull();
  });

  it('409: a concurrent writer (GitOps applying a field az-evac owns, without force) conflicts, classified retryable', async () => {
    const m = copy();
    await p.kube.apply(AZ, m);
    const theirs = structuredClone(m);
    (theirs.spec.job as Record<string, unknown>).parallelism = Number((m.spec.job as { parallelism: number }).parallelism) + 1;
    const err = await kubeCall(AZ, `apply FlinkDeployment ${m.metadata.namespace}/${m.metadata.name} as platform-gitops`, () =>
      admin.custom.patchNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace: m.metadata.namespace!, name: m.metadata.name, body: theirs, fieldManager: 'platform-gitops' }, APPLY_PATCH),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'conflict', retryable: true });
    // A stale optimistic-concurrency write is the other 409.
    const stale = await read(m);
    await p.kube.label(AZ, m.metadata.namespace!, m.metadata.name, { bump: '1' });
    const err2 = await kubeCall(AZ, 'stale update', () =>
      admin.custom.patchNamespacedCustomObject(
        { ...FLINK_DEPLOYMENTS, namespace: m.metadata.namespace!, name: m.metadata.name, body: { metadata: { resourceVersion: stale.metadata.resourceVersion, labels: { bump: '2' } } } },
        MERGE_PATCH,
      ),
    ).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'conflict', retryable: true });
  });

  it('403: the worker identity cannot read Secrets or touch Deployments; non-retryable with the fix', async () => {
    const worker = p.worker.get(AZ)!;
    const err = await kubeCall(AZ, 'list Secrets', () => worker.core.listNamespacedSecret({ namespace: template.namespace })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'forbidden', retryable: false });
    expect((err as Error).message).toMatch(/forbidden \(403\).*secrets.*Fix: bind/s);
  });

  it('a missing FlinkDeployment CRD is a setup error before anything is applied', async () => {
    // The same apiserver under a path prefix it does not serve: every resource type is 404,
    // as when the CRD is not installed.
    const cp = testControlPlane();
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    kc.setCurrentContext(AZ);
    const cluster = kc.getCurrentCluster()!;
    const noCrd = new KubeConfig();
    noCrd.loadFromOptions({
      clusters: [{ ...cluster, server: `${cluster.server}/no-flink-here` }],
      users: [kc.getCurrentUser()!],
      contexts: [{ name: AZ, cluster: cluster.name, user: kc.getCurrentUser()!.name }],
      currentContext: AZ,
    });
    const platform = new KubePlatform(azApis(new Map([[AZ, noCrd]])), p.fleet.platform, p.objects);
    const [setup] = await platform.checkSetup();
    expect(setup).toMatchObject({ az: AZ, ok: false });
    const error = (setup as { error: PlatformError }).error;
    expect(error).toMatchObject({ code: 'not-found', retryable: false });
    expect(error.message).toMatch(/FlinkDeployment CRD .* is not installed.*Fix/);
  });

  it('a stopped apiserver: calls fail retryable (unavailable), readFleet reports the AZ unreachable and reads the other', async () => {
    const cp = testControlPlane();
    await cp.handle.stopAz('az-a');
    try {
      const err = await p.kube.getDeployment('az-a', template.namespace, template.name).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'unavailable', retryable: true });
      // A killed apiserver resets kept-alive connections, then refuses new ones.
      expect((err as Error).message).toMatch(/az-a.*unreachable \(ECONN(REFUSED|RESET)\)/);
      const live = await p.kube.readFleet();
      expect(live.unreachableAzs).toEqual(['az-a']);
      expect(live.jobs.every((j) => j.az === 'az-b')).toBe(true);
      expect(live.jobs).toHaveLength(p.fleet.jobs.filter((j) => j.az === 'az-b').length);
    } finally {
      await cp.handle.startAz('az-a');
    }
  });
});

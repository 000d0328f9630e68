/**
 * Least privilege on real kube-apiservers (RBAC on): the worker identity bound by
 * deploy/rbac/az-evac-worker.yaml can make every call the Kubernetes adapter makes, and is
 * refused (403) everything else: listing Secrets, Pods, Deployments, writing Namespaces, the CRD,
 * FlinkDeployment status, creating ConfigMaps or Services, proxying to Pods, reading or
 * changing Events (it may only create them). Deleting a FlinkDeployment is allowed (failback of
 * a drill); getting a named Secret is allowed, metadata only (the readiness check); so is GET
 * through a Service's proxy (the JobManager REST API).
 */
import { randomUUID } from 'node:crypto';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ZONE_LABEL } from '../../launchers/local-cluster-bootstrap.js';
import type { ObjectRef } from '../../domain/target-readiness.js';
import { azApis } from '../../platform/kube/az-apis.js';
import { checkObjects } from '../../platform/kube/target-objects.js';
import { PlatformError } from '../../platform/errors.js';
import { readCheckpointStats, REST_PORT } from '../../platform/kube/flink-rest.js';
import { testControlPlane } from '../setup/kube.js';
import { manifestsOfKind, VENDOR_EXAMPLES } from '../unit/fixtures/manifests.js';

const FD = { group: 'flink.apache.org', version: 'v1beta1', plural: 'flinkdeployments' } as const;
const NS = 'flink';

function kubeConfig(file: string, context: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  kc.setCurrentContext(context);
  return kc;
}

/** The HTTP status the call failed with (throws when it succeeded). */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  throw new Error('call succeeded, expected it to be refused');
}

/** A FlinkDeployment from the operator's own examples, renamed and suspended. */
function flinkDeployment(name: string): Record<string, unknown> {
  const { doc } = manifestsOfKind(VENDOR_EXAMPLES, 'FlinkDeployment').find(({ doc }) => (doc.spec as { job?: unknown }).job !== undefined)!;
  const spec = structuredClone(doc.spec) as { job: Record<string, unknown> };
  spec.job.state = 'suspended';
  return { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', metadata: { name, namespace: NS, labels: { 'az-evac.io/test': 'least-privilege' } }, spec };
}

describe('least-privilege worker identity (deploy/rbac/az-evac-worker.yaml)', () => {
  const cp = testControlPlane();
  const az = cp.azs[0]!;
  const admin = kubeConfig(cp.kubeconfigPath, az);
  const worker = kubeConfig(cp.workerKubeconfigPath, az);
  const wCustom = worker.makeApiClient(CustomObjectsApi);
  const wCore = worker.makeApiClient(CoreV1Api);
  const aCore = admin.makeApiClient(CoreV1Api);
  const name = `lp-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await aCore.createNamespacedSecret({ namespace: NS, body: { metadata: { name: `${name}-secret` }, stringData: { password: 'hunter2' } } });
    await aCore.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `${name}-conf` }, data: { k: 'v' } } });
    await aCore.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: `${name}-cluster-config-map`, labels: { app: name, 'configmap-type': 'high-availability' } }, data: { leader: 'x' } },
    });
    await admin.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: `${name}-app` },
        spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      },
    });
  });

  it('can create, get, server-side apply, merge patch, list and watch FlinkDeployments', async () => {
    const manifest = flinkDeployment(name);
    await wCustom.createNamespacedCustomObject({ ...FD, namespace: NS, body: manifest });
    const applied = (await wCustom.patchNamespacedCustomObject(
      { ...FD, namespace: NS, name, body: manifest, fieldManager: 'az-evac', force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as { metadata: { name: string } };
    expect(applied.metadata.name).toBe(name);
    await wCustom.patchNamespacedCustomObject(
      { ...FD, namespace: NS, name, body: { spec: { job: { savepointRedeployNonce: 1 } } }, fieldManager: 'az-evac' },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const got = (await wCustom.getNamespacedCustomObject({ ...FD, namespace: NS, name })) as { spec: { job: { savepointRedeployNonce: number } } };
    expect(got.spec.job.savepointRedeployNonce).toBe(1);
    const list = (await wCustom.listClusterCustomObject({ ...FD, labelSelector: 'az-evac.io/test=least-privilege' })) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((i) => i.metadata.name)).toContain(name);

    const seen = await new Promise<string>((resolve, reject) => {
      void new Watch(worker)
        .watch(`/apis/${FD.group}/${FD.version}/namespaces/${NS}/${FD.plural}`, { fieldSelector: `metadata.name=${name}` }, (type, obj: { metadata: { name: string } }) => resolve(`${type} ${obj.metadata.name}`), (err) => err && reject(err))
        .then((req) => setTimeout(() => req.abort(), 5000));
    });
    expect(seen).toBe(`ADDED ${name}`);
  });

  it('can list and delete HA ConfigMaps and list Nodes', async () => {
    const cms = await wCore.listNamespacedConfigMap({ namespace: NS, labelSelector: `app=${name},configmap-type=high-availability` });
    expect(cms.items.map((c) => c.metadata?.name)).toEqual([`${name}-cluster-config-map`]);
    await wCore.deleteNamespacedConfigMap({ namespace: NS, name: `${name}-cluster-config-map` });
    const nodes = await wCore.listNode();
    expect(nodes.items.length).toBeGreaterThan(0);
    expect(nodes.items.every((n) => n.metadata?.labels?.[ZONE_LABEL] === az && n.status?.allocatable?.cpu !== undefined)).toBe(true);
  });

  it('can create Events (on the FlinkDeployments it fences or preempts), and neither read, change nor delete them (403)', async () => {
    const event = {
      metadata: { name: `${name}.lp-event`, namespace: NS }, involvedObject: { apiVersion: `${FD.group}/${FD.version}`, kind: 'FlinkDeployment', namespace: NS, name },
      type: 'Normal', reason: 'AzEvacFenced', message: 'least-privilege check', firstTimestamp: new Date(), lastTimestamp: new Date(), count: 1,
    };
    const created = await wCore.createNamespacedEvent({ namespace: NS, body: event });
    expect(created.reason).toBe('AzEvacFenced');
    const refused = {
      'list Events': () => wCore.listNamespacedEvent({ namespace: NS }),
      'read an Event': () => wCore.readNamespacedEvent({ namespace: NS, name: `${name}.lp-event` }),
      'patch an Event': () => wCore.patchNamespacedEvent({ namespace: NS, name: `${name}.lp-event`, body: { message: 'changed' } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      'delete an Event': () => wCore.deleteNamespacedEvent({ namespace: NS, name: `${name}.lp-event` }),
    };
    const statuses = Object.fromEntries(await Promise.all(Object.entries(refused).map(async ([what, call]) => [what, await statusOf(call)] as const)));
    expect(statuses).toEqual(Object.fromEntries(Object.keys(refused).map((what) => [what, 403])));
    expect((await aCore.readNamespacedEvent({ namespace: NS, name: `${name}.lp-event` })).message).toBe('least-privilege check');
  });

  it('can create, get, list and delete a FlinkStateSnapshot (protection savepoints), and neither patch it nor write its status (403)', async () => {
    const FSS = { group: 'flink.apache.org', version: 'v1beta1', plural: 'flinkstatesnapshots' } as const;
    const snap = `${name}-az-evac-1`;
    await wCustom.createNamespacedCustomObject({ ...FSS, namespace: NS, body: { apiVersion: `${FSS.group}/${FSS.version}`, kind: 'FlinkStateSnapshot', metadata: { name: snap }, spec: { jobReference: { kind: 'FlinkDeployment', name }, savepoint: { formatType: 'NATIVE' } } } });
    expect(((await wCustom.getNamespacedCustomObject({ ...FSS, namespace: NS, name: snap })) as { metadata: { name: string } }).metadata.name).toBe(snap);
    expect(((await wCustom.listClusterCustomObject({ ...FSS, limit: 1 })) as { items: unknown[] }).items.length).toBe(1);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    expect(await statusOf(() => wCustom.patchNamespacedCustomObject({ ...FSS, namespace: NS, name: snap, body: { spec: { backoffLimit: 3 } } }, merge))).toBe(403);
    expect(await statusOf(() => wCustom.patchNamespacedCustomObjectStatus({ ...FSS, namespace: NS, name: snap, body: { status: { state: 'COMPLETED' } } }, merge))).toBe(403);
    await wCustom.deleteNamespacedCustomObject({ ...FSS, namespace: NS, name: snap });
    expect(await statusOf(() => wCustom.getNamespacedCustomObject({ ...FSS, namespace: NS, name: snap }))).toBe(404);
  });

  it("can GET a JobManager's REST API through the service proxy (services/proxy get)", async () => {
    // A REST Service with no Endpoints: the API server authorizes the proxy GET, then finds nowhere to send it (not 403).
    await aCore.createNamespacedService({ namespace: NS, body: { metadata: { name: `${name}-rest` }, spec: { ports: [{ name: 'rest', port: REST_PORT }] } } });
    const err = await readCheckpointStats({ az, kc: worker, core: wCore, custom: wCustom }, NS, name, 'a'.repeat(32)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'not-found', message: expect.stringContaining(`${name}-rest`) });
    await aCore.deleteNamespacedService({ namespace: NS, name: `${name}-rest` });
  });

  // The readiness check (platform/kube/target-objects.ts) gets each object a job references by
  // name, metadata only: the Secret's data never comes back. RBAC has no metadata-only verb,
  // so listing and watching Secrets stay refused.
  it('can get the namespace and named ServiceAccounts, Secrets, ConfigMaps and claims, metadata only; cannot list Secrets (403)', async () => {
    const apis = azApis(new Map([[az, worker]])).get(az)!;
    const refs: ObjectRef[] = [
      { kind: 'Secret', name: `${name}-secret` },
      { kind: 'ConfigMap', name: `${name}-conf` },
      { kind: 'ServiceAccount', name: `${name}-absent` },
      { kind: 'PersistentVolumeClaim', name: `${name}-absent` },
    ];
    expect(await checkObjects(apis, NS, refs)).toEqual({ namespaceExists: true, missing: refs.slice(2), unchecked: [] });
    expect(await checkObjects(apis, `${name}-no-ns`, refs)).toEqual({ namespaceExists: false, missing: [], unchecked: [] });
    const meta = (await wCore.readNamespacedSecret({ namespace: NS, name: `${name}-secret` }, setHeaderOptions('Accept', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1'))) as unknown as Record<string, unknown>;
    expect(meta.kind).toBe('PartialObjectMetadata');
    expect(meta).not.toHaveProperty('data');
    expect(await statusOf(() => wCore.listNamespacedSecret({ namespace: NS }))).toBe(403);
    expect(await statusOf(() => wCore.listSecretForAllNamespaces())).toBe(403);
  });

  it('cannot touch other resources (403)', async () => {
    const refused = {
      'delete a Deployment': () => worker.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: NS, name: `${name}-app` }),
      'list Pods': () => wCore.listNamespacedPod({ namespace: NS }),
      'create a Namespace': () => wCore.createNamespace({ body: { metadata: { name: `${name}-ns` } } }),
      'create a ConfigMap': () => wCore.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `${name}-new` } } }),
      'create a ServiceAccount': () => wCore.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: `${name}-sa` } } }),
      'list ServiceAccounts': () => wCore.listNamespacedServiceAccount({ namespace: NS }),
      'create a Service': () => wCore.createNamespacedService({ namespace: NS, body: { metadata: { name: `${name}-svc` }, spec: { ports: [{ port: 80 }] } } }),
      'proxy to a Pod': () => wCore.connectGetNamespacedPodProxy({ namespace: NS, name: `${name}-pod` }),
      'patch a Node': () => wCore.patchNode({ name: `kube-node-${az}-0`, body: { metadata: { labels: { x: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      'write FlinkDeployment status': () =>
        wCustom.patchNamespacedCustomObjectStatus({ ...FD, namespace: NS, name, body: { status: { lifecycleState: 'STABLE' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      'delete the FlinkDeployment CRD': () => worker.makeApiClient(ApiextensionsV1Api).deleteCustomResourceDefinition({ name: 'flinkdeployments.flink.apache.org' }),
    };
    const statuses = Object.fromEntries(await Promise.all(Object.entries(refused).map(async ([what, call]) => [what, await statusOf(call)] as const)));
    expect(statuses).toEqual(Object.fromEntries(Object.keys(refused).map((what) => [what, 403])));
    // Nothing was changed by the refused calls.
    const deployment = await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: NS, name: `${name}-app` });
    expect(deployment.metadata?.name).toBe(`${name}-app`);
  });

  it('can delete a FlinkDeployment (failback removes the copy a drill deployed)', async () => {
    await wCustom.deleteNamespacedCustomObject({ ...FD, namespace: NS, name });
    expect(await statusOf(() => wCustom.getNamespacedCustomObject({ ...FD, namespace: NS, name }))).toBe(404);
  });
});

/**
 * The local control plane itself (launchers/local-control-plane.ts): each AZ is an
 * independent cluster, and one AZ's kube-apiserver can be stopped (the AZ is unreachable) and
 * started again with its data and serving certificate intact.
 */
import { randomUUID } from 'node:crypto';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startLocalControlPlane } from '../../launchers/local-control-plane.js';
import { kubeError } from '../../platform/kube/errors.js';
import { testControlPlane } from '../setup/kube.js';

function core(file: string, context: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  kc.setCurrentContext(context);
  return kc.makeApiClient(CoreV1Api);
}

describe('local two-AZ control plane', () => {
  const cp = testControlPlane();
  const [azA, azB] = cp.azs as [string, string];

  it('serves one independent cluster per AZ with the Flink CRDs Established and zone-labelled Nodes', async () => {
    const name = `cp-${randomUUID().slice(0, 8)}`;
    await core(cp.kubeconfigPath, azA).createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    const inB = await core(cp.kubeconfigPath, azB).listNamespacedConfigMap({ namespace: 'default', fieldSelector: `metadata.name=${name}` });
    expect(inB.items).toEqual([]);
    for (const az of cp.azs) {
      const kc = new KubeConfig();
      kc.loadFromFile(cp.kubeconfigPath);
      kc.setCurrentContext(az);
      const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
      const established = crds.items
        .filter((c) => c.status?.conditions?.some((k) => k.type === 'Established' && k.status === 'True'))
        .map((c) => c.metadata?.name);
      expect(established).toEqual(expect.arrayContaining(['flinkdeployments.flink.apache.org', 'flinksessionjobs.flink.apache.org', 'flinkstatesnapshots.flink.apache.org']));
      const nodes = await core(cp.kubeconfigPath, az).listNode();
      expect(new Set(nodes.items.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']))).toEqual(new Set([az]));
    }
  });

  it('refuses a second start in a running state dir and names unknown AZs', async () => {
    await expect(startLocalControlPlane({ stateDir: cp.stateDir })).rejects.toThrow(/already running in .*Fix: stop it first/);
    expect(() => cp.handle.cluster('az-x')).toThrow(/AZ 'az-x' is not part of the local control plane .* \(it has az-a, az-b\)/);
    expect(cp.azs.every((az) => cp.handle.isUp(az))).toBe(true);
  });

  it('stops one AZ apiserver (unreachable) and starts it again with its data', async () => {
    const name = `cp-${randomUUID().slice(0, 8)}`;
    const a = core(cp.kubeconfigPath, azA);
    await a.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { k: 'v' } } });
    await cp.handle.stopAz(azA);
    try {
      expect(cp.handle.isUp(azA)).toBe(false);
      // Killed: a kept-alive connection is reset, a new one refused. client-node 2 (undici)
      // says "fetch failed" and puts the socket's code in the cause chain; the adapter's
      // classification reads it from there.
      const failure = await a.readNamespacedConfigMap({ namespace: 'default', name }).then(() => undefined, (err: unknown) => kubeError(azA, 'read ConfigMap', err));
      expect(failure?.message).toMatch(/API server unreachable \((ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)\)/);
      expect(failure?.retryable).toBe(true);
      // The other AZ is unaffected.
      expect((await core(cp.kubeconfigPath, azB).listNode()).items.length).toBeGreaterThan(0);
    } finally {
      await cp.handle.startAz(azA);
    }
    expect(cp.handle.isUp(azA)).toBe(true);
    // Same kubeconfig (same serving certificate and tokens), same data.
    const cm = await core(cp.kubeconfigPath, azA).readNamespacedConfigMap({ namespace: 'default', name });
    expect(cm.data).toEqual({ k: 'v' });
  });
});

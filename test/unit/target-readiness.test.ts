/**
 * Readiness of the target namespace (domain/target-readiness.ts): what a job's pods
 * reference, the findings and which block, the planner keeping blocked jobs out of the plan,
 * and the simulator's namespace list (Simulator.checkObjects) that models the same.
 */
import { describe, expect, it } from 'vitest';
import { planEvacuation } from '../../domain/planner.js';
import { restoreSpecPatch } from '../../domain/flink-spec.js';
import { renderForTargetAz, restoreZooKeeperRoot, sourceAzLeftoverProblem } from '../../domain/render-deployment.js';
import { podReferences, targetReadinessFindings, type NamespaceCheck } from '../../domain/target-readiness.js';
import type { FleetJob, FlinkDeploymentManifest } from '../../domain/types.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { catalog, coldJob, job, tiersPolicy } from './fixtures/fleet.js';
import { fleetJob, simWith } from './fixtures/sim-platform.js';

/** A pod template using every kind of reference, optional ones included. */
const POD = {
  spec: {
    serviceAccountName: 'tm-sa',
    imagePullSecrets: [{ name: 'registry-creds' }],
    volumes: [
      { name: 'creds', secret: { secretName: 'kafka-creds' } },
      { name: 'maybe', secret: { secretName: 'optional-secret', optional: true } },
      { name: 'conf', configMap: { name: 'job-conf' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'rocksdb-data' } },
      { name: 'local', hostPath: { path: '/mnt/flink', type: 'Directory' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'mixed', projected: { sources: [{ secret: { name: 'tls' } }, { configMap: { name: 'ca', optional: true } }] } },
    ],
    containers: [{
      name: 'flink-main-container',
      envFrom: [{ secretRef: { name: 'db-env' } }, { configMapRef: { name: 'env-conf', optional: true } }],
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'x-secret', key: 'x' } } }, { name: 'Y', valueFrom: { configMapKeyRef: { name: 'y-conf', key: 'y' } } }, { name: 'Z', value: 'plain' }],
    }],
    initContainers: [{ name: 'init', envFrom: [{ configMapRef: { name: 'init-conf' } }] }],
  },
};

function withSpec(name: string, spec: Partial<FlinkDeploymentManifest['spec']>): FleetJob {
  const j = job(name);
  return { ...j, deployment: { ...j.deployment, spec: { ...j.deployment.spec, ...spec } } };
}

const full = withSpec('full', {
  serviceAccount: 'flink',
  flinkConfiguration: { 'kubernetes.secrets': 'sasl:/opt/sasl, keytab:/opt/keytab', 'kubernetes.container.image.pull-secrets': 'mirror-creds' },
  taskManager: { podTemplate: POD },
});

const present: NamespaceCheck = { namespaceExists: true, missing: [], unchecked: [] };

describe('podReferences', () => {
  it('collects every ServiceAccount, Secret, ConfigMap and claim the pods need, where the spec names it; skips optional ones', () => {
    const { refs, hostPaths } = podReferences(full.deployment.spec);
    expect(refs.map((r) => `${r.kind} ${r.name}${r.required ? '' : ' (not required)'}`)).toEqual([
      'ServiceAccount flink',
      'Secret sasl',
      'Secret keytab',
      'Secret mirror-creds (not required)',
      'ServiceAccount tm-sa',
      'Secret registry-creds (not required)',
      'Secret kafka-creds',
      'ConfigMap job-conf',
      'PersistentVolumeClaim rocksdb-data',
      'Secret tls',
      'ConfigMap init-conf',
      'Secret db-env',
      'Secret x-secret',
      'ConfigMap y-conf',
    ]);
    expect(refs.find((r) => r.name === 'kafka-creds')!.at).toBe('spec.taskManager.podTemplate.spec.volumes[0].secret');
    expect(refs.find((r) => r.name === 'x-secret')!.at).toBe('spec.taskManager.podTemplate.spec.containers[0].env[0].valueFrom.secretKeyRef');
    expect(hostPaths).toEqual([{ volume: 'local', path: '/mnt/flink', at: 'spec.taskManager.podTemplate.spec.volumes[4].hostPath' }]);
  });

  it('reads the operator examples: their ServiceAccount and hostPath volumes', () => {
    const templates = loadExampleTemplates();
    for (const t of templates) expect(() => podReferences(t.spec), t.metadata.name).not.toThrow();
    const all = templates.map((t) => podReferences(t.spec));
    expect(all.some((r) => r.refs.some((x) => x.kind === 'ServiceAccount' && x.name === 'flink'))).toBe(true);
    expect(all.some((r) => r.hostPaths.length > 0)).toBe(true);
  });
});

describe('targetReadinessFindings: what blocks and what informs', () => {
  const codes = (fs: { code: string; blocking: boolean }[]): string[] => fs.map((f) => `${f.code}${f.blocking ? ' (blocking)' : ''}`);

  it('a missing namespace blocks, naming it, the AZ and the fix', () => {
    const fs = targetReadinessFindings(full, 'az-a', 'az-b', 'streaming', { namespaceExists: false, missing: [], unchecked: [] });
    expect(codes(fs)).toEqual(['target-namespace-missing (blocking)', 'zonal-volume']);
    expect(fs[0]!.message).toMatch(/namespace streaming does not exist in az-b.*404.*Fix: create namespace streaming in az-b/);
  });

  it('missing objects the pods need block (one finding naming each and where); a missing pull secret informs; unreadable ones are unchecked', () => {
    const check: NamespaceCheck = {
      namespaceExists: true,
      missing: [{ kind: 'ServiceAccount', name: 'flink' }, { kind: 'Secret', name: 'kafka-creds' }, { kind: 'Secret', name: 'registry-creds' }, { kind: 'Secret', name: 'unrelated' }],
      unchecked: [{ kind: 'Secret', name: 'tls', reason: 'the worker may not get Secrets (403)' }],
    };
    const fs = targetReadinessFindings(full, 'az-a', 'az-b', 'streaming', check);
    expect(codes(fs)).toEqual(['target-refs-missing (blocking)', 'target-pull-secret-missing', 'target-refs-unchecked', 'zonal-volume']);
    expect(fs[0]!.message).toBe(
      'streaming/full: ServiceAccount flink (spec.serviceAccount), Secret kafka-creds (spec.taskManager.podTemplate.spec.volumes[0].secret) missing in namespace streaming of az-b; ' +
        'its pods would never start there. Fix: create them in az-b (replicate Secrets, ServiceAccounts and ConfigMaps to every AZ), then re-run the readiness check.',
    );
    expect(fs[1]!.message).toContain('registry-creds');
    expect(fs[2]!.message).toContain('Secret tls: the worker may not get Secrets (403)');
  });

  it('hostPath and claim volumes are zonal (informational), naming each volume and what to do instead', () => {
    const [f] = targetReadinessFindings(full, 'az-a', 'az-b', 'streaming', present);
    expect(f).toMatchObject({ job: 'streaming/full', code: 'zonal-volume', blocking: false });
    expect(f!.message).toContain('PersistentVolumeClaim rocksdb-data (spec.taskManager.podTemplate.spec.volumes[3].persistentVolumeClaim)');
    expect(f!.message).toContain('hostPath /mnt/flink of volume local');
    expect(f!.message).toMatch(/stays in az-a.*Fix: use emptyDir for scratch space.*remote storage for state.*storage class/);
    expect(targetReadinessFindings(job('plain'), 'az-a', 'az-b', 'streaming', present)).toEqual([]);
  });

  it('ZooKeeper HA: names the source run stale znode and quorum for clean-up (informational)', () => {
    const zk = withSpec('zk', { flinkConfiguration: { 'high-availability': 'zookeeper', 'high-availability.zookeeper.quorum': 'zk-1:2181', 'high-availability.zookeeper.path.root': '/flink/prod' } });
    const fs = targetReadinessFindings(zk, 'az-a', 'az-b', 'streaming', present);
    expect(codes(fs)).toEqual(['zookeeper-ha-left']);
    expect(fs[0]!.message).toMatch(/fresh root under \/flink\/prod\/az-evac .*stays at \/flink\/prod\/zk on zk-1:2181.*deleteall \/flink\/prod\/zk/);
    const k8s = withSpec('k8s', { flinkConfiguration: { 'high-availability.type': 'kubernetes' } });
    expect(targetReadinessFindings(k8s, 'az-a', 'az-b', 'streaming', present)).toEqual([]);
  });
});

describe('planner: target readiness keeps blocked jobs out of the plan', () => {
  it('a blocking finding puts a redeploy in notAdmitted with the finding as reason; informational ones admit; standbys are not checked', () => {
    const asked: string[] = [];
    const p = planEvacuation({
      catalog: catalog([job('ok'), job('no-ns'), coldJob('cold')]),
      tiers: tiersPolicy(),
      sourceAz: 'az-a',
      targetAz: 'az-b',
      targetFree: { cores: 1000, memoryMiB: 1e7 },
      nowEpochSeconds: 1_800_000_000,
      existingInTarget: new Set(['streaming/cold']),
      targetReadiness: (j) => {
        asked.push(j.name);
        return j.name === 'no-ns'
          ? [{ job: 'streaming/no-ns', code: 'target-namespace-missing', blocking: true, message: 'namespace streaming does not exist in az-b' }]
          : [{ job: `streaming/${j.name}`, code: 'zonal-volume', blocking: false, message: 'hostPath' }];
      },
    });
    expect(p.admitted.map((j) => j.name).sort()).toEqual(['cold', 'ok']);
    expect(p.notAdmitted).toEqual([{ key: 'streaming/no-ns', tier: 'P2', reason: 'namespace streaming does not exist in az-b' }]);
    expect(p.findings.map((f) => `${f.job} ${f.code}`).sort()).toEqual(['streaming/no-ns target-namespace-missing', 'streaming/ok zonal-volume']);
    expect(asked.sort()).toEqual(['no-ns', 'ok']);
  });
});

describe('simulator namespace list (Simulator.checkObjects)', () => {
  it('a loaded fleet is DR-ready: every namespace in every AZ with what its pods reference; control calls take them away', () => {
    const j = fleetJob('az-a', 'job-a');
    j.deployment.spec.serviceAccount = 'flink';
    const { sim } = simWith([j]);
    const refs = podReferences(j.deployment.spec).refs;
    expect(refs.map((r) => `${r.kind}/${r.name}`)).toContain('ServiceAccount/flink');
    for (const az of ['az-a', 'az-b']) expect(sim.checkObjects(az, j.namespace, refs)).toEqual(present);
    sim.setKubeObjects('az-b', j.namespace, false, [{ kind: 'ServiceAccount', name: 'flink' }]);
    expect(sim.checkObjects('az-b', j.namespace, [...refs, { kind: 'Secret', name: 'never-made' }])).toEqual({
      namespaceExists: true, missing: [{ kind: 'Secret', name: 'never-made' }, { kind: 'ServiceAccount', name: 'flink' }], unchecked: [],
    });
    sim.setKubeObjects('az-b', j.namespace, false);
    expect(sim.checkObjects('az-b', j.namespace, refs)).toEqual({ namespaceExists: false, missing: [], unchecked: [] });
    expect(sim.checkObjects('az-a', j.namespace, refs)).toEqual(present);
  });
});

// docs/design.md "Operator rules the renderer follows", rule 7, for copies that are restored
// rather than re-rendered: a resumed cold standby and the source copy failback restores.
describe('ZooKeeper root on a restore', () => {
  it('restoreZooKeeperRoot: a fresh root from the catalog spec, undefined without ZooKeeper HA', () => {
    const zk = withSpec('zk', { flinkConfiguration: { 'high-availability': 'zookeeper', 'high-availability.zookeeper.path.root': '/flink/az-evac/3' } });
    expect(restoreZooKeeperRoot(zk, 9)).toBe('/flink/az-evac/9');
    expect(restoreZooKeeperRoot(job('plain'), 9)).toBeUndefined();
  });

  it('the simulator applies the root with the restore, drops the old key name, and a repeat changes nothing', () => {
    const j = fleetJob('az-a', 'job-a');
    const { sim } = simWith([j]);
    const m = structuredClone(j.deployment);
    m.metadata.name = 'cold';
    Object.assign(m.spec.flinkConfiguration!, { 'high-availability.type': 'zookeeper', 'recovery.zookeeper.path.root': '/flink' });
    (m.spec.job as Record<string, unknown>).state = 'suspended';
    sim.apply('az-b', m);
    const restore = { savepointRedeployNonce: 9, haZooKeeperRoot: '/flink/az-evac/9' };
    const first = sim.restore('az-b', 'ns', 'cold', restore);
    const conf = sim.listDeployments('az-b').find((d) => d.manifest.metadata.name === 'cold')!.manifest.spec.flinkConfiguration!;
    expect(conf['high-availability.zookeeper.path.root']).toBe('/flink/az-evac/9');
    expect(conf).not.toHaveProperty('recovery.zookeeper.path.root');
    expect(sim.restore('az-b', 'ns', 'cold', restore).generation).toBe(first.generation);
  });

  it('restoreSpecPatch sets the root under its key and removes the old name; refuses a relative path', () => {
    expect(restoreSpecPatch({ savepointRedeployNonce: 9, initialSavepointPath: 's3://b/sp', haZooKeeperRoot: '/flink/az-evac/9' })).toEqual({
      job: { initialSavepointPath: 's3://b/sp', savepointRedeployNonce: 9, state: 'running' },
      flinkConfiguration: { 'high-availability.zookeeper.path.root': '/flink/az-evac/9', 'recovery.zookeeper.path.root': null },
    });
    expect(restoreSpecPatch({ savepointRedeployNonce: 9 })).toEqual({ job: { state: 'running', upgradeMode: 'stateless', initialSavepointPath: null } });
    expect(() => restoreSpecPatch({ savepointRedeployNonce: 9, haZooKeeperRoot: 'flink' })).toThrow(/haZooKeeperRoot 'flink' must be an absolute znode path/);
  });
});

// docs/design.md "Operator rules the renderer follows", rule 6: the readiness check (the plan
// activity's manifest check) and the start step share this verdict, so a leftover blocks the
// job before the trigger (manifest-invalid) instead of failing it at start.
describe('source-AZ leftovers at readiness', () => {
  it('names each path of the rendered manifest that still names the source AZ; none for a clean one', () => {
    const c = catalog([job('x')]);
    const [source, target] = c.platform.azs as [typeof c.platform.azs[0], typeof c.platform.azs[0]];
    const render = (j: FleetJob) => renderForTargetAz({ job: j, source, target, layout: 'symmetric', restore: { stateless: true }, evacuationId: 'e1', nonce: 1 });
    expect(sourceAzLeftoverProblem(render(job('x')), source, 'symmetric')).toBeUndefined();
    const keyed = withSpec('keyed', { flinkConfiguration: { [`kafka.${source.name}.servers`]: 'k:9092' } });
    expect(sourceAzLeftoverProblem(render(keyed), source, 'symmetric')).toBe(
      `rendered manifest still names the source AZ ${source.name} at spec.flinkConfiguration["kafka.${source.name}.servers"] (key); rename those keys in the job's FlinkDeployment so they do not name an AZ`,
    );
  });
});

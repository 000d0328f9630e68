import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFlinkDeploymentValidator, type CrdValidator } from '../../domain/crd-validator.js';
import { FLINK_CONFIG_KEYS, flattenFlinkConfiguration, keysForRelease, parseFlinkVersion, readConfig, removeConfig, writeConfig, zooKeeperHa, type FlinkConfigRole } from '../../domain/flink-config.js';
import { findSourceAzLeftovers, renderForTargetAz, runZooKeeperRoot, type RenderInput } from '../../domain/render-deployment.js';
import type { AzProfile, FlinkDeploymentManifest, StorageLayout } from '../../domain/types.js';
import { job } from './fixtures/fleet.js';
import { VENDOR_EXAMPLES, at, manifestsOfKind, put } from './fixtures/manifests.js';

const AZ_A: AzProfile = {
  name: 'az-a',
  zone: 'us-east-1a',
  imageRegistry: 'registry.az-a.example.internal',
  s3Endpoint: 'https://s3.az-a.example.internal',
  stateBucket: 'flink-state-az-a',
  artifactBucket: 'flink-artifacts-az-a',
};
const AZ_B: AzProfile = {
  name: 'az-b',
  zone: 'us-east-1b',
  imageRegistry: 'registry.az-b.example.internal',
  s3Endpoint: 'https://s3.az-b.example.internal',
  stateBucket: 'flink-state-az-b',
  artifactBucket: 'flink-artifacts-az-b',
};
const PROFILES: Record<StorageLayout, { source: AzProfile; target: AzProfile }> = {
  'per-az-buckets': { source: AZ_A, target: AZ_B },
  symmetric: {
    source: { ...AZ_A, stateBucket: 'flink-state', artifactBucket: 'flink-artifacts' },
    target: { ...AZ_B, stateBucket: 'flink-state', artifactBucket: 'flink-artifacts' },
  },
};
const LAYOUTS = Object.keys(PROFILES) as StorageLayout[];

const E2E_DATA = fileURLToPath(new URL('../../vendor/flink-operator/e2e-data/', import.meta.url));

/**
 * The example as it would run in the source AZ: image in the source registry (every other
 * example; the rest keep Docker Hub names), S3 endpoint and an old-key checkpoint dir in the
 * source bucket, a source-zone affinity, a JVM option naming the AZ and zone, a jar in the
 * source artifact bucket, server-set metadata and status.
 */
function asDeployedIn(example: Record<string, unknown>, source: AzProfile, i: number): FlinkDeploymentManifest {
  const m = structuredClone(example);
  const image = at(m, 'spec.image');
  if (i % 2 === 0 && typeof image === 'string') put(m, 'spec.image', `${source.imageRegistry}/${image}`);
  const conf = { ...(at(m, 'spec.flinkConfiguration') as object), 's3.endpoint': source.s3Endpoint, 'env.java.opts.all': `-Daz=${source.name} -Dzone=${source.zone}` };
  put(m, 'spec.flinkConfiguration', conf);
  const checkpointDir = `s3://${source.stateBucket}/old/checkpoints`;
  if (typeof at(conf, 'state') === 'object') put(conf, 'state', { ...(at(conf, 'state') as object), 'checkpoints.dir': checkpointDir });
  else put(conf, 'state.checkpoints.dir', checkpointDir);
  if (i % 3 === 0) put(m, 'spec.job.jarURI', `s3://${source.artifactBucket}/jars/${String(at(m, 'metadata.name'))}.jar`);
  put(m, 'spec.podTemplate.spec.affinity', {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [source.zone] }] }] } },
  });
  put(m, 'metadata', { ...(m.metadata as object), namespace: 'streaming', resourceVersion: '42', uid: 'u-1', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [{ manager: 'kubectl' }] });
  put(m, 'status', { lifecycleState: 'STABLE' });
  return m as unknown as FlinkDeploymentManifest;
}

function input(deployment: FlinkDeploymentManifest, layout: StorageLayout, over: Partial<RenderInput> = {}): RenderInput {
  const { source, target } = PROFILES[layout];
  const name = deployment.metadata.name;
  return {
    job: job(name, { namespace: 'streaming', deployment, tier: 'P2' }),
    source,
    target,
    layout,
    restore: { path: `s3://${target.stateBucket}/savepoints/streaming/${name}/savepoint-0f1e2d-00000000abcd` },
    evacuationId: 'evac-2026-01-31-az-a',
    nonce: 1769860800,
    ...over,
  };
}

/** Per node selector term of the pod spec at `path`, the zones it requires. */
function zoneValues(manifest: unknown, path: string): string[][] {
  const terms = at(manifest, `${path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`) as { matchExpressions: { key: string; values: string[] }[] }[];
  return terms.map((t) => t.matchExpressions.filter((e) => e.key === 'topology.kubernetes.io/zone').flatMap((e) => e.values));
}

const length = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

const sources = [
  { name: 'operator examples', dir: VENDOR_EXAMPLES },
  { name: 'operator e2e-data', dir: E2E_DATA },
];

let validate: CrdValidator;
beforeAll(async () => {
  validate = await loadFlinkDeploymentValidator();
}, 60_000);

for (const { name, dir } of sources) {
  describe(`rendering every FlinkDeployment of the ${name}`, () => {
    const all = manifestsOfKind(dir, 'FlinkDeployment');
    const withJob = all.filter((e) => at(e.doc, 'spec.job') !== undefined);
    const withoutJob = all.filter((e) => at(e.doc, 'spec.job') === undefined);

    it('finds application and session deployments to render', () => {
      expect(withJob.length).toBeGreaterThan(2);
      expect(withoutJob.length).toBeGreaterThan(0);
    });

    for (const layout of LAYOUTS) {
      it(`renders each application deployment for az-b (${layout}): valid, no source-AZ leftovers, restore fields set`, () => {
        const { source, target } = PROFILES[layout];
        withJob.forEach(({ file, doc }, i) => {
          const deployed = asDeployedIn(doc, source, i);
          expect(findSourceAzLeftovers(deployed, source, layout), file).not.toEqual([]);
          const req = input(deployed, layout);
          const out = renderForTargetAz(req);
          const name = String(at(doc, 'metadata.name'));
          const conf = out.spec.flinkConfiguration as Record<string, unknown>;

          expect([file, validate(out)]).toEqual([file, { ok: true }]);
          expect([file, findSourceAzLeftovers(out, source, layout)]).toEqual([file, []]);
          expect(out.spec.job).toMatchObject({ state: 'running', savepointRedeployNonce: req.nonce, initialSavepointPath: (req.restore as { path: string }).path });
          expect([file, out.spec.job!.upgradeMode]).toEqual([file, at(doc, 'spec.job.upgradeMode')]);
          expect(zoneValues(out, 'spec.podTemplate.spec'), file).toEqual([[target.zone]]);
          expect(out.spec.image, file).toMatch(new RegExp(`^${target.imageRegistry}/`));
          for (const [k, v] of Object.entries(conf)) expect([file, k, typeof v]).toEqual([file, k, 'string']);
          expect(conf).toMatchObject({
            's3.endpoint': target.s3Endpoint,
            'execution.checkpointing.dir': `s3://${target.stateBucket}/checkpoints/streaming/${name}`,
            'execution.checkpointing.savepoint-dir': `s3://${target.stateBucket}/savepoints/streaming/${name}`,
            'env.java.opts.all': `-Daz=${target.name} -Dzone=${target.zone}`,
          });
          // The examples are v1_20 / v2_2, which read both names: both are written (rule below).
          expect(conf).toMatchObject({ 'state.checkpoints.dir': conf['execution.checkpointing.dir'], 'state.savepoints.dir': conf['execution.checkpointing.savepoint-dir'] });
          for (const list of ['containers', 'volumes']) {
            expect(length(at(out, `spec.podTemplate.spec.${list}`)), `${file} ${list}`).toBe(length(at(doc, `spec.podTemplate.spec.${list}`)));
          }
          expect(Object.keys(out.metadata).sort()).toEqual(['annotations', 'labels', 'name', 'namespace']);
          expect(out).not.toHaveProperty('status');
          expect(out.metadata.labels).toMatchObject({
            'az-evac.io/evacuation-id': req.evacuationId,
            'az-evac.io/source-az': source.name,
            'az-evac.io/tier': 'P2',
            'app.kubernetes.io/managed-by': 'az-evac',
          });
          if (at(doc, 'spec.flinkConfiguration.high-availability') !== undefined) {
            expect(conf['high-availability.storageDir']).toMatch(new RegExp(`^s3://${target.stateBucket}/`));
          }
        });
      });
    }

    it('refuses deployments without spec.job (session clusters), naming the job and the fix', () => {
      for (const { doc } of withoutJob) {
        const deployed = structuredClone(doc) as unknown as FlinkDeploymentManifest;
        deployed.metadata.namespace = 'streaming';
        expect(() => renderForTargetAz(input(deployed, 'per-az-buckets'))).toThrow(
          new RegExp(`job streaming/${deployed.metadata.name}: .*no spec\\.job.*session cluster.*Fix: `),
        );
      }
    });
  });
}

/** `spec.flinkVersion` values of the vendored FlinkDeployment CRD (v1_13 … v2_2). */
function crdFlinkVersions(): string[] {
  const crd = YAML.parse(readFileSync(fileURLToPath(new URL('../../vendor/flink-operator/crds/flinkdeployments.flink.apache.org-v1.yml', import.meta.url)), 'utf8')) as Record<string, unknown>;
  const versions = at(crd, 'spec.versions') as Record<string, unknown>[];
  return at(versions[0], 'schema.openAPIV3Schema.properties.spec.properties.flinkVersion.enum') as string[];
}

// Key names by Flink release, checked in Flink's own jars (1.19.3, 1.20.3, 2.0.1, 2.1.1 from
// Maven Central): 1.19's CheckpointingOptions has only state.checkpoints.dir /
// state.savepoints.dir; from 1.20 (FLIP-406) execution.checkpointing.dir / .savepoint-dir with
// the old names as deprecated keys. Claim mode: execution.savepoint-restore-mode from 1.15
// (FLIP-193, SavepointConfigOptions.RESTORE_MODE), execution.state-recovery.claim-mode with the
// old name deprecated from 1.20 (StateRecoveryOptions); none before 1.15. The operator passes
// the restore path itself and the claim mode from flinkConfiguration as it is
// (flink-kubernetes-operator release-1.15.0 ApplicationReconciler L155-166).
describe('operator rules: keys by spec.flinkVersion, NO_CLAIM on every cross-AZ restore', () => {
  const versions = crdFlinkVersions();
  const examples = manifestsOfKind(VENDOR_EXAMPLES, 'FlinkDeployment').filter(({ doc }) => at(doc, 'spec.job') !== undefined);

  it('reads every flinkVersion of the vendored CRD', () => {
    expect(versions).toEqual(expect.arrayContaining(['v1_13', 'v1_19', 'v1_20', 'v2_0', 'v2_2']));
  });

  it('every vendored example x every CRD flinkVersion: dir keys the release reads, NO_CLAIM under the claim-mode names it reads', () => {
    for (const version of versions) {
      const release = parseFlinkVersion(version)!;
      const from120 = release[0] > 1 || release[1] >= 20;
      const from115 = release[0] > 1 || release[1] >= 15;
      examples.forEach(({ file, doc }, i) => {
        const d = asDeployedIn(doc, AZ_A, i);
        d.spec.flinkVersion = version;
        // A team that set CLAIM (under the newest name) still gets NO_CLAIM in the target.
        d.spec.flinkConfiguration = { ...d.spec.flinkConfiguration, 'execution.state-recovery.claim-mode': 'CLAIM' };
        const req = input(d, 'per-az-buckets');
        const conf = renderForTargetAz(req).spec.flinkConfiguration as Record<string, string>;
        const cp = `s3://${AZ_B.stateBucket}/checkpoints/streaming/${String(at(doc, 'metadata.name'))}`;
        const what = `${file} ${version}`;
        expect([what, conf['state.checkpoints.dir']]).toEqual([what, cp]);
        expect([what, conf['execution.checkpointing.dir']]).toEqual([what, from120 ? cp : undefined]);
        expect([what, conf['state.savepoints.dir'] !== undefined, conf['execution.checkpointing.savepoint-dir'] !== undefined]).toEqual([what, true, from120]);
        expect([what, conf['execution.savepoint-restore-mode'], conf['execution.state-recovery.claim-mode']]).toEqual([
          what, from115 ? 'NO_CLAIM' : undefined, from120 ? 'NO_CLAIM' : undefined,
        ]);
      });
    }
  });

  it('a stateless restore writes no claim mode; an unknown flinkVersion gets every name', () => {
    const d = asDeployedIn(examples[0]!.doc, AZ_A, 0);
    d.spec.flinkVersion = 'v1_19';
    const stateless = renderForTargetAz(input(d, 'per-az-buckets', { restore: { stateless: true } })).spec.flinkConfiguration as Record<string, string>;
    expect(readConfig(stateless, 'restoreClaimMode')).toBeUndefined();
    delete d.spec.flinkVersion;
    const unknown = renderForTargetAz(input(d, 'per-az-buckets')).spec.flinkConfiguration as Record<string, string>;
    expect(unknown).toMatchObject({ 'execution.savepoint-restore-mode': 'NO_CLAIM', 'execution.state-recovery.claim-mode': 'NO_CLAIM' });
    expect(keysForRelease('checkpointDir', undefined)).toEqual(['execution.checkpointing.dir', 'state.checkpoints.dir']);
  });
});

describe('renderForTargetAz details', () => {
  const example = manifestsOfKind(VENDOR_EXAMPLES, 'FlinkDeployment').find((e) => e.file === 'pod-template.yaml')!.doc;
  const deployed = (layout: StorageLayout = 'per-az-buckets'): FlinkDeploymentManifest => asDeployedIn(example, PROFILES[layout].source, 0);

  it('symmetric layout keeps bucket names (checkpoints stay restorable) and changes only the endpoint', () => {
    const sym = renderForTargetAz(input(deployed('symmetric'), 'symmetric')).spec;
    expect(sym.job!.jarURI).toBe('s3://flink-artifacts/jars/pod-template-example.jar');
    expect(sym.flinkConfiguration).toMatchObject({
      'execution.checkpointing.dir': 's3://flink-state/checkpoints/streaming/pod-template-example',
      's3.endpoint': AZ_B.s3Endpoint,
    });
    const perAz = renderForTargetAz(input(deployed(), 'per-az-buckets')).spec;
    expect(perAz.job!.jarURI).toBe('s3://flink-artifacts-az-b/jars/pod-template-example.jar');
    expect(perAz.flinkConfiguration!['execution.checkpointing.dir']).toBe('s3://flink-state-az-b/checkpoints/streaming/pod-template-example');
  });

  it('refuses a symmetric layout whose profiles name different buckets', () => {
    expect(() => renderForTargetAz({ ...input(deployed(), 'per-az-buckets'), layout: 'symmetric' })).toThrow(/layout is 'symmetric' but .*different buckets.*fix the platform profile/);
  });

  it('keeps an AZ name inside a symmetric bucket name intact', () => {
    const source = { ...AZ_A, stateBucket: 'state-az-a-shared', artifactBucket: 'art' };
    const target = { ...AZ_B, stateBucket: 'state-az-a-shared', artifactBucket: 'art' };
    const d = deployed();
    d.spec.flinkConfiguration = { 'custom.dir': 's3://state-az-a-shared/x/az-a' };
    const out = renderForTargetAz({ ...input(d, 'symmetric'), source, target, restore: { path: 's3://state-az-a-shared/sp/savepoint-1' } });
    expect(out.spec.flinkConfiguration!['custom.dir']).toBe('s3://state-az-a-shared/x/az-b');
    expect(findSourceAzLeftovers(out, source, 'symmetric')).toEqual([]);
  });

  // Flink Kubernetes Operator release-1.15.0 (79d730ba), DefaultValidator.validateSpecChange
  // L524-531: a changed savepointRedeployNonce with an empty initialSavepointPath is rejected
  // ("InitialSavepointPath must not be empty for savepoint redeployment") on any resource the
  // operator reconciled before. So the nonce goes with a path only; a stateless restore
  // carries neither (a nonce inherited from the source manifest is dropped too).
  it('operator rule: savepointRedeployNonce only with a non-empty initialSavepointPath', () => {
    for (const upgradeMode of ['last-state', 'savepoint', 'stateless', undefined]) {
      const d = deployed();
      Object.assign(d.spec.job!, { upgradeMode, initialSavepointPath: 's3://flink-state-az-a/old', savepointRedeployNonce: 3 });
      if (upgradeMode === undefined) delete d.spec.job!.upgradeMode;
      d.spec.flinkConfiguration = { ...d.spec.flinkConfiguration, 'execution.savepoint.path': 's3://flink-state-az-b/stale' };
      const out = renderForTargetAz(input(d, 'per-az-buckets', { restore: { stateless: true }, nonce: 9 }));
      expect(out.spec.job).not.toHaveProperty('initialSavepointPath');
      expect(out.spec.job).not.toHaveProperty('savepointRedeployNonce');
      expect(out.spec.job!.state).toBe('running');
      expect(readConfig(out.spec.flinkConfiguration as Record<string, string>, 'restorePath')).toBeUndefined();
      expect(out.metadata.annotations!['az-evac.io/restore-from']).toBe('stateless');
    }
    const withPath = renderForTargetAz(input(deployed(), 'per-az-buckets', { nonce: 9 }));
    expect(withPath.spec.job).toMatchObject({ savepointRedeployNonce: 9, initialSavepointPath: expect.stringMatching(/^s3:\/\/flink-state-az-b\/.+/) });
  });

  // release-1.15.0 AbstractFlinkResourceReconciler L112-115: a resource applied suspended is
  // not deployed (it stays before its first deployment), so a later `state: running` deploys it
  // from initialSavepointPath. A job suspended in the source stays suspended in the target.
  it('operator rule: a job suspended in the source is rendered suspended, with its restore path', () => {
    const d = deployed();
    d.spec.job!.state = 'suspended';
    const out = renderForTargetAz(input(d, 'per-az-buckets'));
    expect(out.spec.job).toMatchObject({ state: 'suspended', initialSavepointPath: expect.stringMatching(/^s3:\/\/flink-state-az-b\//) });
    expect(validate(out)).toEqual({ ok: true });
    expect(renderForTargetAz(input(deployed(), 'per-az-buckets')).spec.job!.state).toBe('running');
  });

  // The source-AZ check runs over the whole rendered manifest (values and keys), with the
  // allowlist of docs/design.md: az-evac.io/* labels and annotations, symmetric bucket names.
  it('source-AZ check over the whole manifest: Kafka servers and topics, Secrets, volumes rewritten; keys naming the AZ reported', () => {
    const d = deployed();
    d.spec.flinkConfiguration = { ...d.spec.flinkConfiguration, 'properties.bootstrap.servers': 'kafka.az-a.example.internal:9092', 'source.topic': 'orders-az-a' };
    put(d, 'spec.podTemplate.spec.volumes', [{ name: 'data', persistentVolumeClaim: { claimName: 'flink-data-az-a' } }, { name: 'creds', secret: { secretName: 'kafka-az-a-creds' } }]);
    put(d, 'spec.job.args', ['--brokers', 'kafka.az-a.example.internal:9092']);
    const out = renderForTargetAz(input(d, 'per-az-buckets'));
    expect(findSourceAzLeftovers(out, AZ_A, 'per-az-buckets')).toEqual([]);
    expect(out.spec.flinkConfiguration).toMatchObject({ 'properties.bootstrap.servers': 'kafka.az-b.example.internal:9092', 'source.topic': 'orders-az-b' });
    expect(at(out, 'spec.podTemplate.spec.volumes')).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'flink-data-az-b' } }, { name: 'creds', secret: { secretName: 'kafka-az-b-creds' } }]);
    expect(out.spec.job!.args).toEqual(['--brokers', 'kafka.az-b.example.internal:9092']);

    const keyed = deployed();
    keyed.spec.flinkConfiguration = { ...keyed.spec.flinkConfiguration, 'kafka.az-a.servers': 'x:9092' };
    expect(findSourceAzLeftovers(renderForTargetAz(input(keyed, 'per-az-buckets')), AZ_A, 'per-az-buckets')).toEqual(['spec.flinkConfiguration["kafka.az-a.servers"] (key)']);
    // Allowlisted: az-evac.io/source-az names the source on purpose.
    expect(out.metadata.labels!['az-evac.io/source-az']).toBe('az-a');
  });

  // release-1.15.0 AbstractFlinkResourceReconciler L237-248: a first deploy ignores
  // upgradeMode (it records SAVEPOINT when initialSavepointPath is set, else STATELESS), and
  // AbstractJobReconciler.redeployWithSavepoint L629 forces SAVEPOINT for a nonce redeploy; a
  // forced `savepoint` would only override the team's choice for the job's later upgrades.
  it('operator rule: upgradeMode kept as the team set it', () => {
    for (const upgradeMode of ['last-state', 'savepoint', 'stateless'] as const) {
      for (const restore of [{ stateless: true } as const, undefined]) {
        const d = deployed();
        d.spec.job!.upgradeMode = upgradeMode;
        const out = renderForTargetAz(input(d, 'per-az-buckets', restore ? { restore } : {}));
        expect([upgradeMode, restore, out.spec.job!.upgradeMode]).toEqual([upgradeMode, restore, upgradeMode]);
      }
    }
  });

  // ZooKeeper HA (docs/design.md "Operator rules the renderer follows", rule 7). The operator
  // overwrites high-availability.cluster-id with the resource name whenever HA is on
  // (FlinkConfigBuilder.build, release-1.15.0 L390-393), so only a fresh
  // high-availability.zookeeper.path.root (HighAvailabilityOptions.HA_ZOOKEEPER_ROOT, default
  // /flink, old key recovery.zookeeper.path.root) keeps the target JobManager away from the
  // source run's znodes at <root>/<name>.
  it('operator rule: ZooKeeper HA gets a fresh root per run, under any HA key name; other HA types are left alone', () => {
    const zk = (conf: Record<string, string>): FlinkDeploymentManifest => {
      const d = deployed();
      d.spec.flinkConfiguration = { ...d.spec.flinkConfiguration, ...conf };
      return d;
    };
    const root = (out: FlinkDeploymentManifest): string | undefined => readConfig(out.spec.flinkConfiguration as Record<string, string>, 'haZooKeeperRoot');
    const quorum = 'zk-1.az-a.example.internal:2181,zk-2.az-a.example.internal:2181';
    const types: Record<string, string>[] = [{ 'high-availability.type': 'zookeeper' }, { 'high-availability': 'ZooKeeper' }, { 'recovery.mode': 'zookeeper' }];
    for (const type of types) {
      const out = renderForTargetAz(input(zk({ ...type, 'high-availability.zookeeper.quorum': quorum, 'recovery.zookeeper.path.root': '/flink/az-a' }), 'per-az-buckets', { nonce: 42 }));
      const conf = out.spec.flinkConfiguration as Record<string, string>;
      expect([type, root(out)]).toEqual([type, '/flink/az-b/az-evac/42']);
      expect(conf).not.toHaveProperty('recovery.zookeeper.path.root');
      expect(conf['high-availability.zookeeper.quorum']).toBe(quorum.replaceAll('az-a', 'az-b'));
      expect(findSourceAzLeftovers(out, AZ_A, 'per-az-buckets')).toEqual([]);
      expect(validate(out)).toEqual({ ok: true });
    }
    // Default root /flink; a retry of the run renders the same root, the next run another.
    const plain = zk({ 'high-availability.type': 'zookeeper' });
    expect(root(renderForTargetAz(input(plain, 'per-az-buckets', { nonce: 7 })))).toBe('/flink/az-evac/7');
    expect(root(renderForTargetAz(input(plain, 'per-az-buckets', { nonce: 7 })))).toBe('/flink/az-evac/7');
    expect(root(renderForTargetAz(input(plain, 'per-az-buckets', { nonce: 8 })))).toBe('/flink/az-evac/8');
    // A copy made by an earlier run (failback, a second evacuation) gets a sibling root, not a nested one.
    const again = renderForTargetAz(input(zk({ 'high-availability.type': 'zookeeper', 'high-availability.zookeeper.path.root': '/teams/x/az-evac/7/' }), 'per-az-buckets', { nonce: 9 }));
    expect(root(again)).toBe('/teams/x/az-evac/9');
    // Kubernetes HA and no HA: no ZooKeeper root is written.
    const others: Record<string, string>[] = [{ 'high-availability.type': 'kubernetes' }, { 'high-availability.type': 'org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory' }, {}];
    for (const conf of others) {
      expect([conf, root(renderForTargetAz(input(zk(conf), 'per-az-buckets')))]).toEqual([conf, undefined]);
    }
  });

  it('reads ZooKeeper HA as Flink does: the cluster znode is root + resource name', () => {
    expect(zooKeeperHa({ 'high-availability': 'zookeeper' }, 'enricher')).toEqual({ root: '/flink', clusterPath: '/flink/enricher' });
    expect(zooKeeperHa({ 'high-availability.type': 'ZOOKEEPER', 'high-availability.zookeeper.quorum': 'zk:2181', 'high-availability.zookeeper.path.root': 'teams//x/' }, 'e'))
      .toEqual({ quorum: 'zk:2181', root: '/teams/x', clusterPath: '/teams/x/e' });
    expect(zooKeeperHa({ 'high-availability.type': 'kubernetes' }, 'e')).toBeUndefined();
    expect(zooKeeperHa({}, 'e')).toBeUndefined();
    expect(runZooKeeperRoot('/', 3)).toBe('/az-evac/3');
  });

  it('merges zone affinity into existing node selector terms and preferences', () => {
    const d = deployed();
    const zone = { key: 'topology.kubernetes.io/zone', operator: 'In', values: [AZ_A.zone] };
    const pool = { key: 'pool', operator: 'In', values: ['flink'] };
    put(d, 'spec.podTemplate.spec', {
      ...(at(d, 'spec.podTemplate.spec') as object),
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [zone, pool] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [zone] } }, { weight: 5, preference: { matchExpressions: [pool] } }],
        },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
      },
    });
    d.spec.taskManager = { podTemplate: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [zone] }] } } } } } };
    const out = renderForTargetAz(input(d, 'per-az-buckets'));
    const nodeAffinity = at(out, 'spec.podTemplate.spec.affinity.nodeAffinity');
    const target = { key: 'topology.kubernetes.io/zone', operator: 'In', values: [AZ_B.zone] };
    expect(at(nodeAffinity, 'requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms')).toEqual([
      { matchExpressions: [pool, target] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }], matchExpressions: [target] },
    ]);
    expect(at(nodeAffinity, 'preferredDuringSchedulingIgnoredDuringExecution')).toEqual([{ weight: 5, preference: { matchExpressions: [pool] } }]);
    expect(at(out, 'spec.podTemplate.spec.affinity.podAntiAffinity')).toEqual({ preferredDuringSchedulingIgnoredDuringExecution: [] });
    expect(zoneValues(out, 'spec.taskManager.podTemplate.spec')).toEqual([[AZ_B.zone]]);
    expect(at(out, 'spec.jobManager.podTemplate.spec')).not.toHaveProperty('affinity');
    expect(at(out, 'spec.podTemplate.spec.containers')).toMatchObject([{ name: 'flink-main-container' }, { name: 'fluentbit' }]);
  });

  it('points images at the target mirror: source registry swapped, Docker Hub names prefixed, other registries kept', () => {
    const d = deployed();
    const images = ['flink:2.2', 'docker.io/library/flink:2.2', `${AZ_A.imageRegistry}/team/job:1`, 'ghcr.io/org/tool:1', 'localhost:5000/x:1'];
    put(d, 'spec.podTemplate.spec', { containers: images.map((image, i) => ({ name: `c${i}`, image })) });
    const out = renderForTargetAz(input(d, 'per-az-buckets'));
    expect((at(out, 'spec.podTemplate.spec.containers') as { image: string }[]).map((c) => c.image)).toEqual([
      `${AZ_B.imageRegistry}/flink:2.2`,
      `${AZ_B.imageRegistry}/library/flink:2.2`,
      `${AZ_B.imageRegistry}/team/job:1`,
      'ghcr.io/org/tool:1',
      'localhost:5000/x:1',
    ]);
    expect(at(out, 'spec.jobManager.podTemplate.spec.initContainers.0.image')).toBe(`${AZ_B.imageRegistry}/busybox:1.35.0`);
  });

  it('maps the namespace, drops server metadata and last-applied-configuration, keeps user labels', () => {
    const d = deployed();
    d.metadata.labels = { team: 'payments', zone: AZ_A.zone };
    d.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(example), owner: 'ops' };
    const out = renderForTargetAz(input(d, 'per-az-buckets', { namespace: 'streaming-dr' }));
    expect(out.metadata.namespace).toBe('streaming-dr');
    expect(out.metadata.labels).toMatchObject({ team: 'payments', zone: AZ_B.zone });
    expect(out.metadata.annotations).toEqual({ owner: 'ops', 'az-evac.io/restore-from': (input(d, 'per-az-buckets').restore as { path: string }).path });
    expect(d.metadata).toHaveProperty('resourceVersion', '42');
  });

  it('refuses bad input with a message naming the job and the fix', () => {
    const d = deployed();
    expect(() => renderForTargetAz(input(d, 'per-az-buckets', { evacuationId: 'evac 1' }))).toThrow(/job streaming\/pod-template-example: evacuationId 'evac 1' is not a valid label value/);
    expect(() => renderForTargetAz(input(d, 'per-az-buckets', { nonce: 1.5 }))).toThrow(/nonce 1.5 must be an integer/);
    expect(() => renderForTargetAz(input(d, 'per-az-buckets', { restore: { path: 's3://flink-state-az-a/sp/savepoint-1' } }))).toThrow(/points into the source AZ az-a/);
    expect(() => renderForTargetAz(input(d, 'per-az-buckets', { target: AZ_A }))).toThrow(/source and target AZ are both 'az-a'/);
    expect(() => renderForTargetAz(input(d, 'per-az-buckets', { job: { ...input(d, 'per-az-buckets').job, checkpointPrefix: '/' } }))).toThrow(/checkpointPrefix is empty/);
  });
});

describe('findSourceAzLeftovers', () => {
  it('returns the path of every string naming the source AZ, as whole tokens only', () => {
    const m = {
      metadata: { labels: { 'az-evac.io/source-az': 'az-a', other: 'az-a' } },
      spec: {
        image: `${AZ_A.imageRegistry}/flink:2.2`,
        flinkConfiguration: { 's3.endpoint': AZ_A.s3Endpoint, 'a.dir': 's3://flink-state-az-a/x', ok: 'maz-ab', 'zone-like': 'us-east-1ab' },
        list: ['fine', `zone ${AZ_A.zone}`],
      },
    };
    expect(findSourceAzLeftovers(m, AZ_A, 'per-az-buckets')).toEqual([
      'metadata.labels.other',
      'spec.image',
      'spec.flinkConfiguration["s3.endpoint"]',
      'spec.flinkConfiguration["a.dir"]',
      'spec.list[1]',
    ]);
  });

  it('does not report shared bucket names under symmetric', () => {
    const source = PROFILES.symmetric.source;
    expect(findSourceAzLeftovers({ a: 's3://flink-state/x', b: 's3://flink-artifacts/j.jar' }, source, 'symmetric')).toEqual([]);
    expect(findSourceAzLeftovers({ a: 's3://flink-state/x' }, source, 'per-az-buckets')).toEqual(['a']);
  });
});

describe('Flink configuration (flat maps, FLIP-406 keys)', () => {
  it('flattens nested maps, numbers, booleans and lists into flat strings', () => {
    expect(
      flattenFlinkConfiguration({
        'taskmanager.numberOfTaskSlots': 2,
        state: { 'savepoints.dir': 'file:///sp', checkpoints: { dir: 'file:///cp' } },
        'high-availability': { type: 'kubernetes' },
        'job.autoscaler': { enabled: true, 'target.utilization.boundary': 0.1 },
        'pipeline.jars': ['a.jar', 'b.jar'],
      }),
    ).toEqual({
      'taskmanager.numberOfTaskSlots': '2',
      'state.savepoints.dir': 'file:///sp',
      'state.checkpoints.dir': 'file:///cp',
      'high-availability.type': 'kubernetes',
      'job.autoscaler.enabled': 'true',
      'job.autoscaler.target.utilization.boundary': '0.1',
      'pipeline.jars': 'a.jar;b.jar',
    });
  });

  it('refuses null values, conflicting duplicates and list items with ;', () => {
    expect(() => flattenFlinkConfiguration({ a: { b: null } })).toThrow(/flinkConfiguration\.a\.b: has no value/);
    expect(() => flattenFlinkConfiguration({ 'a.b': '1', a: { b: '2' } })).toThrow(/'a\.b' is given twice/);
    expect(flattenFlinkConfiguration({ 'a.b': '1', a: { b: 1 } })).toEqual({ 'a.b': '1' });
    expect(() => flattenFlinkConfiguration({ l: ['x;y'] })).toThrow(/flinkConfiguration\.l\[0\]/);
  });

  it('reads a key by its new or old name, new name first', () => {
    expect(readConfig({ 'state.checkpoints.dir': 'old' }, 'checkpointDir')).toBe('old');
    expect(readConfig({ 'state.checkpoints.dir': 'old', 'execution.checkpointing.dir': 'new' }, 'checkpointDir')).toBe('new');
    expect(readConfig({ 'execution.savepoint.path': 'p' }, 'restorePath')).toBe('p');
    expect(readConfig({}, 'savepointDir')).toBeUndefined();
  });

  it('writes the new key and removes every old one', () => {
    for (const [role, { key, deprecatedKeys }] of Object.entries(FLINK_CONFIG_KEYS)) {
      const before = Object.fromEntries([...deprecatedKeys, 'unrelated'].map((k) => [k, 'old']));
      const after = writeConfig(before, role as FlinkConfigRole, 'new');
      expect(after).toEqual({ unrelated: 'old', [key]: 'new' });
      expect(removeConfig(after, role as FlinkConfigRole)).toEqual({ unrelated: 'old' });
    }
    expect(FLINK_CONFIG_KEYS.savepointDir).toEqual({ key: 'execution.checkpointing.savepoint-dir', deprecatedKeys: ['state.savepoints.dir', 'savepoints.state.backend.fs.dir'] });
  });
});

/**
 * Readiness of the target AZ for one job, beyond capacity and jars: what the job's pods need
 * from the target namespace (the namespace itself, the ServiceAccount, Secrets, ConfigMaps
 * and PersistentVolumeClaims its spec names), volumes whose data cannot move with it
 * (hostPath, PersistentVolumeClaim), and ZooKeeper HA data it leaves behind in the source.
 * Pure: the platform lookups are made by the plan activity (ClusterPort.checkObjects) and
 * passed in. Which findings block and why: docs/design.md#readiness-findings.
 */
import { flattenFlinkConfiguration, zooKeeperHa } from './flink-config.js';
import { zooKeeperRunsUnder } from './render-deployment.js';
import { jobKey, type Finding, type FleetJob, type FlinkDeploymentManifest } from './types.js';

/** Kinds of namespaced objects a FlinkDeployment's pods reference by name. */
export const OBJECT_KINDS = ['ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** A namespaced object by kind and name, e.g. `{ kind: 'Secret', name: 'kafka-creds' }`. */
export interface ObjectRef {
  kind: ObjectKind;
  name: string;
}

/** One reference in a job's spec. */
export interface PodReference extends ObjectRef {
  /** Where in the FlinkDeployment, e.g. `spec.taskManager.podTemplate.spec.volumes[0].secret`. */
  at: string;
  /**
   * False when pods start without it: image pull secrets (the kubelet pulls without them,
   * which only fails for a registry that needs them). References marked `optional: true` are
   * not collected at all.
   */
  required: boolean;
}

/** A hostPath volume of a pod template. */
export interface HostPathVolume {
  volume: string;
  path: string;
  at: string;
}

/** What the pods of a FlinkDeployment reference, in spec order, duplicates included. */
export interface PodReferences {
  refs: PodReference[];
  hostPaths: HostPathVolume[];
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.flatMap((x): Json[] => { const o = obj(x); return o ? [o] : []; }) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The objects the pods of `spec` reference: `spec.serviceAccount`; in each pod template
 * (`spec.podTemplate`, `spec.jobManager.podTemplate`, `spec.taskManager.podTemplate`) its
 * `serviceAccountName`, `imagePullSecrets`, volumes (`secret`, `configMap`,
 * `persistentVolumeClaim`, `projected` sources; `hostPath` listed apart) and every container's
 * and init container's `envFrom` and `env[].valueFrom` Secret / ConfigMap refs; and Flink's
 * own native-Kubernetes options in `flinkConfiguration`: `kubernetes.secrets`
 * (`name:/mount/path,…`), `kubernetes.container.image.pull-secrets` (`a;b`) and
 * `kubernetes.service-account` / `kubernetes.jobmanager.service-account` /
 * `kubernetes.taskmanager.service-account`. References with `optional: true` are skipped (pods
 * start without them). An unset `spec.serviceAccount` means the namespace's `default` account,
 * which Kubernetes creates in every namespace: not listed.
 * Sources: Kubernetes API reference (PodSpec, Volume, EnvFromSource, EnvVarSource); Flink
 * docs "Native Kubernetes" → "Using Secrets" and the `KubernetesConfigOptions` reference.
 * @throws Error from flattenFlinkConfiguration for an invalid flinkConfiguration
 */
export function podReferences(spec: FlinkDeploymentManifest['spec']): PodReferences {
  const refs: PodReference[] = [];
  const hostPaths: HostPathVolume[] = [];
  const add = (kind: ObjectKind, name: unknown, at: string, required = true): void => {
    const n = str(name);
    if (n !== undefined) refs.push({ kind, name: n, at, required });
  };
  add('ServiceAccount', spec.serviceAccount, 'spec.serviceAccount');
  const conf = flattenFlinkConfiguration(obj(spec.flinkConfiguration) ?? {});
  for (const key of ['kubernetes.service-account', 'kubernetes.jobmanager.service-account', 'kubernetes.taskmanager.service-account']) {
    add('ServiceAccount', conf[key], `spec.flinkConfiguration["${key}"]`);
  }
  for (const entry of (conf['kubernetes.secrets'] ?? '').split(',')) add('Secret', entry.split(':')[0]?.trim(), 'spec.flinkConfiguration["kubernetes.secrets"]');
  for (const name of (conf['kubernetes.container.image.pull-secrets'] ?? '').split(';')) {
    add('Secret', name.trim(), 'spec.flinkConfiguration["kubernetes.container.image.pull-secrets"]', false);
  }
  const templates: [string, unknown][] = [
    ['spec.podTemplate', spec.podTemplate],
    ['spec.jobManager.podTemplate', obj(spec.jobManager)?.podTemplate],
    ['spec.taskManager.podTemplate', obj(spec.taskManager)?.podTemplate],
  ];
  for (const [path, template] of templates) {
    const pod = obj(obj(template)?.spec);
    if (!pod) continue;
    const at = `${path}.spec`;
    add('ServiceAccount', pod.serviceAccountName, `${at}.serviceAccountName`);
    list(pod.imagePullSecrets).forEach((s, i) => add('Secret', s.name, `${at}.imagePullSecrets[${i}]`, false));
    list(pod.volumes).forEach((v, i) => {
      const vat = `${at}.volumes[${i}]`;
      const secret = obj(v.secret);
      if (secret && secret.optional !== true) add('Secret', secret.secretName, `${vat}.secret`);
      const configMap = obj(v.configMap);
      if (configMap && configMap.optional !== true) add('ConfigMap', configMap.name, `${vat}.configMap`);
      add('PersistentVolumeClaim', obj(v.persistentVolumeClaim)?.claimName, `${vat}.persistentVolumeClaim`);
      list(obj(v.projected)?.sources).forEach((src, j) => {
        for (const [field, kind] of [['secret', 'Secret'], ['configMap', 'ConfigMap']] as const) {
          const ref = obj(src[field]);
          if (ref && ref.optional !== true) add(kind, ref.name, `${vat}.projected.sources[${j}].${field}`);
        }
      });
      const hostPath = obj(v.hostPath);
      if (hostPath) hostPaths.push({ volume: String(v.name ?? `volumes[${i}]`), path: String(hostPath.path ?? ''), at: `${vat}.hostPath` });
    });
    for (const field of ['initContainers', 'containers']) {
      list(pod[field]).forEach((c, i) => {
        const cat = `${at}.${field}[${i}]`;
        list(c.envFrom).forEach((e, j) => {
          for (const [ref, kind] of [['secretRef', 'Secret'], ['configMapRef', 'ConfigMap']] as const) {
            const r = obj(e[ref]);
            if (r && r.optional !== true) add(kind, r.name, `${cat}.envFrom[${j}].${ref}`);
          }
        });
        list(c.env).forEach((e, j) => {
          const from = obj(e.valueFrom);
          for (const [ref, kind] of [['secretKeyRef', 'Secret'], ['configMapKeyRef', 'ConfigMap']] as const) {
            const r = obj(from?.[ref]);
            if (r && r.optional !== true) add(kind, r.name, `${cat}.env[${j}].valueFrom.${ref}`);
          }
        });
      });
    }
  }
  return { refs, hostPaths };
}

/** Distinct `kind/name` of `refs`, sorted, e.g. for one lookup per object of a namespace. */
export function distinctRefs(refs: readonly ObjectRef[]): ObjectRef[] {
  const byKey = new Map(refs.map((r) => [`${r.kind}/${r.name}`, { kind: r.kind, name: r.name }]));
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
}

/** What one namespace of the target AZ has, of the objects asked about (ClusterPort.checkObjects). */
export interface NamespaceCheck {
  namespaceExists: boolean;
  /** Asked about and absent (empty when the namespace itself is absent). */
  missing: ObjectRef[];
  /** Could not be read, with why (e.g. the worker's identity may not read Secrets: 403). */
  unchecked: (ObjectRef & { reason: string })[];
}

const sameRef = (a: ObjectRef, b: ObjectRef): boolean => a.kind === b.kind && a.name === b.name;

/**
 * Readiness findings of `job` moving into `namespace` of `targetAz`, from its spec and the
 * target namespace's check (`check`; undefined = not checked, e.g. the simulator without it):
 * - `target-namespace-missing` (blocking): the apply would fail with 404;
 * - `target-refs-missing` (blocking): a ServiceAccount, Secret, ConfigMap or
 *   PersistentVolumeClaim the pods need is absent, so they would never start (the JobManager
 *   Deployment cannot create pods without its ServiceAccount; a pod waits in
 *   ContainerCreating / CreateContainerConfigError for a Secret or ConfigMap, in Pending for
 *   a claim) and the job would only fail at its start-up timeout;
 * - `target-pull-secret-missing` (informational): pods start, the image pull fails only
 *   where the registry needs the secret;
 * - `target-refs-unchecked` (informational): the lookup was refused or failed; the reason says why;
 * - `zonal-volume` (informational): a hostPath or PersistentVolumeClaim volume, whose data
 *   stays in the source AZ (one cluster per AZ: a claim of the same name in the target is
 *   another volume); the job's Flink state comes back from the snapshot, anything else it
 *   kept there does not;
 * - `zookeeper-ha-left` (informational): the source run's ZooKeeper HA znode, left in place
 *   (the target copy uses a fresh root, render-deployment.ts runZooKeeperRoot) and named for
 *   clean-up.
 * One finding per code and job, naming every object and where the spec names it.
 */
export function targetReadinessFindings(job: FleetJob, sourceAz: string, targetAz: string, namespace: string, check: NamespaceCheck | undefined): Finding[] {
  const key = jobKey(job);
  const findings: Finding[] = [];
  const { refs, hostPaths } = podReferences(job.deployment.spec);
  const describe = (rs: readonly PodReference[]): string => rs.map((r) => `${r.kind} ${r.name} (${r.at})`).join(', ');
  if (check && !check.namespaceExists) {
    findings.push({
      job: key, code: 'target-namespace-missing', blocking: true,
      message: `${key}: namespace ${namespace} does not exist in ${targetAz}; applying the job there would fail with 404. Fix: create namespace ${namespace} in ${targetAz} with what the job uses (a DR-ready platform keeps every team namespace in every AZ), then re-run the readiness check.`,
    });
  } else if (check) {
    const missing = refs.filter((r) => check.missing.some((m) => sameRef(m, r)));
    const required = missing.filter((r) => r.required);
    const optional = missing.filter((r) => !r.required);
    if (required.length > 0) {
      findings.push({
        job: key, code: 'target-refs-missing', blocking: true,
        message: `${key}: ${describe(required)} missing in namespace ${namespace} of ${targetAz}; its pods would never start there. Fix: create ${required.length === 1 ? 'it' : 'them'} in ${targetAz} (replicate Secrets, ServiceAccounts and ConfigMaps to every AZ), then re-run the readiness check.`,
      });
    }
    if (optional.length > 0) {
      findings.push({
        job: key, code: 'target-pull-secret-missing', blocking: false,
        message: `${key}: image pull secret ${describe(optional)} missing in namespace ${namespace} of ${targetAz}; pods start, but pulling from a registry that needs it fails. Fix: create it in ${targetAz}.`,
      });
    }
    const unchecked = check.unchecked.filter((u) => refs.some((r) => sameRef(u, r)));
    if (unchecked.length > 0) {
      findings.push({
        job: key, code: 'target-refs-unchecked', blocking: false,
        message: `${key}: could not check ${unchecked.map((u) => `${u.kind} ${u.name}: ${u.reason}`).join('; ')} in namespace ${namespace} of ${targetAz}. Fix: check by hand, or grant the worker get on them (deploy/rbac/az-evac-worker.yaml).`,
      });
    }
  }
  const claims = refs.filter((r) => r.kind === 'PersistentVolumeClaim');
  if (claims.length > 0 || hostPaths.length > 0) {
    const what = [...claims.map((c) => `PersistentVolumeClaim ${c.name} (${c.at})`), ...hostPaths.map((h) => `hostPath ${h.path} of volume ${h.volume} (${h.at})`)].join(', ');
    findings.push({
      job: key, code: 'zonal-volume', blocking: false,
      message: `${key} mounts ${what}: their data stays in ${sourceAz} (a claim or host path of the same name in ${targetAz} is another volume); Flink state comes back from the snapshot, anything else kept there does not. Fix: use emptyDir for scratch space (RocksDB working dirs) and remote storage for state; a claim the job must keep needs a storage class whose volumes ${targetAz} can attach (regional or replicated).`,
    });
  }
  const zk = zooKeeperHa(flattenFlinkConfiguration((job.deployment.spec.flinkConfiguration ?? {}) as Json), job.name);
  if (zk) {
    const on = zk.quorum !== undefined ? ` on ${zk.quorum}` : '';
    findings.push({
      job: key, code: 'zookeeper-ha-left', blocking: false,
      message: `${key} uses ZooKeeper HA: its ${targetAz} copy gets a fresh root under ${zooKeeperRunsUnder(zk.root)} and never reads the source run's HA data, which stays at ${zk.clusterPath}${on}. Fix: none needed to evacuate; once ${sourceAz} is back, the operator deletes it when it suspends the source copy (not under upgradeMode last-state); else delete it by hand (zkCli.sh${on ? ` -server ${zk.quorum}` : ''} deleteall ${zk.clusterPath}).`,
    });
  }
  return findings;
}

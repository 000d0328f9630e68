/**
 * Regenerates a job's FlinkDeployment for the target AZ (docs/design.md#field-reports: config bound to one
 * cluster cannot be moved, so it is rewritten at start-up) and finds what still points at the
 * source AZ. Pure: no I/O.
 */
import { flattenFlinkConfiguration, parseFlinkVersion, readConfig, removeConfig, writeConfig, writeConfigForRelease, zooKeeperHa, zooKeeperPath, type FlatFlinkConfig, type FlinkRelease } from './flink-config.js';
import { jobKey, type AzProfile, type FleetJob, type FlinkDeploymentManifest, type StorageLayout } from './types.js';

/** Where the restored job takes its state from: a snapshot path, or nothing (empty state). */
export type RestoreSource = { path: string } | { stateless: true };

/** Input of {@link renderForTargetAz}. */
export interface RenderInput {
  job: FleetJob;
  source: AzProfile;
  target: AzProfile;
  layout: StorageLayout;
  restore: RestoreSource;
  /** Evacuation id, used as a label value: ≤ 63 characters of letters, digits, `-`, `_`, `.`. */
  evacuationId: string;
  /** New `spec.job.savepointRedeployNonce` (written with a restore path only); an integer different from the current one. */
  nonce: number;
  /** Namespace in the target AZ; defaults to the job's namespace. */
  namespace?: string;
}

/** Labels and annotations az-evac writes; the source-AZ check skips them. */
const LABEL_PREFIX = 'az-evac.io/';
/** Label naming the evacuation (or drill) that applied or promoted a resource. */
export const EVACUATION_ID_LABEL = `${LABEL_PREFIX}evacuation-id`;
/** A resource's role: `primary`, `standby`, `active` once a standby is promoted. */
export const ROLE_LABEL = `${LABEL_PREFIX}role`;
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const ZONE_KEYS = [ZONE_LABEL, 'failure-domain.beta.kubernetes.io/zone'];
const LABEL_VALUE = /^(?=.{0,63}$)(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

type Json = Record<string, unknown>;

/**
 * The job's FlinkDeployment (as deployed in `source`) rewritten for `target`:
 * - metadata: name, target namespace, labels and annotations only (server fields, status and
 *   `kubectl.kubernetes.io/last-applied-configuration` dropped); labels
 *   `az-evac.io/evacuation-id`, `az-evac.io/source-az`, `az-evac.io/tier`,
 *   `app.kubernetes.io/managed-by: az-evac`; annotation `az-evac.io/restore-from`;
 * - every string naming the source AZ (endpoint, registry, zone, AZ name and, under
 *   `per-az-buckets`, bucket names) rewritten to the target's; under `symmetric` the shared
 *   bucket names are kept intact;
 * - images: short Docker Hub names (`flink:2.2`, `docker.io/x/y`) get the target mirror
 *   prefix; images of other registries are left as they are;
 * - pod templates pinned to `topology.kubernetes.io/zone In [target.zone]` (required node
 *   affinity, merged into every existing node selector term; source-zone terms replaced);
 * - flinkConfiguration flat strings: `s3.endpoint`, checkpoint and savepoint dirs in
 *   `s3://<target.stateBucket>/<prefix>` under the key names `spec.flinkVersion` reads (old
 *   names before 1.20, both from 1.20), claim mode NO_CLAIM when restoring from a path, HA
 *   storageDir in the target bucket, and no restore-path key (the restore source is
 *   `initialSavepointPath` only);
 * - spec.job: `initialSavepointPath` = the path and `savepointRedeployNonce` = nonce for a
 *   restore from a snapshot; neither for a stateless restore (the operator rejects a nonce
 *   change without a path on a resource it reconciled before); `state: running`, or
 *   `suspended` when the source copy is suspended;
 *   `upgradeMode` as the team set it (a first deploy ignores it).
 *
 * @throws Error naming the job when the manifest has no spec.job (a session cluster), the
 *   profiles contradict the layout, or evacuationId / nonce / restore path are invalid.
 */
export function renderForTargetAz(input: RenderInput): FlinkDeploymentManifest {
  const { job, source, target, layout, restore } = input;
  const key = jobKey(job);
  checkInput(input, key);
  const rewrite = sourceAzMatcher(source, layout);
  const toTarget = (s: string): string => (rewrite.any.test(s) ? s.replace(rewrite.regex, (m) => (rewrite.roles.get(m) === 'kept' ? m : target[rewrite.roles.get(m) as keyof AzProfile])) : s);
  const spec = mapStrings(job.deployment.spec, toTarget) as Json;
  const jobSpec = spec.job as Json;
  const namespace = input.namespace ?? job.namespace;

  // Operator rules (docs/design.md "Operator rules the renderer follows"; release-1.15.0):
  // - a savepointRedeployNonce change needs a non-empty initialSavepointPath once the operator
  //   has reconciled the resource (DefaultValidator.validateSpecChange, L524-531), so the nonce
  //   goes only with a path; a stateless restore carries neither (a nonce left over from the
  //   source is dropped: on an existing resource it would be a redeploy without a path);
  // - upgradeMode stays as the team set it: a first deploy ignores it (the operator records
  //   SAVEPOINT or STATELESS from initialSavepointPath, AbstractFlinkResourceReconciler
  //   L237-248) and a nonce redeploy forces SAVEPOINT itself (AbstractJobReconciler L629), so
  //   forcing `savepoint` here would only override a team's `last-state` for later upgrades.
  if ('path' in restore) {
    jobSpec.initialSavepointPath = restore.path;
    jobSpec.savepointRedeployNonce = input.nonce;
  } else {
    delete jobSpec.initialSavepointPath;
    delete jobSpec.savepointRedeployNonce;
  }
  // A job suspended in the source stays suspended (its owners stopped it); never started here.
  // Applied suspended, the operator leaves it before its first deployment
  // (AbstractFlinkResourceReconciler release-1.15.0 L112-115), so `state: running` later deploys
  // it from initialSavepointPath.
  jobSpec.state = jobSpec.state === 'suspended' ? 'suspended' : 'running';

  spec.flinkConfiguration = targetConfig(flattenFlinkConfiguration((spec.flinkConfiguration ?? {}) as Json), input, namespace, parseFlinkVersion(spec.flinkVersion));
  if (typeof spec.image === 'string') spec.image = mirrorImage(spec.image, target);
  spec.podTemplate = asObject(spec.podTemplate) ?? {};
  for (const owner of [spec, asObject(spec.jobManager), asObject(spec.taskManager)]) {
    const template = asObject(owner?.podTemplate);
    if (!template) continue;
    const podSpec = (template.spec = asObject(template.spec) ?? {}) as Json;
    for (const list of ['containers', 'initContainers']) {
      for (const c of (podSpec[list] ?? []) as Json[]) if (typeof c.image === 'string') c.image = mirrorImage(c.image, target);
    }
    if (owner === spec || asObject(podSpec.affinity)?.nodeAffinity) pinZone(podSpec, target.zone);
  }

  const sourceMeta = mapStrings(job.deployment.metadata, toTarget) as FlinkDeploymentManifest['metadata'];
  const annotations = { ...sourceMeta.annotations };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: {
      name: job.name,
      namespace,
      labels: {
        ...sourceMeta.labels,
        [`${LABEL_PREFIX}evacuation-id`]: input.evacuationId,
        [`${LABEL_PREFIX}source-az`]: source.name,
        [`${LABEL_PREFIX}tier`]: job.tier,
        'app.kubernetes.io/managed-by': 'az-evac',
      },
      annotations: { ...annotations, [`${LABEL_PREFIX}restore-from`]: 'path' in restore ? restore.path : 'stateless' },
    },
    spec,
  };
}

/**
 * Dotted paths (`spec.flinkConfiguration["s3.endpoint"]`, `spec.podTemplate.spec.containers[0].image`)
 * of every string value and every key (suffix ` (key)`) anywhere in `manifest` (Kafka
 * bootstrap servers and topics in flinkConfiguration or args, volumes, Secret and ConfigMap
 * references, env) that still names the source AZ: its name, zone, s3Endpoint, imageRegistry
 * and, under `per-az-buckets`, its stateBucket / artifactBucket. Allowlist (docs/design.md
 * "Operator rules the renderer follows"): az-evac's own labels and annotations (`az-evac.io/*`,
 * which record the source AZ on purpose) and, under `symmetric`, bucket names (shared by all AZs).
 */
export function findSourceAzLeftovers(manifest: unknown, source: AzProfile, layout: StorageLayout): string[] {
  const { regex, any, roles } = sourceAzMatcher(source, layout);
  const found: string[] = [];
  const leftover = (s: string): boolean => any.test(s) && [...s.matchAll(regex)].some((m) => roles.get(m[0]) !== 'kept');
  const path: (string | number)[] = []; // the walk's position, pushed and popped (copied only for a leftover)
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (leftover(value)) found.push(formatPath(path));
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        path.push(i);
        walk(v);
        path.pop();
      });
    } else if (value !== null && typeof value === 'object') {
      const ownMeta = path.length === 2 && path[0] === 'metadata' && (path[1] === 'labels' || path[1] === 'annotations');
      for (const [k, v] of Object.entries(value)) {
        if (ownMeta && k.startsWith(LABEL_PREFIX)) continue;
        path.push(k);
        // Keys are not rewritten by the renderer: a key naming the source AZ is a leftover too.
        if (leftover(k)) found.push(`${formatPath(path)} (key)`);
        walk(v);
        path.pop();
      }
    }
  };
  walk(manifest);
  return found;
}

/**
 * Why `manifest` must not be applied because it still names the source AZ
 * ({@link findSourceAzLeftovers}), or undefined when nothing does. Used by the start step
 * before a redeploy and by the readiness check (the plan) before any trigger.
 */
export function sourceAzLeftoverProblem(manifest: FlinkDeploymentManifest, source: AzProfile, layout: StorageLayout): string | undefined {
  const leftovers = findSourceAzLeftovers(manifest, source, layout);
  if (leftovers.length === 0) return undefined;
  return `rendered manifest still names the source AZ ${source.name} at ${leftovers.join(', ')}; rename those keys in the job's FlinkDeployment so they do not name an AZ`;
}

/**
 * A regex matching the source AZ's identifying strings as whole tokens (not inside a longer
 * name), longest first, and the AzProfile field each one is; `kept` marks bucket names shared
 * by all AZs under `symmetric`, matched only so that an AZ name inside them is left alone.
 * `any` is the same pattern without the global flag, to test a string cheaply first. Built once
 * per profile and layout (planning renders every job of the AZ with the same two profiles).
 */
function sourceAzMatcher(source: AzProfile, layout: StorageLayout): SourceAzMatcher {
  const cacheKey = JSON.stringify([layout, source.stateBucket, source.artifactBucket, source.s3Endpoint, source.imageRegistry, source.zone, source.name]);
  const hit = matchers.get(cacheKey);
  if (hit) return hit;
  const roles = new Map<string, keyof AzProfile | 'kept'>();
  for (const field of ['stateBucket', 'artifactBucket', 's3Endpoint', 'imageRegistry', 'zone', 'name'] as const) {
    const isBucket = field === 'stateBucket' || field === 'artifactBucket';
    if (source[field] !== '' && !roles.has(source[field])) roles.set(source[field], isBucket && layout === 'symmetric' ? 'kept' : field);
  }
  const tokens = [...roles.keys()].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = `(?<![A-Za-z0-9])(?:${tokens.join('|')})(?![A-Za-z0-9])`;
  const matcher = { regex: new RegExp(pattern, 'g'), any: new RegExp(pattern), roles };
  if (matchers.size >= MAX_MATCHERS) matchers.clear();
  matchers.set(cacheKey, matcher);
  return matcher;
}

interface SourceAzMatcher {
  regex: RegExp;
  any: RegExp;
  roles: Map<string, keyof AzProfile | 'kept'>;
}

/** Matchers by source profile and layout; a handful of AZs in practice, bounded anyway. */
const matchers = new Map<string, SourceAzMatcher>();
const MAX_MATCHERS = 64;

function checkInput(input: RenderInput, key: string): void {
  const { job, source, target, layout, restore } = input;
  if (asObject(job.deployment.spec?.job) === undefined) {
    throw new Error(
      `job ${key}: FlinkDeployment '${job.deployment.metadata.name}' has no spec.job: it is a session cluster, whose jobs are FlinkSessionJobs that az-evac cannot restore from a snapshot. ` +
        'Fix: run the job in application mode (its own FlinkDeployment with spec.job) or remove the session cluster from the fleet catalog',
    );
  }
  if (source.name === target.name) throw new Error(`job ${key}: source and target AZ are both '${source.name}'; pick a different target AZ`);
  if (layout === 'symmetric' && (source.stateBucket !== target.stateBucket || source.artifactBucket !== target.artifactBucket)) {
    throw new Error(
      `job ${key}: layout is 'symmetric' but the AZ profiles name different buckets (${source.stateBucket}/${source.artifactBucket} in ${source.name}, ${target.stateBucket}/${target.artifactBucket} in ${target.name}); ` +
        "fix the platform profile: give both AZs the same bucket names, or set layout to 'per-az-buckets'",
    );
  }
  if (!LABEL_VALUE.test(input.evacuationId) || input.evacuationId === '') {
    throw new Error(`job ${key}: evacuationId '${input.evacuationId}' is not a valid label value; use ≤ 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
  }
  if (!Number.isSafeInteger(input.nonce)) throw new Error(`job ${key}: nonce ${input.nonce} must be an integer (spec.job.savepointRedeployNonce)`);
  if ('path' in restore && (restore.path === '' || findSourceAzLeftovers(restore.path, source, layout).length > 0)) {
    throw new Error(`job ${key}: restore path '${restore.path}' is empty or points into the source AZ ${source.name}; choose a snapshot from the target AZ's replica (${target.stateBucket})`);
  }
  for (const [name, prefix] of [['checkpointPrefix', job.checkpointPrefix], ['savepointPrefix', job.savepointPrefix]] as const) {
    if (trimSlashes(prefix) === '') throw new Error(`job ${key}: ${name} is empty; set it to the key prefix inside the state bucket, e.g. 'checkpoints/${job.namespace}/${job.name}'`);
  }
}

/**
 * The flat config with state, HA and endpoint settings pointing at the target AZ, under the
 * key names the job's Flink `release` reads (both names where it reads both: FLIP-406, 1.20).
 * A restore from a path gets claim mode NO_CLAIM: under CLAIM the restored job owns the
 * snapshot and deletes its files once they are subsumed, and with two-way replication between
 * the AZs' stores that delete reaches the source AZ's bucket, the only other copy (Flink docs
 * "Savepoints" → "Resuming from Savepoints" → claim modes; the operator passes the path as
 * `execution.savepoint.path` and takes the claim mode from flinkConfiguration as it is,
 * ApplicationReconciler release-1.15.0 L155-166).
 */
function targetConfig(flat: FlatFlinkConfig, input: RenderInput, namespace: string, release: FlinkRelease | undefined): FlatFlinkConfig {
  const { job, target, restore } = input;
  const inBucket = (key: string): string => `s3://${target.stateBucket}/${trimSlashes(key)}`;
  let conf = writeConfig(flat, 's3Endpoint', target.s3Endpoint);
  conf = writeConfigForRelease(conf, 'checkpointDir', inBucket(job.checkpointPrefix), release);
  conf = writeConfigForRelease(conf, 'savepointDir', inBucket(job.savepointPrefix), release);
  conf = removeConfig(conf, 'restorePath');
  if ('path' in restore) conf = writeConfigForRelease(conf, 'restoreClaimMode', 'NO_CLAIM', release);
  const haType = readConfig(conf, 'haType');
  if (haType !== undefined && haType.toUpperCase() !== 'NONE') {
    // The HA type stays under the name the team wrote (`high-availability` before 1.16 releases
    // knew `high-availability.type`); only its storage moves to the target bucket.
    const s3Key = /^s3a?:\/\/[^/]+\/(.+)$/.exec(readConfig(conf, 'haStorageDir') ?? '')?.[1];
    conf = writeConfig(conf, 'haStorageDir', inBucket(s3Key ?? `ha/${namespace}/${job.name}`));
  }
  const zk = zooKeeperHa(conf, job.name);
  if (zk) conf = writeConfig(conf, 'haZooKeeperRoot', runZooKeeperRoot(zk.root, input.nonce));
  return conf;
}

/** Path segment under a team's ZooKeeper root that az-evac's per-run roots live in. */
const ZK_RUN_SEGMENT = 'az-evac';

/**
 * The ZooKeeper root of one evacuation run's copy of a job: `<base>/az-evac/<nonce>`, where
 * `<base>` is `root` without an earlier run's `/az-evac/<n>` suffix (a job evacuated before,
 * then failed back, does not grow a longer path each time) and `nonce` the run's
 * savepointRedeployNonce (also on the resource, next to the `az-evac.io/evacuation-id` label):
 * deterministic for a run, so retries render the same root, and new for every run. The
 * evacuation id is not in the path: ids often name the source AZ, which the rendered manifest
 * must not (findSourceAzLeftovers).
 *
 * Why a root and not `high-availability.cluster-id`: the operator overwrites the cluster-id
 * with the resource name whenever HA is on (FlinkConfigBuilder.build, release-1.15.0
 * L390-393), and the name is kept across AZs, so with a ZooKeeper ensemble the two AZs share
 * (or one that saw an earlier drill) the target JobManager would find the source run's
 * `<root>/<name>` znodes and recover its job graph and latest checkpoint instead of
 * `initialSavepointPath`. A fresh root needs no ZooKeeper client and works while the source
 * AZ's ZooKeeper is down. Example: (`/flink`, 42) → `/flink/az-evac/42`;
 * (`/flink/az-evac/41`, 42) → `/flink/az-evac/42`.
 */
export function runZooKeeperRoot(root: string, nonce: number): string {
  return zooKeeperPath(zooKeeperRunsUnder(root), String(nonce));
}

/**
 * The fresh ZooKeeper root for a restore of an existing copy of `job` (a cold standby resumed,
 * the source copy restored by failback) in evacuation run `nonce`, from the job's catalog
 * spec; undefined when the job does not use ZooKeeper HA. A standby is assumed to use its
 * primary's HA setup (its own spec is not in the catalog); setting a root on a copy without
 * ZooKeeper HA changes nothing Flink reads.
 * @throws Error from flattenFlinkConfiguration for an invalid flinkConfiguration
 */
export function restoreZooKeeperRoot(job: FleetJob, nonce: number): string | undefined {
  const zk = zooKeeperHa(flattenFlinkConfiguration((job.deployment.spec.flinkConfiguration ?? {}) as Json), job.name);
  return zk ? runZooKeeperRoot(zk.root, nonce) : undefined;
}

/** The znode under which runZooKeeperRoot puts every run's root: (`/flink/az-evac/41`) → `/flink/az-evac`. */
export function zooKeeperRunsUnder(root: string): string {
  return zooKeeperPath(zooKeeperPath(root).replace(new RegExp(`/${ZK_RUN_SEGMENT}/[^/]+$`), ''), ZK_RUN_SEGMENT);
}

/** Adds the target mirror to Docker Hub images; images already in the target mirror or in another registry are kept. */
function mirrorImage(image: string, target: AzProfile): string {
  if (image.startsWith(`${target.imageRegistry}/`)) return image;
  const [first, ...rest] = image.split('/');
  const hasRegistry = rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  if (!hasRegistry) return `${target.imageRegistry}/${image}`;
  if (first === 'docker.io' || first === 'index.docker.io') return `${target.imageRegistry}/${rest.join('/')}`;
  return image;
}

/** Requires `zone` in every node selector term of `podSpec`; drops zone terms from preferences. */
function pinZone(podSpec: Json, zone: string): void {
  const affinity = (podSpec.affinity = asObject(podSpec.affinity) ?? {}) as Json;
  const nodeAffinity = (affinity.nodeAffinity = asObject(affinity.nodeAffinity) ?? {}) as Json;
  const required = asObject(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) ?? {};
  const terms = (required.nodeSelectorTerms ?? []) as Json[];
  const zoneFree = (exprs: unknown): Json[] => ((exprs ?? []) as Json[]).filter((e) => !ZONE_KEYS.includes(String(e.key)));
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    ...required,
    nodeSelectorTerms: (terms.length > 0 ? terms : [{}]).map((t) => ({
      ...t,
      matchExpressions: [...zoneFree(t.matchExpressions), { key: ZONE_LABEL, operator: 'In', values: [zone] }],
    })),
  };
  const preferred = nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution as { weight: number; preference: Json }[] | undefined;
  if (preferred) {
    nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution = preferred
      .map((p) => ({ ...p, preference: { ...p.preference, matchExpressions: zoneFree(p.preference.matchExpressions) } as Json }))
      .filter((p) => (p.preference.matchExpressions as Json[]).length > 0 || ((p.preference.matchFields ?? []) as Json[]).length > 0);
  }
}

/** A deep copy of `value` with every string passed through `fn`. */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `${i === 0 ? '' : '.'}${p}` : `[${JSON.stringify(p)}]`)).join('') || '(root)';
}

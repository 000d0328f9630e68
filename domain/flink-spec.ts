/**
 * What the Flink Kubernetes Operator reads from a FlinkDeployment spec (state, upgrade mode,
 * restore path, jars, snapshot dirs, checkpoint interval, HA, pods and the resources they
 * request). Pure. readSpec never throws: problems are the operator's to report (the
 * simulator reports them as status.error); manifestResources throws on unreadable resources.
 */
import { FLINK_CONFIG_KEYS, flattenFlinkConfiguration, readConfig, type FlatFlinkConfig } from './flink-config.js';
import type { FlinkDeploymentManifest } from './types.js';
import { parseS3Uri } from './snapshot-layout.js';

/** `spec.job.upgradeMode` values of the operator's CRD. */
export type UpgradeMode = 'stateless' | 'savepoint' | 'last-state';

/** The parts of a spec the operator acts on. */
export interface OperatorSpec {
  /** spec.job.state (default running). */
  state: 'running' | 'suspended';
  /** spec.job.upgradeMode (default stateless). */
  upgradeMode: UpgradeMode;
  savepointRedeployNonce?: number;
  initialSavepointPath?: string;
  /** spec.job.jarURI. */
  jarURI?: string;
  /** Extra jars from `user.artifacts.artifact-list` (`;`-separated URIs). */
  extraJarURIs: string[];
  image?: string;
  /** Parsed `execution.checkpointing.dir` (or its FLIP-406 deprecated names), when an s3:// URI. */
  checkpointDir?: { bucket: string; key: string };
  savepointDir?: { bucket: string; key: string };
  /** `execution.checkpointing.interval`, seconds; absent when not set (Flink then takes no periodic checkpoints). */
  checkpointIntervalSeconds?: number;
  /** Kubernetes HA enabled (`high-availability.type`). */
  haEnabled: boolean;
  /** TaskManager pods: taskManager.replicas, else ceil(parallelism / slots). */
  taskManagerReplicas: number;
  /** Cores and MiB of all pods, or why they cannot be read. */
  resources: { cores: number; memoryMiB: number } | { error: string };
}

const UNIT_SECONDS: Array<[RegExp, number]> = [
  [/^(ns|nanos?|nanoseconds?)$/, 1e-9],
  [/^(us|µs|micros?|microseconds?)$/, 1e-6],
  [/^(ms|millis?|milliseconds?)$/, 1e-3],
  [/^(s|sec|secs|seconds?)$/, 1],
  [/^(m|min|mins|minutes?)$/, 60],
  [/^(h|hours?)$/, 3600],
  [/^(d|days?)$/, 86400],
];

/** Flink duration text (`60 s`, `1min`, `60000` = ms) → seconds; undefined when unreadable. */
export function parseFlinkDurationSeconds(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[2] === '') return value / 1000;
  const unit = UNIT_SECONDS.find(([re]) => re.test(m[2]!.toLowerCase()));
  return unit ? value * unit[1] : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function flatConfig(manifest: FlinkDeploymentManifest): FlatFlinkConfig {
  try {
    return flattenFlinkConfiguration(manifest.spec.flinkConfiguration ?? {});
  } catch {
    return {};
  }
}

/** Read the operator-relevant parts of `manifest.spec`. */
export function readSpec(manifest: FlinkDeploymentManifest): OperatorSpec {
  const job = (manifest.spec.job ?? {}) as Record<string, unknown>;
  const conf = flatConfig(manifest);
  const dir = (role: 'checkpointDir' | 'savepointDir') => {
    const v = readConfig(conf, role);
    return v === undefined ? undefined : parseS3Uri(v);
  };
  const haType = readConfig(conf, 'haType');
  const tmReplicas = (manifest.spec.taskManager as { replicas?: unknown } | undefined)?.replicas;
  const parallelism = typeof job.parallelism === 'number' ? job.parallelism : 1;
  const slots = Number(conf['taskmanager.numberOfTaskSlots'] ?? 1) || 1;
  let resources: OperatorSpec['resources'];
  try {
    resources = manifestResources(manifest);
  } catch (err) {
    resources = { error: (err as Error).message };
  }
  const interval = conf['execution.checkpointing.interval'];
  return {
    state: job.state === 'suspended' ? 'suspended' : 'running',
    upgradeMode: job.upgradeMode === 'savepoint' || job.upgradeMode === 'last-state' ? job.upgradeMode : 'stateless',
    savepointRedeployNonce: typeof job.savepointRedeployNonce === 'number' ? job.savepointRedeployNonce : undefined,
    initialSavepointPath: str(job.initialSavepointPath),
    jarURI: str(job.jarURI),
    extraJarURIs: (conf['user.artifacts.artifact-list'] ?? '').split(';').filter((s) => s !== ''),
    image: str(manifest.spec.image),
    checkpointDir: dir('checkpointDir'),
    savepointDir: dir('savepointDir'),
    ...(interval !== undefined && parseFlinkDurationSeconds(interval) !== undefined ? { checkpointIntervalSeconds: parseFlinkDurationSeconds(interval)! } : {}),
    haEnabled: haType !== undefined && haType !== 'NONE' && haType !== 'none',
    taskManagerReplicas: typeof tmReplicas === 'number' ? tmReplicas : Math.ceil(parallelism / slots),
    resources,
  };
}

/**
 * Cores and MiB a FlinkDeployment requests: JobManager replicas × resource plus
 * TaskManager count × resource, where the TaskManager count is `taskManager.replicas`
 * when set, else ceil(job.parallelism / taskmanager.numberOfTaskSlots) (slots default 1).
 * Reads the `resource: { cpu, memory }` form; memory as a Flink memory size
 * (`<n>m`/`<n>mb` MiB, `<n>g`/`<n>gb` GiB).
 * @throws Error naming the key path when a resource or the parallelism is missing or unreadable
 */
export function manifestResources(manifest: FlinkDeploymentManifest): { cores: number; memoryMiB: number } {
  const where = `${manifest.metadata.namespace ?? ''}/${manifest.metadata.name}`;
  const jm = podResource(manifest.spec.jobManager, `${where}: spec.jobManager`);
  const tm = podResource(manifest.spec.taskManager, `${where}: spec.taskManager`);
  const jmReplicas = numberAt(manifest.spec.jobManager, 'replicas') ?? 1;
  let tmReplicas = numberAt(manifest.spec.taskManager, 'replicas');
  if (tmReplicas === undefined) {
    const parallelism = numberAt(manifest.spec.job, 'parallelism');
    if (parallelism === undefined) throw new Error(`${where}: spec.job.parallelism is missing. Fix: set it to an integer ≥ 1`);
    const slots = Number(manifest.spec.flinkConfiguration?.['taskmanager.numberOfTaskSlots'] ?? 1);
    tmReplicas = Math.ceil(parallelism / slots);
  }
  return {
    cores: jmReplicas * jm.cores + tmReplicas * tm.cores,
    memoryMiB: jmReplicas * jm.memoryMiB + tmReplicas * tm.memoryMiB,
  };
}

function podResource(section: unknown, where: string): { cores: number; memoryMiB: number } {
  const resource = (section as { resource?: { cpu?: unknown; memory?: unknown } } | undefined)?.resource;
  const cores = resource?.cpu;
  if (typeof cores !== 'number' || !(cores > 0)) throw new Error(`${where}.resource.cpu must be a number > 0, got ${String(cores)}. Fix: set it, e.g. 4`);
  const match = /^(\d+(?:\.\d+)?)\s*(m|mb|g|gb)$/i.exec(String(resource?.memory ?? ''));
  if (!match) throw new Error(`${where}.resource.memory must be a Flink memory size like 4096m or 4g, got ${String(resource?.memory)}. Fix: use <n>m or <n>g`);
  const unit = match[2]!.toLowerCase();
  return { cores, memoryMiB: Number(match[1]) * (unit.startsWith('g') ? 1024 : 1) };
}

function numberAt(section: unknown, key: string): number | undefined {
  const v = (section as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' ? v : undefined;
}

/**
 * The `spec.job` merge patch (RFC 7386: null removes a field) that restores an existing
 * FlinkDeployment, as the Flink Kubernetes Operator (release-1.15.0) accepts it:
 * - with `initialSavepointPath` (non-empty): a savepoint redeploy, `{initialSavepointPath,
 *   savepointRedeployNonce, state: running}` (AbstractJobReconciler.redeployWithSavepoint L619-643);
 * - without: a stateless resume, `{state: running, upgradeMode: stateless, initialSavepointPath: null}`
 *   and the nonce left as it is. A nonce change with an empty path is rejected once the operator
 *   has reconciled the resource ("InitialSavepointPath must not be empty for savepoint
 *   redeployment", DefaultValidator.validateSpecChange L524-531), and a patch that omits the
 *   path would keep an old drill's one. A suspended job resumed with upgradeMode stateless
 *   starts from empty state (AbstractJobReconciler.reconcileSpecChange L191-207 keeps
 *   `stateless`; restoreJob L402-425 reads a savepoint only under SAVEPOINT).
 *
 * @throws Error when `initialSavepointPath` is given but blank, or the nonce is not an integer
 */
export function restoreJobPatch(restore: { initialSavepointPath?: string; savepointRedeployNonce: number }): Record<string, string | number | null> {
  if (restore.initialSavepointPath === undefined) return { state: 'running', upgradeMode: 'stateless', initialSavepointPath: null };
  if (restore.initialSavepointPath.trim() === '') {
    throw new Error('restore: initialSavepointPath is blank; give the snapshot path, or leave it out for a stateless resume');
  }
  if (!Number.isSafeInteger(restore.savepointRedeployNonce)) throw new Error(`restore: savepointRedeployNonce ${restore.savepointRedeployNonce} must be an integer`);
  return { initialSavepointPath: restore.initialSavepointPath, savepointRedeployNonce: restore.savepointRedeployNonce, state: 'running' };
}

/** What ClusterPort.restore is asked to do (platform/ports.ts). */
export interface RestoreRequest {
  /** Snapshot to restore from; omitted: a stateless resume (restoreJobPatch). */
  initialSavepointPath?: string;
  savepointRedeployNonce: number;
  /**
   * A new `high-availability.zookeeper.path.root` for a job with ZooKeeper HA, so the resumed
   * JobManager never reads HA data of an earlier run (render-deployment.ts runZooKeeperRoot,
   * docs/design.md "Operator rules the renderer follows", rule 7). Omitted: the root is left alone.
   */
  haZooKeeperRoot?: string;
}

/**
 * The `spec` merge patch of a restore: `job` = restoreJobPatch; with `haZooKeeperRoot`, also
 * `flinkConfiguration` setting the root under its current key and removing its old one
 * (`recovery.zookeeper.path.root`: null), so Flink reads the new root whichever name the team used.
 * @throws Error as restoreJobPatch, or when `haZooKeeperRoot` is not an absolute znode path
 */
export function restoreSpecPatch(restore: RestoreRequest): { job: Record<string, string | number | null>; flinkConfiguration?: Record<string, string | null> } {
  const job = restoreJobPatch(restore);
  const root = restore.haZooKeeperRoot;
  if (root === undefined) return { job };
  if (!root.startsWith('/')) throw new Error(`restore: haZooKeeperRoot '${root}' must be an absolute znode path such as /flink/az-evac/42`);
  const { key, deprecatedKeys } = FLINK_CONFIG_KEYS.haZooKeeperRoot;
  return { job, flinkConfiguration: { [key]: root, ...Object.fromEntries(deprecatedKeys.map((k) => [k, null])) } };
}

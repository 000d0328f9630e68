/**
 * What the simulated operator reads from a FlinkDeployment spec. Pure; never throws:
 * problems are the operator's to report (as status.error, see operator.ts).
 */
import { flattenFlinkConfiguration, readConfig, type FlatFlinkConfig } from '../../domain/flink-config.js';
import type { FlinkDeploymentManifest } from '../../domain/types.js';
import { CHECKPOINTING } from './checkpointing.js';
import { manifestResources } from './fleet-deployment.js';
import { parseS3Uri } from '../../domain/snapshot-layout.js';

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
  /** `execution.checkpointing.interval`, model seconds (default 60). */
  checkpointIntervalSeconds: number;
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
    checkpointIntervalSeconds: (interval !== undefined ? parseFlinkDurationSeconds(interval) : undefined) ?? CHECKPOINTING.defaultIntervalSeconds,
    haEnabled: haType !== undefined && haType !== 'NONE' && haType !== 'none',
    taskManagerReplicas: typeof tmReplicas === 'number' ? tmReplicas : Math.ceil(parallelism / slots),
    resources,
  };
}

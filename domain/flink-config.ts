/**
 * Flink configuration maps as az-evac emits them in `spec.flinkConfiguration`: flat
 * `key → string` maps (docs/design.md#flinkdeployment-resources-and-names), read and written by role so that a key renamed by
 * FLIP-406 is found under either name and written under the name(s) the job's Flink release
 * reads ({@link writeConfigForRelease}). Pure: no I/O.
 */

/** A flat Flink configuration: dotted keys, string values (`"2"`, `"true"`, `"s3://b/k"`). */
export type FlatFlinkConfig = Record<string, string>;

/**
 * Flattens a `flinkConfiguration` as users write it (the operator's CRD accepts any YAML
 * there) into a flat string map: nested maps join their keys with `.` (`state: {savepoints.dir: x}`
 * → `state.savepoints.dir`), numbers and booleans become their text (`2` → `"2"`), lists of
 * scalars become Flink's `;`-separated list text.
 *
 * @throws Error naming the key path when a value is null, a list holds a map or a `;`, or the
 *   same flat key is given twice with different values (e.g. `state.checkpoints.dir` and
 *   `state: {checkpoints.dir: ...}`).
 */
export function flattenFlinkConfiguration(conf: Record<string, unknown>): FlatFlinkConfig {
  const out: FlatFlinkConfig = {};
  const visit = (value: unknown, key: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(v, key === '' ? k : `${key}.${k}`);
      return;
    }
    const text = scalarText(value, key);
    const previous = out[key];
    if (previous !== undefined && previous !== text) {
      throw new Error(
        `flinkConfiguration: '${key}' is given twice ('${previous}' and '${text}'), once nested and once flat; keep one`,
      );
    }
    out[key] = text;
  };
  visit(conf, '');
  return out;
}

function scalarText(value: unknown, key: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    return value
      .map((item, i) => {
        const text = scalarText(item, `${key}[${i}]`);
        if (Array.isArray(item) || text.includes(';')) {
          throw new Error(`flinkConfiguration.${key}[${i}]: a list item must be a plain value without ';'; write the whole list as one ';'-separated string`);
        }
        return text;
      })
      .join(';');
  }
  throw new Error(`flinkConfiguration.${key}: ${value === null ? 'has no value' : 'is not a string, number, boolean or list'}; give it a value or remove the key`);
}

/**
 * Configuration options az-evac reads or rewrites, by role. `key` is the name since Flink
 * 1.20; `deprecatedKeys` are the older names Flink still reads, in Flink's lookup order.
 *
 * Sources: FLIP-406 "Reorganize State & Checkpointing & Recovery Configuration" (Flink 1.20):
 * `CheckpointingOptions` and `StateRecoveryOptions` `withDeprecatedKeys(...)`; the HA keys
 * from `HighAvailabilityOptions` (`HA_MODE`: `high-availability` → `high-availability.type`;
 * `HA_STORAGE_PATH`, `HA_ZOOKEEPER_QUORUM`, `HA_ZOOKEEPER_ROOT` with their `recovery.*` and
 * `high-availability.zookeeper.storageDir` names).
 */
export const FLINK_CONFIG_KEYS = {
  checkpointDir: { key: 'execution.checkpointing.dir', deprecatedKeys: ['state.checkpoints.dir', 'state.backend.fs.checkpointdir'] },
  savepointDir: { key: 'execution.checkpointing.savepoint-dir', deprecatedKeys: ['state.savepoints.dir', 'savepoints.state.backend.fs.dir'] },
  restorePath: { key: 'execution.state-recovery.path', deprecatedKeys: ['execution.savepoint.path'] },
  restoreClaimMode: { key: 'execution.state-recovery.claim-mode', deprecatedKeys: ['execution.savepoint-restore-mode'] },
  ignoreUnclaimedState: { key: 'execution.state-recovery.ignore-unclaimed-state', deprecatedKeys: ['execution.savepoint.ignore-unclaimed-state'] },
  localRecovery: { key: 'execution.state-recovery.from-local', deprecatedKeys: ['state.backend.local-recovery'] },
  checkpointStorage: { key: 'execution.checkpointing.storage', deprecatedKeys: ['state.checkpoint-storage'] },
  checkpointsRetained: { key: 'execution.checkpointing.num-retained', deprecatedKeys: ['state.checkpoints.num-retained'] },
  incrementalCheckpoints: { key: 'execution.checkpointing.incremental', deprecatedKeys: ['state.backend.incremental'] },
  createCheckpointSubdir: { key: 'execution.checkpointing.create-subdir', deprecatedKeys: ['state.checkpoints.create-subdir'] },
  cleanerParallelMode: { key: 'execution.checkpointing.cleaner.parallel-mode', deprecatedKeys: ['state.checkpoint.cleaner.parallel-mode'] },
  dataInlineThreshold: { key: 'execution.checkpointing.data-inline-threshold', deprecatedKeys: ['state.storage.fs.memory-threshold', 'state.backend.fs.memory-threshold'] },
  writeBufferSize: { key: 'execution.checkpointing.write-buffer-size', deprecatedKeys: ['state.storage.fs.write-buffer-size', 'state.backend.fs.write-buffer-size'] },
  localBackupDirs: { key: 'execution.checkpointing.local-backup.dirs', deprecatedKeys: ['taskmanager.state.local.root-dirs'] },
  haType: { key: 'high-availability.type', deprecatedKeys: ['recovery.mode', 'high-availability'] },
  haStorageDir: { key: 'high-availability.storageDir', deprecatedKeys: ['high-availability.zookeeper.storageDir', 'recovery.zookeeper.storageDir'] },
  haZooKeeperQuorum: { key: 'high-availability.zookeeper.quorum', deprecatedKeys: ['recovery.zookeeper.quorum'] },
  haZooKeeperRoot: { key: 'high-availability.zookeeper.path.root', deprecatedKeys: ['recovery.zookeeper.path.root'] },
  s3Endpoint: { key: 's3.endpoint', deprecatedKeys: [] },
} as const satisfies Record<string, { key: string; deprecatedKeys: readonly string[] }>;

/** A configuration role, e.g. `checkpointDir`. */
export type FlinkConfigRole = keyof typeof FLINK_CONFIG_KEYS;

function namesOf(role: FlinkConfigRole): readonly string[] {
  const { key, deprecatedKeys } = FLINK_CONFIG_KEYS[role];
  return [key, ...deprecatedKeys];
}

/**
 * The value of `role`, read as Flink does: the current key first, then each deprecated key.
 * Undefined when none is set.
 */
export function readConfig(conf: FlatFlinkConfig, role: FlinkConfigRole): string | undefined {
  for (const name of namesOf(role)) {
    const value = conf[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A copy of `conf` with `role` set under its current key and every deprecated key removed. */
export function writeConfig(conf: FlatFlinkConfig, role: FlinkConfigRole, value: string): FlatFlinkConfig {
  return { ...removeConfig(conf, role), [FLINK_CONFIG_KEYS[role].key]: value };
}

/** A copy of `conf` without `role` under any of its names. */
export function removeConfig(conf: FlatFlinkConfig, role: FlinkConfigRole): FlatFlinkConfig {
  const out = { ...conf };
  for (const name of namesOf(role)) delete out[name];
  return out;
}

/** A Flink release as `[major, minor]`, e.g. `[1, 19]`. */
export type FlinkRelease = readonly [number, number];

/**
 * The release a FlinkDeployment's `spec.flinkVersion` names (the CRD enum `v1_13` … `v2_2`),
 * undefined when absent or not of that form.
 */
export function parseFlinkVersion(flinkVersion: unknown): FlinkRelease | undefined {
  const m = typeof flinkVersion === 'string' ? /^v(\d+)_(\d+)$/.exec(flinkVersion) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function atLeast(v: FlinkRelease, min: FlinkRelease): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

/**
 * First release reading each role's current `key` (FLIP-406 renames: 1.20) and, where the
 * option is younger than Flink 1.13, the first release reading its oldest name at all.
 * Sources (checked in the jars of Flink 1.19.3, 1.20.3, 2.0.1, 2.1.1 from Maven Central):
 * 1.19's `CheckpointingOptions` has only `state.checkpoints.dir` / `state.savepoints.dir`;
 * 1.20's, 2.0's and 2.1's have `execution.checkpointing.dir` / `.savepoint-dir` with the old
 * names as deprecated keys; `StateRecoveryOptions` (1.20+) has `execution.state-recovery.claim-mode`
 * with deprecated `execution.savepoint-restore-mode`, which Flink 1.15-1.19 read
 * (`SavepointConfigOptions.RESTORE_MODE`, FLIP-193, Flink 1.15); Flink 1.13/1.14 have no claim mode.
 */
const RENAMED_IN: Partial<Record<FlinkConfigRole, { newKeySince: FlinkRelease; oldKeySince?: FlinkRelease }>> = {
  checkpointDir: { newKeySince: [1, 20] },
  savepointDir: { newKeySince: [1, 20] },
  restoreClaimMode: { newKeySince: [1, 20], oldKeySince: [1, 15] },
};

/**
 * The names of `role` that Flink `release` reads, to be written: for a role renamed by FLIP-406,
 * only the old name (its first deprecated key) before 1.20, both from 1.20 on (1.20 and 2.x
 * read both), none where the release predates the option; the current key otherwise. An
 * unknown release (no `spec.flinkVersion`) gets every name any release reads.
 */
export function keysForRelease(role: FlinkConfigRole, release: FlinkRelease | undefined): string[] {
  const { key, deprecatedKeys } = FLINK_CONFIG_KEYS[role];
  const renamed = RENAMED_IN[role];
  const old = deprecatedKeys[0] as string | undefined;
  if (!renamed || old === undefined) return [key];
  if (release === undefined) return [key, old];
  if (renamed.oldKeySince && !atLeast(release, renamed.oldKeySince)) return [];
  return atLeast(release, renamed.newKeySince) ? [key, old] : [old];
}

/**
 * A copy of `conf` with `role` set to `value` under every name Flink `release` reads
 * ({@link keysForRelease}) and its other names removed. Writing both names where a release
 * reads both keeps the value whichever name Flink or a tool (the operator, a sidecar) reads.
 */
export function writeConfigForRelease(conf: FlatFlinkConfig, role: FlinkConfigRole, value: string, release: FlinkRelease | undefined): FlatFlinkConfig {
  const out = removeConfig(conf, role);
  for (const name of keysForRelease(role, release)) out[name] = value;
  return out;
}

/** Where a Flink cluster with ZooKeeper HA keeps its HA data. */
export interface ZooKeeperHa {
  /** `high-availability.zookeeper.quorum` as written (host:port,…), undefined when unset. */
  quorum?: string;
  /** `high-availability.zookeeper.path.root`, default `/flink`. */
  root: string;
  /** The cluster's znode: root + cluster-id, e.g. `/flink/payments-enricher`. */
  clusterPath: string;
}

/**
 * ZooKeeper HA of a flat config, or undefined when its HA type is not ZooKeeper. The HA type
 * is read as Flink does (`high-availability.type`, older `high-availability`, `recovery.mode`;
 * `zookeeper` in any case, like `HighAvailabilityMode.fromConfig`); `clusterId` is the
 * FlinkDeployment's name, because the operator overwrites `high-availability.cluster-id` with it
 * whenever HA is on (FlinkConfigBuilder.build, release-1.15.0 L390-393). The cluster's znode is
 * root + cluster-id joined as Flink's `ZooKeeperUtils.generateZookeeperPath` does (one `/`
 * between segments, none doubled).
 */
export function zooKeeperHa(conf: FlatFlinkConfig, clusterId: string): ZooKeeperHa | undefined {
  if (readConfig(conf, 'haType')?.toUpperCase() !== 'ZOOKEEPER') return undefined;
  const root = zooKeeperPath(readConfig(conf, 'haZooKeeperRoot') ?? '/flink');
  const quorum = readConfig(conf, 'haZooKeeperQuorum');
  return { ...(quorum !== undefined ? { quorum } : {}), root, clusterPath: zooKeeperPath(root, clusterId) };
}

/** ZooKeeper path of `segments` joined by single `/`, with a leading `/`: `('/flink/', 'a')` → `/flink/a`. */
export function zooKeeperPath(...segments: string[]): string {
  return `/${segments.flatMap((s) => s.split('/')).filter((s) => s !== '').join('/')}`;
}

/**
 * Flink configuration maps as az-evac emits them in `spec.flinkConfiguration`: flat
 * `key → string` maps (DESIGN.md §3), read and written by role so that a key renamed by
 * FLIP-406 is found under either name and written under the new one only. Pure: no I/O.
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
 * from `HighAvailabilityOptions.HA_MODE` (`high-availability` → `high-availability.type`).
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
  haStorageDir: { key: 'high-availability.storageDir', deprecatedKeys: [] },
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

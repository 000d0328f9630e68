/**
 * Protection on the simulator (docs/protection.md "On the simulator"): the SavepointPort and
 * SnapshotShippingPort semantics of the production path (platform/kube/savepoint-trigger.ts,
 * platform/s3/snapshot-shipping.ts), over the simulated operator and object stores, taking
 * the platform model's time (latency-model.ts).
 *
 * Savepoints imitate the operator's FlinkStateSnapshot (operator ≥ 1.10): a trigger names its
 * resource `<name>-az-evac-<id>`; the savepoint takes time as every savepoint of the AZ does
 * (AzBottlenecks.savepoint: base, then the state at the write rate alone, sharing the AZ's
 * object-store write bandwidth with the other savepoints written there), written then by the
 * operator (Operator.takeSavepoint: data, then `_metadata`, replicated like any savepoint) if the
 * job still runs; the `failSavepoint` fault fails it with the operator's error. A job that is not
 * running when triggered is ABANDONED. Progress and failure reasons read as the Kubernetes
 * adapter reports them. The job is never suspended, restarted or reconfigured.
 *
 * Shipping copies a savepoint directory of one AZ's state bucket into another's under the same
 * key: refused like the S3 adapter's (not a savepoint directory, no `_metadata`, a referenced
 * file missing, `_metadata` not Flink's format or not relocatable), then the bytes not yet in the
 * target move through the source AZ's object-store bandwidth (shared with restores and other
 * copies, each copy at most `shipBytesPerSecondPerCopy`), then the files and `_metadata` LAST are
 * written with the shipped-from and completed-at user metadata (the S3 listing's keys), and the
 * copy is checked. Simplification: the copy is not replicated onward from the target AZ.
 */
import { PlatformError } from '../platform/errors.js';
import type { SavepointProgress, SavepointTrigger, ShippedSavepoint } from '../platform/ports.js';
import { COMPLETED_AT_METADATA, SHIPPED_FROM_METADATA } from '../platform/s3/snapshot-shipping.js';
import type { SavepointFormat } from '../domain/protection.js';
import { METADATA, parseS3Uri, readSnapshotFiles, resolveReference, SAVEPOINT_DIR } from '../domain/snapshot-layout.js';
import { DEFAULT_STATE_BYTES } from '../domain/fleet-contract.js';
import type { StoredObject } from './object-store.js';
import { nsName } from './resources.js';
import { metadataTimes, resolveSnapshot } from './snapshots.js';
import type { Simulator } from './simulator.js';

/** One trigger as the stand-in operator tracks it. */
interface TriggerState {
  trigger: SavepointTrigger;
  progress: SavepointProgress;
}

/** Protection's savepoints and shipping on a simulator. */
export class SimulatorProtection {
  private readonly triggers = new Map<string, TriggerState>();
  /** Savepoints triggered, completed, failed; copies shipped and bytes shipped (the simulator's stats). */
  readonly stats = { triggered: 0, completed: 0, failed: 0, shipped: 0, shippedBytes: 0 };

  constructor(private readonly sim: Simulator) {}

  /** Forget every trigger (the simulator was reconfigured). */
  clear(): void {
    this.triggers.clear();
  }

  /**
   * SavepointPort.triggerSavepoint (see the module doc). Idempotent by `id`.
   * @throws PlatformError('invalid') for a bad id; ('not-found') when the FlinkDeployment does not exist; ('az-down')
   */
  triggerSavepoint(az: string, namespace: string, name: string, o: { id: string; format: SavepointFormat }): SavepointTrigger {
    if (!/^[a-z0-9]{1,16}$/.test(o.id)) throw new PlatformError('invalid', `savepoint trigger id ${JSON.stringify(o.id)} must be 1–16 lowercase letters or digits`, false);
    const r = this.sim.assertUp(az).resources.get(nsName(namespace, name));
    if (!r) throw new PlatformError('not-found', `FlinkDeployment ${namespace}/${name} does not exist in ${az}`, false);
    const resource = `${name}-az-evac-${o.id}`;
    const id = `${az}|${namespace}/${resource}`;
    const known = this.triggers.get(id);
    if (known) return structuredClone(known.trigger);
    const trigger: SavepointTrigger = { az, namespace, name, via: 'flinkstatesnapshot', id: o.id, format: o.format, resource };
    const what = `FlinkStateSnapshot ${namespace}/${resource}`;
    const state: TriggerState = { trigger, progress: { state: 'pending', detail: `${what} IN_PROGRESS` } };
    this.triggers.set(id, state);
    this.stats.triggered++;
    const fail = (reason: string): void => {
      state.progress = { state: 'failed', reason };
      this.stats.failed++;
    };
    if (r.run?.phase !== 'running') {
      fail(`operator: ${what} ABANDONED (the job was not running): job ${nsName(namespace, name)} is not running (${r.status.jobStatus?.state ?? r.status.lifecycleState})`);
      return structuredClone(trigger);
    }
    const stateBytes = r.run.track?.stateSizeBytes ?? this.sim.stateSizes.get(nsName(namespace, name)) ?? DEFAULT_STATE_BYTES;
    this.sim.bottlenecks.savepoint(az, stateBytes, () => {
      if (this.triggers.get(id) !== state) return; // released meanwhile
      const now = this.sim.cluster(az).resources.get(nsName(namespace, name));
      if (now !== r) return fail(`operator: ${what} ABANDONED (the job was not running): FlinkDeployment ${namespace}/${name} was deleted while its savepoint was in progress`);
      const taken = this.sim.operator.takeSavepoint(r);
      if ('error' in taken) {
        return fail(taken.notRunning ? `operator: ${what} ABANDONED (the job was not running): ${taken.error}` : `operator: ${what} FAILED after 1 attempt(s): ${taken.error}`);
      }
      state.progress = { state: 'completed', path: taken.path };
      this.stats.completed++;
    });
    return structuredClone(trigger);
  }

  /** SavepointPort.savepointProgress: one read. A trigger the simulator does not know was released or never made: failed, as a deleted FlinkStateSnapshot. @throws PlatformError('az-down') */
  savepointProgress(t: SavepointTrigger): SavepointProgress {
    this.sim.assertUp(t.az);
    const known = this.triggers.get(`${t.az}|${t.namespace}/${t.resource ?? `${t.name}-az-evac-${t.id}`}`);
    if (!known) return { state: 'failed', reason: `FlinkStateSnapshot ${t.namespace}/${t.resource ?? t.id} was deleted before it completed` };
    return structuredClone(known.progress);
  }

  /** SavepointPort.releaseSavepointTrigger: forget the trigger (its savepoint data stays). Idempotent. @throws PlatformError('az-down') */
  releaseSavepointTrigger(t: SavepointTrigger): void {
    this.sim.assertUp(t.az);
    this.triggers.delete(`${t.az}|${t.namespace}/${t.resource ?? `${t.name}-az-evac-${t.id}`}`);
  }

  /** Triggers not yet released (inspection). */
  openTriggers(): number {
    return this.triggers.size;
  }

  /**
   * SnapshotShippingPort.shipSavepoint (see the module doc): resolves once the copy is written
   * and checked, after its bytes moved at the modelled bandwidth. Idempotent: files already in
   * the target with the source's size are not copied again.
   * @throws PlatformError('invalid') when `path` is not a savepoint directory of `fromAz`'s state
   *   bucket, its `_metadata` is not Flink's format or not relocatable, or the copy fails its
   *   check; ('not-found') when the savepoint has no `_metadata` or lacks a file it references
   *   (before or after the copy's bytes moved); ('az-down') when either AZ is down
   */
  async shipSavepoint(fromAz: string, toAz: string, path: string): Promise<ShippedSavepoint> {
    const plan = this.shipPlan(fromAz, toAz, path);
    await new Promise<void>((resolve) => {
      this.sim.bottlenecks.of(fromAz).objectStore.transfer(plan.copyBytes, this.sim.bottlenecks.model.shipBytesPerSecondPerCopy, () => resolve());
    });
    // The source may have been expired (or an AZ gone) while the bytes moved: check again, then write.
    const now = this.shipPlan(fromAz, toAz, path);
    const target = this.sim.stores.store(toAz);
    const stamp = this.sim.clock.epoch(this.sim.clock.now());
    let copiedBytes = 0;
    for (const f of now.files) {
      if (target.get(now.toBucket, f.key)?.sizeBytes === f.obj.sizeBytes) continue;
      target.put(now.toBucket, f.key, { ...structuredClone(f.obj), lastModifiedEpochSeconds: stamp });
      copiedBytes += f.obj.sizeBytes;
    }
    const completedAtEpochSeconds = Math.floor(metadataTimes(now.meta).completedAtEpochSeconds);
    target.put(now.toBucket, `${now.dirKey}/${METADATA}`, {
      ...structuredClone(now.meta), lastModifiedEpochSeconds: stamp,
      userMetadata: { [SHIPPED_FROM_METADATA]: `s3://${now.fromBucket}/${now.dirKey}`, [COMPLETED_AT_METADATA]: String(completedAtEpochSeconds) },
    });
    const check = resolveSnapshot(target, now.toBucket, now.dirKey);
    if (!check.referencedFilesPresent) {
      target.delete(now.toBucket, `${now.dirKey}/${METADATA}`);
      throw new PlatformError('invalid', `the copy s3://${now.toBucket}/${now.dirKey} failed verification and was made incomplete (its _metadata deleted): ${check.problem ?? `missing ${check.missing[0] ?? 'files'}`}`, false);
    }
    this.stats.shipped++;
    this.stats.shippedBytes += copiedBytes;
    return { path: `s3://${now.toBucket}/${now.dirKey}`, files: now.files.length, copiedBytes, completedAtEpochSeconds };
  }

  /**
   * SnapshotShippingPort.deleteShipped: `_metadata` first, then every other object of the directory.
   * @returns objects deleted (0: nothing there)
   * @throws PlatformError('invalid') when `path` is not in `az`'s state bucket or its `_metadata` was not shipped; ('az-down')
   */
  deleteShipped(az: string, path: string): number {
    this.sim.assertUp(az);
    const bucket = this.sim.profile(az).stateBucket;
    const dirKey = dirKeyIn(path, bucket, az);
    const store = this.sim.stores.store(az);
    const metaKey = `${dirKey}/${METADATA}`;
    const meta = store.get(bucket, metaKey);
    if (meta && metadataTimes(meta).shippedFrom === undefined)
      throw new PlatformError('invalid', `s3://${bucket}/${dirKey} was not shipped by az-evac (its _metadata has no x-amz-meta-${SHIPPED_FROM_METADATA}); retention never deletes it`, false);
    let deleted = 0;
    if (meta && store.delete(bucket, metaKey)) deleted++;
    let token: string | undefined;
    const keys: string[] = [];
    do {
      const page = store.list(bucket, { prefix: `${dirKey}/`, continuationToken: token });
      keys.push(...page.contents.map((o) => o.key));
      token = page.nextContinuationToken;
    } while (token !== undefined);
    for (const key of keys) if (store.delete(bucket, key)) deleted++;
    return deleted;
  }

  /** What a ship copies, checked as the S3 adapter checks it. */
  private shipPlan(fromAz: string, toAz: string, path: string): { fromBucket: string; toBucket: string; dirKey: string; meta: StoredObject; files: Array<{ key: string; obj: StoredObject }>; copyBytes: number } {
    this.sim.assertUp(fromAz);
    this.sim.assertUp(toAz);
    const fromBucket = this.sim.profile(fromAz).stateBucket;
    const toBucket = this.sim.profile(toAz).stateBucket;
    const dirKey = dirKeyIn(path, fromBucket, fromAz);
    if (!SAVEPOINT_DIR.test(dirKey.slice(dirKey.lastIndexOf('/') + 1)))
      throw new PlatformError('invalid', `s3://${fromBucket}/${dirKey} is not a savepoint directory (savepoint-<6 hex>-<12 hex>): only savepoints are relocatable, a checkpoint's _metadata points into its own bucket`, false);
    const source = this.sim.stores.store(fromAz);
    const target = this.sim.stores.store(toAz);
    const metaKey = `${dirKey}/${METADATA}`;
    const meta = source.get(fromBucket, metaKey);
    if (!meta) throw new PlatformError('not-found', `s3://${fromBucket}/${metaKey} does not exist: the savepoint is incomplete or was expired; take a new one`, false);
    let refs: string[];
    try {
      const bytes = typeof meta.body === 'string' ? new TextEncoder().encode(meta.body) : meta.body ?? new Uint8Array();
      refs = readSnapshotFiles(bytes, { bucket: fromBucket, dirKey }).files.map((ref) => resolveReference(fromBucket, dirKey, ref).key);
    } catch (err) {
      throw new PlatformError('invalid', `source s3://${fromBucket}/${metaKey} cannot be shipped: ${(err as Error).message}`, false);
    }
    const files = refs.map((key) => {
      const obj = source.get(fromBucket, key);
      if (!obj) throw new PlatformError('not-found', `s3://${fromBucket}/${key}, referenced by s3://${fromBucket}/${metaKey}, does not exist: the savepoint is damaged; take a new one`, false);
      return { key, obj };
    });
    const copyBytes = files.reduce((n, f) => n + (target.get(toBucket, f.key)?.sizeBytes === f.obj.sizeBytes ? 0 : f.obj.sizeBytes), 0);
    return { fromBucket, toBucket, dirKey, meta, files, copyBytes };
  }
}

/** The key of `path` when it lies in `bucket`. @throws PlatformError('invalid') naming both otherwise */
function dirKeyIn(path: string, bucket: string, az: string): string {
  const at = parseS3Uri(path);
  if (!at || at.bucket !== bucket || at.key === '') throw new PlatformError('invalid', `${path} is not a directory of ${az}'s state bucket s3://${bucket}/; pass a savepoint path the listing of ${az} returned`, false);
  return at.key.replace(/\/+$/, '');
}

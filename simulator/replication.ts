/**
 * The per-AZ object stores and cross-AZ replication of state buckets.
 *
 * Every AZ has three buckets: its `stateBucket` (checkpoints, savepoints), its
 * `artifactBucket` (the jar cache jarURIs point to) and `<artifactBucket>-repository`
 * (the replicated HDD-backed jar repository CI publishes every jar to).
 *
 * Writes to an AZ's state bucket are replicated to every other AZ's state bucket (the
 * same name under `symmetric`, another name under `per-az-buckets`), keys unchanged, each
 * object after its own random lag of 5–60 model seconds (seeded per object) and NOT in
 * write order: the newest replica may have `_metadata` but lack files it references, or
 * lack `_metadata`. Deletes (retention) replicate the same way. A replication in flight
 * waits while either AZ is down. Replicas keep the source's last-modified time.
 * With an S3Mirror every change of every AZ's store is also written to that AZ's S3 server.
 */
import { PlatformError } from '../platform/errors.js';
import { jarRepositoryBucket, type PlatformProfile } from '../domain/types.js';
import { ObjectStore, type StoredObject } from './object-store.js';
import { between, seededUniform } from './random.js';
import type { S3Mirror } from './s3-mirror.js';
import type { Scheduler } from './scheduler.js';

/** Replication lag bounds, model seconds. */
export const REPLICATION_LAG_SECONDS = { min: 5, max: 60 } as const;

/** All AZs' object stores, replicating state-bucket writes to the other AZs. */
export class ReplicatedStores {
  private stores = new Map<string, ObjectStore>();
  private stateBuckets = new Map<string, string>();
  private inFlight = 0;

  /** @param mirror when given, every store's changes are written through to S3 */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly seed: number,
    readonly mirror?: S3Mirror,
  ) {}

  /** (Re)create empty stores and buckets for every AZ of `profile`. */
  configure(profile: PlatformProfile): void {
    this.stores = new Map();
    this.stateBuckets = new Map();
    this.inFlight = 0;
    for (const az of profile.azs) {
      const buckets = [az.stateBucket, az.artifactBucket, jarRepositoryBucket(az.artifactBucket)];
      this.mirror?.reset(az.name, buckets);
      const store = new ObjectStore(this.mirror?.observer(az.name));
      for (const b of buckets) store.createBucket(b);
      this.stores.set(az.name, store);
      this.stateBuckets.set(az.name, az.stateBucket);
    }
  }

  /** The AZ's store. @throws PlatformError('not-found') for an AZ the platform does not have. */
  store(az: string): ObjectStore {
    const s = this.stores.get(az);
    if (!s) throw new PlatformError('not-found', `AZ ${az} is not part of the simulated platform (known: ${[...this.stores.keys()].join(', ') || 'none; load a fleet first'})`, false);
    return s;
  }

  /** Objects across all AZs, and replications in flight. */
  counts(): { objects: number; replicationsInFlight: number } {
    let objects = 0;
    for (const s of this.stores.values()) objects += s.objectCount();
    return { objects, replicationsInFlight: this.inFlight };
  }

  /** Write in `az`, then replicate (with lag) when `bucket` is the AZ's state bucket. */
  put(az: string, bucket: string, key: string, obj: StoredObject): void {
    this.store(az).put(bucket, key, obj);
    for (const target of this.targets(az, bucket)) {
      this.later(az, target.az, key, 'put', () => this.store(target.az).put(target.bucket, key, obj));
    }
  }

  /** Delete in `az`, then replicate the delete (with lag) like a put. */
  delete(az: string, bucket: string, key: string): void {
    this.store(az).delete(bucket, key);
    for (const target of this.targets(az, bucket)) {
      this.later(az, target.az, key, 'delete', () => this.store(target.az).delete(target.bucket, key));
    }
  }

  /**
   * Seeding: write in `az` and in every replica at once, except replicas listed in
   * `delayed`, which receive it after that many model seconds (a replica still behind).
   */
  putReplicated(az: string, bucket: string, key: string, obj: StoredObject, delayed: Record<string, number> = {}): void {
    this.store(az).put(bucket, key, obj);
    for (const target of this.targets(az, bucket)) {
      const delay = delayed[target.az];
      const write = (): void => this.store(target.az).put(target.bucket, key, obj);
      if (delay === undefined) write();
      else this.later(az, target.az, key, 'put', write, delay);
    }
  }

  private targets(az: string, bucket: string): Array<{ az: string; bucket: string }> {
    if (this.stateBuckets.get(az) !== bucket) return [];
    return [...this.stateBuckets].filter(([other]) => other !== az).map(([other, b]) => ({ az: other, bucket: b }));
  }

  private later(source: string, target: string, key: string, op: string, run: () => void, delay?: number): void {
    const lag = delay ?? between(seededUniform(this.seed, 'replication', source, target, key, op), REPLICATION_LAG_SECONDS.min, REPLICATION_LAG_SECONDS.max);
    this.inFlight++;
    const stores = this.stores;
    this.scheduler.after(lag, [source, target], () => {
      if (this.stores !== stores) return; // reconfigured (reset) meanwhile
      this.inFlight--;
      run();
    });
  }
}

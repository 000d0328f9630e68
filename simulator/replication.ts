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
 * lack `_metadata`. Deletes (retention) replicate the same way. Replicas keep the source's
 * last-modified time. A delivery copies the key's state in the source at delivery time (the
 * object, or its absence), so a late delivery never resurrects a deleted object.
 * A pair the platform profile declares not replicating (`notReplicated`, domain/protection.ts
 * `replicates`) never gets a replica: protection ships savepoints there.
 * A pair that cannot deliver (either AZ down, or a replication outage of the pair,
 * setReplicationDown) keeps a backlog: the set of keys changed meanwhile, one entry per key
 * however often it changed, and none for a key written and deleted again before the target
 * had it. When the pair can deliver again, each backlog key is delivered after a fresh lag
 * with the source's state at that time: what arrives after an outage is the current state,
 * not every intermediate write (S3 replication retries what it could not deliver and keeps
 * the replica converging to the source's current version: AWS S3 User Guide, "Replicating
 * objects", replication status PENDING/FAILED; docs/object-stores.md "Replication during an
 * outage"). The backlog holds O(objects in the two buckets), not O(writes during the outage).
 * With an S3Mirror every change of every AZ's store is also written to that AZ's S3 server.
 */
import { PlatformError } from '../platform/errors.js';
import { jarRepositoryBucket, type PlatformProfile } from '../domain/types.js';
import { replicates } from '../domain/protection.js';
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
  /** Deliveries scheduled and not yet run. */
  private inFlight = 0;
  private profile: Pick<PlatformProfile, 'notReplicated'> = {};
  /** Pairs `from→to` in a replication outage. */
  private readonly outages = new Set<string>();
  /** Per pair `from→to`, the keys it could not deliver yet (an AZ down or an outage). */
  private readonly backlog = new Map<string, Set<string>>();
  /** Per pair, how many times its backlog was released (seeds the fresh lags). */
  private readonly releases = new Map<string, number>();

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
    this.profile = { ...(profile.notReplicated ? { notReplicated: profile.notReplicated } : {}) };
    this.outages.clear();
    this.backlog.clear();
    this.releases.clear();
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

  /**
   * Objects across all AZs; replications in flight (scheduled deliveries plus held keys); held
   * keys (backlog entries of pairs that cannot deliver: one per key, O(objects) at most).
   */
  counts(): { objects: number; replicationsInFlight: number; replicationsHeld: number } {
    let objects = 0;
    for (const s of this.stores.values()) objects += s.objectCount();
    let held = 0;
    for (const keys of this.backlog.values()) held += keys.size;
    return { objects, replicationsInFlight: this.inFlight + held, replicationsHeld: held };
  }

  /**
   * Start or end a replication outage of the pair `from → to` (state buckets): while it lasts,
   * the keys changed on that pair are held (one entry per key); when it ends, each is delivered
   * after a fresh random lag with the source's state then. Writes in either AZ and the other
   * pairs go on.
   * @throws PlatformError('not-found') for an AZ the platform does not have; ('invalid') for `from === to`
   */
  setReplicationDown(from: string, to: string, down: boolean): void {
    this.store(from);
    this.store(to);
    if (from === to) throw new PlatformError('invalid', `replication outage ${from} → ${to}: an AZ does not replicate into itself; name two different AZs`, false);
    const pair = `${from}→${to}`;
    if (down) this.outages.add(pair);
    else if (this.outages.delete(pair)) this.release(from, to);
  }

  /**
   * An AZ came back up (Simulator.setAzDown): every pair into or out of it that can deliver
   * again releases its backlog, each key after a fresh lag.
   */
  azUp(az: string): void {
    for (const pair of [...this.backlog.keys()]) {
      const [from, to] = pair.split('→') as [string, string];
      if (from === az || to === az) this.release(from, to);
    }
  }

  /** Pairs `from → to` in a replication outage now. */
  replicationOutages(): Array<{ from: string; to: string }> {
    return [...this.outages].map((p) => {
      const [from, to] = p.split('→') as [string, string];
      return { from, to };
    });
  }

  /** Write in `az`, then replicate (with lag) when `bucket` is the AZ's state bucket. */
  put(az: string, bucket: string, key: string, obj: StoredObject): void {
    this.store(az).put(bucket, key, obj);
    for (const target of this.targets(az, bucket)) this.later(az, target.az, key, 'put');
  }

  /** Delete in `az`, then replicate the delete (with lag) like a put. */
  delete(az: string, bucket: string, key: string): void {
    this.store(az).delete(bucket, key);
    for (const target of this.targets(az, bucket)) this.later(az, target.az, key, 'delete');
  }

  /**
   * Seeding: write in `az` and in every replica at once, except replicas listed in
   * `delayed`, which receive it after that many model seconds (a replica still behind).
   */
  putReplicated(az: string, bucket: string, key: string, obj: StoredObject, delayed: Record<string, number> = {}): void {
    this.store(az).put(bucket, key, obj);
    for (const target of this.targets(az, bucket)) {
      const delay = delayed[target.az];
      if (delay === undefined) this.store(target.az).put(target.bucket, key, obj);
      else this.later(az, target.az, key, 'put', delay);
    }
  }

  private targets(az: string, bucket: string): Array<{ az: string; bucket: string }> {
    if (this.stateBuckets.get(az) !== bucket) return [];
    return [...this.stateBuckets].filter(([other]) => other !== az && replicates(this.profile, az, other)).map(([other, b]) => ({ az: other, bucket: b }));
  }

  /** Can `source → target` deliver now (both AZs up, no outage of the pair)? */
  private open(source: string, target: string): boolean {
    return !this.scheduler.isDown(source) && !this.scheduler.isDown(target) && !this.outages.has(`${source}→${target}`);
  }

  /** Deliver `key` on `source → target` after a lag (seeded per object and op unless `delay`), or hold it. */
  private later(source: string, target: string, key: string, op: string, delay?: number): void {
    if (!this.open(source, target)) {
      this.hold(source, target, key);
      return;
    }
    const lag = delay ?? between(seededUniform(this.seed, 'replication', source, target, key, op), REPLICATION_LAG_SECONDS.min, REPLICATION_LAG_SECONDS.max);
    this.schedule(source, target, key, lag);
  }

  /** Run a delivery after `lag` model seconds; if the pair cannot deliver then, hold the key instead. */
  private schedule(source: string, target: string, key: string, lag: number): void {
    this.inFlight++;
    const stores = this.stores;
    this.scheduler.after(lag, [], () => {
      if (this.stores !== stores) return; // reconfigured (reset) meanwhile
      this.inFlight--;
      if (this.open(source, target)) this.deliver(source, target, key);
      else this.hold(source, target, key);
    });
  }

  /** Make `key` in the target's state bucket what it is in the source's now (copy or delete). */
  private deliver(source: string, target: string, key: string): void {
    const obj = this.store(source).get(this.stateBuckets.get(source)!, key);
    const targetBucket = this.stateBuckets.get(target)!;
    if (obj) this.store(target).put(targetBucket, key, obj);
    else this.store(target).delete(targetBucket, key);
  }

  /**
   * Add `key` to the pair's backlog, or drop it when neither side has the object (written and
   * deleted again before the target had it: nothing left to deliver).
   */
  private hold(source: string, target: string, key: string): void {
    const pair = `${source}→${target}`;
    let keys = this.backlog.get(pair);
    const absent = !this.store(source).get(this.stateBuckets.get(source)!, key) && !this.store(target).get(this.stateBuckets.get(target)!, key);
    if (absent) {
      keys?.delete(key);
      return;
    }
    if (!keys) this.backlog.set(pair, (keys = new Set()));
    keys.add(key);
  }

  /** When the pair can deliver again, schedule every backlog key after a fresh seeded lag. */
  private release(source: string, target: string): void {
    const pair = `${source}→${target}`;
    const keys = this.backlog.get(pair);
    if (!keys || !this.open(source, target)) return;
    this.backlog.delete(pair);
    const n = (this.releases.get(pair) ?? 0) + 1;
    this.releases.set(pair, n);
    for (const key of keys) {
      this.schedule(source, target, key, between(seededUniform(this.seed, 'replication', source, target, key, 'resync', n), REPLICATION_LAG_SECONDS.min, REPLICATION_LAG_SECONDS.max));
    }
  }
}

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
 * A pair the platform profile declares not replicating (`notReplicated`, domain/protection.ts
 * `replicates`) never gets a replica: protection ships savepoints there. A replication outage of
 * a pair (setReplicationDown) holds that pair's replications; when it ends, each held one is
 * delivered after a fresh lag (S3 replication retries what it could not deliver: AWS S3 User
 * Guide, "Replicating objects", replication status FAILED/PENDING).
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
  private inFlight = 0;
  private profile: Pick<PlatformProfile, 'notReplicated'> = {};
  /** Pairs `from→to` in a replication outage, with the replications held meanwhile. */
  private readonly outages = new Map<string, Array<() => void>>();

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

  /** Objects across all AZs, replications in flight (held ones included), and held by an outage. */
  counts(): { objects: number; replicationsInFlight: number; replicationsHeld: number } {
    let objects = 0;
    for (const s of this.stores.values()) objects += s.objectCount();
    let held = 0;
    for (const h of this.outages.values()) held += h.length;
    return { objects, replicationsInFlight: this.inFlight, replicationsHeld: held };
  }

  /**
   * Start or end a replication outage of the pair `from → to` (state buckets): while it lasts,
   * replications due on that pair are held; when it ends, each is delivered after a fresh
   * random lag. Writes in either AZ and the other pairs go on.
   * @throws PlatformError('not-found') for an AZ the platform does not have; ('invalid') for `from === to`
   */
  setReplicationDown(from: string, to: string, down: boolean): void {
    this.store(from);
    this.store(to);
    if (from === to) throw new PlatformError('invalid', `replication outage ${from} → ${to}: an AZ does not replicate into itself; name two different AZs`, false);
    const pair = `${from}→${to}`;
    const held = this.outages.get(pair);
    if (down) {
      if (!held) this.outages.set(pair, []);
      return;
    }
    if (!held) return;
    this.outages.delete(pair);
    for (const deliver of held) deliver();
  }

  /** Pairs `from → to` in a replication outage now. */
  replicationOutages(): Array<{ from: string; to: string }> {
    return [...this.outages.keys()].map((p) => {
      const [from, to] = p.split('→') as [string, string];
      return { from, to };
    });
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
    return [...this.stateBuckets].filter(([other]) => other !== az && replicates(this.profile, az, other)).map(([other, b]) => ({ az: other, bucket: b }));
  }

  private later(source: string, target: string, key: string, op: string, run: () => void, delay?: number, attempt = 0): void {
    const draw = attempt === 0 ? seededUniform(this.seed, 'replication', source, target, key, op) : seededUniform(this.seed, 'replication', source, target, key, op, attempt);
    const lag = delay ?? between(draw, REPLICATION_LAG_SECONDS.min, REPLICATION_LAG_SECONDS.max);
    if (attempt === 0) this.inFlight++;
    const stores = this.stores;
    this.scheduler.after(lag, [source, target], () => {
      if (this.stores !== stores) return; // reconfigured (reset) meanwhile
      const held = this.outages.get(`${source}→${target}`);
      if (held) {
        held.push(() => this.later(source, target, key, op, run, undefined, attempt + 1));
        return;
      }
      this.inFlight--;
      run();
    });
  }
}

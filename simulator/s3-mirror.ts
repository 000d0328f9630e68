/**
 * Writes the simulator's object stores through to real S3 servers (one endpoint per AZ),
 * so what the engine reads over S3 — checkpoints, savepoints, `_metadata`, jars — is what
 * the simulated Flink jobs wrote. The in-memory stores stay the simulator's own index
 * (its operator checks restore paths there, as a JobManager knows its own checkpoints);
 * S3 is the store the engine's S3 adapter reads and copies in.
 *
 * Write-behind, to keep the simulator fast (measured in bench/): changes queue per
 * `(AZ, bucket, key)` and coalesce (a put then a delete before either is written costs
 * nothing but the delete), and `concurrency` requests run at once. `flush()` waits until
 * everything queued so far is in S3. Object bodies: `_metadata` as written; jars are
 * stand-ins whose body is their key (the fleet generator's digest is SHA-256 of the key,
 * so the digest verifies) with `x-amz-meta-sha256` as CI publishes it; state files are
 * empty with their nominal size in `x-amz-meta-nominal-bytes`.
 */
import { CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PlatformError } from '../platform/errors.js';
import type { S3Clients } from '../platform/s3/clients.js';
import { classifyS3Error, s3Call, unlessMissing, type S3CallContext } from '../platform/s3/errors.js';
import { DIGEST_METADATA } from '../platform/s3/jar-copy.js';
import type { ObjectStoreObserver, StoredObject } from './object-store.js';

type Op = { kind: 'put'; obj: StoredObject } | { kind: 'delete' };

/** A queued change; `seq` orders changes for flush(). */
interface Change {
  az: string;
  bucket: string;
  key: string;
  op: Op;
  seq: number;
}

/** Counters of the mirror. */
export interface MirrorStats {
  /** Changes waiting or being written. */
  backlog: number;
  puts: number;
  deletes: number;
  /** Changes dropped by coalescing. */
  coalesced: number;
  /** Last write failure (after retries), if any. */
  lastError?: string;
}

/** Write-through of every AZ's store to S3. */
export class S3Mirror {
  private readonly pending = new Map<string, Change>();
  /** Seqs of changes queued or being written. */
  private readonly outstanding = new Set<number>();
  /** Keys (`az|bucket|key`) this mirror has written to S3 and not deleted since. */
  private readonly inS3 = new Set<string>();
  private seq = 0;
  private waiters: Array<{ upTo: number; resolve: () => void }> = [];
  private readonly buckets = new Map<string, Promise<void>>();
  private running = 0;
  private barrier: Promise<void> = Promise.resolve();
  private readonly call: S3CallContext;
  readonly stats: MirrorStats = { backlog: 0, puts: 0, deletes: 0, coalesced: 0 };

  constructor(
    private readonly clients: S3Clients,
    private readonly endpoints: Record<string, string>,
    private readonly concurrency = 32,
  ) {
    this.call = { bounded: (fn) => fn(), retry: clients.settings.retry };
  }

  /** The observer of `az`'s store. @throws PlatformError('invalid') when no endpoint is configured for `az`. */
  observer(az: string): ObjectStoreObserver {
    this.client(az);
    return {
      created: (bucket) => { void this.bucketReady(az, bucket); },
      put: (bucket, key, obj) => this.enqueue(az, bucket, key, { kind: 'put', obj }),
      deleted: (bucket, key) => this.enqueue(az, bucket, key, { kind: 'delete' }),
    };
  }

  /**
   * A simulator reset: forget `az`'s queued changes, and empty its `buckets` in S3 before
   * any later change is written.
   */
  reset(az: string, buckets: string[]): void {
    for (const [id, change] of this.pending) {
      if (change.az !== az) continue;
      this.pending.delete(id);
      this.settle(change.seq);
    }
    for (const id of this.inS3) if (id.startsWith(`${az}|`)) this.inS3.delete(id);
    for (const bucket of buckets) this.buckets.delete(`${az}|${bucket}`);
    this.barrier = this.barrier.then(() => this.empty(az, buckets)).catch((err: unknown) => {
      this.stats.lastError = classifyS3Error(err, `empty the buckets of ${az}`).message;
    });
  }

  private async empty(az: string, buckets: string[]): Promise<void> {
    const client = this.client(az);
    for (const bucket of buckets) {
      let token: string | undefined;
      do {
        const page = await unlessMissing(s3Call(this.call, `list s3://${bucket} in ${az}`, () => client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))));
        const keys = (page?.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length > 0) await s3Call(this.call, `empty s3://${bucket} in ${az}`, () => client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } })));
        token = page?.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    }
  }

  /** Resolves when every change queued before the call is in S3 (failures are in `stats.lastError`). */
  async flush(): Promise<void> {
    const upTo = this.seq;
    await this.barrier;
    if (this.doneUpTo(upTo)) return;
    await new Promise<void>((resolve) => this.waiters.push({ upTo, resolve }));
  }

  private doneUpTo(upTo: number): boolean {
    for (const seq of this.outstanding) if (seq <= upTo) return false;
    return true;
  }

  /** Change `seq` is written (or dropped): wake flushes that waited for it. */
  private settle(seq: number): void {
    this.outstanding.delete(seq);
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.doneUpTo(w.upTo)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /**
   * The digest (hex) of the object at `bucket/key` in `az`'s S3, or undefined when absent
   * or not a jar (no `x-amz-meta-sha256`).
   */
  async digestOf(az: string, bucket: string, key: string): Promise<string | undefined> {
    const client = this.client(az);
    const head = await unlessMissing(s3Call(this.call, `head s3://${bucket}/${key} in ${az}`, () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))));
    return head?.Metadata?.[DIGEST_METADATA];
  }

  /**
   * Every object under `prefix` in `az`'s S3 that this mirror did not write (e.g. a savepoint
   * az-evac's protection shipped there), as StoredObjects: size from `x-amz-meta-nominal-bytes`
   * when set (state files are empty stand-ins) else the object's, time from the shipped
   * `_metadata`'s source completion time when set, bodies of `_metadata` files only.
   */
  async readForeign(az: string, bucket: string, prefix: string): Promise<Array<{ key: string; obj: StoredObject }>> {
    const client = this.client(az);
    const out: Array<{ key: string; obj: StoredObject }> = [];
    let token: string | undefined;
    do {
      const page = await s3Call(this.call, `list s3://${bucket}/${prefix} in ${az}`, () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })));
      for (const o of page.Contents ?? []) {
        const key = o.Key!;
        if (this.inS3.has(`${az}|${bucket}|${key}`)) continue;
        const got = await s3Call(this.call, `read s3://${bucket}/${key} in ${az}`, () => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
        const body = await got.Body!.transformToByteArray();
        const nominal = Number(got.Metadata?.['nominal-bytes']);
        const completedAt = Number(got.Metadata?.['az-evac-completed-at']);
        out.push({
          key,
          obj: {
            sizeBytes: Number.isFinite(nominal) && got.Metadata?.['nominal-bytes'] !== undefined ? nominal : body.length,
            lastModifiedEpochSeconds: Number.isFinite(completedAt) && completedAt > 0 ? completedAt : (got.LastModified?.getTime() ?? 0) / 1000,
            ...(key.endsWith('/_metadata') ? { body } : {}),
          },
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  private client(az: string): S3Client {
    const endpoint = this.endpoints[az];
    if (!endpoint) throw new PlatformError('invalid', `no S3 endpoint for ${az}: set AZ_EVAC_S3_ENDPOINTS=${az}=http://host:port,...`, false);
    return this.clients.client(endpoint, az);
  }

  private bucketReady(az: string, bucket: string): Promise<void> {
    const id = `${az}|${bucket}`;
    let ready = this.buckets.get(id);
    if (!ready) {
      const client = this.client(az);
      ready = s3Call(this.call, `create bucket ${bucket} in ${az}`, () => client.send(new CreateBucketCommand({ Bucket: bucket }))).then(() => undefined, (err: unknown) => {
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(classifyS3Error(err, '').message)) this.stats.lastError = classifyS3Error(err, `create bucket ${bucket} in ${az}`).message;
      });
      this.buckets.set(id, ready);
    }
    return ready;
  }

  /**
   * Queue a change; a change still queued for the same key is replaced, and a delete of a
   * key whose put never reached S3 cancels both (checkpoint churn under a backlog costs nothing).
   */
  private enqueue(az: string, bucket: string, key: string, op: Op): void {
    const id = `${az}|${bucket}|${key}`;
    const queued = this.pending.get(id);
    if (queued) {
      this.stats.coalesced++;
      this.pending.delete(id);
      this.settle(queued.seq);
      if (op.kind === 'delete' && !this.inS3.has(id)) return this.updateBacklog();
    }
    const seq = ++this.seq;
    this.outstanding.add(seq);
    this.pending.set(id, { az, bucket, key, op, seq });
    this.updateBacklog();
    while (this.running < this.concurrency && this.pending.size > 0) void this.drain();
  }

  private updateBacklog(): void {
    this.stats.backlog = this.pending.size + this.running;
  }

  private async drain(): Promise<void> {
    this.running++;
    try {
      for (let next = this.take(); next; next = this.take()) {
        const id = `${next.az}|${next.bucket}|${next.key}`;
        try {
          await this.barrier;
          await this.bucketReady(next.az, next.bucket);
          await this.write(next.az, next.bucket, next.key, next.op);
          if (next.op.kind === 'put') this.inS3.add(id);
          else this.inS3.delete(id);
        } catch (err) {
          this.stats.lastError = classifyS3Error(err, `mirror s3://${next.bucket}/${next.key} in ${next.az}`).message;
        } finally {
          this.settle(next.seq);
        }
      }
    } finally {
      this.running--;
      this.updateBacklog();
    }
  }

  private take(): Change | undefined {
    const first = this.pending.entries().next();
    if (first.done) return undefined;
    this.pending.delete(first.value[0]);
    return first.value[1];
  }

  private async write(az: string, bucket: string, key: string, op: Op): Promise<void> {
    const client = this.client(az);
    if (op.kind === 'delete') {
      this.stats.deletes++;
      await s3Call(this.call, `delete s3://${bucket}/${key} in ${az}`, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
      return;
    }
    const o = op.obj;
    const metadata: Record<string, string> = { ...o.userMetadata, 'nominal-bytes': String(o.sizeBytes) };
    if (o.digest?.startsWith('sha256:')) metadata[DIGEST_METADATA] = o.digest.slice(7);
    const body = o.body instanceof Uint8Array ? Buffer.from(o.body) : Buffer.from(o.body ?? (o.digest ? key : ''), 'utf8');
    this.stats.puts++;
    await s3Call(this.call, `put s3://${bucket}/${key} in ${az}`, () => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, Metadata: metadata })));
  }
}

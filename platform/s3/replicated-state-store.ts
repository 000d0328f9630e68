/**
 * The production state store: catalogs, plans, outcomes, fences and reports replicated to
 * the state bucket of every AZ (AZ_EVAC_STATE_STORE=s3, AZ_EVAC_STATE_BUCKETS), so losing
 * any one AZ loses none of them. Design and its reasons: docs/state.md.
 *
 * Rules:
 * - Write: PUT to every replica at once. The write succeeds when at least one replica took
 *   it; a replica that failed is reported (onProblem, health()) and its missed writes are kept
 *   in memory and replayed, oldest first, as soon as it answers again. No replica answering →
 *   PlatformError('unavailable', retryable): the activity retries.
 * - Records never change after they are written, except reports (a retried activity rewrites
 *   the same content): catalogs by version, plans and their forecasts per run (forecastPlan stores one only for a plan without it), outcome batches named by their
 *   content, fence records with their version (state, time) in the key. So two writers never
 *   overwrite each other (no read-modify-write) and replicas cannot disagree about a key's body.
 * - Read: list or get from every replica that answers; newest version wins (the greatest
 *   catalog version; per fence the greatest version key; per job the outcome that ended
 *   last). A key one replica lacks (it was down when written) is read from another.
 * - A replica that failed is skipped for AZ_EVAC_STATE_REPLICA_BACKOFF_SECONDS, then tried
 *   again; every request to a replica is given up after AZ_EVAC_STATE_TIMEOUT_MS.
 *
 * Key layout under `<prefix>` in each bucket:
 *   catalogs/<16-digit (10^15 − version)>.json      newest first in a listing (S3 lists keys in ascending UTF-8 order)
 *   runs/<enc recordsKey>/plan.json
 *   runs/<enc recordsKey>/forecast.json             a plan's forecast made after it (domain/plan-forecast.ts)
 *   runs/<enc recordsKey>/outcomes/<first endedAtMs>-<digest>.json   one immutable object per recorded batch
 *   runs/<enc recordsKey>/fences/<enc job key>/<0 pending|1 done>-<15-digit ms>.json
 *   reports/<enc name>
 *   health/<host>.json                              the start check's probe
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fenceStateRank, type FenceRecord, type JobOutcome } from '../../domain/evacuation.js';
import type { Catalog } from '../../domain/types.js';
import { withForecast, type PlanForecast } from '../../domain/plan-forecast.js';
import { withStoredForecast } from '../stored-forecast.js';
import { PlatformError } from '../errors.js';
import type { CatalogStore, EvacuationStore, ReportStore, StoredPlan } from '../ports.js';
import { classifyS3Error, withS3Retry, type S3RetryPolicy } from './errors.js';

/** One replica: an AZ's state bucket. */
export interface StateReplica {
  az: string;
  bucket: string;
  client: S3Client;
}

/** Options of the replicated store. */
export interface ReplicatedStateStoreOptions {
  replicas: StateReplica[];
  /** Key prefix inside every bucket, e.g. `az-evac/` ('' for none). */
  prefix: string;
  /** Longest wait for one request to one replica, ms. */
  requestTimeoutMs: number;
  /** How long a replica that failed is skipped before it is tried again, ms. */
  replicaBackoffMs: number;
  /** Retries of one request to one replica (transient failures); keep small: other replicas cover. */
  retry?: S3RetryPolicy;
  /** Receives one line per replica problem (failed write, failed read, replayed backlog). */
  onProblem?: (line: string) => void;
}

/** Health of one replica, as reported by health(). */
export interface ReplicaHealth {
  az: string;
  bucket: string;
  /** False while the replica is skipped after a failure. */
  up: boolean;
  /** Writes it missed that wait for it to answer again (replayed then). */
  missedWrites: number;
  /** Failed requests so far. */
  failures: number;
  lastError?: string;
}

/** Largest catalog version the key layout orders (versions are epoch ms or counters). */
const MAX_VERSION = 10 ** 15;
const REPORT_REF = 'az-evac-state:reports/';

interface ReplicaState extends StateReplica {
  skipUntilMs: number;
  failures: number;
  lastError?: string;
  /** Writes this replica missed, by key (a later write of the same key supersedes). */
  missed: Map<string, string>;
  replaying: boolean;
}

/**
 * Catalogs, evacuation records and reports replicated to one bucket per AZ. Its ports are
 * the facets `catalogs`, `evacuations` and `reports`.
 */
export class ReplicatedStateStore {
  private readonly replicas: ReplicaState[];
  private readonly retry: S3RetryPolicy;
  /** Bodies of immutable objects by key (outcome batches, fence versions). */
  private readonly immutable = new Map<string, string>();
  /**
   * Catalogs and plans by key, parsed once: like the file stores, every read of one returns the
   * same object, so the per-object indexes built on them (activities/job-context.ts catalogIndex,
   * planIndex; activities/job-batch.ts restore queues) are built once per evacuation, not per job.
   */
  private readonly parsed = new Map<string, unknown>();

  constructor(private readonly o: ReplicatedStateStoreOptions) {
    if (o.replicas.length === 0) throw new Error('AZ_EVAC_STATE_BUCKETS names no bucket. Fix: set it to <az>=<bucket> for every AZ, e.g. az-a=az-evac-state-a,az-b=az-evac-state-b');
    this.replicas = o.replicas.map((r) => ({ ...r, skipUntilMs: 0, failures: 0, missed: new Map(), replaying: false }));
    this.retry = o.retry ?? { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 500 };
  }

  /** The CatalogStore facet. */
  readonly catalogs: CatalogStore = {
    put: (catalog) => this.putCatalog(catalog),
    latest: () => this.latestCatalog(),
    get: (version) => this.getCatalog(version),
  };

  /** The EvacuationStore facet. */
  readonly evacuations: EvacuationStore = {
    putPlan: (id, stored) => this.putPlan(id, stored),
    getPlan: (id) => this.getPlan(id),
    putForecast: (id, forecast) => this.putForecast(id, forecast),
    putOutcomes: (id, outcomes) => this.putOutcomes(id, outcomes),
    listOutcomes: (id) => this.listOutcomes(id),
    putFence: (id, fence) => this.putFence(id, fence),
    listFences: (id) => this.listFences(id),
  };

  /** The ReportStore facet. */
  readonly reports: ReportStore = {
    put: (name, body) => this.putReport(name, body),
    refOf: (name) => `${REPORT_REF}${name}`,
    read: (ref) => this.readReport(ref),
  };

  // ---- catalogs ----

  private async latestCatalog(): Promise<Catalog | null> {
    // The first key of each replica's listing is its newest version; the newest of those wins.
    const firsts = await this.fromEach(`newest catalog`, (r) => this.list(r, `${this.o.prefix}catalogs/`, 1));
    const keys = firsts.flatMap((f) => f.value).sort();
    if (keys.length === 0) return null;
    return this.readParsed<Catalog>(keys[0]!, 'newest catalog');
  }

  private async getCatalog(version: number): Promise<Catalog> {
    return this.readParsed<Catalog>(this.catalogKey(version), `catalog version ${version}`);
  }

  // ---- evacuation records ----

  private async putPlan(evacuationId: string, stored: StoredPlan): Promise<void> {
    const key = `${this.runPrefix(evacuationId)}plan.json`;
    const body = JSON.stringify(stored);
    await this.write(key, body, `plan of ${evacuationId}`);
    this.parsed.set(key, stored);
  }

  private async getPlan(evacuationId: string): Promise<StoredPlan> {
    const key = `${this.runPrefix(evacuationId)}plan.json`;
    const plan = await this.readParsed<StoredPlan>(key, `plan of evacuation ${evacuationId}`);
    // Waiting for its forecast: looked for at every read until found (another host may store it).
    const read = await withStoredForecast(plan, async () => JSON.parse(await this.readAny(`${this.runPrefix(evacuationId)}forecast.json`, `forecast of evacuation ${evacuationId}`)) as PlanForecast);
    if (read !== plan) this.parsed.set(key, read);
    return read;
  }

  private async putForecast(evacuationId: string, forecast: PlanForecast): Promise<void> {
    await this.write(`${this.runPrefix(evacuationId)}forecast.json`, JSON.stringify(forecast), `forecast of ${evacuationId}`);
    const key = `${this.runPrefix(evacuationId)}plan.json`;
    const cached = this.parsed.get(key) as StoredPlan | undefined;
    if (cached?.pendingForecast) this.parsed.set(key, withForecast(cached, forecast));
  }

  private async putOutcomes(evacuationId: string, outcomes: JobOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    // Named by content: a retried batch rewrites the same object with the same body.
    const digest = createHash('sha256').update(outcomes.map((o) => `${o.key}@${o.endedAtMs}`).join('\n')).digest('hex').slice(0, 16);
    const first = Math.min(...outcomes.map((o) => o.endedAtMs));
    await this.write(`${this.runPrefix(evacuationId)}outcomes/${String(first).padStart(15, '0')}-${digest}.json`, JSON.stringify(outcomes), `outcomes of ${evacuationId}`);
  }

  private async listOutcomes(evacuationId: string): Promise<JobOutcome[]> {
    const keys = await this.listUnion(`${this.runPrefix(evacuationId)}outcomes/`, `outcomes of ${evacuationId}`);
    const byKey = new Map<string, JobOutcome>();
    const batches = await Promise.all([...keys].sort().map((k) => this.readImmutable(k, `outcomes of ${evacuationId}`)));
    for (const batch of batches) {
      for (const o of JSON.parse(batch) as JobOutcome[]) {
        const prev = byKey.get(o.key);
        if (!prev || prev.endedAtMs <= o.endedAtMs) byKey.set(o.key, o);
      }
    }
    return [...byKey.values()];
  }

  private async putFence(evacuationId: string, fence: FenceRecord): Promise<void> {
    await this.write(this.fenceKey(evacuationId, fence), JSON.stringify(fence), `fence of ${fence.key} in ${evacuationId}`);
  }

  private async listFences(evacuationId: string): Promise<FenceRecord[]> {
    const prefix = `${this.runPrefix(evacuationId)}fences/`;
    const keys = await this.listUnion(prefix, `fences of ${evacuationId}`);
    // Newest version per job key: the greatest `<rank>-<ms>` (done beats requested beats pending: fenceStateRank; then later beats earlier).
    const newest = new Map<string, string>();
    for (const k of keys) {
      const job = k.slice(prefix.length, k.lastIndexOf('/'));
      const prev = newest.get(job);
      if (!prev || prev < k) newest.set(job, k);
    }
    const jobs = [...newest.keys()].sort();
    return Promise.all(jobs.map(async (j) => JSON.parse(await this.readImmutable(newest.get(j)!, `fence ${j}`)) as FenceRecord));
  }

  // ---- reports ----

  private async putReport(name: string, body: string): Promise<string> {
    await this.write(`${this.o.prefix}reports/${encodeURIComponent(name)}`, body, `report ${name}`);
    return `${REPORT_REF}${name}`;
  }

  private async readReport(ref: string): Promise<string> {
    if (!ref.startsWith(REPORT_REF)) throw new PlatformError('invalid', `report reference ${ref} is not one of the S3 state store (${REPORT_REF}<name>); it was written by another store (AZ_EVAC_STATE_STORE)`, false);
    const name = ref.slice(REPORT_REF.length);
    return this.readAny(`${this.o.prefix}reports/${encodeURIComponent(name)}`, `report ${name}`);
  }

  // ---- health ----

  /**
   * Write a probe object to every replica, ignoring backoff.
   * @returns per replica: ok, or the error (message names the AZ, bucket and the S3 failure)
   */
  async probe(): Promise<Array<{ az: string; bucket: string; ok: true } | { az: string; bucket: string; ok: false; error: PlatformError }>> {
    const key = `${this.o.prefix}health/${encodeURIComponent(hostname())}.json`;
    const body = JSON.stringify({ host: hostname(), pid: process.pid, atMs: Date.now() });
    return Promise.all(this.replicas.map(async (r) => {
      try {
        await this.send(r, `probe ${this.where(r)}`, (signal) => r.client.send(new PutObjectCommand({ Bucket: r.bucket, Key: key, Body: body, ContentType: 'application/json' }), { abortSignal: signal }));
        return { az: r.az, bucket: r.bucket, ok: true as const };
      } catch (err) {
        return { az: r.az, bucket: r.bucket, ok: false as const, error: classifyS3Error(err, `write ${this.where(r)}`) };
      }
    }));
  }

  /** Every replica's health: up or skipped, missed writes waiting, failures so far. */
  health(): ReplicaHealth[] {
    const now = Date.now();
    return this.replicas.map((r) => ({
      az: r.az, bucket: r.bucket, up: r.skipUntilMs <= now, missedWrites: r.missed.size, failures: r.failures,
      ...(r.lastError ? { lastError: r.lastError } : {}),
    }));
  }

  // ---- internals ----

  private async putCatalog(catalog: Catalog): Promise<void> {
    const key = this.catalogKey(catalog.version);
    const body = JSON.stringify(catalog);
    await this.write(key, body, `catalog v${catalog.version}`);
    this.parsed.set(key, catalog);
  }

  private catalogKey(version: number): string {
    if (!Number.isInteger(version) || version < 0 || version >= MAX_VERSION) throw new PlatformError('invalid', `catalog version ${version} is not an integer in [0, 10^15)`, false);
    return `${this.o.prefix}catalogs/${String(MAX_VERSION - 1 - version).padStart(16, '0')}.json`;
  }

  private runPrefix(evacuationId: string): string {
    return `${this.o.prefix}runs/${encodeURIComponent(evacuationId)}/`;
  }

  private fenceKey(evacuationId: string, f: FenceRecord): string {
    const version = `${fenceStateRank(f.state)}-${String(f.fencedAtMs ?? f.recordedAtMs).padStart(15, '0')}`;
    return `${this.runPrefix(evacuationId)}fences/${encodeURIComponent(f.key)}/${version}.json`;
  }

  private where(r: StateReplica): string {
    return `state bucket ${r.bucket} in ${r.az}`;
  }

  /** Replicas to ask now: those not skipped, or all of them when every one is skipped. */
  private active(): ReplicaState[] {
    const now = Date.now();
    const up = this.replicas.filter((r) => r.skipUntilMs <= now);
    return up.length > 0 ? up : this.replicas;
  }

  /** One request to one replica, with the per-request timeout and the small retry; marks the replica up or failed. */
  private async send<T>(r: ReplicaState, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      const out = await withS3Retry(what, this.retry, () => call(AbortSignal.timeout(this.o.requestTimeoutMs)));
      if (r.skipUntilMs > 0) {
        r.skipUntilMs = 0;
        this.replay(r);
      }
      return out;
    } catch (err) {
      const failure = classifyS3Error(err, what);
      if (failure.code !== 'not-found') {
        r.failures += 1;
        r.lastError = failure.message;
        r.skipUntilMs = Date.now() + this.o.replicaBackoffMs;
      }
      throw failure;
    }
  }

  /**
   * PUT `body` at `key` to every replica. Replicas skipped or failing keep it as a missed write.
   * @throws PlatformError('unavailable', retryable) when no replica took it
   */
  private async write(key: string, body: string, what: string): Promise<void> {
    const now = Date.now();
    const results = await Promise.all(this.replicas.map(async (r) => {
      if (r.skipUntilMs > now && this.replicas.some((x) => x.skipUntilMs <= now)) {
        r.missed.set(key, body);
        return `${r.az}: skipped (failed ${Math.round((now - (r.skipUntilMs - this.o.replicaBackoffMs)) / 1000)} s ago: ${r.lastError ?? 'unknown'})`;
      }
      try {
        await this.send(r, `write ${what} to ${this.where(r)}`, (signal) => r.client.send(new PutObjectCommand({ Bucket: r.bucket, Key: key, Body: body, ContentType: 'application/json' }), { abortSignal: signal }));
        r.missed.delete(key);
        return undefined;
      } catch (err) {
        r.missed.set(key, body);
        const message = err instanceof Error ? err.message : String(err);
        this.o.onProblem?.(`az-evac state store: ${message} (kept to replay when ${r.az} answers; the write goes on in the other AZs)`);
        return `${r.az}: ${message}`;
      }
    }));
    const failed = results.filter((x): x is string => x !== undefined);
    if (failed.length === this.replicas.length) {
      throw new PlatformError('unavailable', `state store: no AZ took ${what}: ${failed.join('; ')}. Fix: make at least one state bucket of AZ_EVAC_STATE_BUCKETS reachable and writable`, true);
    }
  }

  /** Replay `r`'s missed writes in the background, oldest first; stops at the first failure (it is skipped again). */
  private replay(r: ReplicaState): void {
    if (r.replaying || r.missed.size === 0) return;
    r.replaying = true;
    void (async () => {
      let replayed = 0;
      try {
        while (r.missed.size > 0 && r.skipUntilMs <= Date.now()) {
          const [key, body] = r.missed.entries().next().value as [string, string];
          await this.send(r, `replay ${key} to ${this.where(r)}`, (signal) => r.client.send(new PutObjectCommand({ Bucket: r.bucket, Key: key, Body: body, ContentType: 'application/json' }), { abortSignal: signal }));
          if (r.missed.get(key) === body) r.missed.delete(key);
          replayed += 1;
        }
      } catch {
        // skipped again; the next successful request replays the rest
      } finally {
        r.replaying = false;
        if (replayed > 0) this.o.onProblem?.(`az-evac state store: replayed ${replayed} missed write(s) to ${this.where(r)}; ${r.missed.size} left`);
      }
    })();
  }

  /** Run `fn` on every active replica; the answers of those that answered. @throws PlatformError('unavailable') when none did */
  private async fromEach<T>(what: string, fn: (r: ReplicaState) => Promise<T>): Promise<Array<{ replica: ReplicaState; value: T }>> {
    const ok: Array<{ replica: ReplicaState; value: T }> = [];
    const errors: string[] = [];
    await Promise.all(this.active().map(async (r) => {
      try {
        ok.push({ replica: r, value: await fn(r) });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.o.onProblem?.(`az-evac state store: ${message} (read ${what} from the other AZs)`);
        errors.push(message);
      }
    }));
    if (ok.length === 0) {
      throw new PlatformError('unavailable', `state store: no AZ answered reading ${what}: ${errors.join('; ')}. Fix: make at least one state bucket of AZ_EVAC_STATE_BUCKETS reachable`, true);
    }
    return ok;
  }

  /** Keys under `prefix` in one replica (every page, or the first `max`). */
  private async list(r: ReplicaState, prefix: string, max?: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.send(r, `list ${prefix} in ${this.where(r)}`, (signal) => r.client.send(new ListObjectsV2Command({
        Bucket: r.bucket, Prefix: prefix, ...(max ? { MaxKeys: max } : {}), ...(token ? { ContinuationToken: token } : {}),
      }), { abortSignal: signal }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated && !max ? page.NextContinuationToken : undefined;
    } while (token);
    return max ? keys.slice(0, max) : keys;
  }

  /** The union of the keys under `prefix` in every replica that answers. */
  private async listUnion(prefix: string, what: string): Promise<Set<string>> {
    const lists = await this.fromEach(what, (r) => this.list(r, prefix));
    return new Set(lists.flatMap((l) => l.value));
  }

  /** An immutable object's body: cached, else from the first replica that has it. */
  private async readImmutable(key: string, what: string): Promise<string> {
    const hit = this.immutable.get(key);
    if (hit !== undefined) return hit;
    const body = await this.readAny(key, what);
    this.immutable.set(key, body);
    return body;
  }

  /** An immutable catalog or plan, parsed: cached, else from the first replica that has it. */
  private async readParsed<T>(key: string, what: string): Promise<T> {
    const hit = this.parsed.get(key);
    if (hit !== undefined) return hit as T;
    const value = JSON.parse(await this.readAny(key, what)) as T;
    this.parsed.set(key, value);
    return value;
  }

  /**
   * The body at `key` from the first active replica that has it (then the others).
   * @throws PlatformError('not-found') when every replica that answered lacks it; 'unavailable' when none answered
   */
  private async readAny(key: string, what: string): Promise<string> {
    const errors: string[] = [];
    let answered = 0;
    const order = [...this.active(), ...this.replicas.filter((r) => !this.active().includes(r))];
    for (const r of order) {
      try {
        const out = await this.send(r, `read ${what} from ${this.where(r)}`, async (signal) => {
          const res = await r.client.send(new GetObjectCommand({ Bucket: r.bucket, Key: key }), { abortSignal: signal });
          return res.Body ? await res.Body.transformToString('utf8') : '';
        });
        return out;
      } catch (err) {
        if (err instanceof PlatformError && err.code === 'not-found') answered += 1;
        errors.push(`${r.az}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (answered > 0) throw new PlatformError('not-found', `${what} not found in the state store (${errors.join('; ')})`, false);
    throw new PlatformError('unavailable', `state store: no AZ answered reading ${what}: ${errors.join('; ')}. Fix: make at least one state bucket of AZ_EVAC_STATE_BUCKETS reachable`, true);
  }
}

/**
 * Fault injection. API faults hit ClusterPort / ObjectStorePort / FleetSource routes at a
 * rate (0..1) drawn from a seeded stream: `unavailable` (503), `throttled` (429 with
 * Retry-After) or `hang` (the request stalls, then 504). Per-job faults: `failApply`
 * (apply is rejected 422 with a message), `neverRunning` (deploys, never RUNNING),
 * `failRestore` (every state restore of the job fails as on a missing snapshot file: the job
 * loops RESTARTING ↔ RUNNING, see operator.ts), `ignoreSuspend` (the API server accepts `state: suspended`, the operator never acts on it
 * and the job keeps running: an operator that is down or cannot reach the JobManager) and
 * `failSavepoint` (a stop-with-savepoint fails: the operator reports a SavepointError and the
 * job runs on; the job's periodic savepoints fail too, checkpointing.ts).
 * `apiDownAzs`: the API server and object store endpoint of those AZs answer every call
 * 503 while their jobs keep running (an API outage, not an AZ loss). AZ down/up (jobs and
 * replication frozen too) is handled by the simulator itself.
 */
import { seededUniform, type Uniform } from './random.js';

/** Kinds of API fault. */
export type ApiFaultKind = 'unavailable' | 'throttled' | 'hang';

/** Fault settings; every field optional in updates. */
export interface FaultConfig {
  /** Share of API calls that fail, 0..1. */
  apiFailureRate: number;
  /** Kinds drawn from (uniformly) when a call fails. */
  kinds: ApiFaultKind[];
  /** Wall milliseconds a hung call stalls before its 504. */
  hangMs: number;
  /** Retry-After of a 429, seconds. */
  retryAfterSeconds: number;
  /** Job keys (`namespace/name`) whose apply is always rejected 422. */
  failApply: string[];
  /** Job keys that deploy but never reach RUNNING. */
  neverRunning: string[];
  /** Job keys whose every state restore fails (a restore loop). */
  failRestore: string[];
  /** Job keys (in any AZ) whose suspend the operator never acts on: the job keeps running. */
  ignoreSuspend: string[];
  /** Job keys whose stop-with-savepoint and periodic savepoints fail (in any AZ). */
  failSavepoint: string[];
  /** AZs whose API calls all answer 503 (jobs keep running there). */
  apiDownAzs: string[];
}

/** A drawn API fault. */
export type ApiFault = { kind: 'unavailable' } | { kind: 'throttled'; retryAfterSeconds: number } | { kind: 'hang'; ms: number };

/** Defaults: no faults. */
export const NO_FAULTS: FaultConfig = {
  apiFailureRate: 0,
  kinds: ['unavailable', 'throttled', 'hang'],
  hangMs: 2000,
  retryAfterSeconds: 1,
  failApply: [],
  neverRunning: [],
  failRestore: [],
  ignoreSuspend: [],
  failSavepoint: [],
  apiDownAzs: [],
};

/** Current faults and the seeded stream that draws them. */
export class Faults {
  private cfg: FaultConfig = { ...NO_FAULTS };
  private failApplySet = new Set<string>();
  private neverRunningSet = new Set<string>();
  private failRestoreSet = new Set<string>();
  private ignoreSuspendSet = new Set<string>();
  private failSavepointSet = new Set<string>();
  private apiDownSet = new Set<string>();
  private u: Uniform;
  /** Faults injected so far, by kind. */
  readonly injected: Record<ApiFaultKind, number> = { unavailable: 0, throttled: 0, hang: 0 };

  constructor(private readonly seed: number) {
    this.u = seededUniform(seed, 'faults');
  }

  /** Merge `update` into the settings (a fresh stream when the rate changes). @returns the settings now. */
  set(update: Partial<FaultConfig>): FaultConfig {
    if (update.apiFailureRate !== undefined && update.apiFailureRate !== this.cfg.apiFailureRate) this.u = seededUniform(this.seed, 'faults', update.apiFailureRate);
    this.cfg = { ...this.cfg, ...update };
    this.failApplySet = new Set(this.cfg.failApply);
    this.neverRunningSet = new Set(this.cfg.neverRunning);
    this.failRestoreSet = new Set(this.cfg.failRestore);
    this.ignoreSuspendSet = new Set(this.cfg.ignoreSuspend);
    this.failSavepointSet = new Set(this.cfg.failSavepoint);
    this.apiDownSet = new Set(this.cfg.apiDownAzs);
    return this.config();
  }

  config(): FaultConfig {
    return structuredClone(this.cfg);
  }

  /** Draw whether this API call fails, and how. */
  draw(): ApiFault | undefined {
    if (this.cfg.apiFailureRate <= 0 || this.cfg.kinds.length === 0 || this.u() >= this.cfg.apiFailureRate) return undefined;
    const kind = this.cfg.kinds[Math.min(this.cfg.kinds.length - 1, Math.floor(this.u() * this.cfg.kinds.length))]!;
    this.injected[kind]++;
    if (kind === 'throttled') return { kind, retryAfterSeconds: this.cfg.retryAfterSeconds };
    if (kind === 'hang') return { kind, ms: this.cfg.hangMs };
    return { kind };
  }

  failApply(key: string): boolean {
    return this.failApplySet.has(key);
  }

  /** Whether the API of `az` is under the `apiDownAzs` fault. */
  apiDown(az: string): boolean {
    return this.apiDownSet.has(az);
  }

  neverRunning(key: string): boolean {
    return this.neverRunningSet.has(key);
  }

  failRestore(key: string): boolean {
    return this.failRestoreSet.has(key);
  }

  ignoreSuspend(key: string): boolean {
    return this.ignoreSuspendSet.has(key);
  }

  /** Whether a stop-with-savepoint of job `key` fails (the `failSavepoint` fault). */
  failSavepoint(key: string): boolean {
    return this.failSavepointSet.has(key);
  }
}

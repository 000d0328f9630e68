/**
 * Ports: the narrow interfaces activities use to reach the platform. The simulator
 * (simulator/) implements all of them over HTTP; the Kubernetes adapter
 * (client-node) and the S3 adapter (AWS SDK v3) implement the same ports.
 *
 * Every method may throw PlatformError (platform/errors.ts); `retryable` says whether a
 * retry can help. Every mutating method is idempotent: calling it twice with the same
 * arguments leaves the same state as calling it once.
 */
import type {
  Capacity,
  Catalog,
  Finding,
  FlinkDeploymentManifest,
  JarArtifact,
  PlatformProfile,
  FleetJob,
  Plan,
  RtoForecast,
  SnapshotCandidate,
  SnapshotChoice,
  TiersPolicy,
} from '../domain/types.js';
import type { SnapshotQuery } from '../domain/snapshot-choice.js';
import type { JobProtection, SavepointFormat } from '../domain/protection.js';
import type { TierRpoNow } from '../domain/rpo-now.js';
import type { SnapshotOwner } from '../domain/snapshot-owner.js';
import type { EvacuationInput, FenceRecord, JobOutcome } from '../domain/evacuation.js';
import type { PlanForecast } from '../domain/plan-forecast.js';
import type { EnginePace } from '../domain/engine-pace.js';
import type { EvacuationReport } from '../domain/report.js';
import type { NamespaceCheck, ObjectRef } from '../domain/target-readiness.js';
import type { RestoreEvidence } from '../domain/restore-verdict.js';
import type { RestoreRequest } from '../domain/flink-spec.js';
import type { PlatformErrorCode } from './errors.js';

/** Field manager used for every server-side apply and patch az-evac makes. */
export const FIELD_MANAGER = 'az-evac';

/** Observed state of one FlinkDeployment in one AZ. */
export interface DeploymentStatus {
  az: string;
  namespace: string;
  name: string;
  /** metadata.generation of the resource. */
  generation: number;
  /** spec.job.state */
  specState: 'running' | 'suspended';
  /** spec.job.savepointRedeployNonce, if set. */
  savepointRedeployNonce?: number;
  /** spec.job.initialSavepointPath, if set. */
  initialSavepointPath?: string;
  /** status.lifecycleState: CREATED, DEPLOYED, STABLE, SUSPENDED, FAILED, UPGRADING, ... */
  lifecycleState?: string;
  /** status.jobStatus.state: RUNNING, CREATED, RECONCILING, FAILED, ... */
  jobState?: string;
  /** status.jobStatus.jobId: a fresh JobID per non-last-state deploy. */
  jobId?: string;
  /** status.observedGeneration (from reconciliationStatus) — the generation the operator acted on. */
  observedGeneration?: number;
  /**
   * status.jobManagerDeploymentStatus: READY, DEPLOYED_NOT_READY, DEPLOYING, MISSING (the
   * operator deleted the JobManager Deployment, e.g. after a suspend), ERROR.
   */
  jobManagerDeploymentStatus?: string;
  /** status.error, set by the operator when the resource is FAILED or a reconcile failed (e.g. a savepoint error). */
  error?: string;
  /**
   * status.jobStatus.upgradeSavepointPath: the savepoint (or, after a last-state stop, the dummy
   * path KUBERNETES_OPERATOR_LAST_STATE) the operator took when it last stopped the job
   * (AbstractJobReconciler.setUpgradeSavepointPath, operator release-1.13.0 to 1.15.0).
   */
  upgradeSavepointPath?: string;
  /** metadata.uid, where the platform has one (an Event about the resource names it). */
  uid?: string;
  labels: Record<string, string>;
}

/** spec.job.upgradeMode values of the FlinkDeployment CRD. */
export type UpgradeMode = 'savepoint' | 'last-state' | 'stateless';

/**
 * A Kubernetes Event about one FlinkDeployment (what `kubectl describe flinkdeployment`
 * lists). `id` makes it idempotent: recording the same id twice records one Event.
 */
export interface DeploymentEvent {
  namespace: string;
  name: string;
  /** metadata.uid of the FlinkDeployment (kubectl describe matches Events by it). */
  uid?: string;
  type: 'Normal' | 'Warning';
  /** CamelCase reason, e.g. AzEvacFenced. */
  reason: string;
  message: string;
  /** Stable identity of this Event (e.g. the run and the action): a retry does not add a second one. */
  id: string;
}

/** Result of a server-side apply. */
export interface ApplyResult {
  /** True when the resource did not exist before. */
  created: boolean;
  /** metadata.generation after the apply (unchanged when the apply changed nothing). */
  generation: number;
  /** metadata.uid, where the platform has one (an Event about the resource names it). */
  uid?: string;
}

/** Progress reported while waiting, for activity heartbeats. */
export type WaitProgress = (status: DeploymentStatus | null) => void;

/** One Kubernetes cluster per AZ, each running the Flink Kubernetes Operator. */
export interface ClusterPort {
  /** Free capacity of the AZ: allocatable minus what running FlinkDeployments request. */
  capacity(az: string): Promise<Capacity>;
  /** The resource's state, or null when it does not exist. */
  getDeployment(az: string, namespace: string, name: string): Promise<DeploymentStatus | null>;
  /** Server-side apply with field manager `az-evac` (force). Idempotent. */
  apply(az: string, manifest: FlinkDeploymentManifest): Promise<ApplyResult>;
  /**
   * Restore an existing resource. With `initialSavepointPath`: a savepoint redeploy (operator
   * ≥ 1.8), merge patch of spec.job.initialSavepointPath, spec.job.savepointRedeployNonce and
   * state running; idempotent for the same nonce. Without it: a stateless resume, merge patch
   * of state running, upgradeMode stateless and initialSavepointPath null (explicitly removed:
   * a merge patch that omits it keeps an old drill's path); the nonce is NOT changed, since the
   * operator rejects a nonce change with an empty path on a resource it reconciled before
   * ("InitialSavepointPath must not be empty for savepoint redeployment", DefaultValidator
   * release-1.15.0 L524-531) and resumes a suspended job with upgradeMode stateless from empty
   * state (AbstractJobReconciler L191-207, L402-425). With `haZooKeeperRoot`, the same patch
   * sets `spec.flinkConfiguration["high-availability.zookeeper.path.root"]` (domain/flink-spec.ts
   * restoreSpecPatch). `annotations` (who restored it and why: domain/fence.ts applyMark,
   * failbackMark) are merged into metadata.annotations in the same patch. Idempotent.
   */
  restore(az: string, namespace: string, name: string, restore: RestoreRequest, annotations?: Record<string, string>): Promise<DeploymentStatus>;
  /**
   * spec.job.state: suspended, and `annotations` (who suspended it and why: domain/fence.ts)
   * merged into metadata.annotations in the same merge patch. Idempotent; a missing resource
   * is not an error (returns null). The answer is the resource as patched: the suspend is
   * requested, not yet done (domain/fence.ts stopVerdict says when it is).
   */
  suspend(az: string, namespace: string, name: string, annotations?: Record<string, string>): Promise<DeploymentStatus | null>;
  /**
   * Record a Kubernetes Event on a FlinkDeployment. Idempotent by `event.id`. Callers treat
   * it as best effort: a failed Event never fails a job.
   */
  recordEvent(az: string, event: DeploymentEvent): Promise<void>;
  /**
   * Stop the job with a savepoint: merge patch of spec.job.state suspended and
   * spec.job.upgradeMode savepoint (the operator takes the upgrade mode of the desired spec,
   * AbstractJobReconciler.getJobUpgrade; a change of upgradeMode alone is no spec change,
   * JobSpec `@SpecDiff(IGNORE)`). The operator then stops the running job with a savepoint and
   * writes its path to status.jobStatus.upgradeSavepointPath, or writes status.error (the job runs
   * on). Returns at once with the status after the patch (its generation is the one to watch,
   * domain/planned-stop.ts savepointStopVerdict). Idempotent; a missing resource returns null.
   */
  stopWithSavepoint(az: string, namespace: string, name: string): Promise<DeploymentStatus | null>;
  /**
   * Take back a stop-with-savepoint that failed or timed out: merge patch of spec.job.state
   * running and spec.job.upgradeMode back to `upgradeMode` (null: removed, the CRD default
   * stateless). The operator then keeps the job running (the spec equals the one it runs), or,
   * if the stop completed meanwhile, restores it from the savepoint just taken. Idempotent.
   * @throws PlatformError('not-found') when the resource is gone
   */
  undoStop(az: string, namespace: string, name: string, upgradeMode: UpgradeMode | null): Promise<DeploymentStatus>;
  /**
   * Delete a FlinkDeployment (the operator stops its job; no savepoint) and its HA
   * ConfigMaps. Idempotent. Used by failback to remove copies an evacuation created.
   * @returns true when it existed
   */
  deleteDeployment(az: string, namespace: string, name: string): Promise<boolean>;
  /** Merge-patch labels (and `annotations`: who and why, domain/fence.ts applyMark) onto a resource in one patch (e.g. to mark a promoted standby active). */
  label(az: string, namespace: string, name: string, labels: Record<string, string>, annotations?: Record<string, string>): Promise<DeploymentStatus>;
  /**
   * Delete stale HA ConfigMaps (`app=<name>,configmap-type=high-availability`) in the
   * namespace; they would silently win over initialSavepointPath on a first deploy.
   * @returns how many were deleted
   */
  deleteHaConfigMaps(az: string, namespace: string, name: string): Promise<number>;
  /**
   * The readiness check of a target namespace (domain/target-readiness.ts): whether
   * `namespace` exists in `az` and which of `refs` (ServiceAccounts, Secrets, ConfigMaps,
   * PersistentVolumeClaims) it lacks. Reads metadata only, one named object at a time (never
   * a list, never a Secret's data); an object the identity may not read (403) is reported in
   * `unchecked` with the reason, not thrown. Read-only.
   */
  checkObjects(az: string, namespace: string, refs: readonly ObjectRef[]): Promise<NamespaceCheck>;
  /**
   * Wait (watch or long-poll, never a tight loop) until the job counts RUNNING by
   * domain/restore-verdict.ts: the operator reports lifecycleState STABLE/DEPLOYED with
   * jobStatus RUNNING at a generation ≥ `minGeneration` AND, when `restoring`, Flink completed
   * a checkpoint after the restore (or Flink says checkpointing is not enabled: `not-verified`).
   * Calls `onProgress` at least every few seconds. API trouble on its reads (5xx, 429,
   * connection failures) is the platform's, not the job's: it is read through until the
   * deadline, not thrown before it (docs/guarantees.md), so a caller's attempts count only what
   * the job does.
   * @returns the status with the evidence that the restore ended
   * @throws PlatformError('failed', non-retryable) with the operator's status.error when the
   *   resource goes FAILED, or with the JobManager's newest exception when a restore loops
   *   (RESTORE_LOOP_RESTARTS restarts without a checkpoint); PlatformError('timeout') after
   *   `timeoutSeconds`, naming what it still waited for
   */
  waitForRunning(
    az: string,
    namespace: string,
    name: string,
    opts: { minGeneration: number; timeoutSeconds: number; restoring?: boolean; onProgress?: WaitProgress; signal?: AbortSignal },
  ): Promise<RunningStatus>;
}

/** A job that counts RUNNING, with what showed its restore ended. */
export type RunningStatus = DeploymentStatus & { restore: RestoreEvidence };

/** Where a jar is, in one AZ's object store. */
export type ArtifactPlace = 'repository' | 'cache';

/** One S3-compatible object store per AZ, with cross-AZ replication. */
export interface ObjectStorePort {
  /**
   * The snapshot directories of `owner`'s job ids in the AZ's replica of the state bucket
   * (`<checkpointPrefix>/<jobId>/chk-<n>/`, `<savepointPrefix>/savepoint-<6 hex of jobId>-<12 hex>/`;
   * never another job id's under the same prefixes), newest first, complete or not, with no
   * file checked: listings plus one HEAD of each `_metadata`. Empty when the owner has no job id
   * or its bucket does not exist.
   */
  listSnapshots(az: string, owner: SnapshotOwner): Promise<SnapshotCandidate[]>;
  /**
   * Choose `owner`'s snapshot to restore from in the AZ's replica (domain/snapshot-choice.ts):
   * candidates as listSnapshots finds them, checked newest first (`_metadata` read, every
   * referenced file looked up), stopping at the first complete one that `query` accepts.
   * Requests per lookup are bounded as docs/flink-snapshots.md "How az-evac uses it" says.
   * An owner with no job id or an entropy-injected path gets `none` with the reason, no request.
   */
  findSnapshot(az: string, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice>;
  /**
   * Whether `jar` is present with its digest in the AZ's jar repository (replicated,
   * HDD-backed: slow under contention) or jar cache (the artifact bucket the clusters read).
   */
  hasArtifact(az: string, jar: JarArtifact, place: ArtifactPlace): Promise<boolean>;
  /**
   * Copy `jar` from the AZ's repository into its artifact bucket (server-side copy),
   * verify the digest after copy. Skips (copiedBytes 0) when already present with the
   * same digest. Throws PlatformError('not-found') when the repository lacks it.
   * `onBytes`, when given, is called with the bytes of each finished copy request (adapters
   * that copy in one step may call it once, or not at all).
   */
  preloadArtifact(az: string, jar: JarArtifact, onBytes?: (bytes: number) => void): Promise<{ copiedBytes: number }>;
}

/**
 * A savepoint protection triggered through the operator (platform/kube/savepoint-trigger.ts):
 * through a FlinkStateSnapshot resource where the cluster serves that CRD (operator ≥ 1.10),
 * else through spec.job.savepointTriggerNonce.
 */
export interface SavepointTrigger {
  az: string;
  namespace: string;
  /** The FlinkDeployment. */
  name: string;
  via: 'flinkstatesnapshot' | 'nonce';
  /** The caller's id of this trigger (digits): the nonce, or the suffix of the resource name. */
  id: string;
  format: SavepointFormat;
  /** The FlinkStateSnapshot's name, with `via: 'flinkstatesnapshot'`. */
  resource?: string;
}

/** Where a savepoint trigger stands, as the operator reports it. */
export type SavepointProgress =
  | { state: 'pending'; detail: string }
  | { state: 'completed'; path: string }
  /** `reason`: the operator's (FlinkStateSnapshot status.error), or why the trigger is gone. */
  | { state: 'failed'; reason: string };

/**
 * Savepoints of RUNNING jobs through the operator, for protection (docs/protection.md). Never
 * suspends, restarts or reconfigures the job.
 */
export interface SavepointPort {
  /**
   * Trigger a savepoint of FlinkDeployment `namespace/name` in `az`. Idempotent by `id`.
   * @param o.id 1–16 decimal digits, unique per attempt (a retried call with the same id triggers once)
   * @param o.format native or canonical (FlinkStateSnapshot spec.savepoint.formatType; a nonce trigger takes the operator's configured format)
   * @throws PlatformError('not-found') when the FlinkDeployment does not exist
   */
  triggerSavepoint(az: string, namespace: string, name: string, o: { id: string; format: SavepointFormat }): Promise<SavepointTrigger>;
  /** Where `trigger` stands now (one read). */
  savepointProgress(trigger: SavepointTrigger): Promise<SavepointProgress>;
  /** Remove what the trigger left in the cluster (its FlinkStateSnapshot; the savepoint data stays). Idempotent. */
  releaseSavepointTrigger(trigger: SavepointTrigger): Promise<void>;
}

/** A savepoint shipped into another AZ's state bucket (platform/s3/snapshot-shipping.ts). */
export interface ShippedSavepoint {
  /** The copy, `s3://<target AZ's state bucket>/<savepoint dir>`. */
  path: string;
  /** Files its `_metadata` references, all verified present with the source's sizes. */
  files: number;
  /** Bytes this call copied (a retried ship copies only what was missing). */
  copiedBytes: number;
  /** The savepoint's completion time (its source `_metadata`'s), epoch seconds. */
  completedAtEpochSeconds: number;
}

/**
 * Ships savepoints between AZs whose object stores do not replicate (PlatformProfile
 * notReplicated) and expires the copies (docs/protection.md). Copies are listed by
 * ObjectStorePort.listSnapshots (SnapshotCandidate.shippedFrom).
 */
export interface SnapshotShippingPort {
  /**
   * Copy the savepoint `path` (`s3://<fromAz's state bucket>/<savepoint dir>`) into `toAz`'s
   * state bucket under the same key, `_metadata` last, and verify the copy against its
   * `_metadata` and every file it references. Idempotent.
   * @throws PlatformError('not-found') when the savepoint is incomplete or gone; 'invalid' when
   *   it is not Flink's format, not relocatable, or the copy fails verification; 'forbidden'
   *   (or another class) when a store refuses
   */
  shipSavepoint(fromAz: string, toAz: string, path: string): Promise<ShippedSavepoint>;
  /**
   * Delete a copy this port shipped into `az` (`_metadata` first). Idempotent.
   * @returns objects deleted
   * @throws PlatformError('invalid') when `path` is not a shipped copy (never deletes a job's own savepoint)
   */
  deleteShipped(az: string, path: string): Promise<number>;
}

/** Reads the live fleet from every reachable AZ, for catalog sync. */
export interface FleetSource {
  /**
   * Every reachable AZ's jobs as the platform shows them now; AZs that do not answer are
   * listed in `unreachableAzs` (their jobs are absent). Throws 'az-down' when none answers.
   */
  readFleet(): Promise<{ platform: PlatformProfile; jobs: FleetJob[]; unreachableAzs: string[] }>;
}

/**
 * Versioned catalog storage. The production store (platform/s3/replicated-state-store.ts)
 * survives the loss of any one AZ; the file store (platform/catalog-file-store.ts) is for the demo and tests.
 */
export interface CatalogStore {
  /** Store `catalog` under its version (a version is written once; rewriting is a no-op). */
  put(catalog: Catalog): Promise<void>;
  /** The newest catalog, or null when none was ever synced. */
  latest(): Promise<Catalog | null>;
  /** The catalog of a version; throws PlatformError('not-found') when absent. */
  get(version: number): Promise<Catalog>;
}

/** A plan as stored for an evacuation: the request, the tier policy in force and the plan. */
export interface StoredPlan {
  request: EvacuationInput;
  policy: TiersPolicy;
  plan: Plan;
  /**
   * Present while the plan waits for its forecast (Plan.rto, Plan.protection: domain/plan-forecast.ts),
   * made after the first tier is dispatched: what the forecast needs from planning's reads.
   * getPlan drops it once the forecast is stored and merged in.
   */
  pendingForecast?: {
    /** Digests (`sha256:…`) of the plan's jars found in the target AZ's jar cache while planning. */
    jarsInCache: string[];
    /** The worker's pace over planning's own work (domain/engine-pace.ts); absent where it could not be read. */
    pace?: EnginePace;
  };
}

/**
 * Plans, per-job outcomes and fences of evacuation runs, kept off Temporal payloads
 * (docs/design.md#temporal-limits). Keyed by the run's recordsKey() (domain/evacuation.ts),
 * so runs never read each other's records.
 */
export interface EvacuationStore {
  /** Store the plan of an evacuation with its request and policy (idempotent: same id, same plan). */
  putPlan(evacuationId: string, stored: StoredPlan): Promise<void>;
  /**
   * The stored plan; throws PlatformError('not-found') when absent. A plan stored with
   * `pendingForecast` comes with its forecast merged in (domain/plan-forecast.ts withForecast)
   * once putForecast has stored it, also when this process read the plan before.
   */
  getPlan(evacuationId: string): Promise<StoredPlan>;
  /**
   * Store the forecast of a plan stored with `pendingForecast`, under its own key (records are
   * written once; idempotent: same id, same forecast).
   */
  putForecast(evacuationId: string, forecast: PlanForecast): Promise<void>;
  /** Record outcomes; a later record for the same job key replaces the earlier one. */
  putOutcomes(evacuationId: string, outcomes: JobOutcome[]): Promise<void>;
  /** All recorded outcomes, one per job key. */
  listOutcomes(evacuationId: string): Promise<JobOutcome[]>;
  /** Record (or update) the fence of one source copy; a later record for the same key replaces the earlier one. */
  putFence(evacuationId: string, fence: FenceRecord): Promise<void>;
  /** Every fence recorded for an evacuation (pending or done), one per job key. */
  listFences(evacuationId: string): Promise<FenceRecord[]>;
}

/**
 * Reports (evacuation and drill; JSON and HTML) kept where the CLI and the console read
 * them from any host. A report is named by what it reports on (`<recordsKey>.report.json`,
 * `<drillId>.drill.html`); `put` returns its reference, which people see and `read` takes.
 */
export interface ReportStore {
  /** Store `body` (UTF-8) under `name`; a rewrite (a retried activity) replaces it. @returns the report's reference */
  put(name: string, body: string): Promise<string>;
  /** The reference `put(name, …)` returns, without writing (a report that names itself). */
  refOf(name: string): string;
  /** The body of the report `ref` names (a reference `put` returned); throws PlatformError('not-found') when absent. */
  read(ref: string): Promise<string>;
}

/**
 * Fault injection on a simulated platform (drills: take an AZ down, bring it back). The
 * simulator implements it; on real clusters a drill injects faults with a hook command.
 */
export interface FaultInjectionPort {
  /** Take `az` down (its API server and object store stop answering, jobs freeze) or bring it back. Idempotent. */
  setAzDown(az: string, down: boolean): Promise<void>;
}

/**
 * What activities record for monitoring (platform/prometheus-metrics.ts serves it on the
 * worker's /metrics). Recording never throws and never blocks an evacuation.
 */
export interface EngineMetrics {
  /** An evacuation or drill run wrote its report: outcome, jobs by tier and outcome, tier RTO and RPO paid vs targets (seconds). */
  recordReport(report: EvacuationReport): void;
  /** The readiness findings of the plan just computed (replaces the previous plan's). */
  recordFindings(findings: Finding[]): void;
  /** The RTO forecast of the plan just computed (replaces the previous plan's): jobs predicted to miss their tier's RTO, per tier. */
  recordForecast(forecast: RtoForecast): void;
  /**
   * The protection of the jobs just assessed (replaces the previous set: domain/rpo-now.ts
   * tierRpoNow): per tier, the worst RPO an evacuation would pay now (seconds) and the jobs unprotected.
   */
  recordProtection(list: readonly JobProtection[]): void;
  /**
   * The same per tier, from a fleet assessed in parts (a protection pass's shards, merged by
   * domain/rpo-now.ts mergeTierRpoNow); replaces the previous set.
   */
  recordProtectionTiers(tiers: readonly TierRpoNow[]): void;
  /**
   * A protection pass ended (activities/protection-pass.ts): savepoints taken and failed after
   * their retries, copies shipped and failed, bytes shipped, the pass's wall seconds.
   */
  recordProtectionPass(pass: { savepointsTaken: number; savepointsFailed: number; copiesShipped: number; copiesFailed: number; shippedBytes: number; durationSeconds: number }): void;
  /** A catalog sync ended: stored (with its job count and end time, epoch ms) or failed. */
  recordCatalogSync(result: { ok: true; jobs: number; endedAtMs: number } | { ok: false }): void;
  /** Jar bytes a preload copied into the target AZ. */
  recordPreloadBytes(bytes: number): void;
  /** A platform call failed (platform/api-error-counting.ts says which calls and how they are classed). */
  recordPlatformApiError(error: PlatformApiError): void;
}

/**
 * One failed call to a platform API, as counted on /metrics. Every label is bounded: the
 * platform adapter, an AZ of the platform profile, a port method, an error class.
 */
export interface PlatformApiError {
  /** Which adapter answered: the Kubernetes API servers, the S3 object stores, or the simulator. */
  platform: 'kubernetes' | 's3' | 'simulator';
  /** The AZ the call concerned ('' for calls over every AZ, e.g. readFleet). */
  az: string;
  /** The port method (ClusterPort, ObjectStorePort, FleetSource), e.g. apply, findSnapshot. */
  operation: string;
  /** The PlatformError code (platform/errors.ts), or 'unclassified' for any other error. */
  class: PlatformErrorCode | 'unclassified';
}

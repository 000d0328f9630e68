/**
 * The fleet model shared by every layer: jobs, availability zones, tiers, the catalog,
 * snapshots and plans. Pure types only (no I/O); units are in the field names or docs.
 *
 * Field facts come from docs/design.md (tiers; Flink and operator facts) and the Apache Flink Kubernetes
 * Operator CRD (flink.apache.org/v1beta1 FlinkDeployment).
 */
import type { JobProtection, ProtectionPolicy } from './protection.js';
import type { EnginePace } from './engine-pace.js';

/** Priority tier. P0 hot standby, P1 cold standby, P2 regular, P3 preemptible (docs/design.md#tiers-capacity-and-lineage). */
export type Tier = 'P0' | 'P1' | 'P2' | 'P3';

/** All tiers, highest priority first. */
export const TIERS: readonly Tier[] = ['P0', 'P1', 'P2', 'P3'];

/**
 * How a tier is evacuated.
 * - `promote-standby`: a hot copy already runs in the target AZ; verify RUNNING and make it active.
 * - `resume-standby`: a suspended cold copy exists in the target AZ; patch initialSavepointPath,
 *   bump savepointRedeployNonce, set state running (operator ≥ 1.8).
 * - `redeploy`: render the FlinkDeployment for the target AZ and server-side apply it.
 */
export type Strategy = 'promote-standby' | 'resume-standby' | 'redeploy';

/** What to do when no snapshot within the tier's RPO exists in the target AZ's replica. */
export type NoSnapshotAction = 'fail' | 'restore-stateless' | 'skip';

/**
 * Object-store layout across AZs (docs/design.md#relocatability).
 * - `symmetric`: same bucket names and key layout in every AZ, only `s3.endpoint` differs;
 *   replicated checkpoints (absolute s3:// paths in `_metadata`) are restorable.
 * - `per-az-buckets`: each AZ has its own bucket names; only savepoints (relocatable,
 *   Flink ≥ 1.11) are restorable across AZs.
 */
export type StorageLayout = 'symmetric' | 'per-az-buckets';

/** A FlinkDeployment as a plain object (apiVersion flink.apache.org/v1beta1). */
export interface FlinkDeploymentManifest {
  apiVersion: 'flink.apache.org/v1beta1';
  kind: 'FlinkDeployment';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown> & {
    image?: string;
    flinkVersion?: string;
    flinkConfiguration?: Record<string, unknown>;
    job?: Record<string, unknown>;
    podTemplate?: Record<string, unknown>;
  };
}

/** One availability zone of the platform: one Kubernetes cluster and one object store. */
export interface AzProfile {
  /** AZ name as operators type it, e.g. `az-a`. */
  name: string;
  /** Value of `topology.kubernetes.io/zone` for this AZ's nodes, e.g. `us-east-1a`. */
  zone: string;
  /** Container registry mirror inside this AZ, e.g. `registry.az-a.example.internal`. */
  imageRegistry: string;
  /** S3 endpoint of this AZ's object store, e.g. `https://s3.az-a.example.internal`. */
  s3Endpoint: string;
  /** Bucket holding checkpoints and savepoints (same name in every AZ under `symmetric`). */
  stateBucket: string;
  /** Bucket holding job jars (the preload target). */
  artifactBucket: string;
}

/**
 * Name of an AZ's replicated jar repository bucket (CI publishes every jar there; a
 * preload copies from it into `artifactBucket`).
 */
export function jarRepositoryBucket(artifactBucket: string): string {
  return `${artifactBucket}-repository`;
}

/** The platform's AZs and storage layout. */
export interface PlatformProfile {
  layout: StorageLayout;
  azs: AzProfile[];
  /**
   * Directed AZ pairs whose object stores do NOT replicate the state bucket (`from`'s
   * snapshots never reach `to`'s bucket by themselves): protection ships savepoints across
   * them with S3 copies (domain/protection.ts). Absent or empty: every pair replicates.
   */
  notReplicated?: Array<{ from: string; to: string }>;
}

/** A job jar. Identified across AZs by digest. */
export interface JarArtifact {
  /** Object key inside the artifact bucket, e.g. `jars/payments-enricher-4.2.1.jar`. */
  key: string;
  /** Content digest, `sha256:<64 hex>`. */
  digest: string;
  /** Size in bytes. */
  sizeBytes: number;
}

/** Where a job's standby copy lives (P0 hot, P1 cold). */
export interface StandbyRef {
  kind: 'hot' | 'cold';
  az: string;
  namespace: string;
  name: string;
}

/** One Flink job as the catalog knows it: the FlinkDeployment plus az-evac metadata. */
export interface FleetJob {
  /** FlinkDeployment name (≤ 45 chars, `[a-z]([-a-z0-9]*[a-z0-9])?`). */
  name: string;
  namespace: string;
  /** AZ the job currently runs in. */
  az: string;
  tier: Tier;
  team: string;
  /** The FlinkDeployment as deployed in `az`. */
  deployment: FlinkDeploymentManifest;
  standby?: StandbyRef;
  /** Topics (Kafka or similar) the job reads and writes, for lineage lifting. */
  lineage: { consumes: string[]; produces: string[] };
  jars: JarArtifact[];
  /** Requested resources of all JobManager + TaskManager pods: cores and MiB. */
  resources: { cores: number; memoryMiB: number };
  /** Size of the job's state in bytes, as the platform reported it at catalog sync (drives restore time in the latency model). */
  stateSizeBytes: number;
  /**
   * true: the platform reported no state size and `stateSizeBytes` is the nominal
   * DEFAULT_STATE_BYTES (domain/fleet-contract.ts), e.g. on Kubernetes, whose resources carry none.
   */
  stateSizeNominal?: boolean;
  /** Key prefixes inside the AZ's stateBucket (no bucket, no scheme), e.g. `checkpoints/ns/name`. */
  checkpointPrefix: string;
  savepointPrefix: string;
  /**
   * Flink job ids this job has had (status.jobStatus.jobId of its primary FlinkDeployment as
   * catalog sync saw it), newest first, at most MAX_JOB_IDS (domain/snapshot-owner.ts): whose
   * snapshots it may restore from. Absent in catalogs older than this field.
   */
  jobIds?: string[];
}

/** Stable identity of a job across AZs: `namespace/name`. */
export type JobKey = string;

/** `namespace/name` of a job. */
export function jobKey(job: { namespace: string; name: string }): JobKey {
  return `${job.namespace}/${job.name}`;
}

/**
 * A versioned snapshot of every AZ's jobs, reachable when the source AZ is dead.
 * Workflows pass `version` only, never the catalog itself (Temporal payload ≤ 2 MB).
 */
export interface Catalog {
  /** Monotonic version; a re-sync writes version + 1. */
  version: number;
  /** ISO-8601 time the catalog was taken. */
  takenAt: string;
  platform: PlatformProfile;
  jobs: FleetJob[];
}

/** Free capacity of an AZ, in cores and MiB. */
export interface Capacity {
  cores: number;
  memoryMiB: number;
}

/**
 * A snapshot directory found in an AZ's replica, before its files are checked: what listing
 * the job's own directories and one HEAD of each `_metadata` tell (platform/ports.ts ObjectStorePort).
 */
export interface SnapshotCandidate {
  kind: 'checkpoint' | 'savepoint';
  /** Full path as Flink would use it: `s3://<bucket>/<key of the snapshot directory>`. */
  path: string;
  /** `_metadata`'s last-modified time, else (no `_metadata`) the newest file's; epoch seconds. */
  completedAtEpochSeconds: number;
  /** `_metadata` present (it is written last; without it the snapshot is incomplete). */
  hasMetadata: boolean;
  /**
   * Set on a copy protection shipped into this AZ's bucket (platform/s3/snapshot-shipping.ts):
   * the source directory, `s3://bucket/key`. Its completion time is then the source's.
   */
  shippedFrom?: string;
}

/** A snapshot whose `_metadata` was read and whose referenced files were checked in one replica. */
export interface SnapshotEntry extends SnapshotCandidate {
  /** Every file `_metadata` references is present in this replica (false under replication lag). */
  referencedFilesPresent: boolean;
  /** When files are missing: how many, and the first one (`s3://bucket/key`). */
  missing?: { count: number; first: string };
  /**
   * Bytes of state the snapshot's `_metadata` records for the files it references (what a
   * restore reads; domain/snapshot-layout.ts readSnapshotFiles). Absent when `_metadata` was not read.
   */
  stateBytes?: number;
  /**
   * Why this snapshot can never be restored from this replica whatever arrives later: its
   * `_metadata` is unreadable (unknown Flink format version or handle, corrupt) or references
   * files outside the job's directories (entropy injection). Absent when none.
   */
  problem?: string;
}

/** Outcome of snapshot choice for one job. */
export type SnapshotChoice =
  | { kind: 'snapshot'; snapshot: SnapshotEntry; ageSeconds: number; skipped: SkippedSnapshot[] }
  | { kind: 'none'; reason: string; skipped: SkippedSnapshot[] };

/** A snapshot passed over during choice, with why. */
export interface SkippedSnapshot {
  path: string;
  reason: string;
}

/** Protection of a plan's restoring jobs toward its target AZ (Plan.protection). */
export interface PlanProtection {
  /** One per job looked up, each assessed with only the target AZ as the other AZ (domain/protection.ts assessProtection). */
  jobs: JobProtection[];
  /** Jobs not looked up within the plan's snapshot lookup budget: nothing is claimed about them. */
  notLookedUp: JobKey[];
}

/** A readiness problem found while planning. `blocking` findings fail the job before acting. */
export interface Finding {
  job: JobKey;
  code:
    | 'no-standby'
    | 'standby-missing'
    | 'jars-missing'
    | 'manifest-invalid'
    | 'does-not-fit'
    | 'lineage-unresolved'
    | 'catalog-stale'
    | 'name-clash'
    | 'target-namespace-missing'
    | 'target-refs-missing'
    | 'target-pull-secret-missing'
    | 'target-refs-unchecked'
    | 'zonal-volume'
    | 'zookeeper-ha-left'
    | 'predicted-rto-miss'
    | 'unprotected';
  message: string;
  blocking: boolean;
}

/** Policy of one tier, from tiers.yaml. Times in seconds. */
export interface TierPolicy {
  tier: Tier;
  strategy: Strategy;
  /** Recovery time objective: trigger → RUNNING in the target AZ, seconds. */
  rtoSeconds: number;
  /** Recovery point objective: the oldest snapshot this tier may restore from, seconds. */
  rpoSeconds: number;
  /** Jobs of this tier in flight at once (per-job child workflows pending). ≥ 1. */
  maxConcurrency: number;
  onNoSnapshot: NoSnapshotAction;
  /** P3 jobs already in the target AZ may be suspended to free capacity for higher tiers. */
  preemptible: boolean;
  /** Longest a job may take from apply to RUNNING before it is FAILED, seconds. */
  startupTimeoutSeconds: number;
}

/**
 * Wall seconds without a heartbeat after which a step a worker was running counts as lost
 * (the worker died or lost the server) and is retried on another worker: how long a dead
 * worker stalls its jobs. Real seconds, not divided by the time scale. A running step
 * heartbeats every third of its timeout (each heartbeat is a server write).
 */
export interface HeartbeatTimeouts {
  /** The start step (snapshot choice, jars, fence, apply). */
  startStep: number;
  /** Least timeout of the start-up wait, whose timeout is a fifth of the tier's startupTimeoutSeconds within [startupWaitMin, 180]. */
  startupWaitMin: number;
}

/** Heartbeat timeouts when tiers.yaml sets none, seconds. */
export const DEFAULT_HEARTBEAT_TIMEOUTS: Readonly<HeartbeatTimeouts> = { startStep: 60, startupWaitMin: 30 };

/** The whole tiers.yaml policy. */
export interface TiersPolicy {
  /** Order in which tiers are admitted to the target AZ's capacity; a permutation of TIERS. */
  admissionOrder: Tier[];
  /**
   * When true, a lower tier may start while a higher tier is still running, using
   * concurrency slots the higher tier leaves idle; when false, tiers run strictly one
   * after the other.
   */
  borrowIdleSlots: boolean;
  /**
   * Seconds between passes of the fencing follow-up, which suspends the source copies of
   * moved jobs once the failed AZ answers again and keeps looking at copies whose suspend
   * was accepted but not yet seen done (tiers.yaml, default 10).
   */
  fenceIntervalSeconds: number;
  /**
   * Seconds a job's start step waits for its fenced source copy to be seen stopped before
   * deploying the target copy anyway and reporting the fence "requested, not observed"
   * (tiers.yaml, default 60).
   */
  fenceObserveSeconds: number;
  tiers: Record<Tier, TierPolicy>;
  /**
   * The clock every duration of this policy is in: 1 on a real platform (tiers.yaml as
   * written); N when the worker drives a simulated platform running N× faster than real time,
   * in which case RTOs, RPOs, start-up timeouts, the fence interval and observation wait were divided by N once,
   * when the worker loaded the policy (onPlatformClock). Reports say which clock they used.
   */
  timeScale: number;
  /** Heartbeat timeouts of the job steps; DEFAULT_HEARTBEAT_TIMEOUTS when absent. */
  heartbeatTimeoutSeconds?: HeartbeatTimeouts;
  /**
   * Bound on a planned move's stop-with-savepoint in the source AZ, and again on the wait for
   * that savepoint in the target AZ's replica: `baseSeconds + secondsPerGiB × state GiB`
   * (domain/planned-stop.ts savepointTimeoutSeconds). DEFAULT_SAVEPOINT_TIMEOUT when absent.
   */
  savepointTimeout?: SavepointTimeout;
  /** Continuous protection (tiers.yaml `protection`, domain/protection.ts); NO_PROTECTION when absent. */
  protection?: ProtectionPolicy;
}

/** How long a planned move waits for a job's stop-with-savepoint (and its replication), seconds. */
export interface SavepointTimeout {
  /** Seconds whatever the state size (trigger, barrier alignment, stop). > 0. */
  baseSeconds: number;
  /** Seconds more per GiB of state (writing it; replicating it). ≥ 0. */
  secondsPerGiB: number;
}

/** Savepoint timeout when tiers.yaml sets none: 120 s + 60 s per GiB (a GiB at ~17 MiB/s, generous). */
export const DEFAULT_SAVEPOINT_TIMEOUT: Readonly<SavepointTimeout> = { baseSeconds: 120, secondsPerGiB: 60 };

/** A job as the planner placed it. */
export interface PlannedJob {
  key: JobKey;
  name: string;
  namespace: string;
  /** Tier after lineage lifting. */
  tier: Tier;
  /** Tier in the catalog. */
  catalogTier: Tier;
  /** The consumer (job key) whose tier lifted this producer, if lifted. */
  liftedFor?: JobKey;
  strategy: Strategy;
  cores: number;
  memoryMiB: number;
  /** Distinct jar digests the job needs in the target AZ. */
  jarDigests: string[];
}

/** A job in the target AZ to suspend to make room (P3, preemptible tier). */
export interface Preemption {
  key: JobKey;
  name: string;
  namespace: string;
  cores: number;
  memoryMiB: number;
  /** The admitted job (key) whose admission needed this capacity. */
  forJob: JobKey;
}

/**
 * Per-job time to RUNNING predicted before the trigger (domain/rto-estimate.ts), on the
 * engine's clock (the policy's: platform seconds divided by its timeScale, as the report).
 */
export interface RtoForecast {
  /** The rates the estimate used and where each came from. */
  rates: RtoRates;
  /** Model seconds per engine second (TiersPolicy.timeScale) the seconds below are divided by. */
  timeScale: number;
  /** The worker's pace the plan measured (domain/engine-pace.ts), whether or not it scaled the engine terms; absent: not measured. */
  pace?: EnginePace;
  jobs: JobRtoForecast[];
}

/** Where a rate of RtoRates came from: the documented default, or measured from previous runs' jobs. */
export type RateSource = { from: 'default' } | { from: 'measured'; jobs: number };

/** Platform rates behind a forecast: seconds and bytes per second of the platform's own clock (model seconds on a simulator). */
export interface RtoRates {
  /** A restoring start (redeploy, resume-standby): job dispatched → RUNNING, less jar fetch and state restore, seconds. */
  startupSeconds: number;
  startupFrom: RateSource;
  /** State restored per second by one job, bytes/s. */
  restoreBytesPerSecond: number;
  restoreFrom: RateSource;
  /** A hot standby's promotion: job dispatched → RUNNING, seconds. */
  promoteSeconds: number;
  promoteFrom: RateSource;
  /** Jar bytes per second from the target AZ's jar cache (preloaded jars) and from its replicated repository; always the documented defaults. */
  cacheBytesPerSecond: number;
  repositoryBytesPerSecond: number;
  /**
   * The platform's shared limits and operator delays (always the documented defaults of
   * domain/rto-estimate.ts DEFAULT_RTO_RATES, sources there and in docs/design.md#predicted-rto).
   * Absent in forecasts stored before they existed.
   */
  platform?: RtoPlatformLimits;
  /**
   * The engine's own time (domain/rto-estimate.ts DEFAULT_ENGINE_OVERHEAD, docs/design.md#predicted-rto):
   * wall seconds, multiplied by the time scale onto the platform's clock. Absent in forecasts
   * stored before it existed (no engine time counted then).
   */
  engine?: RtoEngineOverhead;
}

/**
 * The engine's own time in an evacuation, in WALL seconds (the worker's and Temporal's time,
 * which a simulator's time scale does not speed up): before the first dispatch, at each later
 * tier's start, and each job's start step (dispatch → its apply) sharing the worker.
 */
export interface RtoEngineOverhead {
  /** Trigger → the first tier's first dispatch, fixed part (AZ holds, planning's platform reads, tier and shard start), wall seconds. */
  firstDispatchSeconds: number;
  /** Planning's snapshot lookups per wall second (one per restoring job; they come before the first dispatch). */
  lookupsPerSecond: number;
  /** A later tier: the moment it may start (the previous tier dispatched its last job, or ended) → its first dispatch, wall seconds. */
  tierStartSeconds: number;
  /** Start steps (dispatch → apply of a restoring job) the worker ends per wall second when many run at once (shared equally). */
  startStepsPerSecond: number;
  /** One start step alone, wall seconds. */
  startStepSeconds: number;
  /**
   * `default`, or `measured` over how many previous runs; `atReferencePace` when every one of
   * those runs recorded its pace and the terms were brought to REFERENCE_ENGINE_PACE
   * (measuredEngine), so a plan scales them by its pace like the defaults.
   */
  from: { from: 'default' } | { from: 'measured'; runs: number; atReferencePace?: boolean };
  /**
   * The pace the plan measured and scaled these terms by (domain/engine-pace.ts pacedEngine:
   * × factor / reference); absent when they were not scaled (measured terms, no measurement).
   */
  pace?: EnginePace & { reference: number };
}

/** Limits of the target AZ's platform every restoring start of an evacuation shares (seconds, bytes/s of the platform's clock). */
export interface RtoPlatformLimits {
  /** Seconds from Flink's RUNNING to the operator reporting it: its rest-ready delay + one progress-check interval (worst case). */
  observeSeconds: number;
  /** A restore alone never takes longer than this, seconds (big state is read by many TaskManagers in parallel); 0: no bound. Applies to the default restore rate only, not a measured one. */
  restoreMaxSecondsAlone: number;
  /** Bytes/s the target AZ's object store serves to all restores at once (shared max-min fairly). */
  objectStoreReadBytesPerSecond: number;
  /** Operator reconcile threads in the target AZ; a deploy's reconcile holds one for `deployReconcileSeconds`. */
  reconcileParallelism: number;
  deployReconcileSeconds: number;
  /** Pods the target AZ's kube-scheduler binds per second (one AZ-wide FIFO); 0: no limit. */
  podsBoundPerSecond: number;
  /** Checkpoint interval assumed for a job whose spec sets none, seconds (0: no wait for a first checkpoint). */
  defaultCheckpointIntervalSeconds: number;
}

/** One job's forecast. Seconds on the engine's clock. */
export interface JobRtoForecast {
  key: JobKey;
  tier: Tier;
  strategy: Strategy;
  /** Trigger → RUNNING predicted: the sum of `parts`. */
  seconds: number;
  /** The tier's RTO target (policy), seconds. */
  rtoTargetSeconds: number;
  /** `seconds` > `rtoTargetSeconds`. */
  misses: boolean;
  /**
   * Seconds of each phase, summing to `seconds`: wait for a concurrency slot (from the
   * trigger: the engine's planning and tier starts included); `startStep` the engine's start
   * step before the apply (snapshot choice, config, jars, fence; absent in older forecasts); `queue` the
   * operator's reconcile (queued behind its reconcile threads) and pod binding; Flink's start-up;
   * jar fetch; the restore (sharing the AZ's object-store bandwidth); `checkpoint` from the
   * restore's end to the first checkpoint after it, or to the operator observing RUNNING,
   * whichever is later (restored means restored). `queue`/`checkpoint` are absent in forecasts
   * stored before they existed.
   */
  parts: {
    dispatchWait: number; startStep?: number; queue?: number;
    /** Waiting for capacity the plan's preemptions free (a preempted job's pods, once its stop-with-savepoint ends); absent: none. */
    capacity?: number;
    startup: number; jarFetch: number; restore: number; checkpoint?: number;
  };
  /** The job's own inputs. */
  inputs: {
    /** State bytes restored; 0 for a hot standby (nothing is restored). */
    stateBytes: number;
    /**
     * Where `stateBytes` came from: `snapshot` the newest restorable snapshot's `_metadata` in
     * the target AZ's replica (`snapshotPath`), `catalog` the platform's size at catalog sync,
     * `default` the nominal DEFAULT_STATE_BYTES (neither known), `none` nothing restored.
     */
    stateFrom: 'snapshot' | 'catalog' | 'default' | 'none';
    snapshotPath?: string;
    /** Age of that snapshot when planned, seconds on the platform's clock (the RPO the job would pay now). */
    snapshotAgeSeconds?: number;
    /** Why no snapshot's size was used, when it was looked for (e.g. `no snapshot size: snapshot lookup failed: …`). */
    stateNote?: string;
    /** Jar bytes fetched at start-up (0 for a hot standby). */
    jarBytes: number;
    /** `cache`: every jar already in the target AZ's jar cache when planned; `repository`: some must come from the replicated repository. */
    jarsFrom: 'cache' | 'repository' | 'none';
    /** Checkpoint interval the restore waits on (the spec's `execution.checkpointing.interval`, else the default), seconds; absent for a hot standby. */
    checkpointIntervalSeconds?: number;
  };
}

/** A job that will not be moved, and why; reported before acting. */
export interface NotAdmitted {
  key: JobKey;
  tier: Tier;
  reason: string;
}

/**
 * The evacuation plan: pure output of the planner, computed before anything is touched.
 * Every in-scope job appears exactly once: in `admitted` or in `notAdmitted`.
 */
export interface Plan {
  sourceAz: string;
  targetAz: string;
  catalogVersion: number;
  /** Admitted jobs in admission order (tier order, then lineage order within a tier). */
  admitted: PlannedJob[];
  notAdmitted: NotAdmitted[];
  preemptions: Preemption[];
  findings: Finding[];
  /** Free capacity of the target AZ before and after the plan (after preemption). */
  capacityBefore: Capacity;
  capacityAfter: Capacity;
  /** Distinct jars (by digest) the admitted jobs need. */
  jars: JarArtifact[];
  /** Predicted time to RUNNING of the admitted jobs, with the inputs used (domain/rto-estimate.ts); absent in plans made before it existed. */
  rto?: RtoForecast;
  /**
   * Each admitted restoring job's protection toward the target AZ when planned (domain/rpo-now.ts):
   * the age of its newest restorable snapshot there (the RPO an evacuation would pay now),
   * protected or not and why (`jobs`, plan order), and the jobs not looked up within the plan's
   * lookup budget (`notLookedUp`). Absent in plans made before it existed.
   */
  protection?: PlanProtection;
}

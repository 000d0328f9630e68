/**
 * The simulated Kubernetes objects of every AZ: FlinkDeployments (metadata, spec, status
 * as the Flink Kubernetes Operator writes it), HA ConfigMaps, and per-resource counters
 * tests read to assert behaviour (e.g. "one redeploy", "no repository download").
 */
import type { DeploymentEvent, DeploymentStatus } from '../platform/ports.js';
import type { FlinkDeploymentManifest } from '../domain/types.js';
import type { SnapshotTrack, WrittenSnapshot } from './checkpointing.js';
import type { StartupTime } from './latency-model.js';

/** status.lifecycleState values the simulated operator uses. */
export type LifecycleState = 'CREATED' | 'DEPLOYED' | 'STABLE' | 'SUSPENDED' | 'UPGRADING' | 'FAILED';

/** Where a deploy restored its state from. */
export type RestoreSource = 'initialSavepointPath' | 'ha-metadata' | 'last-savepoint' | 'none';

/** status of a FlinkDeployment (operator fields plus simulator extras under jobStatus). */
export interface ResourceStatus {
  lifecycleState: LifecycleState;
  jobStatus?: {
    /**
     * RECONCILING (pods starting/pending), CREATED (submitted), RUNNING (tasks scheduled: a
     * restore may still be under way), RESTARTING (a task failed, e.g. its restore), SUSPENDED, FAILED.
     */
    state: 'RECONCILING' | 'CREATED' | 'RUNNING' | 'RESTARTING' | 'SUSPENDED' | 'FAILED';
    /** 32 hex, fresh per deploy (set once the job is submitted). */
    jobId?: string;
    /** Wall epoch seconds the job reached RUNNING (see scheduler.ts). */
    startTime?: number;
    /** Snapshot path the job restored from (absent when it started empty). */
    restoredFrom?: string;
    restoreSource?: RestoreSource;
    /** Pods are Pending for lack of capacity. */
    podsPending?: boolean;
    /** Checkpoints completed since this deploy, and the newest. */
    completedCheckpoints: number;
    lastCheckpoint?: WrittenSnapshot;
    /** Savepoint taken when the job was last stopped with one (status.jobStatus.upgradeSavepointPath). */
    upgradeSavepointPath?: string;
    /**
     * Legacy savepoint reporting of a spec.job.savepointTriggerNonce trigger
     * (status.jobStatus.savepointInfo.lastSavepoint: location, epoch ms, MANUAL, the nonce).
     */
    lastManualSavepoint?: { location: string; timeStamp: number; triggerNonce: number };
    /** Model start-up seconds of this deploy, per phase (see latency-model.ts). */
    startup?: StartupTime;
  };
  error?: string;
  observedGeneration?: number;
}

/** A deploy in progress or running: pods, start-up, snapshots. */
export interface Run {
  /** The resource's deployCount when this run began. */
  id: number;
  /**
   * pending (pods wait for capacity), starting (pods, jars, submission), restoring (job
   * RUNNING, tasks restoring state: checkpoints are declined), running (tasks running).
   */
  phase: 'pending' | 'starting' | 'restoring' | 'running';
  /** Model epoch seconds this run began (the apply, or the redeploy after an upgrade's stop). */
  appliedAt: number;
  cores: number;
  memoryMiB: number;
  restoredFrom?: string;
  restoreSource: RestoreSource;
  /** Bytes the restore reads. */
  restoreBytes: number;
  /** Why every restore of this run fails (a file the snapshot references is missing): the job loops RESTARTING ↔ RUNNING. */
  restoreFailure?: string;
  /** Restores so far (Flink's counts.restored) and the latest: checkpoint id restored, wall epoch ms. */
  restores: number;
  restoredId?: number;
  restoredAtMs?: number;
  /** Root exceptions of the job's failures, newest last (Flink's exception history). */
  failures: Array<{ message: string; atMs: number }>;
  /** The newest checkpoint this run completed. */
  lastCheckpoint?: WrittenSnapshot;
  track?: SnapshotTrack;
}

/** One FlinkDeployment in one AZ. */
export interface Resource {
  az: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: FlinkDeploymentManifest['spec'];
  /** Canonical JSON of spec (generation bumps only when it changes). */
  specJson: string;
  status: ResourceStatus;
  /** spec.job.savepointRedeployNonce the operator last acted on. */
  reconciledNonce?: number;
  /** spec.job.savepointTriggerNonce the operator last acted on. */
  reconciledTriggerNonce?: number;
  /** The spec the operator last acted on, as its diff sees it (operator.ts diffedSpec). */
  reconciledSpec?: string;
  /** The job ran (or started) at least once. */
  everRan: boolean;
  /** Savepoint taken when the job was last suspended or upgraded. */
  lastSavepoint?: string;
  deployCount: number;
  /** Bumped on every reconcile; delayed operator steps check it to drop stale work. */
  reconciles: number;
  run?: Run;
}

/** Per-(AZ, job key) counters. */
export interface ResourceCounters {
  /** Applies that created the resource. */
  created: number;
  /** Applies, restores and suspends that changed the spec (generation bumps). */
  specChanges: number;
  /** Deploys triggered by a changed savepointRedeployNonce on an existing resource. */
  redeploys: number;
  /** Deploys started (pods requested). */
  deploys: number;
  /** deleteHaConfigMaps calls that deleted at least one ConfigMap. */
  haConfigMapDeletes: number;
  /** Deletes of the resource. */
  deleted: number;
  jarDownloadsRepository: number;
  jarDownloadsCache: number;
}

/** JSON with object keys sorted, so equal specs compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The resource as the manifest the operator reads. */
export function manifestOf(r: Resource): FlinkDeploymentManifest {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name: r.name, namespace: r.namespace, labels: r.labels, annotations: r.annotations },
    spec: r.spec,
  };
}

/** The port's view of a resource. */
export function toDeploymentStatus(r: Resource): DeploymentStatus {
  const job = (r.spec.job ?? {}) as Record<string, unknown>;
  return {
    az: r.az,
    namespace: r.namespace,
    name: r.name,
    generation: r.generation,
    specState: job.state === 'suspended' ? 'suspended' : 'running',
    savepointRedeployNonce: typeof job.savepointRedeployNonce === 'number' ? job.savepointRedeployNonce : undefined,
    initialSavepointPath: typeof job.initialSavepointPath === 'string' ? job.initialSavepointPath : undefined,
    lifecycleState: r.status.lifecycleState,
    jobState: r.status.jobStatus?.state,
    jobId: r.status.jobStatus?.jobId,
    observedGeneration: r.status.observedGeneration,
    error: r.status.error,
    uid: r.uid,
    ...(r.status.jobStatus?.upgradeSavepointPath ? { upgradeSavepointPath: r.status.jobStatus.upgradeSavepointPath } : {}),
    labels: { ...r.labels },
  };
}

/** Key of a resource or HA ConfigMap set inside one AZ. */
export const nsName = (namespace: string, name: string): string => `${namespace}/${name}`;

/** HA ConfigMaps of one job (`app=<name>,configmap-type=high-availability`). */
export interface HaConfigMaps {
  /** How many ConfigMaps (cluster config map + one per job). */
  count: number;
  /** Checkpoint path the HA metadata points to (what a JobManager would recover from). */
  pointer?: string;
}

/** Everything Kubernetes holds in one AZ. */
export class AzCluster {
  readonly resources = new Map<string, Resource>();
  readonly haConfigMaps = new Map<string, HaConfigMaps>();
  readonly counters = new Map<string, ResourceCounters>();
  /**
   * The simulated namespaces and, per namespace, the objects in it as `Kind/name`
   * (ServiceAccounts, Secrets, ConfigMaps, PersistentVolumeClaims: what checkObjects reads).
   * A fleet load fills it (fleet-loader.ts); control calls remove or add entries.
   */
  readonly namespaces = new Map<string, Set<string>>();
  /** Kubernetes Events recorded on resources of this AZ (ClusterPort.recordEvent), by id. */
  readonly events = new Map<string, DeploymentEvent>();

  constructor(readonly az: string) {}

  /** Counters of a job key, created on first use. */
  counter(key: string): ResourceCounters {
    let c = this.counters.get(key);
    if (!c) {
      c = { created: 0, specChanges: 0, redeploys: 0, deploys: 0, haConfigMapDeletes: 0, deleted: 0, jarDownloadsRepository: 0, jarDownloadsCache: 0 };
      this.counters.set(key, c);
    }
    return c;
  }
}

/** A new resource in `az` from an applied manifest (generation 1, no status yet). */
export function createResource(az: string, manifest: FlinkDeploymentManifest, namespace: string): Resource {
  const spec = structuredClone(manifest.spec);
  return {
    az,
    namespace,
    name: manifest.metadata.name,
    uid: `${az}/${namespace}/${manifest.metadata.name}`,
    generation: 1,
    labels: { ...manifest.metadata.labels },
    annotations: { ...manifest.metadata.annotations },
    spec,
    specJson: canonicalJson(spec),
    status: { lifecycleState: 'CREATED' },
    everRan: false,
    deployCount: 0,
    reconciles: 0,
  };
}

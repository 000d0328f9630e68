/**
 * The Kubernetes platform adapter: ClusterPort and FleetSource over one Kubernetes cluster
 * per AZ (one KubeConfig per AZ, @kubernetes/client-node 1.4), running the Apache Flink
 * Kubernetes Operator. ObjectStorePort calls go to the object store adapter it is given.
 *
 * - apply: server-side apply (`application/apply-patch+yaml`), field manager `az-evac`,
 *   force, fieldValidation Strict; applying the same manifest twice changes nothing
 *   (resourceVersion and generation unchanged).
 * - restore / suspend / stopWithSavepoint / undoStop / label: JSON merge patches (operator ≥ 1.8
 *   restore: docs "Job Management" → savepointRedeployNonce); a suspend, restore or label
 *   carries az-evac's annotations in the same patch.
 * - recordEvent: a core/v1 Event on the FlinkDeployment (create; 409 on a retry is success).
 * - deleteHaConfigMaps: list `app=<name>,configmap-type=high-availability`, delete each.
 * - checkObjects: metadata-only `get` of the namespace and each named object (target-objects.ts).
 * - waitForRunning: a watch on the one resource (wait-for-running.ts).
 * - capacity: Nodes' allocatable minus running FlinkDeployments' requests (capacity.ts).
 * - triggerSavepoint / savepointProgress / releaseSavepointTrigger (protection): a
 *   FlinkStateSnapshot where the AZ's cluster serves that CRD (asked once per AZ), else
 *   spec.job.savepointTriggerNonce (savepoint-trigger.ts); shipSavepoint / deleteShipped go
 *   to the object store (S3: platform/s3/snapshot-shipping.ts).
 * - readFleet: FlinkDeployments with the tier label across namespaces of every AZ
 *   (fleet-reader.ts reads tiers, standbys, lineage and jars); an AZ whose list still fails
 *   transiently after the in-place retries (transient-retry.ts) is reported unreachable; the AZ profiles come from the
 *   platform profile file (AZ_EVAC_PLATFORM_PROFILE), since a cluster does not know its
 *   registry mirror or buckets.
 * Every failure is a PlatformError classified in errors.ts.
 */
import { createHash } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type CoreV1Event } from '@kubernetes/client-node';
import type { Capacity, FleetJob, FlinkDeploymentManifest, JarArtifact, PlatformProfile, SnapshotCandidate, SnapshotChoice } from '../../domain/types.js';
import type { SnapshotQuery } from '../../domain/snapshot-choice.js';
import type { SnapshotOwner } from '../../domain/snapshot-owner.js';
import { PlatformError } from '../errors.js';
import { FIELD_MANAGER, type ApplyResult, type ArtifactPlace, type ClusterPort, type DeploymentEvent, type DeploymentStatus, type FleetSource, type ObjectStorePort, type RunningStatus, type SavepointPort, type SavepointProgress, type SavepointTrigger, type ShippedSavepoint, type SnapshotShippingPort, type UpgradeMode, type WaitProgress } from '../ports.js';
import type { SavepointFormat } from '../../domain/protection.js';
import { releaseTrigger, savepointProgress, servesStateSnapshots, triggerSavepoint } from './savepoint-trigger.js';
import { FLEET_LABELS, readFleetJobs } from '../../domain/fleet-contract.js';
import { restoreSpecPatch, type RestoreRequest } from '../../domain/flink-spec.js';
import { retryTransient } from '../transient-retry.js';
import { assertFlinkCrd, listFlinkDeployments, type AzApis } from './az-apis.js';
import { clusterCapacity } from './capacity.js';
import { kubeCall } from './errors.js';
import { deleteHaConfigMaps } from './ha-configmaps.js';
import { checkObjects } from './target-objects.js';
import type { NamespaceCheck, ObjectRef } from '../../domain/target-readiness.js';
import { FLINK_DEPLOYMENTS, toDeploymentStatus, toManifest, type FlinkDeploymentObject } from './flink-resource.js';
import { getFlinkDeployment, waitForRunning } from './wait-for-running.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Name of the Event `event.id` stands for: `<resource>.azevac-<16 hex of sha256(id)>` (unique per id, ≤ 253 chars). */
function eventName(event: DeploymentEvent): string {
  return `${event.name}.azevac-${createHash('sha256').update(event.id).digest('hex').slice(0, 16)}`;
}
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** The `metadata.annotations` part of a merge patch (nothing for none or an empty map). */
function withAnnotations(annotations: Record<string, string> | undefined): { metadata?: { annotations: Record<string, string> } } {
  return annotations && Object.keys(annotations).length > 0 ? { metadata: { annotations } } : {};
}

/** Result of the setup check of one AZ. */
export type AzSetup = { az: string; ok: true } | { az: string; ok: false; error: PlatformError };

/** Kubernetes clusters (ClusterPort, FleetSource) plus an object store (ObjectStorePort). */
export class KubePlatform implements ClusterPort, FleetSource, ObjectStorePort, SavepointPort, SnapshotShippingPort {
  /** Per AZ: whether its cluster serves the FlinkStateSnapshot CRD (asked once). */
  private readonly stateSnapshots = new Map<string, Promise<boolean>>();

  /**
   * @param apis clients per AZ (az-apis.ts)
   * @param profile the platform's AZ profiles; every AZ of `apis` must be in it
   * @param objects the object store adapter (S3, or the simulator's store)
   * @throws Error naming the AZ when `apis` has an AZ the profile lacks
   */
  constructor(
    private readonly apis: Map<string, AzApis>,
    private readonly profile: PlatformProfile,
    private readonly objects: ObjectStorePort & Partial<SnapshotShippingPort>,
  ) {
    for (const az of apis.keys()) {
      if (!profile.azs.some((a) => a.name === az)) throw new Error(`AZ ${az} has a kubeconfig context but is not in the platform profile (AZs: ${profile.azs.map((a) => a.name).join(', ')}). Fix: add it to AZ_EVAC_PLATFORM_PROFILE or drop it from AZ_EVAC_KUBE_CONTEXTS`);
    }
  }

  /** The clients of `az`. @throws PlatformError('not-found') for an AZ without a context */
  az(az: string): AzApis {
    const a = this.apis.get(az);
    if (!a) throw new PlatformError('not-found', `AZ ${az} has no kubeconfig context (configured: ${[...this.apis.keys()].join(', ')}). Fix: add ${az}=<context> to AZ_EVAC_KUBE_CONTEXTS`, false);
    return a;
  }

  /** Setup check of every AZ (FlinkDeployment CRD served); unreachable AZs are reported, not thrown. */
  async checkSetup(): Promise<AzSetup[]> {
    return Promise.all(
      [...this.apis.values()].map(async (a): Promise<AzSetup> => {
        try {
          await assertFlinkCrd(a);
          return { az: a.az, ok: true };
        } catch (err) {
          if (err instanceof PlatformError) return { az: a.az, ok: false, error: err };
          throw err;
        }
      }),
    );
  }

  capacity(az: string): Promise<Capacity> {
    return clusterCapacity(this.az(az));
  }

  async getDeployment(az: string, namespace: string, name: string): Promise<DeploymentStatus | null> {
    const obj = await getFlinkDeployment(this.az(az), namespace, name);
    return obj ? toDeploymentStatus(az, obj) : null;
  }

  async apply(az: string, manifest: FlinkDeploymentManifest): Promise<ApplyResult> {
    const a = this.az(az);
    const namespace = manifest.metadata.namespace ?? 'default';
    const name = manifest.metadata.name;
    // An empty labels/annotations map is dropped when stored, so applying it again would write
    // (and bump resourceVersion) every time: leave empty maps out.
    const metadata = { ...manifest.metadata };
    if (metadata.labels && Object.keys(metadata.labels).length === 0) delete metadata.labels;
    if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
    const body = { ...manifest, metadata };
    const res = await kubeCall(az, `apply FlinkDeployment ${namespace}/${name}`, () =>
      a.custom.patchNamespacedCustomObjectWithHttpInfo(
        { ...FLINK_DEPLOYMENTS, namespace, name, body, fieldManager: FIELD_MANAGER, force: true, fieldValidation: 'Strict' },
        APPLY,
      ),
    ).catch((err: unknown) => {
      if (err instanceof PlatformError && err.code === 'not-found') {
        throw new PlatformError('not-found', `${err.message}. Fix: create namespace ${namespace} in ${az} (a DR-ready platform keeps every team namespace in every AZ), or install the FlinkDeployment CRD there`, false);
      }
      throw err;
    });
    const obj = res.data as FlinkDeploymentObject;
    return { created: res.httpStatusCode === 201, generation: obj.metadata.generation ?? 1, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) };
  }

  async restore(az: string, namespace: string, name: string, restore: RestoreRequest, annotations?: Record<string, string>): Promise<DeploymentStatus> {
    return this.merge(az, namespace, name, 'restore', { ...withAnnotations(annotations), spec: restoreSpecPatch(restore) });
  }

  async suspend(az: string, namespace: string, name: string, annotations?: Record<string, string>): Promise<DeploymentStatus | null> {
    const body = { ...withAnnotations(annotations), spec: { job: { state: 'suspended' } } };
    try {
      return await this.merge(az, namespace, name, 'suspend', body);
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'not-found') return null;
      throw err;
    }
  }

  /**
   * A core/v1 Event whose involvedObject is the FlinkDeployment (with its uid: `kubectl
   * describe` lists the Events whose involvedObject.uid matches). Its name is derived from
   * `event.id`, so a retry answers 409 AlreadyExists and records nothing twice.
   */
  async recordEvent(az: string, event: DeploymentEvent): Promise<void> {
    const a = this.az(az);
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { name: eventName(event), namespace: event.namespace },
      involvedObject: { apiVersion: `${FLINK_DEPLOYMENTS.group}/${FLINK_DEPLOYMENTS.version}`, kind: 'FlinkDeployment', namespace: event.namespace, name: event.name, ...(event.uid ? { uid: event.uid } : {}) },
      type: event.type, reason: event.reason, message: event.message,
      source: { component: FIELD_MANAGER }, firstTimestamp: now, lastTimestamp: now, count: 1,
    };
    try {
      await kubeCall(az, `record Event ${event.reason} on FlinkDeployment ${event.namespace}/${event.name}`, () => a.core.createNamespacedEvent({ namespace: event.namespace, body }));
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === 'conflict')) throw err;
    }
  }

  async stopWithSavepoint(az: string, namespace: string, name: string): Promise<DeploymentStatus | null> {
    try {
      return await this.merge(az, namespace, name, 'stop with savepoint', { spec: { job: { state: 'suspended', upgradeMode: 'savepoint' } } });
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'not-found') return null;
      throw err;
    }
  }

  undoStop(az: string, namespace: string, name: string, upgradeMode: UpgradeMode | null): Promise<DeploymentStatus> {
    return this.merge(az, namespace, name, 'undo stop', { spec: { job: { state: 'running', upgradeMode } } });
  }

  async deleteDeployment(az: string, namespace: string, name: string): Promise<boolean> {
    const a = this.az(az);
    let existed = true;
    try {
      await kubeCall(az, `delete FlinkDeployment ${namespace}/${name}`, () => a.custom.deleteNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace, name }));
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === 'not-found')) throw err;
      existed = false;
    }
    await this.deleteHaConfigMaps(az, namespace, name);
    return existed;
  }

  label(az: string, namespace: string, name: string, labels: Record<string, string>, annotations?: Record<string, string>): Promise<DeploymentStatus> {
    return this.merge(az, namespace, name, 'label', { metadata: { labels, ...withAnnotations(annotations).metadata } });
  }

  deleteHaConfigMaps(az: string, namespace: string, name: string): Promise<number> {
    return deleteHaConfigMaps(this.az(az), namespace, name);
  }

  checkObjects(az: string, namespace: string, refs: readonly ObjectRef[]): Promise<NamespaceCheck> {
    return checkObjects(this.az(az), namespace, refs);
  }

  waitForRunning(
    az: string,
    namespace: string,
    name: string,
    opts: { minGeneration: number; timeoutSeconds: number; restoring?: boolean; onProgress?: WaitProgress; signal?: AbortSignal },
  ): Promise<RunningStatus> {
    return waitForRunning(this.az(az), namespace, name, opts);
  }

  async readFleet(): Promise<{ platform: PlatformProfile; jobs: FleetJob[]; unreachableAzs: string[] }> {
    const unreachableAzs: string[] = [];
    const lists = await Promise.all(
      [...this.apis.values()].map(async (a) => {
        try {
          // A 503 / 429 / timeout of one list request is an API server under load, not an AZ
          // that does not answer: retried in place before the AZ is declared unreachable.
          return (await retryTransient(() => listFlinkDeployments(a, FLEET_LABELS.tier))).map((obj) => ({ az: a.az, manifest: toManifest(obj), jobId: obj.status?.jobStatus?.jobId ?? undefined }));
        } catch (err) {
          if (err instanceof PlatformError && err.retryable) {
            unreachableAzs.push(a.az);
            return [];
          }
          throw err;
        }
      }),
    );
    if (unreachableAzs.length === this.apis.size) throw new PlatformError('az-down', `no AZ's API server answers (${unreachableAzs.join(', ')})`, true);
    // The state size is not on the resource (fleet-contract.ts): nominal here; the RTO estimate
    // reads each job's newest snapshot's `_metadata` instead (activities/plan.ts).
    const jobs = readFleetJobs(lists.flat(), () => undefined);
    return { platform: structuredClone(this.profile), jobs, unreachableAzs: unreachableAzs.sort() };
  }

  listSnapshots(az: string, owner: SnapshotOwner): Promise<SnapshotCandidate[]> {
    return this.objects.listSnapshots(az, owner);
  }

  findSnapshot(az: string, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice> {
    return this.objects.findSnapshot(az, owner, query);
  }

  hasArtifact(az: string, jar: JarArtifact, place: ArtifactPlace): Promise<boolean> {
    return this.objects.hasArtifact(az, jar, place);
  }

  preloadArtifact(az: string, jar: JarArtifact, onBytes?: (bytes: number) => void): Promise<{ copiedBytes: number }> {
    return this.objects.preloadArtifact(az, jar, onBytes);
  }

  async triggerSavepoint(az: string, namespace: string, name: string, o: { id: string; format: SavepointFormat }): Promise<SavepointTrigger> {
    const a = this.az(az);
    let serves = this.stateSnapshots.get(az);
    if (!serves) {
      serves = servesStateSnapshots(a);
      this.stateSnapshots.set(az, serves);
      serves.catch(() => this.stateSnapshots.delete(az)); // asked again on the next trigger
    }
    return triggerSavepoint(a, namespace, name, { ...o, useResource: await serves });
  }

  savepointProgress(trigger: SavepointTrigger): Promise<SavepointProgress> {
    return savepointProgress(this.az(trigger.az), trigger);
  }

  releaseSavepointTrigger(trigger: SavepointTrigger): Promise<void> {
    return releaseTrigger(this.az(trigger.az), trigger);
  }

  shipSavepoint(fromAz: string, toAz: string, path: string): Promise<ShippedSavepoint> {
    return this.shipping().shipSavepoint(fromAz, toAz, path);
  }

  deleteShipped(az: string, path: string): Promise<number> {
    return this.shipping().deleteShipped(az, path);
  }

  /** The object store's shipping. @throws PlatformError('invalid') when it has none (a simulator's store in tests) */
  private shipping(): SnapshotShippingPort {
    const o = this.objects;
    if (!o.shipSavepoint || !o.deleteShipped) throw new PlatformError('invalid', 'this object store cannot ship savepoints between AZs; use the S3 object store (AZ_EVAC_S3_ENDPOINTS)', false);
    return { shipSavepoint: o.shipSavepoint.bind(o), deleteShipped: o.deleteShipped.bind(o) };
  }

  private async merge(az: string, namespace: string, name: string, what: string, body: object): Promise<DeploymentStatus> {
    const a = this.az(az);
    const obj = (await kubeCall(az, `${what} FlinkDeployment ${namespace}/${name}`, () =>
      a.custom.patchNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace, name, body, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' }, MERGE),
    )) as FlinkDeploymentObject;
    return toDeploymentStatus(az, obj);
  }
}

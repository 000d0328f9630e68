/**
 * Taking a savepoint of a running job through the Flink Kubernetes Operator, without
 * touching anything else of the job (docs/flink-snapshots.md "Taking a savepoint through the
 * operator"):
 *
 * - FlinkStateSnapshot (operator ≥ 1.10, FLIP-446, FLINK-35267): az-evac creates a resource
 *   `spec.jobReference {kind: FlinkDeployment, name}`, `spec.savepoint {formatType,
 *   disposeOnDelete: false, alreadyExists: false}`, `spec.backoffLimit: 0` (protection retries
 *   with its own back-off); the operator triggers the savepoint and writes `status.state`
 *   TRIGGER_PENDING → IN_PROGRESS → COMPLETED with `status.path`, or FAILED with `status.error`
 *   (and `status.failures`), or ABANDONED when the job is not running. Used when the CRD is
 *   served (a list of flinkstatesnapshots answers).
 * - Otherwise the legacy trigger: a merge patch of `spec.job.savepointTriggerNonce` (a spec
 *   field the operator's diff ignores for upgrades: it only triggers a savepoint). The
 *   operator reports it in `status.jobStatus.savepointInfo`: `triggerId` while in progress,
 *   then `lastSavepoint {location, timeStamp, triggerType: MANUAL, formatType, triggerNonce}`
 *   with the nonce that triggered it (SnapshotObserver.observeTriggeredSavepoint). A failure is
 *   only an Event (reason SavepointError) the worker may not read: a legacy trigger that fails
 *   shows as one that never completes, and times out. Its format is the operator's
 *   `kubernetes.operator.savepoint.format.type` (default CANONICAL), not chosen per trigger.
 *
 * Neither suspends, restarts nor reconfigures the job.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { SavepointFormat } from '../../domain/protection.js';
import { PlatformError } from '../errors.js';
import { FIELD_MANAGER, type SavepointProgress, type SavepointTrigger } from '../ports.js';
import type { AzApis } from './az-apis.js';
import { kubeCall } from './errors.js';
import { FLINK_DEPLOYMENTS, type FlinkDeploymentObject } from './flink-resource.js';

/** Group, version and plural of the FlinkStateSnapshot CRD (operator ≥ 1.10). */
export const FLINK_STATE_SNAPSHOTS = { group: 'flink.apache.org', version: 'v1beta1', plural: 'flinkstatesnapshots' } as const;

/** Label on every FlinkStateSnapshot az-evac creates: the FlinkDeployment it snapshots. */
export const SNAPSHOT_JOB_LABEL = 'az-evac.io/savepoint-of';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A FlinkStateSnapshot as the API server serves it (the fields az-evac reads). */
interface FlinkStateSnapshotObject {
  metadata: { name: string; namespace?: string };
  status?: { state?: string; path?: string; error?: string; failures?: number; triggerId?: string };
}

/**
 * Whether the AZ's cluster serves the FlinkStateSnapshot CRD (a list of one answers; 404:
 * not installed).
 * @throws PlatformError classified by kubeError for anything but a 404 (403: the worker's RBAC
 *   lacks `list flinkstatesnapshots`, deploy/rbac/az-evac-worker.yaml)
 */
export async function servesStateSnapshots(apis: AzApis): Promise<boolean> {
  try {
    await kubeCall(apis.az, 'list FlinkStateSnapshots (CRD check)', () => apis.custom.listClusterCustomObject({ ...FLINK_STATE_SNAPSHOTS, limit: 1 }));
    return true;
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return false;
    throw err;
  }
}

/**
 * Trigger a savepoint of FlinkDeployment `namespace/name`. Idempotent by `id` (a retried
 * trigger with the same id triggers once): the FlinkStateSnapshot is named
 * `<name>-az-evac-<id>`; the legacy nonce is `id` read as a number.
 * @param id lowercase letters and digits, ≤ 16 chars; with `useResource` false, decimal digits only (a nonce)
 * @throws PlatformError('not-found') when the FlinkDeployment does not exist; ('invalid') for a bad id
 */
export async function triggerSavepoint(apis: AzApis, namespace: string, name: string, o: { id: string; format: SavepointFormat; useResource: boolean }): Promise<SavepointTrigger> {
  if (!/^[a-z0-9]{1,16}$/.test(o.id) || (!o.useResource && !/^[0-9]+$/.test(o.id)))
    throw new PlatformError('invalid', `savepoint trigger id ${JSON.stringify(o.id)} must be 1–16 lowercase letters or digits${o.useResource ? '' : ' (digits only: it is a savepointTriggerNonce)'}`, false);
  const az = apis.az;
  const deployment = (await kubeCall(az, `get FlinkDeployment ${namespace}/${name}`, () => apis.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace, name }))) as FlinkDeploymentObject;
  if (!o.useResource) {
    const nonce = Number(o.id);
    const job = (deployment.spec.job ?? {}) as { savepointTriggerNonce?: number };
    if (job.savepointTriggerNonce !== nonce) {
      await kubeCall(az, `trigger savepoint (savepointTriggerNonce ${nonce}) FlinkDeployment ${namespace}/${name}`, () =>
        apis.custom.patchNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace, name, body: { spec: { job: { savepointTriggerNonce: nonce } } }, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' }, MERGE),
      );
    }
    return { az, namespace, name, via: 'nonce', id: o.id, format: o.format };
  }
  const resource = `${name}-az-evac-${o.id}`;
  const body = {
    apiVersion: `${FLINK_STATE_SNAPSHOTS.group}/${FLINK_STATE_SNAPSHOTS.version}`,
    kind: 'FlinkStateSnapshot',
    metadata: { name: resource, namespace, labels: { [SNAPSHOT_JOB_LABEL]: name } },
    spec: {
      backoffLimit: 0,
      jobReference: { kind: 'FlinkDeployment', name },
      savepoint: { formatType: o.format === 'native' ? 'NATIVE' : 'CANONICAL', disposeOnDelete: false, alreadyExists: false },
    },
  };
  try {
    await kubeCall(az, `create FlinkStateSnapshot ${namespace}/${resource}`, () => apis.custom.createNamespacedCustomObject({ ...FLINK_STATE_SNAPSHOTS, namespace, body, fieldManager: FIELD_MANAGER }));
  } catch (err) {
    if (!(err instanceof PlatformError && err.code === 'conflict')) throw err; // already created by an earlier attempt
  }
  return { az, namespace, name, via: 'flinkstatesnapshot', id: o.id, format: o.format, resource };
}

/**
 * Where a trigger stands, as the operator reports it.
 * @returns `completed` with the savepoint's path; `failed` with the operator's reason
 *   (FlinkStateSnapshot FAILED: status.error; ABANDONED: the job was not running; the resource
 *   or the FlinkDeployment deleted); otherwise `pending` with the state seen
 * @throws PlatformError classified by kubeError when the API server does not answer
 */
export async function savepointProgress(apis: AzApis, t: SavepointTrigger): Promise<SavepointProgress> {
  const az = apis.az;
  if (t.via === 'nonce') {
    let obj: FlinkDeploymentObject;
    try {
      obj = (await kubeCall(az, `get FlinkDeployment ${t.namespace}/${t.name}`, () => apis.custom.getNamespacedCustomObject({ ...FLINK_DEPLOYMENTS, namespace: t.namespace, name: t.name }))) as FlinkDeploymentObject;
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'not-found') return { state: 'failed', reason: `FlinkDeployment ${t.namespace}/${t.name} was deleted while its savepoint was pending` };
      throw err;
    }
    const info = obj.status?.jobStatus?.savepointInfo;
    const last = info?.lastSavepoint;
    if (last?.location && last.triggerNonce === Number(t.id)) return { state: 'completed', path: last.location };
    return { state: 'pending', detail: info?.triggerId ? `savepoint ${info.triggerId} in progress` : `savepointTriggerNonce ${t.id} not yet reported in status.jobStatus.savepointInfo` };
  }
  let snap: FlinkStateSnapshotObject;
  try {
    snap = (await kubeCall(az, `get FlinkStateSnapshot ${t.namespace}/${t.resource}`, () => apis.custom.getNamespacedCustomObject({ ...FLINK_STATE_SNAPSHOTS, namespace: t.namespace, name: t.resource! }))) as FlinkStateSnapshotObject;
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return { state: 'failed', reason: `FlinkStateSnapshot ${t.namespace}/${t.resource} was deleted before it completed` };
    throw err;
  }
  const s = snap.status ?? {};
  if (s.state === 'COMPLETED' && s.path) return { state: 'completed', path: s.path };
  if (s.state === 'FAILED') return { state: 'failed', reason: `operator: FlinkStateSnapshot ${t.namespace}/${t.resource} FAILED${s.failures ? ` after ${s.failures} attempt(s)` : ''}: ${s.error ?? 'no status.error'}` };
  if (s.state === 'ABANDONED') return { state: 'failed', reason: `operator: FlinkStateSnapshot ${t.namespace}/${t.resource} ABANDONED (the job was not running): ${s.error ?? 'no status.error'}` };
  return { state: 'pending', detail: `FlinkStateSnapshot ${t.resource} ${s.state ?? 'not yet observed by the operator'}` };
}

/** Delete the FlinkStateSnapshot of a finished trigger (its savepoint data stays: disposeOnDelete false). Idempotent; a nonce trigger has none. */
export async function releaseTrigger(apis: AzApis, t: SavepointTrigger): Promise<void> {
  if (t.via !== 'flinkstatesnapshot') return;
  try {
    await kubeCall(apis.az, `delete FlinkStateSnapshot ${t.namespace}/${t.resource}`, () => apis.custom.deleteNamespacedCustomObject({ ...FLINK_STATE_SNAPSHOTS, namespace: t.namespace, name: t.resource! }));
  } catch (err) {
    if (!(err instanceof PlatformError && err.code === 'not-found')) throw err;
  }
}

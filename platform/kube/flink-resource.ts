/**
 * The FlinkDeployment custom resource as the Kubernetes API serves it
 * (flink.apache.org/v1beta1, vendor/flink-operator/crds), and its mapping onto the ports'
 * DeploymentStatus and manifest shapes.
 */
import type { FlinkDeploymentManifest } from '../../domain/types.js';
import type { DeploymentStatus } from '../ports.js';

/** Group, version and plural of the FlinkDeployment CRD. */
export const FLINK_DEPLOYMENTS = { group: 'flink.apache.org', version: 'v1beta1', plural: 'flinkdeployments' } as const;

/** A FlinkDeployment object as read from the API server. */
export interface FlinkDeploymentObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: FlinkDeploymentManifest['spec'];
  status?: {
    lifecycleState?: string;
    observedGeneration?: number;
    jobManagerDeploymentStatus?: string;
    error?: string;
    jobStatus?: {
      state?: string; jobId?: string; startTime?: string; upgradeSavepointPath?: string;
      /** Legacy savepoint reporting (operator < 1.10, or FlinkStateSnapshot resources disabled): platform/kube/savepoint-trigger.ts. */
      savepointInfo?: { triggerId?: string; lastSavepoint?: { location?: string; timeStamp?: number; triggerNonce?: number; formatType?: string } };
    };
  };
}

/** Path of the FlinkDeployment collection of a namespace, for watches. */
export function collectionPath(namespace: string): string {
  return `/apis/${FLINK_DEPLOYMENTS.group}/${FLINK_DEPLOYMENTS.version}/namespaces/${encodeURIComponent(namespace)}/${FLINK_DEPLOYMENTS.plural}`;
}

/** The ports' view of a FlinkDeployment object in `az`. */
export function toDeploymentStatus(az: string, obj: FlinkDeploymentObject): DeploymentStatus {
  const job = (obj.spec.job ?? {}) as Record<string, unknown>;
  const status = obj.status ?? {};
  return {
    az,
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name,
    generation: obj.metadata.generation ?? 0,
    specState: job.state === 'suspended' ? 'suspended' : 'running',
    savepointRedeployNonce: typeof job.savepointRedeployNonce === 'number' ? job.savepointRedeployNonce : undefined,
    initialSavepointPath: typeof job.initialSavepointPath === 'string' ? job.initialSavepointPath : undefined,
    lifecycleState: status.lifecycleState,
    jobState: status.jobStatus?.state,
    jobId: status.jobStatus?.jobId,
    observedGeneration: status.observedGeneration,
    ...(status.jobManagerDeploymentStatus ? { jobManagerDeploymentStatus: status.jobManagerDeploymentStatus } : {}),
    error: status.error,
    ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
    ...(status.jobStatus?.upgradeSavepointPath ? { upgradeSavepointPath: status.jobStatus.upgradeSavepointPath } : {}),
    labels: { ...obj.metadata.labels },
  };
}

/** The object as a manifest (metadata reduced to name, namespace, labels, annotations). */
export function toManifest(obj: FlinkDeploymentObject): FlinkDeploymentManifest {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace ?? 'default', labels: { ...obj.metadata.labels }, annotations: { ...obj.metadata.annotations } },
    spec: obj.spec,
  };
}

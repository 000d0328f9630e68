/**
 * The readiness check of a target namespace over the Kubernetes API (ClusterPort.checkObjects):
 * `get` on the Namespace, then `get` on each named ServiceAccount, Secret, ConfigMap and
 * PersistentVolumeClaim, asking for metadata only (`Accept:
 * application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`), so a Secret's data never
 * reaches the worker. Least privilege: the RBAC verbs are `get` on those kinds; RBAC has no
 * metadata-only verb, so `get` on Secrets would allow reading their data by name, which this
 * code never asks for (docs/kubernetes.md#readiness-of-the-target-namespace). A 403 marks the
 * object unchecked instead of failing the plan (an identity bound to an older ClusterRole).
 * Sources: Kubernetes API concepts, "Receiving resources as Tables / PartialObjectMetadata"
 * (kubernetes.io/docs/reference/using-api/api-concepts/#alternate-representations-of-resources);
 * "Good practices for Kubernetes Secrets" → least-privilege access
 * (kubernetes.io/docs/concepts/security/secrets-good-practices/).
 */
import { setHeaderOptions } from '@kubernetes/client-node';
import type { NamespaceCheck, ObjectKind, ObjectRef } from '../../domain/target-readiness.js';
import { PlatformError } from '../errors.js';
import type { AzApis } from './az-apis.js';
import { kubeCall } from './errors.js';

/** Ask the API server for an object's metadata only. */
const METADATA_ONLY = setHeaderOptions('Accept', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1');

function read(a: AzApis, namespace: string, kind: ObjectKind, name: string): Promise<unknown> {
  const args = { namespace, name };
  switch (kind) {
    case 'ServiceAccount': return a.core.readNamespacedServiceAccount(args, METADATA_ONLY);
    case 'Secret': return a.core.readNamespacedSecret(args, METADATA_ONLY);
    case 'ConfigMap': return a.core.readNamespacedConfigMap(args, METADATA_ONLY);
    case 'PersistentVolumeClaim': return a.core.readNamespacedPersistentVolumeClaim(args, METADATA_ONLY);
  }
}

const forbidden = (err: unknown): err is PlatformError => err instanceof PlatformError && err.code === 'forbidden';

/**
 * Check `namespace` of `a`'s AZ for `refs` (duplicates are read once); `missing` and
 * `unchecked` keep the order of `refs`.
 * @throws PlatformError classified by kubeError for anything but 404 and 403 (AZ down, throttled, …)
 */
export async function checkObjects(a: AzApis, namespace: string, refs: readonly ObjectRef[]): Promise<NamespaceCheck> {
  const distinct = [...new Map(refs.map((r) => [`${r.kind}/${r.name}`, r])).values()];
  try {
    await kubeCall(a.az, `get Namespace ${namespace}`, () => a.core.readNamespace({ name: namespace }, METADATA_ONLY));
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'not-found') return { namespaceExists: false, missing: [], unchecked: [] };
    if (!forbidden(err)) throw err;
    // Without `get` on Namespaces the objects can still be read; a missing namespace then shows as every object missing.
  }
  // Read at once; reported in the order of `refs` (not of the answers), so findings are stable.
  const found = await Promise.all(distinct.map(async (r): Promise<'present' | 'missing' | 'unchecked'> => {
    try {
      await kubeCall(a.az, `get ${r.kind} ${namespace}/${r.name}`, () => read(a, namespace, r.kind, r.name));
      return 'present';
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'not-found') return 'missing';
      if (forbidden(err)) return 'unchecked';
      throw err;
    }
  }));
  return {
    namespaceExists: true,
    missing: distinct.filter((_, i) => found[i] === 'missing').map((r) => ({ kind: r.kind, name: r.name })),
    unchecked: distinct.filter((_, i) => found[i] === 'unchecked').map((r) => ({ kind: r.kind, name: r.name, reason: `the worker may not get ${r.kind}s (403)` })),
  };
}

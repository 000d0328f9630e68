/**
 * Operator stand-in for real kube-apiservers (tests, `az-evac demo --platform k8s`): there
 * is no Flink here, so this controller plays the Apache Flink Kubernetes Operator against
 * the FlinkDeployments of real clusters, reusing the simulator's operator (operator.ts:
 * lifecycle, latency model, capacity, jars, checkpoints/savepoints into the simulator's
 * object store):
 *
 * - it lists then WATCHES every FlinkDeployment of each AZ's cluster and mirrors its spec
 *   into the simulator (Simulator.apply: a spec change reconciles, an equal spec is a no-op);
 *   a deleted FlinkDeployment's simulated job is stopped and removed (Simulator.deleteDeployment);
 * - before a resource's first deploy it mirrors the cluster's HA ConfigMaps
 *   (`app=<name>,configmap-type=high-availability`): when they were deleted in the cluster,
 *   the simulated JobManager no longer recovers from them; and it keeps the cluster's HA
 *   ConfigMaps of each resource as the simulated JobManager has them, the way Flink's
 *   Kubernetes HA services do (created when the job runs, gone after a stop-with-savepoint
 *   or a delete: kube-seed.ts createHaConfigMaps names them);
 * - whenever the simulated status changes it writes status through the `status`
 *   subresource (the CRD has one), the way the real operator does: lifecycleState
 *   (CREATED for a suspended first deploy, DEPLOYED → STABLE, SUSPENDED, UPGRADING, FAILED),
 *   jobStatus {state, jobId (fresh per deploy), startTime, upgradeSavepointPath (the savepoint a
 *   stop-with-savepoint took), savepointInfo.lastSavepoint (a savepointTriggerNonce savepoint)}, error (e.g. a failed savepoint, the job running on), and observedGeneration as
 *   the Kubernetes generation the simulator acted on;
 * - a restore path (spec.job.initialSavepointPath) the simulator's store lacks is read from
 *   the AZ's S3 first when S3 is mirrored: a savepoint az-evac's protection shipped there;
 * - a spec the simulator rejects (unreadable resources, missing jarURI, ...) → FAILED with
 *   status.error;
 * - for a job that restores state, once it has a job id, the JobManager's REST Service the
 *   way Flink's native Kubernetes integration names it (`<name>-rest`, port 8081), with no
 *   selector, an Endpoints object and a JobManager Pod whose IP is the REST stand-in's
 *   (flink-rest-server.ts), so the adapter's reads through the API server's service proxy
 *   reach the simulated job.
 *
 * It writes as its own identity (the admin kubeconfig in tests), never as `az-evac`.
 * A cluster that stops answering is retried every RELIST_PAUSE_MS; watches are re-listed (kube-list-watch.ts)
 * every WATCH_SECONDS so a simulator reset (fleet load) is re-mirrored.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { PlatformError } from '../platform/errors.js';
import type { AzApis } from '../platform/kube/az-apis.js';
import { listFlinkDeployments } from '../platform/kube/az-apis.js';
import { kubeCall } from '../platform/kube/errors.js';
import { FLINK_DEPLOYMENTS, toManifest, type FlinkDeploymentObject } from '../platform/kube/flink-resource.js';
import { REST_PORT } from '../platform/kube/flink-rest.js';
import { deleteHaConfigMaps, haLabelSelector } from '../platform/kube/ha-configmaps.js';
import { createHaConfigMaps } from './kube-seed.js';
import { METADATA, parseS3Uri } from '../domain/snapshot-layout.js';
import { canonicalJson, nsName, type Resource } from './resources.js';
import { KubeListWatch } from './kube-list-watch.js';
import type { Simulator } from './simulator.js';

/** Status writes in flight per AZ. */
const WRITE_CONCURRENCY = 16;

/** What the stand-in writes under .status (a subset of the CRD's status schema). */
interface WrittenStatus {
  lifecycleState: string;
  observedGeneration: number;
  error: string | null;
  /** jobId/startTime null = absent (a JSON merge patch deletes a null key). */
  jobStatus: {
    state: string; jobId: string | null; startTime: string | null; upgradeSavepointPath: string | null;
    /** Legacy report of a savepointTriggerNonce savepoint (null: none). */
    savepointInfo: { lastSavepoint: { location: string; timeStamp: number; triggerType: 'MANUAL'; formatType: 'CANONICAL'; triggerNonce: number } } | null;
  } | null;
}

/** The stand-in for every AZ of `apis`. */
export class KubeOperatorStandIn {
  /** The list+watch loops (kube-list-watch.ts). A failed mirror (the apiserver stopped mid-call, the
   * simulated AZ down) ends the watch; the loop lists again after RELIST_PAUSE_MS and mirrors every
   * resource, the failed one included (left to the watch's timeout, a suspend was acted on up to
   * minutes late). */
  private readonly watches: KubeListWatch<FlinkDeploymentObject>;
  /** Per `az|ns/name`: simulator generation → Kubernetes generation it mirrors. */
  private readonly generations = new Map<string, Map<number, number>>();
  /** Per `az|ns/name`: spec JSON the simulator rejected (not retried until the spec changes). */
  private readonly rejected = new Map<string, string>();
  /** Per `az|ns/name`: status JSON last written (or seen) in the cluster. */
  private readonly written = new Map<string, string>();
  /** Per `az|ns/name`: whether the cluster holds its HA ConfigMaps (as last mirrored). */
  private readonly haMirrored = new Map<string, boolean>();
  /** Per `az|ns/name`: the HA ConfigMap write in flight (they run in order). */
  private readonly haWrites = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, Resource>();
  /** Per `az|ns/name`: the REST Service write (done or in flight). */
  private readonly restServices = new Map<string, Promise<void>>();
  private readonly limits = new Map<string, ReturnType<typeof pLimit>>();

  /**
   * @param sim the simulator whose operator and object store play Flink; construct it with
   *   `onStatusChange: (r) => standIn.statusChanged(r)`
   * @param apis admin clients per AZ (the stand-in writes status)
   */
  constructor(
    private readonly sim: Simulator,
    private readonly apis: Map<string, AzApis>,
    private readonly log: Logger,
    /** Where the JobManager REST stand-in listens; undefined: no REST Services are written. */
    private readonly rest?: { ip: string; port: number },
  ) {
    this.watches = new KubeListWatch(apis, log, {
      path: `/apis/${FLINK_DEPLOYMENTS.group}/${FLINK_DEPLOYMENTS.version}/${FLINK_DEPLOYMENTS.plural}`,
      list: listFlinkDeployments,
      handle: (a, phase, obj) => (phase === 'DELETED' ? this.forget(a, obj) : this.mirror(a, obj)),
      pauseAfterFailedHandler: true,
      messages: { listWatchFailed: 'list/watch failed; retrying', handleFailed: 'mirror from watch failed; listing again' },
    });
  }

  /** Start one list+watch loop per AZ. */
  start(): void {
    this.watches.start();
  }

  /** Stop every watch. */
  stop(): void {
    this.watches.stop();
  }

  /** Hook for Simulator.onStatusChange: write the resource's status to its cluster. */
  statusChanged(r: Resource): void {
    const apis = this.apis.get(r.az);
    if (!apis || !this.watches.isRunning) return;
    const id = `${r.az}|${nsName(r.namespace, r.name)}`;
    const queued = this.pending.has(id);
    this.pending.set(id, r);
    if (queued) return;
    let limit = this.limits.get(r.az);
    if (!limit) this.limits.set(r.az, (limit = pLimit(WRITE_CONCURRENCY)));
    void limit(async () => {
      const latest = this.pending.get(id)!;
      this.pending.delete(id);
      await this.writeStatus(apis, id, latest).catch((err: unknown) => {
        // 404: the simulator knew the resource before the cluster did (fleet load before
        // seeding); the watch writes its status once it appears.
        const gone = err instanceof PlatformError && err.code === 'not-found';
        this.log[gone ? 'debug' : 'warn']({ err: String(err), id }, 'status write failed');
      });
    });
  }

  /** Mirror one FlinkDeployment's spec into the simulator; write status if the cluster's differs. */
  private async mirror(apis: AzApis, obj: FlinkDeploymentObject): Promise<void> {
    const az = apis.az;
    const namespace = obj.metadata.namespace ?? 'default';
    const key = nsName(namespace, obj.metadata.name);
    const id = `${az}|${key}`;
    let cluster;
    try {
      cluster = this.sim.cluster(az);
    } catch {
      return; // AZ not configured yet (no fleet loaded)
    }
    const existing = cluster.resources.get(key);
    const specJson = canonicalJson(obj.spec);
    const kubeGeneration = obj.metadata.generation ?? 1;
    if (this.rejected.get(id) === specJson) return;
    if (existing && canonicalJson(existing.spec) === specJson) {
      this.noteGeneration(id, existing.generation, kubeGeneration);
      if (JSON.stringify(this.statusOf(id, existing, kubeGeneration)) !== JSON.stringify(observedStatus(obj))) this.statusChanged(existing);
      return;
    }
    if (!existing) await this.mirrorHaConfigMaps(apis, namespace, obj.metadata.name);
    await this.importRestorePath(az, (obj.spec.job as { initialSavepointPath?: unknown } | undefined)?.initialSavepointPath);
    try {
      this.sim.apply(az, toManifest(obj));
    } catch (err) {
      // A retryable failure (the simulated AZ is down) is not a rejection: thrown, so the
      // watch ends and the loop lists again, as the operator's next reconcile would.
      if (!(err instanceof PlatformError) || err.retryable) throw err;
      this.rejected.set(id, specJson);
      await this.writeFailed(apis, obj, err.message);
      return;
    }
    this.rejected.delete(id);
    const r = cluster.resources.get(key)!;
    this.noteGeneration(id, r.generation, kubeGeneration);
    this.statusChanged(r);
  }

  /**
   * A restore path the simulator's store lacks but the AZ's S3 holds (a savepoint az-evac's
   * protection shipped there with S3 copies, which the simulator did not write): read into the
   * store first, as a real JobManager reads whatever S3 holds.
   */
  private async importRestorePath(az: string, path: unknown): Promise<void> {
    const mirror = this.sim.stores.mirror;
    const at = typeof path === 'string' ? parseS3Uri(path) : undefined;
    if (!mirror || !at) return;
    const store = this.sim.stores.store(az);
    if (!store.hasBucket(at.bucket) || store.get(at.bucket, `${at.key}/${METADATA}`)) return;
    for (const { key, obj } of await mirror.readForeign(az, at.bucket, `${at.key}/`)) store.put(at.bucket, key, obj, { silent: true });
  }

  /**
   * A FlinkDeployment deleted in the cluster: the operator tears its Flink cluster down, so
   * the simulated job stops and goes (a later resource of the same name starts afresh).
   */
  private forget(apis: AzApis, obj: FlinkDeploymentObject): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const id = `${apis.az}|${nsName(namespace, obj.metadata.name)}`;
    try {
      this.sim.deleteDeployment(apis.az, namespace, obj.metadata.name);
    } catch (err) {
      this.log.debug({ id, err: String(err) }, 'delete not mirrored (AZ down or not loaded)');
    }
    this.generations.delete(id);
    this.rejected.delete(id);
    this.written.delete(id);
    this.haMirrored.delete(id);
  }

  private noteGeneration(id: string, simGeneration: number, kubeGeneration: number): void {
    let m = this.generations.get(id);
    if (!m) this.generations.set(id, (m = new Map()));
    m.set(simGeneration, Math.max(kubeGeneration, m.get(simGeneration) ?? 0));
  }

  private async mirrorHaConfigMaps(apis: AzApis, namespace: string, name: string): Promise<void> {
    const labelSelector = haLabelSelector(name);
    const list = await kubeCall(apis.az, `list HA ConfigMaps ${namespace}/${name}`, () => apis.core.listNamespacedConfigMap({ namespace, labelSelector }));
    if (list.items.length === 0) this.sim.cluster(apis.az).haConfigMaps.delete(nsName(namespace, name));
    this.haMirrored.set(`${apis.az}|${nsName(namespace, name)}`, list.items.length > 0);
  }

  private statusOf(id: string, r: Resource, fallbackGeneration: number): WrittenStatus {
    const observed = this.generations.get(id)?.get(r.status.observedGeneration ?? r.generation) ?? fallbackGeneration;
    const job = r.status.jobStatus;
    return {
      lifecycleState: r.status.lifecycleState,
      observedGeneration: observed,
      error: r.status.error ?? null,
      jobStatus: job
        ? {
          state: job.state, jobId: job.jobId ?? null, startTime: job.startTime !== undefined ? String(Math.round(job.startTime * 1000)) : null, upgradeSavepointPath: job.upgradeSavepointPath ?? null,
          savepointInfo: job.lastManualSavepoint ? { lastSavepoint: { ...job.lastManualSavepoint, triggerType: 'MANUAL', formatType: 'CANONICAL' } } : null,
        }
        : null,
    };
  }

  private async writeStatus(apis: AzApis, id: string, r: Resource): Promise<void> {
    await this.writeHaConfigMaps(apis, id, r);
    if (r.run?.restoredFrom !== undefined && r.status.jobStatus?.jobId) await this.writeRestService(apis, id, r);
    const fallback = Math.max(0, ...(this.generations.get(id)?.values() ?? []));
    const status = this.statusOf(id, r, fallback);
    const json = JSON.stringify(status);
    if (this.written.get(id) === json) return;
    await kubeCall(apis.az, `write status ${id}`, () =>
      apis.custom.patchNamespacedCustomObjectStatus(
        { ...FLINK_DEPLOYMENTS, namespace: r.namespace, name: r.name, body: { status } },
        mergePatch,
      ),
    );
    this.written.set(id, json);
  }

  /**
   * Create or delete the resource's HA ConfigMaps in the cluster as the simulator holds them
   * when the write runs; writes of one resource run one after another (status writes of it
   * may overlap), so the last one leaves the cluster as the simulator is.
   */
  private writeHaConfigMaps(apis: AzApis, id: string, r: Resource): Promise<void> {
    const write = (this.haWrites.get(id) ?? Promise.resolve()).then(async () => {
      const has = this.sim.cluster(r.az).haConfigMaps.has(nsName(r.namespace, r.name));
      if (this.haMirrored.get(id) === has) return;
      if (has) await createHaConfigMaps(apis, r.namespace, r.name);
      else await deleteHaConfigMaps(apis, r.namespace, r.name);
      this.haMirrored.set(id, has);
    });
    const settled = write.catch(() => undefined);
    this.haWrites.set(id, settled);
    void settled.then(() => {
      if (this.haWrites.get(id) === settled) this.haWrites.delete(id);
    });
    return write;
  }

  /**
   * Point the `<name>-rest` Service (port 8081, no selector) at the REST stand-in, once per
   * resource and stand-in: the JobManager Pod `<name>-jobmanager` with the stand-in's address
   * as its pod IP (the API server proxies only to an Endpoints address whose targetRef Pod has
   * that IP), the Service, and its Endpoints. Server-side apply, so a Service left by an
   * earlier stand-in (another port) is repointed. A failed write is retried on the next status change.
   */
  private writeRestService(apis: AzApis, id: string, r: Resource): Promise<void> {
    const rest = this.rest;
    if (!rest) return Promise.resolve();
    let write = this.restServices.get(id);
    if (!write) {
      const { namespace } = r;
      const pod = `${r.name}-jobmanager`;
      const name = `${r.name}-rest`;
      const labels = { app: r.name, component: 'jobmanager' };
      const apply = { fieldManager: STAND_IN_MANAGER, force: true };
      write = (async () => {
        await kubeCall(apis.az, `apply Pod ${namespace}/${pod}`, () =>
          apis.core.patchNamespacedPod({
            namespace, name: pod, ...apply,
            body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels }, spec: { containers: [{ name: 'flink-main-container', image: String(r.spec.image ?? 'flink') }] } },
          }, applyPatch),
        );
        await kubeCall(apis.az, `write Pod status ${namespace}/${pod}`, () =>
          apis.core.patchNamespacedPodStatus({ namespace, name: pod, body: { status: { phase: 'Running', podIP: rest.ip, podIPs: [{ ip: rest.ip }] } } }, mergePatch),
        );
        await kubeCall(apis.az, `apply Service ${namespace}/${name}`, () =>
          apis.core.patchNamespacedService({
            namespace, name, ...apply,
            body: { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { ports: [{ name: 'rest', port: REST_PORT, targetPort: rest.port }] } },
          }, applyPatch),
        );
        await kubeCall(apis.az, `apply Endpoints ${namespace}/${name}`, () =>
          apis.core.patchNamespacedEndpoints({
            namespace, name, ...apply,
            body: {
              apiVersion: 'v1', kind: 'Endpoints', metadata: { name, labels },
              subsets: [{ addresses: [{ ip: rest.ip, targetRef: { kind: 'Pod', namespace, name: pod } }], ports: [{ name: 'rest', port: rest.port }] }],
            },
          }, applyPatch),
        );
      })();
      this.restServices.set(id, write);
      write.catch((err: unknown) => {
        this.restServices.delete(id);
        this.log.warn({ id, err: String(err) }, 'REST Service write failed; retried on the next status change');
      });
    }
    return write.catch(() => undefined);
  }

  private async writeFailed(apis: AzApis, obj: FlinkDeploymentObject, error: string): Promise<void> {
    const namespace = obj.metadata.namespace ?? 'default';
    const status: WrittenStatus = { lifecycleState: 'FAILED', observedGeneration: obj.metadata.generation ?? 1, error, jobStatus: null };
    await kubeCall(apis.az, `write status ${namespace}/${obj.metadata.name}`, () =>
      apis.custom.patchNamespacedCustomObjectStatus({ ...FLINK_DEPLOYMENTS, namespace, name: obj.metadata.name, body: { status } }, mergePatch),
    );
    this.written.set(`${apis.az}|${nsName(namespace, obj.metadata.name)}`, JSON.stringify(status));
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
/** Field manager of the objects the stand-in applies (never `az-evac`). */
const STAND_IN_MANAGER = 'flink-operator-stand-in';

/** The part of a cluster object's .status the stand-in owns, in WrittenStatus form. */
function observedStatus(obj: FlinkDeploymentObject): WrittenStatus | null {
  const s = obj.status;
  if (!s?.lifecycleState) return null;
  const job = s.jobStatus;
  return {
    lifecycleState: s.lifecycleState,
    observedGeneration: s.observedGeneration ?? 0,
    error: s.error ?? null,
    jobStatus: job?.state ? {
      state: job.state, jobId: job.jobId ?? null, startTime: job.startTime ?? null, upgradeSavepointPath: job.upgradeSavepointPath ?? null,
      savepointInfo: job.savepointInfo?.lastSavepoint?.location ? { lastSavepoint: job.savepointInfo.lastSavepoint as NonNullable<NonNullable<WrittenStatus['jobStatus']>['savepointInfo']>['lastSavepoint'] } : null,
    } : null,
  };
}

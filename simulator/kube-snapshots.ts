/**
 * Operator stand-in for FlinkStateSnapshot resources on real kube-apiservers (the companion
 * of kube-operator.ts): it lists then watches every FlinkStateSnapshot of each AZ's cluster
 * and answers a savepoint request the way the Flink Kubernetes Operator's
 * FlinkStateSnapshotController does, through the `status` subresource:
 *
 * - a new resource (no status.state) referencing a FlinkDeployment whose simulated job is
 *   RUNNING: `IN_PROGRESS` with `triggerId` and `triggerTimestamp`, then the savepoint is
 *   written into the job's state bucket (Operator.takeSavepoint: data, then `_metadata` in
 *   Flink's format; written through to S3 when mirrored) and the status becomes `COMPLETED`
 *   with `path` and `resultTimestamp`;
 * - a savepoint that fails (the `failSavepoint` fault, no savepoint directory): `FAILED` with
 *   `error` and `failures` (the operator retries up to spec.backoffLimit; az-evac asks for 0);
 * - a referenced job that is not running, or no such FlinkDeployment: `ABANDONED` with `error`.
 * Checkpoint requests (spec.checkpoint) and resources that already have a state are left alone.
 * The job keeps running in every case. Timestamps are ISO-8601, as the CRD's status has them.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PlatformError } from '../platform/errors.js';
import type { AzApis } from '../platform/kube/az-apis.js';
import { kubeCall } from '../platform/kube/errors.js';
import { FLINK_STATE_SNAPSHOTS } from '../platform/kube/savepoint-trigger.js';
import type { Simulator } from './simulator.js';
import { KubeListWatch } from './kube-list-watch.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A FlinkStateSnapshot as the stand-in reads it. */
interface SnapshotObject {
  metadata: { name: string; namespace?: string; uid?: string };
  spec?: { jobReference?: { kind?: string; name?: string }; savepoint?: { formatType?: string }; checkpoint?: object };
  status?: { state?: string };
}

/** The FlinkStateSnapshot stand-in for every AZ of `apis`. */
export class KubeSnapshotStandIn {
  /** The list+watch loops (kube-list-watch.ts); a failed answer ends the watch and the loop lists again at once. */
  private readonly watches: KubeListWatch<SnapshotObject>;
  /** `az|ns/name|uid` of resources already answered (a watch replays them). */
  private readonly answered = new Set<string>();

  constructor(
    private readonly sim: Simulator,
    private readonly apis: Map<string, AzApis>,
    private readonly log: Logger,
  ) {
    this.watches = new KubeListWatch(apis, log, {
      path: `/apis/${FLINK_STATE_SNAPSHOTS.group}/${FLINK_STATE_SNAPSHOTS.version}/${FLINK_STATE_SNAPSHOTS.plural}`,
      list: async (a) => ((await kubeCall(a.az, 'list FlinkStateSnapshots', () => a.custom.listClusterCustomObject({ ...FLINK_STATE_SNAPSHOTS }))) as { items: SnapshotObject[] }).items,
      handle: (a, phase, obj) => (phase === 'DELETED' ? undefined : this.answer(a, obj)),
      pauseAfterFailedHandler: false,
      messages: { listWatchFailed: 'FlinkStateSnapshot list/watch failed; retrying', handleFailed: 'FlinkStateSnapshot answer failed; listing again' },
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

  /** Answer one savepoint request that has no state yet. */
  private async answer(apis: AzApis, obj: SnapshotObject): Promise<void> {
    if (obj.status?.state || obj.spec?.checkpoint || !obj.spec?.savepoint) return;
    const namespace = obj.metadata.namespace ?? 'default';
    const id = `${apis.az}|${namespace}/${obj.metadata.name}|${obj.metadata.uid ?? ''}`;
    if (this.answered.has(id)) return;
    const write = (status: Record<string, unknown>): Promise<unknown> =>
      kubeCall(apis.az, `write status FlinkStateSnapshot ${namespace}/${obj.metadata.name}`, () =>
        apis.custom.patchNamespacedCustomObjectStatus({ ...FLINK_STATE_SNAPSHOTS, namespace, name: obj.metadata.name, body: { status } }, MERGE),
      );
    const ref = obj.spec.jobReference;
    const triggerTimestamp = new Date().toISOString();
    let result: ReturnType<Simulator['takeSavepoint']>;
    if (ref?.kind !== 'FlinkDeployment' || !ref.name) {
      result = { error: `spec.jobReference must name a FlinkDeployment, got ${JSON.stringify(ref ?? null)}`, notRunning: true };
    } else {
      try {
        result = this.sim.takeSavepoint(apis.az, namespace, ref.name);
      } catch (err) {
        if (!(err instanceof PlatformError) || err.retryable) throw err; // the AZ is down: answered when it is back
        result = { error: `FlinkDeployment ${namespace}/${ref.name} not found: ${err.message}`, notRunning: true };
      }
    }
    this.answered.add(id);
    if ('error' in result) {
      await write(result.notRunning
        ? { state: 'ABANDONED', error: result.error, failures: 0, triggerTimestamp }
        : { state: 'FAILED', error: result.error, failures: 1, triggerTimestamp, resultTimestamp: new Date().toISOString() });
      return;
    }
    await write({ state: 'IN_PROGRESS', triggerId: `sim-${obj.metadata.uid ?? obj.metadata.name}`, triggerTimestamp, failures: 0 });
    await write({ state: 'COMPLETED', path: result.path, resultTimestamp: new Date(result.completedAtEpochSeconds * 1000).toISOString() });
  }
}

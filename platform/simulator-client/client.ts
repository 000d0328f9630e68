/**
 * SimulatorClient: ClusterPort, ObjectStorePort, FleetSource, FaultInjectionPort, SavepointPort and
 * SnapshotShippingPort (protection: the simulated operator's FlinkStateSnapshot and copies between
 * the simulated AZs' object stores) over the
 * simulator's HTTP API (simulator/server.ts). It depends on that HTTP contract only (paths,
 * JSON bodies of the ports' own types, the error mapping in ./http-errors.ts), never on the
 * simulator's code: the simulator is one more platform behind the ports. Errors are
 * PlatformErrors: 503/504/connection refused → retryable 'unavailable'/'timeout'; 429 →
 * 'throttled' with retryAfterSeconds; 409 'conflict' (retryable); 404 'not-found'; 422/400
 * 'invalid' (server message kept); a down AZ → 'az-down' (retryable: its API server may come
 * back; callers decide).
 *
 * Connections are bounded (undici pools, keep-alive): at most CALL_CONNECTIONS for calls
 * answered at once, HELD_CONNECTIONS for calls held while the simulator copies (preload,
 * shipments, fleet loads, AZ down); calls beyond them queue in the client. Every
 * waitForRunning of the client rides one batched long-poll (./wait-batches.ts), so thousands
 * of concurrent waits hold one or two connections and leave the rest to the calls
 * (test/integration/simulator.test.ts, "holds … concurrent waits of one client on at most 2 connections"). Timestamps from the simulator are wall epoch seconds; `timeoutSeconds` are wall seconds.
 */
import { PlatformError } from '../errors.js';
import type { ApplyResult, ArtifactPlace, ClusterPort, DeploymentEvent, DeploymentStatus, FaultInjectionPort, FleetSource, ObjectStorePort, RunningStatus, SavepointPort, SavepointProgress, SavepointTrigger, ShippedSavepoint, SnapshotShippingPort, UpgradeMode, WaitProgress } from '../ports.js';
import type { SavepointFormat } from '../../domain/protection.js';
import type { Capacity, FleetJob, FlinkDeploymentManifest, JarArtifact, PlatformProfile, SnapshotCandidate, SnapshotChoice } from '../../domain/types.js';
import type { NamespaceCheck, ObjectRef } from '../../domain/target-readiness.js';
import type { RestoreRequest } from '../../domain/flink-spec.js';
import type { SnapshotQuery } from '../../domain/snapshot-choice.js';
import type { SnapshotOwner } from '../../domain/snapshot-owner.js';
import { Pool } from 'undici';
import { errorFromRequestFailure, errorFromResponse } from './http-errors.js';
import { WaitBatches, type WaitPoll, type WaitPollAnswer } from './wait-batches.js';

/** Longest a wait-for-running long-poll is held by the server, wall seconds. */
const HOLD_SECONDS = 10;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Preload copies and fleet loads can take minutes at time scale 1. */
export const LONG_TIMEOUT_MS = 30 * 60_000;
/** Connections of the pool of calls answered at once (and the batched waits' polls). */
const CALL_CONNECTIONS = 64;
/** Connections of the pool of calls held while the simulator copies (`timeoutMs` of LONG_TIMEOUT_MS). */
const HELD_CONNECTIONS = 64;

export const seg = (s: string): string => encodeURIComponent(s);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** HTTP client of one simulator. */
export class SimulatorClient implements ClusterPort, ObjectStorePort, FleetSource, FaultInjectionPort, SavepointPort, SnapshotShippingPort {
  private readonly calls: Pool;
  private readonly held: Pool;
  private readonly waits: WaitBatches;

  /**
   * @param url base URL printed by the simulator, e.g. `http://127.0.0.1:40123`
   * @throws TypeError naming the URL when it is not an http(s) URL
   */
  constructor(readonly url: string) {
    this.calls = new Pool(url, { connections: CALL_CONNECTIONS });
    this.held = new Pool(url, { connections: HELD_CONNECTIONS });
    this.waits = new WaitBatches((poll: WaitPoll, timeoutMs: number) =>
      this.call<WaitPollAnswer>('POST', '/waits', `poll of ${poll.rounds.length} new waits`, { body: poll, timeoutMs }),
    );
  }

  capacity(az: string): Promise<Capacity> {
    return this.call('GET', `/az/${seg(az)}/capacity`, `capacity of ${az}`);
  }

  async getDeployment(az: string, namespace: string, name: string): Promise<DeploymentStatus | null> {
    return (await this.call<{ status: DeploymentStatus | null }>('GET', this.res(az, namespace, name), `get ${az} ${namespace}/${name}`)).status;
  }

  apply(az: string, manifest: FlinkDeploymentManifest): Promise<ApplyResult> {
    return this.call('POST', `/az/${seg(az)}/apply`, `apply ${az} ${manifest.metadata.namespace ?? 'default'}/${manifest.metadata.name}`, { body: manifest });
  }

  restore(az: string, namespace: string, name: string, restore: RestoreRequest, annotations?: Record<string, string>): Promise<DeploymentStatus> {
    return this.call('POST', `${this.res(az, namespace, name)}/restore`, `restore ${az} ${namespace}/${name}`, { body: { ...restore, ...(annotations ? { annotations } : {}) } });
  }

  async suspend(az: string, namespace: string, name: string, annotations?: Record<string, string>): Promise<DeploymentStatus | null> {
    const body = annotations ? { annotations } : {};
    return (await this.call<{ status: DeploymentStatus | null }>('POST', `${this.res(az, namespace, name)}/suspend`, `suspend ${az} ${namespace}/${name}`, { body })).status;
  }

  async recordEvent(az: string, event: DeploymentEvent): Promise<void> {
    await this.call('POST', `/az/${seg(az)}/events`, `event ${event.reason} on ${az} ${event.namespace}/${event.name}`, { body: event });
  }

  async stopWithSavepoint(az: string, namespace: string, name: string): Promise<DeploymentStatus | null> {
    return (await this.call<{ status: DeploymentStatus | null }>('POST', `${this.res(az, namespace, name)}/stop-with-savepoint`, `stop ${az} ${namespace}/${name} with savepoint`, { body: {} })).status;
  }

  undoStop(az: string, namespace: string, name: string, upgradeMode: UpgradeMode | null): Promise<DeploymentStatus> {
    return this.call('POST', `${this.res(az, namespace, name)}/undo-stop`, `undo stop of ${az} ${namespace}/${name}`, { body: { upgradeMode } });
  }

  async deleteDeployment(az: string, namespace: string, name: string): Promise<boolean> {
    return (await this.call<{ deleted: boolean }>('DELETE', this.res(az, namespace, name), `delete ${az} ${namespace}/${name}`)).deleted;
  }

  label(az: string, namespace: string, name: string, labels: Record<string, string>, annotations?: Record<string, string>): Promise<DeploymentStatus> {
    return this.call('POST', `${this.res(az, namespace, name)}/labels`, `label ${az} ${namespace}/${name}`, { body: { labels, ...(annotations ? { annotations } : {}) } });
  }

  async deleteHaConfigMaps(az: string, namespace: string, name: string): Promise<number> {
    const path = `/az/${seg(az)}/ha-configmaps/${seg(namespace)}/${seg(name)}`;
    return (await this.call<{ deleted: number }>('DELETE', path, `delete HA ConfigMaps ${az} ${namespace}/${name}`)).deleted;
  }

  checkObjects(az: string, namespace: string, refs: readonly ObjectRef[]): Promise<NamespaceCheck> {
    return this.call('POST', `/az/${seg(az)}/namespaces/${seg(namespace)}/check`, `check objects of ${az} ${namespace}`, { body: { refs } });
  }

  /**
   * Long-polls until the job counts RUNNING by domain/restore-verdict.ts (the simulator
   * judges with the same rules as the Kubernetes adapter). Transient errors
   * (unavailable, throttled, timeout) are retried inside the deadline; 'az-down' and
   * terminal errors propagate. @throws PlatformError('failed', status.error or the restore loop's exception) when FAILED or looping,
   * PlatformError('timeout', not retryable) after `timeoutSeconds` (wall), or
   * PlatformError('unavailable', retryable) instead when the API did not answer for the
   * last HOLD_SECONDS of it (an outage is not a slow start-up), the signal's reason when aborted.
   */
  async waitForRunning(
    az: string,
    namespace: string,
    name: string,
    opts: { minGeneration: number; timeoutSeconds: number; restoring?: boolean; onProgress?: WaitProgress; signal?: AbortSignal },
  ): Promise<RunningStatus> {
    const what = `wait for ${az} ${namespace}/${name} RUNNING`;
    const deadline = Date.now() + opts.timeoutSeconds * 1000;
    let last: DeploymentStatus | null = null;
    let waitingFor = 'jobStatus RUNNING';
    /** The transient error of the polls since the last answer, if none answered within HOLD_SECONDS. */
    let unobserved: PlatformError | undefined;
    let answeredAtMs = Date.now();
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        // Not observed at all lately (API outage): not a start-up timeout, the caller may wait again.
        if (unobserved) throw new PlatformError('unavailable', `${what}: could not observe the resource for the last ${HOLD_SECONDS}s of ${opts.timeoutSeconds}s (${unobserved.message})`, true);
        throw new PlatformError('timeout', `${what}: not RUNNING after ${opts.timeoutSeconds}s, still waiting for ${waitingFor} (last: ${last?.lifecycleState ?? 'absent'}/${last?.jobState ?? '-'})`, false);
      }
      const hold = Math.min(HOLD_SECONDS, remaining / 1000);
      try {
        const r = await this.waits.round({ az, namespace, name, minGeneration: opts.minGeneration, restoring: opts.restoring === true, holdSeconds: hold }, what, opts.signal);
        last = r.status;
        if (r.waitingFor) waitingFor = r.waitingFor;
        unobserved = undefined;
        answeredAtMs = Date.now();
        opts.onProgress?.(r.status);
        if (r.done === 'running' && r.status && r.evidence) return { ...r.status, restore: r.evidence };
        if (r.done === 'failed') throw new PlatformError('failed', `${az} ${namespace}/${name} ${r.reason ?? 'FAILED'}`, false);
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (!(err instanceof PlatformError) || !['unavailable', 'throttled', 'timeout'].includes(err.code)) throw err;
        if (Date.now() - answeredAtMs >= HOLD_SECONDS * 1000 || Date.now() - answeredAtMs >= remaining) unobserved = err;
        opts.onProgress?.(last);
        await sleep(Math.min(Math.max(0, deadline - Date.now()), (err.retryAfterSeconds ?? 0.5) * 1000));
      }
    }
  }

  async listSnapshots(az: string, owner: SnapshotOwner): Promise<SnapshotCandidate[]> {
    return (await this.call<{ snapshots: SnapshotCandidate[] }>('POST', `/az/${seg(az)}/snapshots`, `list snapshots in ${az} of ${owner.checkpointPrefix}`, { body: { owner } })).snapshots;
  }

  async findSnapshot(az: string, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice> {
    return (await this.call<{ choice: SnapshotChoice }>('POST', `/az/${seg(az)}/snapshots/find`, `find a snapshot in ${az} of ${owner.checkpointPrefix}`, { body: { owner, query } })).choice;
  }

  async hasArtifact(az: string, jar: JarArtifact, place: ArtifactPlace): Promise<boolean> {
    return (await this.call<{ present: boolean }>('POST', `/az/${seg(az)}/artifacts/has`, `look up ${jar.key} in ${az} ${place}`, { body: { jar, place } })).present;
  }

  preloadArtifact(az: string, jar: JarArtifact): Promise<{ copiedBytes: number }> {
    return this.call('POST', `/az/${seg(az)}/artifacts/preload`, `preload ${jar.key} in ${az}`, { body: { jar }, timeoutMs: LONG_TIMEOUT_MS });
  }

  /** SavepointPort: the simulated operator's FlinkStateSnapshot (simulator/protection.ts). @throws PlatformError('not-found') when the FlinkDeployment does not exist */
  triggerSavepoint(az: string, namespace: string, name: string, o: { id: string; format: SavepointFormat }): Promise<SavepointTrigger> {
    return this.call('POST', `${this.res(az, namespace, name)}/savepoints`, `trigger savepoint ${az} ${namespace}/${name}`, { body: { id: o.id, format: o.format } });
  }

  savepointProgress(trigger: SavepointTrigger): Promise<SavepointProgress> {
    return this.call('POST', `${this.res(trigger.az, trigger.namespace, trigger.name)}/savepoints/progress`, `read savepoint ${trigger.id} of ${trigger.az} ${trigger.namespace}/${trigger.name}`, { body: { trigger } });
  }

  async releaseSavepointTrigger(trigger: SavepointTrigger): Promise<void> {
    await this.call('POST', `${this.res(trigger.az, trigger.namespace, trigger.name)}/savepoints/release`, `release savepoint ${trigger.id} of ${trigger.az} ${trigger.namespace}/${trigger.name}`, { body: { trigger } });
  }

  /** SnapshotShippingPort: a copy between the simulated AZs' state buckets, held until copied (minutes for big state at time scale 1). */
  shipSavepoint(fromAz: string, toAz: string, path: string): Promise<ShippedSavepoint> {
    return this.call('POST', `/az/${seg(toAz)}/shipments`, `ship ${path} from ${fromAz} to ${toAz}`, { body: { fromAz, path }, timeoutMs: LONG_TIMEOUT_MS });
  }

  async deleteShipped(az: string, path: string): Promise<number> {
    return (await this.call<{ deleted: number }>('POST', `/az/${seg(az)}/shipments/delete`, `delete shipped copy ${path} in ${az}`, { body: { path } })).deleted;
  }

  /** Primaries of every UP AZ; `unreachableAzs` lists the down ones. @throws 'az-down' when every AZ is down. */
  readFleet(): Promise<{ platform: PlatformProfile; jobs: FleetJob[]; unreachableAzs: string[] }> {
    return this.call('GET', '/fleet', 'read fleet', { timeoutMs: LONG_TIMEOUT_MS });
  }

  /** Control: take an AZ down (after the simulator's S3 write-through, if any, caught up) or bring it back. */
  async setAzDown(az: string, down: boolean): Promise<void> {
    await this.call('POST', `/control/az/${seg(az)}/${down ? 'down' : 'up'}`, `set ${az} ${down ? 'down' : 'up'}`, { body: {}, timeoutMs: LONG_TIMEOUT_MS });
  }

  protected res(az: string, namespace: string, name: string): string {
    return `/az/${seg(az)}/deployments/${seg(namespace)}/${seg(name)}`;
  }

  protected async call<T>(method: string, path: string, what: string, opts: { body?: unknown; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    let status: number;
    let retryAfter: string | undefined;
    let text: string;
    try {
      const res = await (timeoutMs >= LONG_TIMEOUT_MS ? this.held : this.calls).request({
        method: method as 'GET',
        path,
        headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal,
        // The signal bounds the call, queueing in the pool included; no idle-time limits of undici's own.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      status = res.statusCode;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      text = await res.body.text();
    } catch (err) {
      throw errorFromRequestFailure(err, what);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status < 200 || status >= 300) throw errorFromResponse(status, body ?? { message: text.slice(0, 500) || `HTTP ${status}` }, what, retryAfter);
    return body as T;
  }
}

/**
 * SimulatorControlClient: the simulator's control API (load a fleet, inject faults, read
 * stats, objects and resources) for the demo, tests and benchmarks, on top of the production
 * adapter SimulatorClient. Lab code: production code never imports it.
 */
import { SimulatorClient, LONG_TIMEOUT_MS, seg } from '../platform/simulator-client/client.js';
import type { FlinkDeploymentManifest } from '../domain/types.js';
import type { ObjectRef } from '../domain/target-readiness.js';
import type { DeploymentEvent } from '../platform/ports.js';
import type { FaultConfig } from './faults.js';
import type { GeneratedFleet } from './fleet-generator.js';
import type { LoadFleetOptions, LoadFleetResult } from './fleet-loader.js';
import type { ListRequest, ListResult } from './object-store.js';
import type { ResourceStatus } from './resources.js';
import type { SimulatorStats } from './stats.js';

/** A resource as GET /control/deployments returns it. */
export interface SimulatedDeployment {
  az: string;
  manifest: FlinkDeploymentManifest;
  generation: number;
  status: ResourceStatus;
}

/** HTTP client of one simulator with its control calls. */
export class SimulatorControlClient extends SimulatorClient {
  /** Control: keys (`namespace/name`) of the HA ConfigMap sets of an AZ. */
  async haConfigMaps(az: string): Promise<string[]> {
    return (await this.call<{ keys: string[] }>('GET', `/control/ha-configmaps?az=${seg(az)}`, `list HA ConfigMaps of ${az}`)).keys;
  }

  /** Control: replace the platform with `fleet` (see fleet-loader.ts). */
  loadFleet(fleet: GeneratedFleet, options?: LoadFleetOptions): Promise<LoadFleetResult> {
    return this.call('POST', '/control/fleet', 'load fleet', { body: { fleet, ...(options ? { options } : {}) }, timeoutMs: LONG_TIMEOUT_MS });
  }

  /**
   * Control: start (`down`) or end a replication outage of the state buckets from `from` into
   * `to` (replication.ts setReplicationDown). With `declare`, the platform profile (GET /fleet,
   * so the next catalog) also lists the pair in `notReplicated` (or no longer), as an operator
   * declares it while replication is down so that protection ships savepoints
   * (Simulator.declareNotReplicated). @throws PlatformError naming an unknown AZ
   */
  async setReplicationDown(from: string, to: string, down: boolean, opts: { declare?: boolean } = {}): Promise<void> {
    const q = opts.declare === undefined ? '' : `?declare=${opts.declare}`;
    await this.call('POST', `/control/replication/${seg(from)}/${seg(to)}/${down ? 'down' : 'up'}${q}`, `replication ${from} → ${to} ${down ? 'down' : 'up'}`, { body: {} });
  }

  /** Control: merge fault settings. @returns the settings now */
  setFaults(faults: Partial<FaultConfig>): Promise<FaultConfig> {
    return this.call('POST', '/control/faults', 'set faults', { body: faults });
  }

  /** Control: counters and gauges, optionally for one AZ and/or job key. */
  stats(filter: { az?: string; key?: string } = {}): Promise<SimulatorStats> {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    return this.call('GET', `/control/stats${q.size > 0 ? `?${q}` : ''}`, 'stats');
  }

  /** Control: every resource (of one AZ) with full status. */
  async listDeployments(az?: string): Promise<SimulatedDeployment[]> {
    const q = az === undefined ? '' : `?az=${seg(az)}`;
    return (await this.call<{ deployments: SimulatedDeployment[] }>('GET', `/control/deployments${q}`, 'list deployments', { timeoutMs: LONG_TIMEOUT_MS })).deployments;
  }

  /** Control: the Kubernetes Events recorded in `az` (ClusterPort.recordEvent), oldest first. */
  async events(az: string): Promise<DeploymentEvent[]> {
    return (await this.call<{ events: DeploymentEvent[] }>('GET', `/control/events?az=${seg(az)}`, `list events of ${az}`)).events;
  }

  /** Control: put (stale) HA ConfigMaps of a job, pointing at `pointer`. */
  async putHaConfigMaps(az: string, namespace: string, name: string, pointer?: string): Promise<void> {
    await this.call('POST', '/control/ha-configmaps', `put HA ConfigMaps ${az} ${namespace}/${name}`, { body: { az, namespace, name, pointer } });
  }

  /**
   * Control: add (`present`) or remove objects of a simulated namespace, or the namespace
   * itself when `objects` is omitted (Simulator.setKubeObjects).
   */
  async setKubeObjects(az: string, namespace: string, present: boolean, objects?: ObjectRef[]): Promise<void> {
    await this.call('POST', '/control/kube-objects', `set objects of ${az} ${namespace}`, { body: { az, namespace, present, ...(objects ? { objects } : {}) } });
  }

  /** Control: ListObjectsV2-like listing of a bucket in an AZ's store. */
  listObjects(az: string, bucket: string, req: ListRequest = {}): Promise<ListResult> {
    const q = new URLSearchParams({ az, bucket });
    for (const [k, v] of Object.entries(req)) if (v !== undefined) q.set(k, String(v));
    return this.call('GET', `/control/objects?${q}`, `list ${az} ${bucket}`);
  }

  /** Control: model clock (wall epoch now, time scale). */
  clock(): Promise<{ nowEpochSeconds: number; timeScale: number }> {
    return this.call('GET', '/control/clock', 'clock');
  }

  /** Control: forget everything (no AZs until a fleet is loaded). */
  async reset(): Promise<void> {
    await this.call('POST', '/control/reset', 'reset', { body: {} });
  }

}

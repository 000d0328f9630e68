/**
 * Counters and gauges of the simulator, for tests, the demo and benchmarks
 * (GET /control/stats).
 */
import type { Capacity } from '../domain/types.js';
import type { ApiFaultKind } from './faults.js';
import type { ResourceCounters } from './resources.js';
import type { Simulator } from './simulator.js';

/** Per-AZ gauges. */
export interface AzStats {
  down: boolean;
  resources: number;
  running: number;
  /** Deploys whose pods wait for capacity. */
  podsPending: number;
  free: Capacity;
  /** Repository reads (deploy jar fetches and preload copies) running now. */
  repositoryReads: number;
  /** Deploy reconciles waiting for a free operator reconcile thread. */
  reconcilesQueued: number;
  /** State restores reading from the AZ's object store now. */
  restoresRunning: number;
  haConfigMaps: number;
  objects: number;
}

/** The whole answer of GET /control/stats. */
export interface SimulatorStats {
  nowEpochSeconds: number;
  timeScale: number;
  azs: Record<string, AzStats>;
  /** AZ → job key → counters (only keys something happened to). */
  counters: Record<string, Record<string, ResourceCounters>>;
  faultsInjected: Record<ApiFaultKind, number>;
  eventsQueued: number;
  replicationsInFlight: number;
}

/** Stats, optionally only for one AZ and/or one job key. */
export function simulatorStats(sim: Simulator, filter: { az?: string; key?: string } = {}): SimulatorStats {
  const azs: Record<string, AzStats> = {};
  const counters: SimulatorStats['counters'] = {};
  for (const [az, cluster] of sim.clusters) {
    if (filter.az !== undefined && filter.az !== az) continue;
    const resources = [...cluster.resources.values()];
    azs[az] = {
      down: sim.scheduler.isDown(az),
      resources: resources.length,
      running: resources.filter((r) => r.run?.phase === 'running').length,
      podsPending: sim.capacityLedger.pendingCount(az),
      free: sim.capacityLedger.free(az),
      repositoryReads: sim.bottlenecks.of(az).repository.running(),
      reconcilesQueued: sim.bottlenecks.of(az).reconcile.queued(),
      restoresRunning: sim.bottlenecks.of(az).objectStore.running(),
      haConfigMaps: cluster.haConfigMaps.size,
      objects: sim.stores.store(az).objectCount(),
    };
    counters[az] = {};
    for (const [key, c] of cluster.counters) if (filter.key === undefined || filter.key === key) counters[az][key] = { ...c };
  }
  return {
    nowEpochSeconds: sim.clock.epoch(sim.clock.now()),
    timeScale: sim.clock.timeScale,
    azs,
    counters,
    faultsInjected: { ...sim.faults.injected },
    eventsQueued: sim.scheduler.pending(),
    replicationsInFlight: sim.stores.counts().replicationsInFlight,
  };
}

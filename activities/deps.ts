/**
 * What activities need from the outside, injected by the composition root (worker/).
 * Activities are built by factories over these narrow ports: createActivities(deps).
 */
import type { FlinkDeploymentManifest, TiersPolicy } from '../domain/types.js';
import type { CatalogStore, ClusterPort, EngineMetrics, EvacuationStore, FaultInjectionPort, FleetSource, ObjectStorePort, ReportStore, SavepointPort, SnapshotShippingPort } from '../platform/ports.js';

export interface ActivityDeps {
  cluster: ClusterPort;
  objects: ObjectStorePort;
  fleet: FleetSource;
  catalogs: CatalogStore;
  evacuations: EvacuationStore;
  /** Reads and validates tiers.yaml (throws ConfigValidationError naming file, key and fix). */
  loadTiers(): Promise<TiersPolicy>;
  /** Validates a manifest against the real FlinkDeployment CRD schema. */
  validateManifest(manifest: FlinkDeploymentManifest): { ok: true } | { ok: false; errors: string[] };
  /** Jars copied at once during preload. */
  preloadConcurrency: number;
  /** Where evacuation and drill reports are written (read back by the CLI and the console). */
  reports: ReportStore;
  /** Fault injection, present on the simulator only (drills on real clusters use hook commands). */
  faults?: FaultInjectionPort;
  /** Savepoints of running jobs through the operator, for protection (the k8s platform); absent: protection cannot take savepoints and says so. */
  savepoints?: SavepointPort;
  /** Shipping savepoints between AZs that do not replicate, for protection (the S3 object store); absent: protection cannot ship and says so. */
  shipping?: SnapshotShippingPort;
  /** Monitoring (the worker's /metrics); absent: nothing is recorded. */
  metrics?: EngineMetrics;
}

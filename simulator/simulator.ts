/**
 * The simulated two-AZ (or more) Flink platform in one object: per AZ a Kubernetes
 * cluster running the Flink Kubernetes Operator (operator.ts), Flink jobs that checkpoint
 * (checkpointing.ts) and an S3-like object store replicated across AZs (replication.ts).
 * The HTTP server (server.ts) exposes it; tests may also drive it in-process.
 *
 * Methods mirror ClusterPort / ObjectStorePort / FleetSource (minus the HTTP details) and
 * throw PlatformError: 'az-down' for a down AZ, 'not-found' for an unknown AZ or resource,
 * 'invalid' for a rejected manifest.
 */
import { PlatformError } from '../platform/errors.js';
import { restoreSpecPatch, type RestoreRequest } from '../domain/flink-spec.js';
import type { ApplyResult, ArtifactPlace, DeploymentEvent, DeploymentStatus, UpgradeMode } from '../platform/ports.js';
import type { AzProfile, Capacity, FleetJob, FlinkDeploymentManifest, JarArtifact, PlatformProfile, SnapshotCandidate, SnapshotChoice, SnapshotEntry } from '../domain/types.js';
import { CapacityLedger } from './capacity.js';
import { Checkpointing } from './checkpointing.js';
import { Faults, type FaultConfig } from './faults.js';
import { DEFAULT_STATE_BYTES, readFleetJobs } from '../domain/fleet-contract.js';
import { Jars } from './jars.js';
import { AzBottlenecks } from './az-bottlenecks.js';
import { DEFAULT_MODEL, type PlatformModel } from './latency-model.js';
import { Operator, restEvidenceOf } from './operator.js';
import { restoreVerdict, type RestoreEvidence } from '../domain/restore-verdict.js';
import { ReplicatedStores } from './replication.js';
import { SimulatorProtection } from './protection.js';
import type { S3Mirror } from './s3-mirror.js';
import { AzCluster, canonicalJson, createResource, manifestOf, nsName, toDeploymentStatus, type Resource } from './resources.js';
import { ModelClock, Scheduler, type WallClock } from './scheduler.js';
import { findSnapshot, listSnapshotCandidates, listSnapshots } from './snapshots.js';
import { distinctRefs, type NamespaceCheck, type ObjectRef } from '../domain/target-readiness.js';
import type { SnapshotQuery } from '../domain/snapshot-choice.js';
import type { SnapshotOwner } from '../domain/snapshot-owner.js';

/** Options of a simulator. */
export interface SimulatorOptions {
  /** Model seconds per wall second (10 → ten times faster). */
  timeScale: number;
  seed: number;
  /** Checks a manifest like the API server (CRD schema); returns problems, empty when valid. */
  validateManifest?: (manifest: unknown) => string[];
  /** Injectable wall clock (ms), for tests. */
  wall?: WallClock;
  /** Write every object through to S3 (checkpoints, savepoints, jars); the jar cache is read back from it. */
  mirror?: S3Mirror;
  /** Floor on every job's checkpoint interval, model seconds (default 0: none). */
  minCheckpointIntervalSeconds?: number;
  /** Called after the operator changed a resource's status (the Kubernetes stand-in writes it out). */
  onStatusChange?: (r: Resource) => void;
  /** Timing model (default DEFAULT_MODEL; NULL_MODEL: every job RUNNING the moment it is applied). */
  model?: PlatformModel;
}

/** The simulated platform. */
export class Simulator {
  readonly clock: ModelClock;
  readonly scheduler: Scheduler;
  readonly stores: ReplicatedStores;
  readonly checkpointing: Checkpointing;
  readonly capacityLedger = new CapacityLedger();
  readonly jars: Jars;
  /** Each AZ's shared resources (reconcile threads, pod binding, registry, repository, object store). */
  readonly bottlenecks: AzBottlenecks;
  readonly faults: Faults;
  readonly operator: Operator;
  /** Protection's savepoints and shipping (SavepointPort, SnapshotShippingPort semantics: protection.ts). */
  readonly protection: SimulatorProtection;
  readonly seed: number;
  platform: PlatformProfile = { layout: 'symmetric', azs: [] };
  readonly clusters = new Map<string, AzCluster>();
  /** Nominal state bytes per job key (from the loaded fleet). */
  readonly stateSizes = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(readonly opts: SimulatorOptions) {
    this.seed = opts.seed;
    this.clock = new ModelClock(opts.timeScale, opts.wall);
    this.scheduler = new Scheduler(this.clock);
    this.stores = new ReplicatedStores(this.scheduler, opts.seed, opts.mirror);
    this.bottlenecks = new AzBottlenecks(this.scheduler, opts.model ?? DEFAULT_MODEL);
    this.checkpointing = new Checkpointing(this.stores, this.scheduler, opts.seed, this.bottlenecks);
    this.jars = new Jars(this.stores, this.scheduler, this.bottlenecks, opts.mirror);
    this.faults = new Faults(opts.seed);
    this.operator = new Operator({
      seed: opts.seed,
      model: this.bottlenecks.model,
      bottlenecks: this.bottlenecks,
      scheduler: this.scheduler,
      stores: this.stores,
      checkpointing: this.checkpointing,
      capacity: this.capacityLedger,
      jars: this.jars,
      cluster: (az) => this.cluster(az),
      profile: (az) => this.profile(az),
      stateSizeBytes: (key) => this.stateSizes.get(key) ?? DEFAULT_STATE_BYTES,
      minCheckpointIntervalSeconds: opts.minCheckpointIntervalSeconds ?? 0,
      neverRunning: (key) => this.faults.neverRunning(key),
      failRestore: (key) => this.faults.failRestore(key),
      ignoreSuspend: (key) => this.faults.ignoreSuspend(key),
      failSavepoint: (key) => this.faults.failSavepoint(key),
      changed: (r) => {
        this.wake(r.az, r.namespace, r.name);
        opts.onStatusChange?.(r);
      },
    });
    this.protection = new SimulatorProtection(this);
  }

  /** Drop every resource, object, event and fault; configure `platform` with `allocatable` per AZ. */
  configure(platform: PlatformProfile, allocatable: Record<string, Capacity>): void {
    this.scheduler.clear();
    this.bottlenecks.clear();
    this.capacityLedger.clear();
    this.protection.clear();
    this.clusters.clear();
    this.stateSizes.clear();
    this.faults.set({ apiFailureRate: 0, failApply: [], neverRunning: [], failRestore: [], ignoreSuspend: [], failSavepoint: [], apiDownAzs: [] });
    this.platform = structuredClone(platform);
    this.stores.configure(platform);
    for (const az of platform.azs) {
      this.clusters.set(az.name, new AzCluster(az.name));
      this.capacityLedger.setAllocatable(az.name, allocatable[az.name] ?? { cores: 0, memoryMiB: 0 });
    }
    for (const wake of [...this.waiters.values()].flatMap((s) => [...s])) wake();
  }

  /** The AZ's profile. @throws PlatformError('not-found') for an unknown AZ. */
  profile(az: string): AzProfile {
    const p = this.platform.azs.find((a) => a.name === az);
    if (!p) throw new PlatformError('not-found', `AZ ${az} is not part of the simulated platform (known: ${this.platform.azs.map((a) => a.name).join(', ') || 'none; load a fleet first'})`, false);
    return p;
  }

  cluster(az: string): AzCluster {
    this.profile(az);
    return this.clusters.get(az)!;
  }

  /** @throws PlatformError('az-down') when the AZ is down, ('not-found') when unknown. */
  assertUp(az: string): AzCluster {
    const c = this.cluster(az);
    if (this.scheduler.isDown(az)) throw new PlatformError('az-down', `AZ ${az} is down: its API server and object store do not answer`, true);
    return c;
  }

  /**
   * Merge fault settings (faults.ts). A suspend the operator ignored under `ignoreSuspend`
   * is acted on once the fault is lifted, as the real operator's periodic reconcile of every
   * resource would (in an AZ that is up). @returns the settings now
   */
  setFaults(update: Partial<FaultConfig>): FaultConfig {
    const cfg = this.faults.set(update);
    for (const c of this.clusters.values()) {
      if (this.scheduler.isDown(c.az)) continue;
      for (const r of c.resources.values()) {
        const unobserved = (r.status.observedGeneration ?? 0) < r.generation && r.spec.job?.state === 'suspended';
        if (unobserved && !this.faults.ignoreSuspend(nsName(r.namespace, r.name))) this.operator.reconcile(r, true);
      }
    }
    return cfg;
  }

  /**
   * Take an AZ down (API fails, jobs freeze, replication into and out of it is held per key) or
   * bring it back (held replications deliver the sources' current state, replication.ts).
   */
  setAzDown(az: string, down: boolean): void {
    this.cluster(az);
    this.scheduler.setDown(az, down);
    if (!down) this.stores.azUp(az);
  }

  /**
   * Control: list the pair `from → to` in the platform profile's `notReplicated` (`declared`), or
   * no longer: what readFleet reports and so what the next catalog says, as an operator declares
   * a pair whose replication is down so that protection ships savepoints across it. The stores'
   * replication itself is unchanged (a replication outage is setReplicationDown).
   * @throws PlatformError('not-found') for an unknown AZ, ('invalid') for `from === to`
   */
  declareNotReplicated(from: string, to: string, declared: boolean): void {
    this.profile(from);
    this.profile(to);
    if (from === to) throw new PlatformError('invalid', `notReplicated ${from} → ${to}: an AZ does not replicate into itself; name two different AZs`, false);
    const others = (this.platform.notReplicated ?? []).filter((p) => !(p.from === from && p.to === to));
    const list = declared ? [...others, { from, to }] : others;
    if (list.length > 0) this.platform.notReplicated = list;
    else delete this.platform.notReplicated;
  }

  capacity(az: string): Capacity {
    this.assertUp(az);
    return this.capacityLedger.free(az);
  }

  getDeployment(az: string, namespace: string, name: string): DeploymentStatus | null {
    const r = this.assertUp(az).resources.get(nsName(namespace, name));
    return r ? toDeploymentStatus(r) : null;
  }

  /**
   * Server-side apply (field manager az-evac, force): creates the resource or replaces its
   * spec; labels and annotations are merged. metadata.generation bumps only when the spec
   * changes (canonical JSON). @throws PlatformError('invalid') for a manifest the API server
   * (CRD schema) rejects or a job under the `failApply` fault.
   */
  apply(az: string, manifest: FlinkDeploymentManifest): ApplyResult {
    const cluster = this.assertUp(az);
    const namespace = manifest.metadata.namespace ?? 'default';
    const key = nsName(namespace, manifest.metadata.name);
    const problems = this.opts.validateManifest?.(manifest) ?? [];
    if (problems.length > 0) throw new PlatformError('invalid', `FlinkDeployment ${key} is invalid: ${problems.join('; ')}`, false);
    if (this.faults.failApply(key)) throw new PlatformError('invalid', `admission webhook denied FlinkDeployment ${key} (injected failApply fault)`, false);
    const counters = cluster.counter(key);
    const existing = cluster.resources.get(key);
    if (!existing) {
      const r = createResource(az, manifest, namespace);
      cluster.resources.set(key, r);
      counters.created++;
      counters.specChanges++;
      this.operator.reconcile(r, false);
      return { created: true, generation: r.generation, uid: r.uid };
    }
    Object.assign(existing.labels, manifest.metadata.labels);
    Object.assign(existing.annotations, manifest.metadata.annotations);
    this.updateSpec(existing, structuredClone(manifest.spec));
    return { created: false, generation: existing.generation, uid: existing.uid };
  }

  /**
   * The merge patch of the ClusterPort's restore (domain/flink-spec.ts restoreSpecPatch): a
   * savepoint redeploy with a path, a stateless resume without; a new ZooKeeper root with
   * `haZooKeeperRoot`; `annotations` merged (no generation bump for them).
   */
  restore(az: string, namespace: string, name: string, restore: RestoreRequest, annotations: Record<string, string> = {}): DeploymentStatus {
    const r = this.resource(az, namespace, name);
    Object.assign(r.annotations, annotations);
    const spec = structuredClone(r.spec);
    const patch = restoreSpecPatch(restore);
    const merge = (into: Record<string, unknown>, from: Record<string, unknown>): void => {
      for (const [k, v] of Object.entries(from)) {
        if (v === null) delete into[k];
        else into[k] = v;
      }
    };
    merge((spec.job ??= {}) as Record<string, unknown>, patch.job);
    if (patch.flinkConfiguration) merge((spec.flinkConfiguration ??= {}), patch.flinkConfiguration);
    this.updateSpec(r, spec);
    return toDeploymentStatus(r);
  }

  /** spec.job.state: suspended, `annotations` merged (no generation bump for them); null when the resource does not exist. */
  suspend(az: string, namespace: string, name: string, annotations: Record<string, string> = {}): DeploymentStatus | null {
    const r = this.assertUp(az).resources.get(nsName(namespace, name));
    if (!r) return null;
    Object.assign(r.annotations, annotations);
    const spec = structuredClone(r.spec);
    (spec.job ??= {}).state = 'suspended';
    this.updateSpec(r, spec);
    return toDeploymentStatus(r);
  }

  /** spec.job.state suspended + upgradeMode savepoint (ClusterPort.stopWithSavepoint); null when the resource does not exist. */
  stopWithSavepoint(az: string, namespace: string, name: string): DeploymentStatus | null {
    const r = this.assertUp(az).resources.get(nsName(namespace, name));
    if (!r) return null;
    const spec = structuredClone(r.spec);
    Object.assign((spec.job ??= {}), { state: 'suspended', upgradeMode: 'savepoint' });
    this.updateSpec(r, spec);
    return toDeploymentStatus(r);
  }

  /**
   * A savepoint of the running job of `namespace/name` in `az`, the job left running
   * (Operator.takeSavepoint): its path, or the operator's error.
   * @throws PlatformError('not-found') when the resource does not exist; 'az-down' when the AZ is down
   */
  takeSavepoint(az: string, namespace: string, name: string): ReturnType<Operator['takeSavepoint']> {
    return this.operator.takeSavepoint(this.resource(az, namespace, name));
  }

  /** spec.job.state running + upgradeMode `upgradeMode` (null: removed) (ClusterPort.undoStop). @throws PlatformError('not-found') */
  undoStop(az: string, namespace: string, name: string, upgradeMode: UpgradeMode | null): DeploymentStatus {
    const r = this.resource(az, namespace, name);
    const spec = structuredClone(r.spec);
    const job = (spec.job ??= {}) as Record<string, unknown>;
    job.state = 'running';
    if (upgradeMode === null) delete job.upgradeMode;
    else job.upgradeMode = upgradeMode;
    this.updateSpec(r, spec);
    return toDeploymentStatus(r);
  }

  /** Delete a resource: its job stops (no savepoint), capacity and HA ConfigMaps are freed. @returns whether it existed */
  deleteDeployment(az: string, namespace: string, name: string): boolean {
    const cluster = this.assertUp(az);
    const key = nsName(namespace, name);
    const r = cluster.resources.get(key);
    if (!r) return false;
    this.operator.remove(r);
    cluster.resources.delete(key);
    cluster.haConfigMaps.delete(key);
    cluster.counter(key).deleted++;
    this.wake(az, namespace, name);
    return true;
  }

  /**
   * Record a Kubernetes Event on a resource of `az` (kept per AZ, read back with
   * listEvents); the same id twice is one Event. The resource need not exist.
   */
  recordEvent(az: string, event: DeploymentEvent): void {
    this.assertUp(az).events.set(event.id, structuredClone(event));
  }

  /** Events recorded in `az`, in the order they were first recorded. */
  listEvents(az: string): DeploymentEvent[] {
    return [...this.cluster(az).events.values()].map((e) => structuredClone(e));
  }

  /** Merge-patch labels (no generation bump). */
  label(az: string, namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): DeploymentStatus {
    const r = this.resource(az, namespace, name);
    Object.assign(r.labels, labels);
    Object.assign(r.annotations, annotations);
    this.wake(az, namespace, name);
    return toDeploymentStatus(r);
  }

  /** Delete `app=<name>,configmap-type=high-availability` ConfigMaps. @returns how many. */
  deleteHaConfigMaps(az: string, namespace: string, name: string): number {
    const cluster = this.assertUp(az);
    const key = nsName(namespace, name);
    const ha = cluster.haConfigMaps.get(key);
    if (!ha) return 0;
    cluster.haConfigMaps.delete(key);
    cluster.counter(key).haConfigMapDeletes++;
    return ha.count;
  }

  /** ClusterPort.checkObjects over the simulated namespace list (AzCluster.namespaces). */
  checkObjects(az: string, namespace: string, refs: readonly ObjectRef[]): NamespaceCheck {
    const objects = this.assertUp(az).namespaces.get(namespace);
    if (!objects) return { namespaceExists: false, missing: [], unchecked: [] };
    return { namespaceExists: true, missing: distinctRefs(refs).filter((r) => !objects.has(`${r.kind}/${r.name}`)), unchecked: [] };
  }

  /**
   * Control: add (`present`) or remove objects of a namespace, or the namespace itself when
   * `objects` is omitted (adding an object adds its namespace).
   */
  setKubeObjects(az: string, namespace: string, present: boolean, objects?: readonly ObjectRef[]): void {
    const ns = this.cluster(az).namespaces;
    if (!objects) {
      if (present) ns.set(namespace, ns.get(namespace) ?? new Set());
      else ns.delete(namespace);
      return;
    }
    const set = ns.get(namespace) ?? new Set<string>();
    for (const o of objects) {
      if (present) set.add(`${o.kind}/${o.name}`);
      else set.delete(`${o.kind}/${o.name}`);
    }
    if (present || ns.has(namespace)) ns.set(namespace, set);
  }

  /** Control: put HA ConfigMaps (e.g. stale ones left from an earlier run) pointing at `pointer`. */
  putHaConfigMaps(az: string, namespace: string, name: string, pointer?: string): void {
    this.cluster(az).haConfigMaps.set(nsName(namespace, name), { count: 2, pointer });
  }

  /**
   * Resolve once the job's verdict (domain/restore-verdict.ts, the rules the Kubernetes
   * adapter applies to the operator's status and Flink's REST API) is done, or after `holdMs`
   * wall ms; `done` says which, `reason` why it failed, `evidence` why it counts running.
   * @param restoring the deploy restores state: running needs a checkpoint after the restore
   */
  async waitForRunning(
    az: string,
    namespace: string,
    name: string,
    minGeneration: number,
    holdMs: number,
    restoring = false,
  ): Promise<{ status: DeploymentStatus | null; done?: 'running' | 'failed'; reason?: string; evidence?: RestoreEvidence; waitingFor?: string }> {
    const check = () => {
      const status = this.getDeployment(az, namespace, name);
      const run = this.cluster(az).resources.get(nsName(namespace, name))?.run;
      const verdict = restoreVerdict({ status, minGeneration, restoring, ...(run ? restEvidenceOf(run) : {}) });
      if (verdict.done === 'running') return { status, done: verdict.done, evidence: verdict.evidence };
      if (verdict.done === 'failed') return { status, done: verdict.done, reason: verdict.reason };
      return { status, waitingFor: verdict.waitingFor };
    };
    const first = check();
    if (first.done) return first;
    const id = `${az}|${nsName(namespace, name)}`;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const wake = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, holdMs);
      set.add(wake);
    });
    return check();
  }

  /** Every snapshot under the job's prefixes, every job id, fully resolved (inspection, see snapshots.ts listSnapshots). */
  listSnapshots(az: string, job: Pick<FleetJob, 'checkpointPrefix' | 'savepointPrefix'>): SnapshotEntry[] {
    this.assertUp(az);
    return listSnapshots(this.stores.store(az), this.profile(az).stateBucket, job);
  }

  /** ObjectStorePort.listSnapshots: the owner's job ids' snapshot directories, newest first, none checked. */
  snapshotCandidates(az: string, owner: SnapshotOwner): SnapshotCandidate[] {
    this.assertUp(az);
    return listSnapshotCandidates(this.stores.store(az), this.profile(az).stateBucket, owner);
  }

  /** ObjectStorePort.findSnapshot: newest first, stopping at the first complete one (snapshots.ts findSnapshot). */
  findSnapshot(az: string, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice> {
    this.assertUp(az);
    return findSnapshot(this.stores.store(az), this.profile(az).stateBucket, owner, query);
  }

  hasArtifact(az: string, jar: JarArtifact, place: ArtifactPlace): boolean {
    this.assertUp(az);
    return this.jars.has(az, this.profile(az).artifactBucket, jar, place);
  }

  preloadArtifact(az: string, jar: JarArtifact): Promise<{ copiedBytes: number }> {
    this.assertUp(az);
    return this.jars.preload(az, this.profile(az).artifactBucket, jar);
  }

  /** Primaries of every UP AZ (standbys attached to them); down AZs reported, not read. @throws 'az-down' when every AZ is down. */
  readFleet(): { platform: PlatformProfile; jobs: FleetJob[]; unreachableAzs: string[] } {
    const up = this.platform.azs.filter((a) => !this.scheduler.isDown(a.name)).map((a) => this.clusters.get(a.name)!);
    const unreachableAzs = this.platform.azs.map((a) => a.name).filter((a) => this.scheduler.isDown(a));
    if (up.length === 0 && this.platform.azs.length > 0) throw new PlatformError('az-down', `every AZ is down (${unreachableAzs.join(', ')})`, true);
    const resources = up.flatMap((c) => [...c.resources.values()].map((r) => ({ az: r.az, manifest: manifestOf(r), jobId: r.status.jobStatus?.jobId })));
    const jobs = readFleetJobs(resources, (key) => this.stateSizes.get(key));
    return { platform: structuredClone(this.platform), jobs, unreachableAzs };
  }

  /** Every resource of an AZ (or all AZs, down ones included) with full status, for tests. */
  listDeployments(az?: string): Array<{ az: string; manifest: FlinkDeploymentManifest; generation: number; status: Resource['status'] }> {
    const clusters = az === undefined ? [...this.clusters.values()] : [this.cluster(az)];
    return clusters.flatMap((c) => [...c.resources.values()].map((r) => ({ az: r.az, manifest: structuredClone(manifestOf(r)), generation: r.generation, status: structuredClone(r.status) })));
  }

  private resource(az: string, namespace: string, name: string): Resource {
    const r = this.assertUp(az).resources.get(nsName(namespace, name));
    if (!r) throw new PlatformError('not-found', `FlinkDeployment ${namespace}/${name} does not exist in ${az}`, false);
    return r;
  }

  private updateSpec(r: Resource, spec: FlinkDeploymentManifest['spec']): void {
    const json = canonicalJson(spec);
    if (json === r.specJson) return;
    r.spec = spec;
    r.specJson = json;
    r.generation++;
    this.cluster(r.az).counter(nsName(r.namespace, r.name)).specChanges++;
    this.operator.reconcile(r, true);
  }

  private wake(az: string, namespace: string, name: string): void {
    const set = this.waiters.get(`${az}|${nsName(namespace, name)}`);
    if (set) for (const wake of [...set]) wake();
  }
}

/**
 * The simulated Flink Kubernetes Operator: reconciles FlinkDeployments of one AZ into
 * pods, jobs and status, like the real operator (docs "Job Management" and "Custom
 * Resource Overview"; docs/design.md#restoring-from-a-chosen-snapshot):
 *
 * - `state: suspended` on a never-run resource → CREATED, no pods; on a running job →
 *   SUSPENDED, capacity freed; under the `ignoreSuspend` fault nothing happens
 *   (observedGeneration stays behind, the job runs on). Under upgradeMode savepoint a RUNNING
 *   job is stopped with a savepoint first, which takes the model's stop-with-savepoint time for
 *   its state (latency-model.ts `savepointSeconds`): the job runs on and the generation stays
 *   unobserved until the savepoint is written; its path is in status.jobStatus.upgradeSavepointPath
 *   (AbstractJobReconciler.setUpgradeSavepointPath, release-1.15.0), the savepoint replicating
 *   to the other AZs with the usual lag. Under the `failSavepoint` fault, or without a savepoint
 *   directory, the stop fails instead: status.error says SavepointError, the job runs on, the
 *   generation stays unobserved (the real operator would retry at every reconcile; the
 *   simulator does not).
 * - a spec change the real operator's diff ignores (upgradeMode, initialSavepointPath:
 *   JobSpec `@SpecDiff(IGNORE)`) is observed and changes nothing (e.g. taking back a failed stop).
 * - `state: running` → DEPLOYED, jobStatus RECONCILING; pods wait (podsPending) until
 *   capacity fits; then the deploy goes through the platform model's phases on the AZ's shared
 *   resources (latency-model.ts: reconcile thread, pod binding, image pull, JobManager, jar fetch,
 *   TaskManagers, job init, the operator's next progress check); then STABLE / RUNNING with a
 *   NEW jobId once the tasks are scheduled, i.e. BEFORE a restore ends, as Flink reports it
 *   (docs/design.md#restored-means-restored): the tasks restore state reading the AZ's object
 *   store, checkpoint triggers are declined meanwhile, and the first checkpoint completes at the
 *   first trigger after it.
 * - a restore that fails (a file the snapshot's `_metadata` references is missing in this AZ,
 *   or the `failRestore` fault) fails the tasks at the end of each restore: jobStatus
 *   RESTARTING for RESTART_DELAY_SECONDS, RUNNING again, restore again, forever (Flink's
 *   restart strategy is unbounded by default with checkpointing on), each failure recorded
 *   as a root exception; the operator's status.error stays unset, as the real operator's does.
 * - restore source of a deploy, first match wins:
 *   1. HA ConfigMaps of the job exist (HA enabled) → the JobManager recovers from their
 *      pointer: stale ones SILENTLY win over initialSavepointPath (jobStatus.restoreSource
 *      `ha-metadata` shows it); delete them first;
 *   2. savepointRedeployNonce changed → initialSavepointPath (operator ≥ 1.8, docs "Job
 *      Management" → "Redeploy using the savepointRedeployNonce"); on a resource that ran
 *      before, a nonce change with an empty path is REJECTED like the real validator does
 *      (status.error "InitialSavepointPath must not be empty for savepoint redeployment",
 *      nothing else changes; DefaultValidator.validateSpecChange release-1.15.0 L524-531);
 *   3. never ran: initialSavepointPath, or empty state; upgradeMode is ignored on a first
 *      deploy (AbstractFlinkResourceReconciler L109-124, L237-248);
 *   4. resumed: savepoint → the savepoint taken at suspend; last-state → FAILED; stateless → none.
 * - a spec change on a running job → UPGRADING for the model's `upgradeCancelSeconds` (plus the
 *   stop-with-savepoint time under upgradeMode savepoint; a nonce change skips the savepoint),
 *   then a fresh deploy; the operator
 *   deletes the job's HA ConfigMaps when it stops it in any mode but last-state.
 * - unusable spec → FAILED with status.error: image not from the AZ's registry, missing
 *   jarURI, jar in neither cache nor repository, unreadable resources, a restore path that
 *   does not exist or lacks `_metadata` (the JobManager cannot load it: the job fails at submission).
 */
import type { AzProfile } from '../domain/types.js';
import type { CheckpointStats } from '../domain/restore-verdict.js';
import type { CapacityLedger } from './capacity.js';
import { CHECKPOINTING, type Checkpointing, type SnapshotTrack } from './checkpointing.js';
import { readSpec, type OperatorSpec } from '../domain/flink-spec.js';
import type { Jars } from './jars.js';
import { emptyStartup, fixedPhases, restoreCapBytesPerSecond, seconds, type PlatformModel, type StartupPhase, type StartupTime } from './latency-model.js';
import type { AzBottlenecks } from './az-bottlenecks.js';
import { hex, seededUniform } from './random.js';
import type { ReplicatedStores } from './replication.js';
import { canonicalJson, manifestOf, nsName, type AzCluster, type Resource, type RestoreSource, type Run } from './resources.js';
import type { Scheduler } from './scheduler.js';
import { parseS3Uri } from '../domain/snapshot-layout.js';
import { resolveSnapshot } from './snapshots.js';

/**
 * The spec as the real operator's diff sees it: upgradeMode, initialSavepointPath and
 * savepointTriggerNonce are ignored (JobSpec @SpecDiff(IGNORE), release-1.15.0 L74-87).
 */
function diffedSpec(spec: Resource['spec']): string {
  const job = { ...(spec.job ?? {}) };
  delete job.upgradeMode;
  delete job.initialSavepointPath;
  delete job.savepointTriggerNonce;
  return canonicalJson({ ...spec, job });
}

/** What the operator needs from the rest of the simulator. */
export interface OperatorContext {
  seed: number;
  /** Timing model (latency-model.ts). */
  model: PlatformModel;
  /** Each AZ's shared resources, sized by `model`. */
  bottlenecks: AzBottlenecks;
  scheduler: Scheduler;
  stores: ReplicatedStores;
  checkpointing: Checkpointing;
  capacity: CapacityLedger;
  jars: Jars;
  cluster(az: string): AzCluster;
  profile(az: string): AzProfile;
  /** Nominal state size of a job key, bytes (fleet registry). */
  stateSizeBytes(key: string): number;
  /**
   * Floor on every job's checkpoint interval, model seconds (0: the job's own
   * `execution.checkpointing.interval`). Coarse intervals keep S3 write-through affordable.
   */
  minCheckpointIntervalSeconds: number;
  /** Fault: the job deploys but never reaches RUNNING. */
  neverRunning(key: string): boolean;
  /** Fault: every state restore of the job fails (a restore loop). */
  failRestore(key: string): boolean;
  /** Fault: the operator never acts on a suspend of the job (it keeps running, the spec says suspended). */
  ignoreSuspend(key: string): boolean;
  /** Fault: a stop-with-savepoint of the job fails. */
  failSavepoint(key: string): boolean;
  /** Status of `r` changed (wakes long-polls). */
  changed(r: Resource): void;
}

/** Where a deploy restores from (`failure`: why each restore of it fails), or why it cannot deploy. */
type Restore = { path?: string; source: RestoreSource; failure?: string } | { error: string };

/** The operator of every AZ. */
export class Operator {
  constructor(private readonly ctx: OperatorContext) {}

  /** Act on a changed spec. `existed`: the resource existed before this change. */
  reconcile(r: Resource, existed: boolean): void {
    const spec = readSpec(manifestOf(r));
    // Fault: an operator that is down (or cannot reach the JobManager) leaves the job running
    // and the suspended generation unobserved, whatever the spec says.
    if (spec.state === 'suspended' && this.ctx.ignoreSuspend(nsName(r.namespace, r.name))) return;
    const token = ++r.reconciles;
    const nonceChanged = spec.savepointRedeployNonce !== undefined && spec.savepointRedeployNonce !== r.reconciledNonce;
    if (nonceChanged && r.everRan && (spec.initialSavepointPath ?? '').trim() === '') {
      // The real operator's validator rejects this spec and keeps acting on the last valid one
      // (DefaultValidator.validateSpecChange, release-1.15.0 L524-531): the job runs on as it
      // was and this generation is never observed.
      r.status.error = 'InitialSavepointPath must not be empty for savepoint redeployment';
      return this.ctx.changed(r);
    }
    if (r.run && r.reconciledSpec === diffedSpec(r.spec)) {
      // Only fields the operator's diff ignores changed: observed, nothing to do (a stop or
      // upgrade in flight is dropped: the job runs on).
      r.status.observedGeneration = r.generation;
      r.status.error = undefined;
      if (r.run.phase === 'running') r.status.lifecycleState = 'STABLE';
      this.manualSavepoint(r);
      return this.ctx.changed(r);
    }
    if (spec.state === 'suspended' && spec.upgradeMode === 'savepoint' && r.run?.phase === 'running') {
      const failed = this.savepointFailure(r, r.run);
      if (failed !== undefined) {
        // The stop fails: the job runs on and this generation is not observed.
        r.status.error = failed;
        return this.ctx.changed(r);
      }
      // The savepoint takes time ∝ state; the job runs on and the generation stays unobserved meanwhile.
      const run = r.run;
      return this.ctx.bottlenecks.savepoint(r.az, this.stateBytesOf(r, run), () => {
        if (r.reconciles === token && r.run === run) this.observe(r, spec, existed, nonceChanged, token);
      });
    }
    this.observe(r, spec, existed, nonceChanged, token);
  }

  /** The operator acts on the spec it reconciles: observed, then suspended, deployed or upgraded. */
  private observe(r: Resource, spec: OperatorSpec, existed: boolean, nonceChanged: boolean, token: number): void {
    r.status.observedGeneration = r.generation;
    r.reconciledNonce = spec.savepointRedeployNonce;
    r.reconciledSpec = diffedSpec(r.spec);
    r.status.error = undefined;
    if (spec.state === 'suspended') {
      if (r.run) this.stop(r, spec, spec.upgradeMode === 'savepoint');
      r.status.lifecycleState = r.everRan ? 'SUSPENDED' : 'CREATED';
      r.status.jobStatus = r.everRan ? { ...r.status.jobStatus, state: 'SUSPENDED', completedCheckpoints: 0 } : undefined;
      return this.ctx.changed(r);
    }
    if (nonceChanged && existed) this.ctx.cluster(r.az).counter(nsName(r.namespace, r.name)).redeploys++;
    if (!r.run) return this.deploy(r, spec, nonceChanged);
    r.status.lifecycleState = 'UPGRADING';
    this.ctx.changed(r);
    const savepoint = !nonceChanged && spec.upgradeMode === 'savepoint';
    const run = r.run;
    const cancelThenRedeploy = (): void => this.ctx.scheduler.afterOrNow(this.ctx.model.upgradeCancelSeconds, [r.az], () => {
      if (r.reconciles !== token) return;
      this.stop(r, spec, savepoint);
      this.deploy(r, spec, nonceChanged);
    });
    if (savepoint && run.phase === 'running') this.ctx.bottlenecks.savepoint(r.az, this.stateBytesOf(r, run), cancelThenRedeploy);
    else cancelThenRedeploy();
  }

  /**
   * Why a stop-with-savepoint of the RUNNING job of `r` fails (status.error as the operator writes
   * a SavepointError), or undefined when it succeeds: no savepoint directory configured, or the
   * `failSavepoint` fault.
   */
  private savepointFailure(r: Resource, run: Run): string | undefined {
    const why = run.track?.savepointPrefix === undefined ? 'no savepoint directory configured (execution.checkpointing.savepoint-dir)'
      : this.ctx.failSavepoint(nsName(r.namespace, r.name)) ? 'injected failSavepoint fault' : undefined;
    return why === undefined ? undefined
      : `UpgradeFailureException: Savepoint Error (reason SavepointError): stop-with-savepoint of job ${r.status.jobStatus?.jobId ?? '?'} failed: ${why}; the job keeps running`;
  }

  /**
   * A new spec.job.savepointTriggerNonce on a running job: one savepoint, the job left running,
   * reported as the legacy status.jobStatus.savepointInfo.lastSavepoint with that nonce
   * (SnapshotObserver.observeTriggeredSavepoint). A failed one is only an Event in the real
   * operator, not status: here it leaves no trace but the nonce marked as acted on.
   */
  private manualSavepoint(r: Resource): void {
    const nonce = (r.spec.job as { savepointTriggerNonce?: unknown } | undefined)?.savepointTriggerNonce;
    if (typeof nonce !== 'number' || nonce === r.reconciledTriggerNonce) return;
    r.reconciledTriggerNonce = nonce;
    const taken = this.takeSavepoint(r);
    if ('path' in taken) r.status.jobStatus = { ...r.status.jobStatus!, lastManualSavepoint: { location: taken.path, timeStamp: Math.round(taken.completedAtEpochSeconds * 1000), triggerNonce: nonce } };
  }

  /** Bytes of state a savepoint of `run` writes: its snapshot track's size, else the fleet's nominal size. */
  private stateBytesOf(r: Resource, run: Run): number {
    return run.track?.stateSizeBytes ?? this.ctx.stateSizeBytes(nsName(r.namespace, r.name));
  }

  /**
   * A savepoint of the RUNNING job of `r` that leaves it running (what the real operator does
   * for a FlinkStateSnapshot or a savepointTriggerNonce): written into the job's state bucket
   * now (data, then `_metadata` in Flink's format), replicated like any savepoint.
   * @returns its path, or the operator's error: the job is not running, has no savepoint
   *   directory, or the `failSavepoint` fault is set
   */
  takeSavepoint(r: Resource): { path: string; completedAtEpochSeconds: number } | { error: string; notRunning?: true } {
    const run = r.run;
    if (!run || run.phase !== 'running') return { error: `job ${nsName(r.namespace, r.name)} is not running (${r.status.jobStatus?.state ?? r.status.lifecycleState}): no savepoint can be triggered`, notRunning: true };
    const why = this.savepointFailure(r, run);
    if (why !== undefined) return { error: why.replace(/^UpgradeFailureException: /, '').replace('stop-with-savepoint', 'savepoint') };
    const written = this.ctx.checkpointing.writeSavepoint(run.track!, this.ctx.scheduler.clock.now());
    if (!written) return { error: `savepoint of job ${r.status.jobStatus?.jobId ?? '?'} failed: the state bucket ${run.track!.bucket} does not exist in ${r.az}` };
    return { path: written.path, completedAtEpochSeconds: written.completedAtEpochSeconds };
  }

  /** The resource is being deleted: stop its job without a savepoint and drop any delayed step. */
  remove(r: Resource): void {
    r.reconciles++;
    this.stop(r, readSpec(manifestOf(r)), false);
  }

  /** Fleet load: `r` is already RUNNING (pods scheduled, history seeded); start checkpointing. */
  adoptRunning(r: Resource, laggingReplica?: string): void {
    const spec = readSpec(manifestOf(r));
    const run = this.newRun(r, spec, { source: 'none' });
    r.everRan = true;
    r.status = { lifecycleState: 'DEPLOYED', observedGeneration: r.generation, jobStatus: { state: 'RECONCILING', completedCheckpoints: 0 } };
    r.reconciledNonce = spec.savepointRedeployNonce;
    r.reconciledSpec = diffedSpec(r.spec);
    this.ctx.capacity.request(r.az, run, run, () => {
      run.phase = 'running';
      const now = this.ctx.scheduler.clock.now();
      this.markRunning(r, run, spec, now);
      if (run.track) {
        this.ctx.checkpointing.seedHistory(run.track, now, laggingReplica);
        const ha = this.ctx.cluster(r.az).haConfigMaps.get(nsName(r.namespace, r.name));
        if (ha) ha.pointer = `s3://${run.track.bucket}/${run.track.checkpoints.at(-1)?.dir ?? ''}`;
        this.startCheckpointing(r, run, spec, { checkpointInSeconds: run.track.intervalSeconds - 30, savepointInSeconds: 20 * 60 });
      }
    });
  }

  private deploy(r: Resource, spec: OperatorSpec, nonceChanged: boolean): void {
    const restore = this.chooseRestore(r, spec, nonceChanged);
    if ('error' in restore) return this.fail(r, restore.error);
    const problem = this.validate(r, spec);
    if (problem !== undefined) return this.fail(r, problem);
    const run = this.newRun(r, spec, restore);
    const fits = (): void => this.startPods(r, run, spec);
    r.everRan = true;
    r.status.lifecycleState = 'DEPLOYED';
    r.status.jobStatus = { state: 'RECONCILING', completedCheckpoints: 0, restoredFrom: restore.path, restoreSource: restore.source, podsPending: true };
    this.ctx.cluster(r.az).counter(nsName(r.namespace, r.name)).deploys++;
    this.ctx.capacity.request(r.az, run, run, fits);
    this.ctx.changed(r);
  }

  private newRun(r: Resource, spec: OperatorSpec, restore: { path?: string; source: RestoreSource; failure?: string }): Run {
    const resources = 'error' in spec.resources ? { cores: 0, memoryMiB: 0 } : spec.resources;
    const run: Run = { id: ++r.deployCount, phase: 'pending', appliedAt: this.ctx.scheduler.now(), ...resources, restoreSource: restore.source, restoredFrom: restore.path, restoreBytes: 0, restores: 0, failures: [] };
    if (restore.path !== undefined) {
      const loc = parseS3Uri(restore.path);
      if (loc) run.restoreBytes = resolveSnapshot(this.ctx.stores.store(r.az), loc.bucket, loc.key).stateBytes;
      // Files missing: the restore reads what it would have read before it fails.
      if (run.restoreBytes === 0) run.restoreBytes = this.ctx.stateSizeBytes(nsName(r.namespace, r.name));
      run.restoreFailure = restore.failure ?? (this.ctx.failRestore(nsName(r.namespace, r.name))
        ? `java.io.FileNotFoundException: a file of ${restore.path} is missing in ${r.az}'s object store (injected failRestore fault)`
        : undefined);
    }
    r.run = run;
    return run;
  }

  /** Pods fit: start them once the jar cache is known (read back from S3 when mirrored). */
  private startPods(r: Resource, run: Run, spec: OperatorSpec): void {
    if (r.run !== run) return;
    const synced = this.ctx.jars.syncCache(r.az, [spec.jarURI!, ...spec.extraJarURIs]);
    if (synced) void synced.then(() => this.startPodsNow(r, run, spec));
    else this.startPodsNow(r, run, spec);
  }

  /**
   * The deploy's way to RUNNING through the platform model's phases on the AZ's shared
   * resources (latency-model.ts module doc), each phase's seconds recorded in
   * status.jobStatus.startup as it ends; every step stops when the run was replaced.
   */
  private startPodsNow(r: Resource, run: Run, spec: OperatorSpec): void {
    if (r.run !== run) return;
    run.phase = 'starting';
    const m = this.ctx.model;
    const az = r.az;
    const shared = this.ctx.bottlenecks.of(az);
    const scheduler = this.ctx.scheduler;
    const key = nsName(r.namespace, r.name);
    const counters = this.ctx.cluster(az).counter(key);
    const jars = [spec.jarURI!, ...spec.extraJarURIs].map((uri) => this.ctx.jars.locate(az, uri));
    const jarBytes = jars.reduce((sum, j) => sum + ('sizeBytes' in j ? j.sizeBytes : 0), 0);
    const preloaded = jars.every((j) => j.place !== 'repository');
    if (preloaded) counters.jarDownloadsCache++;
    else counters.jarDownloadsRepository++;
    const drawn = fixedPhases(m, this.ctx.seed, key, run.id, spec.taskManagerReplicas);
    const startup = emptyStartup();
    startup.phases.capacity = scheduler.now() - run.appliedAt;
    r.status.jobStatus = { ...r.status.jobStatus!, podsPending: false, startup };
    this.ctx.changed(r);
    let phaseStart = scheduler.now();
    /** Record the phase that ends now and go on with `next` unless the run was replaced. */
    const then = (phase: StartupPhase, next: () => void) => (): void => {
      if (r.run !== run) return;
      const now = scheduler.now();
      startup.phases[phase] = now - phaseStart;
      phaseStart = now;
      next();
    };
    const wait = (s: number, phase: StartupPhase, next: () => void): void => scheduler.afterOrNow(s, [az], then(phase, next));
    const reconciled = (): number => run.appliedAt + startup.phases.capacity + startup.phases.reconcile;
    let restReadyAt = 0;
    const running = (): void => {
      const now = scheduler.now();
      // The operator sees RUNNING at its first progress check after it, once the REST API is trusted.
      const visible = Math.max(now, restReadyAt);
      const every = m.progressCheckIntervalSeconds;
      const since = visible - reconciled();
      const check = every > 0 ? reconciled() + Math.ceil(since / every - 1e-9) * every : visible;
      wait(check - now, 'observe', () => {
        startup.total = scheduler.now() - run.appliedAt;
        run.phase = run.restoredFrom !== undefined ? 'restoring' : 'running';
        this.markRunning(r, run, spec, scheduler.now());
        if (run.track) this.startCheckpointing(r, run, spec, m.firstCheckpointSeconds === undefined ? {} : { checkpointInSeconds: m.firstCheckpointSeconds });
        if (run.phase === 'restoring') this.restore(r, run, startup);
      });
    };
    const submitted = (): void => {
      r.status.jobStatus = { ...r.status.jobStatus!, state: 'CREATED', jobId: hex(seededUniform(this.ctx.seed, az, key, run.id, 'jobId'), 32) };
      this.ctx.changed(r);
      if (this.ctx.neverRunning(key)) return;
      wait(drawn.jobInit, 'jobInit', running);
    };
    const jarsFetched = (): void => wait(drawn.taskManagers, 'taskManagers', submitted);
    const jobManagerUp = (): void => {
      restReadyAt = scheduler.now() + m.restReadyDelaySeconds;
      if (preloaded) return wait(seconds(jarBytes, m.cacheBytesPerSecond), 'jarFetch', jarsFetched);
      shared.repository.transfer(jarBytes, m.repositoryBytesPerSecondPerDownload, then('jarFetch', jarsFetched));
    };
    const podsBound = (): void => shared.registry.transfer(m.imageBytes, m.imagePullBytesPerSecond, then('imagePull', () => wait(drawn.jobManager, 'jobManager', jobManagerUp)));
    const podsSeconds = m.podsBoundPerSecond === Infinity ? 0 : (1 + spec.taskManagerReplicas) / m.podsBoundPerSecond;
    shared.reconcile.submit(m.deployReconcileSeconds, then('reconcile', () => shared.podBinding.submit(podsSeconds, then('podScheduling', podsBound))));
  }

  /**
   * One state restore of `run`: its bytes read from the AZ's object store (the job's own rate
   * alone, sharing the AZ's read bandwidth with the other restores), counted (Flink's
   * counts.restored) when it begins; `startup.phases.stateRestore` holds the time alone while it
   * runs and the time taken once it ended. At its end the tasks run, or, when the restore fails,
   * the job goes RESTARTING, then RUNNING after the restart delay and restores again.
   */
  private restore(r: Resource, run: Run, startup: StartupTime): void {
    const m = this.ctx.model;
    const clock = this.ctx.scheduler.clock;
    run.restores++;
    run.restoredAtMs = clock.epoch(this.ctx.scheduler.now()) * 1000;
    run.restoredId = run.track ? run.track.nextCheckpointId - 1 : undefined;
    const cap = restoreCapBytesPerSecond(m, run.restoreBytes);
    startup.phases.stateRestore = seconds(run.restoreBytes, Math.min(cap, m.objectStoreReadBytesPerSecond));
    this.ctx.bottlenecks.of(r.az).objectStore.transfer(run.restoreBytes, cap, (took) => {
      if (r.run !== run) return;
      startup.phases.stateRestore = took;
      if (run.restoreFailure === undefined) {
        run.phase = 'running';
        return this.ctx.changed(r);
      }
      run.failures.push({ message: run.restoreFailure, atMs: clock.epoch(this.ctx.scheduler.now()) * 1000 });
      r.status.jobStatus = { ...r.status.jobStatus!, state: 'RESTARTING' };
      this.ctx.changed(r);
      this.ctx.scheduler.afterOrNow(m.restartDelaySeconds, [r.az], () => {
        if (r.run !== run) return;
        r.status.jobStatus = { ...r.status.jobStatus!, state: 'RUNNING' };
        this.ctx.changed(r);
        this.restore(r, run, startup);
      });
    });
  }

  /** Status STABLE/RUNNING, HA ConfigMaps created, snapshot track set up. */
  private markRunning(r: Resource, run: Run, spec: OperatorSpec, now: number): void {
    const key = nsName(r.namespace, r.name);
    const jobId = r.status.jobStatus?.jobId ?? hex(seededUniform(this.ctx.seed, r.az, key, run.id, 'jobId'), 32);
    r.status.lifecycleState = 'STABLE';
    r.status.jobStatus = { ...r.status.jobStatus, state: 'RUNNING', jobId, startTime: this.ctx.scheduler.clock.epoch(now), podsPending: false, completedCheckpoints: 0, lastCheckpoint: undefined };
    if (spec.haEnabled) this.ctx.cluster(r.az).haConfigMaps.set(key, { count: 2, pointer: run.restoredFrom });
    const dir = spec.checkpointDir ?? spec.savepointDir;
    if (dir) {
      const u = seededUniform(this.ctx.seed, r.az, key, run.id, 'first-checkpoint');
      run.track = {
        az: r.az,
        key,
        jobId,
        bucket: dir.bucket,
        checkpointPrefix: spec.checkpointDir?.key,
        savepointPrefix: spec.savepointDir?.bucket === dir.bucket ? spec.savepointDir.key : undefined,
        intervalSeconds: Math.max(spec.checkpointIntervalSeconds ?? CHECKPOINTING.defaultIntervalSeconds, this.ctx.minCheckpointIntervalSeconds),
        stateSizeBytes: run.restoreBytes || this.ctx.stateSizeBytes(key),
        nextCheckpointId: run.restoredFrom ? 1 + Math.floor(u() * 1000) : 1,
        checkpoints: [],
        savepoints: [],
      };
    }
    this.ctx.changed(r);
  }

  private startCheckpointing(r: Resource, run: Run, spec: OperatorSpec, first: { checkpointInSeconds?: number; savepointInSeconds?: number }): void {
    const key = nsName(r.namespace, r.name);
    this.ctx.checkpointing.start(run.track as SnapshotTrack, () => r.run === run, (written) => {
      const js = r.status.jobStatus!;
      js.completedCheckpoints++;
      js.lastCheckpoint = written;
      run.lastCheckpoint = written;
      const ha = spec.haEnabled ? this.ctx.cluster(r.az).haConfigMaps.get(key) : undefined;
      if (ha) ha.pointer = written.path;
      this.ctx.changed(r);
    }, first, { tasksRunning: () => run.phase === 'running', savepointFails: () => this.ctx.failSavepoint(key) });
  }

  /** Stop the current run: savepoint (when asked and running), free capacity, clean HA data (not last-state). */
  private stop(r: Resource, spec: OperatorSpec, savepoint: boolean): void {
    const run = r.run;
    if (!run) return;
    if (savepoint && run.phase === 'running' && run.track) {
      const written = this.ctx.checkpointing.writeSavepoint(run.track, this.ctx.scheduler.clock.now());
      if (written) {
        r.lastSavepoint = written.path;
        r.status.jobStatus = { ...r.status.jobStatus!, upgradeSavepointPath: written.path };
      }
    }
    r.run = undefined;
    if (spec.upgradeMode !== 'last-state') this.ctx.cluster(r.az).haConfigMaps.delete(nsName(r.namespace, r.name));
    this.ctx.capacity.release(r.az, run, run, run.phase !== 'pending');
  }

  private fail(r: Resource, error: string): void {
    r.status.lifecycleState = 'FAILED';
    r.status.error = error;
    r.status.jobStatus = { ...r.status.jobStatus, state: 'FAILED', completedCheckpoints: 0 };
    this.ctx.changed(r);
  }

  private chooseRestore(r: Resource, spec: OperatorSpec, nonceChanged: boolean): Restore {
    const ha = spec.haEnabled ? this.ctx.cluster(r.az).haConfigMaps.get(nsName(r.namespace, r.name)) : undefined;
    const checked = (path: string | undefined, source: RestoreSource, what: string): Restore => {
      if (path === undefined) return { source: 'none' };
      const problem = this.checkRestorePath(r.az, path, what);
      if (problem?.fatal) return { error: problem.message };
      return { path, source, ...(problem ? { failure: problem.message } : {}) };
    };
    if (ha) return checked(ha.pointer, 'ha-metadata', `HA metadata pointer (ConfigMaps app=${r.name},configmap-type=high-availability)`);
    if (nonceChanged) return checked(spec.initialSavepointPath, 'initialSavepointPath', 'spec.job.initialSavepointPath');
    const lastState = `spec.job.upgradeMode last-state needs HA metadata ConfigMaps (app=${r.name},configmap-type=high-availability) in ${r.az}/${r.namespace}, and there are none; use upgradeMode savepoint with spec.job.initialSavepointPath`;
    // A first deploy ignores upgradeMode and starts from initialSavepointPath or empty state
    // (AbstractFlinkResourceReconciler release-1.15.0 L109-124, L237-248).
    if (!r.everRan) return checked(spec.initialSavepointPath, 'initialSavepointPath', 'spec.job.initialSavepointPath');
    if (spec.upgradeMode === 'last-state') return { error: lastState };
    if (spec.upgradeMode === 'savepoint') return checked(r.lastSavepoint, 'last-savepoint', 'the savepoint taken at suspend');
    return { source: 'none' };
  }

  /**
   * What is wrong with restoring `path` in `az`: `fatal` when the JobManager cannot load the
   * snapshot (the job fails at submission), else a failure of the tasks' restore (a loop).
   */
  private checkRestorePath(az: string, path: string, what: string): { fatal: boolean; message: string } | undefined {
    const loc = parseS3Uri(path);
    if (!loc) return { fatal: true, message: `${what} ${path} is not an s3:// path` };
    const snap = resolveSnapshot(this.ctx.stores.store(az), loc.bucket, loc.key);
    if (!snap.exists) return { fatal: true, message: `${what} ${path} does not exist in ${az}'s object store` };
    if (!snap.hasMetadata) return { fatal: true, message: `${what} ${path} has no _metadata in ${az}'s object store: incomplete snapshot; restore from an older one` };
    if (!snap.referencedFilesPresent) {
      return {
        fatal: false,
        message: `java.io.FileNotFoundException: ${what} ${path}: _metadata references files missing from ${az}'s object store (not yet replicated, or absolute s3:// paths into a bucket ${az} does not have)`,
      };
    }
    return undefined;
  }

  private validate(r: Resource, spec: OperatorSpec): string | undefined {
    const registry = this.ctx.profile(r.az).imageRegistry;
    if (spec.image === undefined) return 'spec.image is missing';
    if (!spec.image.startsWith(`${registry}/`)) return `spec.image ${spec.image} is not from ${r.az}'s registry ${registry}: the image cannot be pulled there; rewrite it to ${registry}/...`;
    if (spec.jarURI === undefined) return 'spec.job.jarURI is missing';
    if ('error' in spec.resources) return spec.resources.error;
    for (const uri of [spec.jarURI, ...spec.extraJarURIs]) {
      const loc = this.ctx.jars.locate(r.az, uri);
      if (loc.place === 'missing') return loc.reason;
    }
    return undefined;
  }
}

/**
 * Flink's checkpoint statistics of `run` and its newest root exception, as the JobManager's
 * REST API gives them (`/jobs/:jobid/checkpoints`, `/jobs/:jobid/exceptions`); read by the
 * simulator's wait and served by the Kubernetes stand-in (kube-operator.ts).
 */
export function restEvidenceOf(run: Run): { checkpoints: CheckpointStats; lastFailure?: string } {
  const last = run.failures.at(-1);
  const completed = run.lastCheckpoint;
  return {
    checkpoints: {
      enabled: run.track?.checkpointPrefix !== undefined,
      restoredCount: run.restores,
      ...(run.restores > 0 ? { restored: { id: run.restoredId ?? 0, restoredAtMs: run.restoredAtMs ?? 0, ...(run.restoredFrom ? { path: run.restoredFrom } : {}) } } : {}),
      ...(completed ? { completed: { id: completed.id, completedAtMs: completed.completedAtEpochSeconds * 1000, path: completed.path } } : {}),
    },
    ...(last ? { lastFailure: last.message } : {}),
  };
}

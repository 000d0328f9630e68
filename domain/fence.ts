/**
 * Fencing a source copy (guarantee 2, docs/guarantees.md), the pure parts: when a FlinkDeployment
 * told to suspend counts as observed stopped (stopVerdict), and what az-evac writes on every
 * copy it fences, preempts, applies in a target AZ or fails back, so that `kubectl describe
 * flinkdeployment` says who did it, when and why (annotations in the same apply or merge patch
 * as the action, and a Kubernetes Event).
 *
 * What "stopped" means is read from the operator's status, the only view the worker's
 * least-privilege identity has (it cannot read Deployments or Pods: deploy/rbac). Facts, from
 * the Flink Kubernetes Operator release-1.15.0 (docs/design.md "Fencing: when a source copy
 * counts as stopped"):
 * - `status.observedGeneration` is set to `metadata.generation` when the operator records the
 *   spec it reconciled (ReconciliationStatus.serializeAndSetLastReconciledSpec);
 * - on a suspend of a running job, the operator first stops it (AbstractJobReconciler
 *   .reconcileSpecChange → cancelJob), and only once the stop is complete records the suspended
 *   spec (ReconciliationUtils.updateStatusForDeployedSpec); an asynchronous cancel leaves the
 *   resource UPGRADING until it completes;
 * - lifecycleState SUSPENDED is derived from that recorded spec (CommonStatus.getLifecycleState);
 * - a completed stop deletes the JobManager Deployment, blocking until it is gone
 *   (NativeFlinkService.deleteClusterInternal), then writes `jobManagerDeploymentStatus:
 *   MISSING` and job state FINISHED unless it was already globally terminal (CANCELED, ...)
 *   (AbstractFlinkService.updateStatusAfterClusterDeletion).
 */

/** The parts of an observed FlinkDeployment the verdict reads (ports.ts DeploymentStatus has them). */
export interface StopEvidence {
  /** metadata.generation now. */
  generation: number;
  /** spec.job.state now. */
  specState: 'running' | 'suspended';
  /** status.observedGeneration: the generation the operator last recorded as reconciled. */
  observedGeneration?: number;
  /** status.lifecycleState (CREATED, DEPLOYED, STABLE, SUSPENDED, UPGRADING, FAILED, ...). */
  lifecycleState?: string;
  /** status.jobStatus.state (Flink's JobStatus: RUNNING, FINISHED, CANCELED, SUSPENDED, ...). */
  jobState?: string;
  /** status.jobManagerDeploymentStatus (READY, DEPLOYED_NOT_READY, DEPLOYING, MISSING, ERROR). */
  jobManagerDeploymentStatus?: string;
}

/** Flink job states after which nothing of the job runs (with the suspended spec recorded). */
export const STOPPED_JOB_STATES: readonly string[] = ['SUSPENDED', 'FINISHED', 'CANCELED'];

/** Whether a copy is observed stopped, and what was seen (for the report and the fence record). */
export interface StopVerdict {
  stopped: boolean;
  /** What the status showed, in words: why it counts as stopped, or why not yet. */
  seen: string;
}

/**
 * Whether a FlinkDeployment told to suspend is observed stopped.
 *
 * Stopped when: the resource is absent (deleting a FlinkDeployment runs the operator's
 * clean-up before the object goes, and its JobManager Deployment is owned by it); or the
 * spec is still suspended, the operator has recorded generation ≥ `minGeneration` as
 * reconciled, and either the resource never ran (lifecycleState CREATED) or it is
 * lifecycleState SUSPENDED with the JobManager Deployment gone (MISSING) or the job in a
 * state where it runs nothing (STOPPED_JOB_STATES). Anything else — an operator that has not
 * acted (down, or stuck on an asynchronous cancel: UPGRADING), a job still RUNNING, a spec
 * set back to running — is not stopped.
 *
 * @param status the resource as read now, null when it does not exist
 * @param minGeneration metadata.generation the suspend patch produced (the patch's answer)
 */
export function stopVerdict(status: StopEvidence | null, minGeneration: number): StopVerdict {
  if (!status) return { stopped: true, seen: 'FlinkDeployment absent' };
  if (status.specState !== 'suspended') return { stopped: false, seen: 'spec.job.state is running again (someone resumed it)' };
  const observed = status.observedGeneration;
  if (observed === undefined || observed < minGeneration) {
    return { stopped: false, seen: `the operator has not acted on the suspend: status.observedGeneration ${observed ?? 'unset'} < generation ${minGeneration}` };
  }
  const job = status.jobState ?? 'unset';
  const jm = status.jobManagerDeploymentStatus ?? 'unset';
  const at = `observedGeneration ${observed}`;
  if (status.lifecycleState === 'CREATED') return { stopped: true, seen: `never deployed: lifecycleState CREATED, ${at}` };
  if (status.lifecycleState !== 'SUSPENDED') {
    return { stopped: false, seen: `lifecycleState ${status.lifecycleState ?? 'unset'} (not SUSPENDED), job ${job}, JobManager ${jm}, ${at}` };
  }
  if (status.jobManagerDeploymentStatus === 'MISSING') return { stopped: true, seen: `JobManager Deployment gone (jobManagerDeploymentStatus MISSING), job ${job}, lifecycleState SUSPENDED, ${at}` };
  if (STOPPED_JOB_STATES.includes(job)) return { stopped: true, seen: `job ${job}, lifecycleState SUSPENDED, JobManager ${jm}, ${at}` };
  return { stopped: false, seen: `lifecycleState SUSPENDED but job ${job}, JobManager ${jm}, ${at}` };
}

/** Annotations az-evac writes on a copy it fences or preempts (in the same patch as the suspend). */
export const ACTION_ANNOTATIONS = {
  /** `<evacuationId>@<runId>` of the evacuation that fenced this source copy. */
  fencedBy: 'az-evac.io/fenced-by',
  /** When it was fenced (the suspend requested), ISO 8601 UTC. */
  fencedAt: 'az-evac.io/fenced-at',
  /** `<evacuationId>@<runId>` of the evacuation that preempted this P3 copy in its target AZ. */
  preemptedBy: 'az-evac.io/preempted-by',
  /** When it was preempted, ISO 8601 UTC. */
  preemptedAt: 'az-evac.io/preempted-at',
  /** `<evacuationId>@<runId>` of the evacuation that applied (deployed, resumed or promoted) this copy in its target AZ. */
  appliedBy: 'az-evac.io/applied-by',
  /** When it was applied, ISO 8601 UTC. */
  appliedAt: 'az-evac.io/applied-at',
  /** `<evacuationId>@<runId>` of the evacuation whose failback restored this source copy. */
  failedBackBy: 'az-evac.io/failed-back-by',
  /** When the failback restored it, ISO 8601 UTC. */
  failedBackAt: 'az-evac.io/failed-back-at',
  /** Why, in words: the evacuation, its mode and AZs, who triggered it, what it did (the latest action). */
  reason: 'az-evac.io/reason',
} as const;

/** Event reasons az-evac records on FlinkDeployments (CamelCase, as Kubernetes reasons are). */
export type ActionReason = 'AzEvacFenced' | 'AzEvacPreempted' | 'AzEvacApplied' | 'AzEvacFailedBack';

/** What to write on one copy: the annotations (with the suspend) and the Event. */
export interface ActionMark {
  annotations: Record<string, string>;
  event: { reason: ActionReason; message: string };
}

/** The evacuation run acting, as the mark names it. */
export interface ActingRun {
  evacuationId: string;
  runId?: string;
  mode: string;
  sourceAz: string;
  targetAz: string;
  /** Who triggered the evacuation (CLI user, console identity, schedule); absent: unknown. */
  requestedBy?: string;
}

/** `<evacuationId>@<runId>` (the run's records key) or the id alone. */
function runName(run: ActingRun): string {
  return run.runId ? `${run.evacuationId}@${run.runId}` : run.evacuationId;
}

function trigger(run: ActingRun): string {
  return `${run.mode} evacuation ${runName(run)} of ${run.sourceAz} into ${run.targetAz}, triggered by ${run.requestedBy ?? 'an unnamed caller'}`;
}

/**
 * The mark of a source copy fenced because its job moved to the target AZ.
 * @param atMs when the suspend is requested, epoch ms
 */
export function fenceMark(run: ActingRun, atMs: number): ActionMark {
  const why = `fenced by the ${trigger(run)}: its job now runs in ${run.targetAz}; spec.job.state set to suspended so that it does not run in two AZs`;
  return {
    annotations: { [ACTION_ANNOTATIONS.fencedBy]: runName(run), [ACTION_ANNOTATIONS.fencedAt]: new Date(atMs).toISOString(), [ACTION_ANNOTATIONS.reason]: why },
    event: { reason: 'AzEvacFenced', message: `Fenced by the ${trigger(run)}: suspended here, its job moves to ${run.targetAz}` },
  };
}

/**
 * The mark of a P3 copy in the target AZ preempted to free capacity.
 * @param forJob key of the job the capacity is freed for
 * @param cores cores freed
 */
export function preemptMark(run: ActingRun, atMs: number, forJob: string, cores: number): ActionMark {
  const why = `preempted by the ${trigger(run)}: suspended to free ${cores} cores for ${forJob}`;
  return {
    annotations: { [ACTION_ANNOTATIONS.preemptedBy]: runName(run), [ACTION_ANNOTATIONS.preemptedAt]: new Date(atMs).toISOString(), [ACTION_ANNOTATIONS.reason]: why },
    event: { reason: 'AzEvacPreempted', message: `Preempted by the ${trigger(run)}: suspended to free ${cores} cores for ${forJob}` },
  };
}

/** How a copy in the target AZ was brought up (the strategy's step), for applyMark. */
export interface AppliedCopy {
  /** tiers.yaml strategy that ran: redeploy (server-side apply), resume-standby (restore patch), promote-standby (label patch). */
  strategy: 'redeploy' | 'resume-standby' | 'promote-standby';
  /** Snapshot it restores from; absent: stateless, or a promoted hot standby that runs on its own state. */
  snapshotPath?: string;
  /** Applied with `state: suspended` (its job was suspended in the source before the evacuation): not started. */
  suspended?: boolean;
}

function appliedWhat(copy: AppliedCopy): string {
  if (copy.strategy === 'promote-standby') return 'hot standby promoted to active (it runs on its own state)';
  if (copy.suspended) return `deployed suspended (as its job was in the source), not started; initialSavepointPath ${copy.snapshotPath ?? 'unset (stateless)'}`;
  const how = copy.strategy === 'redeploy' ? 'redeployed' : 'cold standby resumed';
  return `${how} ${copy.snapshotPath ? `from ${copy.snapshotPath}` : 'stateless (no snapshot)'}`;
}

/**
 * The mark of a copy an evacuation brings up in its target AZ (written in the same apply or
 * merge patch that starts it).
 * @param atMs when the apply or patch is made, epoch ms
 */
export function applyMark(run: ActingRun, atMs: number, copy: AppliedCopy): ActionMark {
  const what = appliedWhat(copy);
  return {
    annotations: { [ACTION_ANNOTATIONS.appliedBy]: runName(run), [ACTION_ANNOTATIONS.appliedAt]: new Date(atMs).toISOString(), [ACTION_ANNOTATIONS.reason]: `applied by the ${trigger(run)}: ${what}` },
    event: { reason: 'AzEvacApplied', message: `Applied by the ${trigger(run)}: ${what}` },
  };
}

/**
 * The mark of a source copy a failback restores: `run` is the evacuation failed back (it
 * moved the job out of `run.sourceAz`), `failback` who asked for the failback.
 * @param failback.requestedBy who triggered the failback (absent: unknown)
 * @param failback.restoredFrom the savepoint of the copy in `run.targetAz` it restores from (absent: stateless, or its own snapshot)
 */
export function failbackMark(run: ActingRun, atMs: number, failback: { requestedBy?: string; restoredFrom?: string }): ActionMark {
  const from = failback.restoredFrom ? `restored here from ${failback.restoredFrom}` : 'restored here';
  const what = `failback of the ${trigger(run)}, failback triggered by ${failback.requestedBy ?? 'an unnamed caller'}: ${from}, its job moves back from ${run.targetAz}`;
  return {
    annotations: { [ACTION_ANNOTATIONS.failedBackBy]: runName(run), [ACTION_ANNOTATIONS.failedBackAt]: new Date(atMs).toISOString(), [ACTION_ANNOTATIONS.reason]: what },
    event: { reason: 'AzEvacFailedBack', message: `Failed back: ${what}` },
  };
}

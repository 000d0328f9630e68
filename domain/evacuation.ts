/**
 * Messages of an evacuation: workflow inputs, activity results and progress shapes.
 * Shared by workflows/, activities/ and cli/; pure types plus a few pure helpers.
 * Everything here travels through Temporal payloads, so it stays small: job keys and
 * counts, never the catalog or the plan (docs/design.md#temporal-limits: 2 MB per payload).
 */
import type { PlanningDeadlineOption } from './plan-deadline.js';
import type { RestoreEvidence } from './restore-verdict.js';
import type { StartupDeadline } from './startup-deadline.js';
import type { HeartbeatTimeouts, Strategy, Tier, TiersPolicy } from './types.js';

/**
 * How an evacuation treats its source AZ:
 * - `emergency`: the source AZ is (partly) gone: each job restores from the newest replicated
 *   snapshot within its tier's RPO, and a source that does not answer is fenced later;
 * - `planned`: the source AZ answers and the move is for real (maintenance, retiring an AZ):
 *   each job is stopped with a savepoint in the source first and restored in the target from
 *   exactly that savepoint (no rewind); a job whose savepoint fails keeps running in the source;
 * - `drill`: a rehearsal, the source AZ answers: each job is moved as in a planned move
 *   (stopped with a savepoint in the source, restored in the target from exactly that
 *   savepoint); `failback` undoes it with a planned stop of the drilled copy. A drill whose
 *   runbook takes the source AZ down evacuates in `emergency` mode instead.
 */
export type EvacuationMode = 'drill' | 'emergency' | 'planned';

/** Every evacuation mode, for option lists and validation messages. */
export const EVACUATION_MODES: readonly EvacuationMode[] = ['drill', 'emergency', 'planned'];

/**
 * Whether jobs of an evacuation in `mode` are stopped with a savepoint in the source AZ first
 * and restored from exactly that savepoint (planned, drill: the source AZ answers), instead of
 * restoring the newest replicated snapshot (emergency).
 */
export function stopsWithSavepoint(mode: EvacuationMode): boolean {
  return mode === 'planned' || mode === 'drill';
}

/** What the caller asks for. */
/**
 * What an SRE asks for: the AZs, the mode and what to move. `planningDeadlineSeconds`
 * (PlanningDeadlineOption, domain/plan-deadline.ts): how long planning at the trigger keeps
 * trying through API trouble.
 */
export interface EvacuationRequest extends PlanningDeadlineOption {
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  /** Catalog version to evacuate from; default: the newest. */
  catalogVersion?: number;
  /** Restrict the evacuation; default: every job of the source AZ. */
  scope?: { tiers?: Tier[]; teams?: string[]; jobs?: string[] };
  /** Copy every jar the plan needs into the target AZ's jar cache first (default true). */
  preload?: boolean;
  /** Who pressed the button (CLI user, console identity, schedule). */
  requestedBy?: string;
  /** When the button was pressed, epoch ms: snapshot ages (the RPO paid) are measured at this instant. */
  triggeredAtMs?: number;
  /**
   * Evacuate in an emergency even from a catalog older than the tightest RPO in scope
   * (domain/catalog-freshness.ts); the plan then carries a `catalog-stale` finding naming who forced it.
   */
  forceStaleCatalog?: boolean;
  /**
   * Run beside the evacuation or drill that holds the source or target AZ (domain/az-hold.ts):
   * an emergency only (mayOverrideHold); without it such a start is refused, naming the holder.
   */
  overrideRunning?: boolean;
  /**
   * History events after which each tier and shard workflow continues as new
   * (domain/history-budget.ts; default 4,000, integer 20–10,240). Tests set it small to force
   * several continue-as-new cycles.
   */
  continueAsNewAfterEvents?: number;
}

/** Input of the evacuateAz workflow. */
export interface EvacuationInput extends EvacuationRequest {
  evacuationId: string;
  /**
   * Identity of this run of the evacuation: the workflow's first run id, set by evacuateAz
   * itself (callers leave it out). Its stored records (plan, outcomes, fences, report) are
   * keyed by recordsKey(), so a later evacuation with the same id never reads this one's.
   * Absent for runs recorded before runs had an identity.
   */
  runId?: string;
  /**
   * Workflow id of the drill that holds this evacuation's AZs for it (domain/az-hold.ts):
   * set by the drill for its own evacuation, which then takes no hold of its own.
   */
  heldBy?: string;
  /**
   * Task queue of the deployment that started it, which scopes its AZ holds
   * (domain/az-hold.ts azHoldWorkflowId). Set by the client so a replay on another queue
   * names the same holds; absent: the workflow's own task queue.
   */
  taskQueue?: string;
}

/** Where an evacuation run's records are: its id and, since runs have one, its run id. */
export interface RunRef {
  evacuationId: string;
  runId?: string;
}

/**
 * Key of one evacuation run's stored records (plan, outcomes, fences, report):
 * `<evacuationId>@<runId>`, or the evacuation id alone for a run without an identity
 * (recorded before runs had one; plan previews, whose ids are unique already).
 */
export function recordsKey(ref: RunRef): string {
  return ref.runId ? `${ref.evacuationId}@${ref.runId}` : ref.evacuationId;
}

/** What a second press is compared on: the parts of a request that change what is evacuated. */
export type RequestShape = Pick<EvacuationRequest, 'mode' | 'scope' | 'forceStaleCatalog' | 'catalogVersion' | 'preload'>;

/** The parts of `req` a second press is compared on (kept in the running workflow's memo). */
export function requestShape(req: EvacuationRequest): RequestShape {
  return {
    mode: req.mode,
    ...(req.scope ? { scope: req.scope } : {}),
    ...(req.forceStaleCatalog ? { forceStaleCatalog: true } : {}),
    ...(req.catalogVersion !== undefined ? { catalogVersion: req.catalogVersion } : {}),
    ...(req.preload === false ? { preload: false } : {}),
  };
}

/**
 * How a second press `mine` differs from the running evacuation's request `running`:
 * one line per differing part (`scope.tiers: running all, yours P0`), empty when they ask
 * for the same thing. Lists are compared as sets; an absent scope list means "all";
 * preload defaults to on, forceStaleCatalog to off, catalogVersion to the newest.
 */
export function requestDifferences(running: RequestShape, mine: RequestShape): string[] {
  const out: string[] = [];
  const list = (v: string[] | undefined): string => (v && v.length > 0 ? [...new Set(v)].sort().join(', ') : 'all');
  if (running.mode !== mine.mode) out.push(`mode: running ${running.mode}, yours ${mine.mode}`);
  for (const part of ['tiers', 'teams', 'jobs'] as const) {
    const a = list(running.scope?.[part]);
    const b = list(mine.scope?.[part]);
    if (a !== b) out.push(`scope.${part}: running ${a}, yours ${b}`);
  }
  const stale = (v: boolean | undefined): string => (v ? 'forced' : 'not forced');
  if (!!running.forceStaleCatalog !== !!mine.forceStaleCatalog) out.push(`forceStaleCatalog: running ${stale(running.forceStaleCatalog)}, yours ${stale(mine.forceStaleCatalog)}`);
  const version = (v: number | undefined): string => (v === undefined ? 'newest' : `v${v}`);
  if (running.catalogVersion !== mine.catalogVersion) out.push(`catalogVersion: running ${version(running.catalogVersion)}, yours ${version(mine.catalogVersion)}`);
  const pre = (v: boolean | undefined): string => (v === false ? 'off' : 'on');
  if (pre(running.preload) !== pre(mine.preload)) out.push(`preload: running ${pre(running.preload)}, yours ${pre(mine.preload)}`);
  return out;
}

/**
 * Deterministic evacuation id: two presses of the button for the same source AZ, target
 * and mode name one workflow (joined via the USE_EXISTING conflict policy).
 */
export function evacuationIdFor(req: Pick<EvacuationRequest, 'sourceAz' | 'targetAz' | 'mode'>): string {
  return `az-evac-${req.mode}-${req.sourceAz}-to-${req.targetAz}`;
}

/** Workflow id of the failback of drill `drillId` (one per drill: a second press joins the first). */
export function failbackWorkflowId(drillId: string): string {
  return `${drillId}/failback`;
}

/**
 * Workflow id of shard `shard` of a failback's part `part` (a tier of a real evacuation's
 * failback, `all` for a drill's): `<evacuation id>/failback/<part>/shard/<shard>`.
 */
export function failbackShardWorkflowId(drillId: string, part: string, shard: number): string {
  return `${failbackWorkflowId(drillId)}/${part}/shard/${shard}`;
}

/** Workflow id of a tier workflow. */
export function tierWorkflowId(evacuationId: string, tier: Tier): string {
  return `${evacuationId}/tier/${tier}`;
}

/** Workflow id of a per-job workflow. */
export function jobWorkflowId(evacuationId: string, jobKey: string): string {
  return `${evacuationId}/job/${jobKey}`;
}

/**
 * The savepointRedeployNonce az-evac sets for one evacuation run, derived from a run key
 * (activities use `<evacuationId>@<triggeredAtMs>`): every retried step of the run sets the
 * same nonce, so the operator redeploys once (a changed nonce is what triggers the
 * redeploy: Flink Kubernetes Operator ≥ 1.8 docs, Job Management, "Redeploy using the
 * savepointRedeployNonce"), and a later evacuation with the same id sets another.
 * @returns a positive 31-bit integer
 */
export function redeployNonceFor(runKey: string): number {
  let h = 2166136261;
  for (let i = 0; i < runKey.length; i++) {
    h ^= runKey.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 1) || 1;
}

/** Planned work of one tier, as returned by the plan activity. */
export interface TierPlanSummary {
  tier: Tier;
  jobs: number;
  cores: number;
  memoryMiB: number;
}

/** Small summary of a stored plan (the plan itself stays in the EvacuationStore). */
export interface PlanSummary {
  catalogVersion: number;
  catalogTakenAt: string;
  policy: TiersPolicy;
  tiers: TierPlanSummary[];
  notAdmitted: number;
  preemptions: number;
  jars: number;
  jarBytes: number;
  blockingFindings: number;
  findings: number;
}

/** One job as a tier workflow dispatches it. */
export interface JobTask {
  key: string;
  strategy: Strategy;
}

/** What every tier and shard workflow of one evacuation knows. */
interface TierScope {
  evacuationId: string;
  /** The evacuation's run (EvacuationInput.runId): records are read and written under recordsKey(). */
  runId?: string;
  tier: Tier;
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  preload: boolean;
}

/** Input of a tier workflow. */
export interface TierInput extends TierScope {
  /** Admitted jobs of this tier in the stored plan. */
  jobs: number;
  policy: TiersPolicy;
  paused: boolean;
  aborted: boolean;
  /** `by: reason` of an abort accepted before this workflow started (its skipped jobs name it). */
  abortedBy?: string;
  /** History events after which the tier continues as new (domain/history-budget.ts; absent: the default). */
  continueAsNewAfterEvents?: number;
  /** What the runs before this one of a tier that continued as new handed over (absent in its first run). */
  carried?: TierCarried;
}

/** What a tier run hands to the next when it continues as new (shard indices 0 … shards-1). */
export interface TierCarried {
  /** Latest counters per shard (its final ones once it is in `done`). */
  shardCounts: TierCounts[];
  /** Shards started by an earlier run (still children of no run: started with ParentClosePolicy ABANDON). */
  started: number[];
  /** Shards that reported their final counters. */
  done: number[];
  /** Shards that have dispatched every job. */
  dispatched: number[];
  /** The evacuation has been told every job of the tier is dispatched. */
  toldDispatched: boolean;
  /** The abort accepted by an earlier run (passed on to shards started later), if any. */
  abortMessage?: { action: 'abort'; by: string; reason?: string };
  /** Runs of this tier before this one. */
  runs: number;
}

/** Input of a tier shard workflow (also its continue-as-new state). */
export interface ShardInput extends TierScope {
  /** This shard's index and the tier's shard count: the shard owns job indices shard, shard + shards, … */
  shard: number;
  shards: number;
  /** Jobs this shard owns. */
  jobs: number;
  /** Jobs of this shard in flight at once (its share of the tier's maxConcurrency). */
  slots: number;
  /** Wall seconds a start-up may take before the job is FAILED (tier policy ÷ time scale). */
  startupTimeoutSeconds: number;
  /** The policy's heartbeat timeouts (absent: the defaults). */
  heartbeatTimeoutSeconds?: HeartbeatTimeouts;
  /** Index (within the shard) of the next job to dispatch (continue-as-new carries it). */
  cursor: number;
  counts: TierCounts;
  paused: boolean;
  aborted: boolean;
  /** `by: reason` of an abort accepted before this workflow started (its skipped jobs name it). */
  abortedBy?: string;
  /** History events after which the shard continues as new (domain/history-budget.ts; absent: the default). */
  continueAsNewAfterEvents?: number;
  /**
   * Jobs deployed in the target AZ and not yet seen RUNNING when the shard continued as new
   * (workflows/shard-jobs.ts): the next run watches them on, so continue-as-new does not wait
   * for start-ups. Absent in runs that carried none.
   */
  starting?: StartingJob[];
}

/** Jobs of a tier per shard: small parents keep child dispatch fast. */
export const JOBS_PER_SHARD = 50;
/** Most shards one tier is split into. */
export const MAX_SHARDS = 100;

/**
 * How a tier of `jobs` jobs with `maxConcurrency` slots is sharded: shard k owns job
 * indices k, k + shards, … (round robin keeps admission order across shards) and gets
 * `slots[k]` of the tier's slots (they add up to maxConcurrency exactly, each ≥ 1).
 */
export function shardLayout(jobs: number, maxConcurrency: number): { shards: number; jobsOf: (k: number) => number; slotsOf: (k: number) => number } {
  const shards = Math.max(1, Math.min(maxConcurrency, MAX_SHARDS, Math.ceil(jobs / JOBS_PER_SHARD)));
  return {
    shards,
    jobsOf: (k) => (k < jobs % shards ? 1 : 0) + Math.floor(jobs / shards),
    slotsOf: (k) => (k < maxConcurrency % shards ? 1 : 0) + Math.floor(maxConcurrency / shards),
  };
}

/** Workflow id of a tier shard workflow. */
export function shardWorkflowId(evacuationId: string, tier: Tier, shard: number): string {
  return `${evacuationId}/tier/${tier}/shard/${shard}`;
}

/** Input of a per-job workflow. */
export interface JobInput {
  evacuationId: string;
  /** The evacuation's run (EvacuationInput.runId). */
  runId?: string;
  key: string;
  tier: Tier;
  strategy: Strategy;
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  preload: boolean;
  /** Wall seconds a start-up may take before the job is FAILED (tier policy ÷ time scale). */
  startupTimeoutSeconds: number;
  /** The policy's heartbeat timeouts (absent: the defaults). */
  heartbeatTimeoutSeconds?: HeartbeatTimeouts;
}

/** The part of a shard's input every job step of one start burst shares. */
export interface BurstScope {
  evacuationId: string;
  /** The evacuation's run (EvacuationInput.runId). */
  runId?: string;
  tier: Tier;
  mode: EvacuationMode;
  preload: boolean;
  sourceAz: string;
  targetAz: string;
  /** Wall seconds a start-up may take before the job is FAILED (tier policy ÷ time scale). */
  startupTimeoutSeconds: number;
}

/** Input of the startJobs activity: one dispatch burst of a shard. */
export interface StartBurst extends BurstScope {
  jobs: JobTask[];
  /** When the shard dispatched the burst (workflow clock, epoch ms): each outcome's startedAtMs. */
  dispatchedAtMs: number;
}

/**
 * A job deployed in the target AZ whose start-up is still to be seen: its outcome so far
 * (outcome `running` is provisional until the startup step is recorded) and what the wait
 * needs. Small: a shard carries its in-flight ones across continue-as-new.
 */
export interface StartingJob {
  outcome: JobOutcome;
  /** metadata.generation the start step produced: status must have observed at least this one. */
  generation: number;
  /** Whether the job restores state (a checkpoint or savepoint path): RUNNING then needs a checkpoint after the restore. */
  restoring: boolean;
  /**
   * Epoch ms (worker clock) after which the start-up has failed its budget: apply +
   * outcome.startupDeadline.seconds (the tier's start-up timeout plus the job's restore at its
   * share of the target AZ's object-store bandwidth: domain/startup-deadline.ts).
   */
  deadlineMs: number;
}

/**
 * What the start steps of a burst did for one job: a final outcome (promoted, failed,
 * skipped, or already seen RUNNING, with its startup step), or the job deployed and still
 * starting.
 */
export type BurstResult = { done: JobOutcome } | { starting: StartingJob };

/** Input of the awaitJobsRunning activity: jobs of one shard still starting. */
export interface StartupWatch extends BurstScope {
  jobs: StartingJob[];
}

/** Per-tier counters. `planned` is fixed; the rest add up to it at the end. */
export interface TierCounts {
  planned: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

/** Live progress of one tier. Elapsed and targets in wall seconds. */
export interface TierProgress extends TierCounts {
  tier: Tier;
  state: 'waiting' | 'running' | 'done';
  startedAtMs?: number;
  endedAtMs?: number;
  /** RTO target in wall seconds (policy ÷ time scale). */
  rtoTargetSeconds: number;
}

/** Phase of the whole evacuation. */
export type EvacuationPhase = 'planning' | 'evacuating' | 'reporting' | 'done' | 'aborted' | 'failed';

/** Answer of the progress query. */
export interface EvacuationProgress {
  evacuationId: string;
  /** This run's identity (EvacuationInput.runId); its records are under recordsKey(). */
  runId?: string;
  sourceAz: string;
  targetAz: string;
  mode: EvacuationMode;
  phase: EvacuationPhase;
  paused: boolean;
  abortedBy?: string;
  /** Evacuations or drills this emergency runs beside, on the override (EvacuationRequest.overrideRunning): `<kind> <id> (<source> → <target>)`. */
  runsBeside?: string[];
  startedAtMs: number;
  /**
   * Seconds from the trigger to the workflow's latest workflow task (a query reads the
   * workflow's clock, which stands still between tasks): exact once the run has its report;
   * while it runs, show now − startedAtMs (cli/progress-view.ts elapsedSeconds).
   */
  elapsedSeconds: number;
  plan?: PlanSummary;
  preload: { state: 'off' | 'running' | 'done' | 'failed'; jars: number; jarsDone: number; bytesDone: number };
  tiers: TierProgress[];
  reportFile?: string;
}

/** Result of the evacuateAz workflow. */
export interface EvacuationResult {
  evacuationId: string;
  /** This run's identity (EvacuationInput.runId). */
  runId?: string;
  phase: EvacuationPhase;
  reportFile: string;
  tiers: TierProgress[];
  /** True when every admitted P0–P2 job ended RUNNING and nothing was left unplaced in P0–P2. */
  success: boolean;
}

/** When an activity did its work (epoch ms, worker clock) and which attempt succeeded. */
export interface StepTiming {
  startedAtMs: number;
  endedAtMs: number;
  attempt: number;
}

/**
 * Result of a job's start step: phases (snapshot, config, jars, fence, apply) with their
 * times (epoch ms), then either the generation deployed or why the job fails or is skipped.
 */
export type StartJobResult = {
  phases: Record<string, { startedAtMs: number; endedAtMs: number }>;
  attempt: number;
} & (
  | { action: 'deployed'; generation: number; fence: FenceState; fenceSeen?: FenceSeen; snapshotPath?: string; snapshotAgeSeconds?: number; note?: string }
  | { action: 'fail'; reason: string }
  | { action: 'skip'; reason: string }
);

/**
 * How the source copy of a job was fenced before the target copy started (guarantee 2):
 * - `stopped`: observed stopped (domain/fence.ts stopVerdict: the operator recorded the
 *   suspend and the JobManager is gone or the job ended);
 * - `absent`: there was no source copy;
 * - `requested`: the suspend was accepted by the source API server but the copy was not seen
 *   stopped within the bounded wait (tiers.yaml fenceObserveSeconds): it may still run; the
 *   fencing follow-up keeps looking;
 * - `unreachable`: the source API did not answer; a pending fence was stored and the
 *   follow-up suspends the copy when the AZ answers again.
 */
export type FenceState = 'stopped' | 'absent' | 'requested' | 'unreachable';

/** What was seen of a fenced copy, and when (epoch ms). */
export interface FenceSeen {
  seen: string;
  atMs: number;
}

/**
 * The fence of one source copy that was not observed stopped when its target copy started
 * (guarantee 2), kept in the evacuation store for the fencing follow-up: `pending` (its AZ
 * did not answer: not even requested yet; written before the target copy is deployed),
 * `requested` (the suspend was accepted, the stop not yet seen), then `stopped` or `absent`
 * once a fencing pass observed it.
 */
export interface FenceRecord {
  /** Job key `namespace/name` of the source copy (the catalog's name in the source AZ). */
  key: string;
  sourceAz: string;
  namespace: string;
  name: string;
  state: 'pending' | 'requested' | 'stopped' | 'absent';
  /** When the record was first written (the AZ found unreachable, or the stop not seen in time); epoch ms. */
  recordedAtMs: number;
  /** metadata.generation the accepted suspend produced: what the operator must have observed (requested and later). */
  suspendGeneration?: number;
  /** The last observation (state requested, stopped or absent). */
  seen?: FenceSeen;
  /** When it was observed stopped or absent; epoch ms. */
  fencedAtMs?: number;
}

/**
 * Order of a fence record's states (later beats earlier when the same job has several
 * records): pending 0, requested 1, stopped/absent 2.
 */
export function fenceStateRank(state: FenceRecord['state']): number {
  return state === 'pending' ? 0 : state === 'requested' ? 1 : 2;
}

/** Result of one fencing pass over an evacuation's fence records. */
export interface FencePassResult {
  /** Observed stopped (or absent) in this pass. */
  fenced: number;
  /** Still pending: their AZ still does not answer, no suspend requested yet. Keys, sorted. */
  pending: string[];
  /** Suspend requested (accepted) but the copy not yet observed stopped: it may still run. Keys, sorted. */
  notObserved: string[];
  /** Observed stopped after their target copy started, in this pass or earlier ones. Keys, sorted. */
  fencedLater: string[];
}

/**
 * A fencing pass in counts (FencePassResult without its key lists): what the fencing follow-up
 * records at each pass. The lists name every open fence, ~40 bytes a key: 600 KB a pass with
 * 15,057 pending (20,000 jobs, docs/benchmarks.md), past Temporal's 512 KB payload warning and,
 * near 50,000 keys, its 2 MB limit.
 */
export interface FencePassCounts {
  fenced: number;
  /** Fences still pending (FencePassResult.pending.length). */
  pending: number;
  /** Suspends requested and not yet seen stopped (FencePassResult.notObserved.length). */
  notObserved: number;
}

/** `pass` in counts. */
export function fencePassCounts(pass: FencePassResult): FencePassCounts {
  return { fenced: pass.fenced, pending: pass.pending.length, notObserved: pass.notObserved.length };
}

/**
 * Workflow id of the fencing follow-up of an evacuation run (workflows/fence-source.ts).
 * @param records the run's recordsKey() (its fence records)
 */
export function fenceWorkflowId(records: string): string {
  return `${records}/fence`;
}

/** Input of the fencing follow-up workflow. */
export interface FenceSourceInput {
  evacuationId: string;
  /** The evacuation's run (EvacuationInput.runId): its fence records. */
  runId?: string;
  sourceAz: string;
  /** Wall seconds between two fencing passes while fences are pending. */
  intervalSeconds: number;
  /** Set once the evacuation has ended: no new pending fence can appear (continue-as-new carries it). */
  sealed: boolean;
}

/** Result of the bulk jar preload. */
export interface PreloadResult {
  jars: number;
  copied: number;
  alreadyPresent: number;
  copiedBytes: number;
  /** Jars that could not be copied, with why; the jobs needing them fail at their jar step. */
  failed: Array<{ key: string; digest: string; reason: string }>;
}

/** Terminal outcome of one job in one evacuation. Every in-scope job gets exactly one. */
export type JobOutcomeKind = 'running' | 'failed' | 'skipped';

/**
 * What happened to one job: the record the report is built from. Times are epoch
 * milliseconds (wall clock of the worker); durations derive from them.
 */
export interface JobOutcome {
  key: string;
  name: string;
  namespace: string;
  tier: Tier;
  strategy: Strategy;
  outcome: JobOutcomeKind;
  /** Why it failed or was skipped; absent when running. */
  reason?: string;
  /** Path restored from (savepoint or checkpoint directory), absent when stateless/promoted. */
  snapshotPath?: string;
  /** Age of that snapshot at restore time, seconds: the RPO actually paid. */
  snapshotAgeSeconds?: number;
  /**
   * Planned moves: the savepoint the source copy was stopped with, as the source AZ names it
   * (status.jobStatus.upgradeSavepointPath); the job restores from the same key in the target
   * AZ's replica (snapshotPath), or, a promoted hot standby, keeps it as its fallback.
   */
  savepointPath?: string;
  /** status.jobStatus.jobId in the target AZ after the deploy. */
  jobId?: string;
  /** How the source copy was fenced before the target copy started (see FenceState). */
  fence?: FenceState;
  /**
   * What showed the job's restore ended before it counted running (domain/restore-verdict.ts):
   * the first checkpoint after the restore, nothing restored, or not verifiable. Absent for
   * promoted hot standbys and jobs that did not run.
   */
  restore?: RestoreEvidence;
  /** What was seen of the source copy when the target copy started, and when. */
  fenceSeen?: FenceSeen;
  /**
   * The start-up deadline the job had once deployed, and why (domain/startup-deadline.ts):
   * wall seconds after its apply by which it had to count RUNNING. Absent for jobs not deployed
   * (promoted, failed or skipped before the apply) and in outcomes recorded before it existed.
   */
  startupDeadline?: StartupDeadline;
  /**
   * Step name → { startedAtMs, endedAtMs, attempts }. Steps: savepoint (planned moves: the stop in
   * the source), promote, snapshot (or replica: a planned move's wait for its savepoint in the
   * target's replica), config, jars, fence, apply, startup, restart-source.
   */
  steps: Record<string, { startedAtMs: number; endedAtMs: number; attempts: number }>;
  /**
   * The workflow that ran the job's steps: its shard workflow (workflows/shard-jobs.ts), whose
   * history holds the job's activities. Absent in outcomes of runs that gave each job its own
   * workflow (jobWorkflowId).
   */
  workflowId?: string;
  /** When the job was dispatched (its workflow started, in runs with a workflow per job) and when it ended, epoch ms. */
  startedAtMs: number;
  endedAtMs: number;
}


/** Result of one catalog sync. */
export interface CatalogSyncResult {
  version: number;
  takenAt: string;
  jobs: number;
  /** AZs whose jobs were carried over from the previous version because they did not answer. */
  carriedOver: string[];
}


/** What a hot-standby promotion step reports (activities/job-steps.ts promoteStandby), timings aside. */
export interface PromotionResult {
  promoted: boolean;
  /** Why the standby was not usable (when not promoted). */
  reason?: string;
  jobId?: string;
  fence?: FenceState;
  fenceSeen?: FenceSeen;
}

/**
 * Fold a hot-standby promotion into the job's outcome. Promoted: the outcome takes the
 * standby's Flink job id and the source's fence, and the job is RUNNING (returns true). Not
 * usable: the job falls back to a redeploy from its snapshot, with the standby's reason in the
 * outcome (returns false). Pure; used by the batched start step and the per-job workflow kept
 * for replay.
 */
export function applyPromotion(outcome: JobOutcome, promoted: PromotionResult): boolean {
  if (promoted.promoted) {
    if (promoted.jobId) outcome.jobId = promoted.jobId;
    if (promoted.fence) outcome.fence = promoted.fence;
    if (promoted.fenceSeen) outcome.fenceSeen = promoted.fenceSeen;
    return true;
  }
  outcome.strategy = 'redeploy';
  outcome.reason = `hot standby not usable (${promoted.reason}); redeployed from snapshot`;
  return false;
}

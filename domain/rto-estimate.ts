/**
 * Predicted RTO: each admitted job's time from the trigger to restored in the target AZ,
 * estimated before anything is touched, with the inputs it rests on, so `plan`, readiness and
 * the report can say which jobs will miss their tier's RTO and why. Pure.
 *
 * Model (docs/design.md#predicted-rto), per job, in the platform's seconds:
 *   dispatch wait + start step + queue + start-up + jar fetch + restore + first checkpoint
 * - dispatch wait: when the job's start burst goes out. The engine's own time first
 *   (RtoRates.engine, wall seconds × the time scale): the first tier's first dispatch comes
 *   `firstDispatchSeconds` after the trigger (AZ holds, planning, tier and shard start). Tiers in
 *   admission order; a tier's jobs go into `maxConcurrency` slots in plan order, each slot taking
 *   the next job when its previous one is predicted done; the next tier starts `tierStartSeconds`
 *   after the previous one has dispatched its last job (`borrowIdleSlots`) or finished (strict),
 *   and the second tier also after the plan's forecast (activities/plan.ts forecastPlan, made
 *   then): one snapshot lookup per restoring job at `lookupsPerSecond`, at most
 *   SNAPSHOT_SIZING_BUDGET_SECONDS.
 * - start step: the engine's steps before the apply (snapshot choice, config, jars, fence),
 *   at most START_STEP_LOOKUPS_AT_ONCE at once sharing the worker, the others waiting in
 *   dispatch order (the worker's lookup queue): N ≤ that many steps at once each progress at
 *   min(1 / startStepSeconds, startStepsPerSecond / N) steps per wall second. A hot standby's
 *   promotion has none (its promotion time is measured whole).
 * - queue: the deploy's reconcile, queued behind the operator's reconcile threads of the target
 *   AZ, then binding its pods (JobManager + TaskManagers) at the kube-scheduler's rate, one
 *   AZ-wide FIFO (RtoRates.platform).
 * - start-up: JobManager and TaskManager start, job submission (RtoRates.startupSeconds); a hot
 *   standby's promotion instead (RtoRates.promoteSeconds), which queues, restores and fetches nothing.
 * - jar fetch: the job's jar bytes at the cache rate when every jar is already in the target
 *   AZ's jar cache, else at the repository rate.
 * - restore: from Flink's RUNNING, the state bytes at the job's own rate (at most
 *   restoreMaxSecondsAlone alone when that is set), every restore running in the AZ sharing its object store's
 *   read bandwidth max-min fairly. State bytes come from the newest restorable snapshot's
 *   `_metadata` in the target AZ's replica when it was read, else the catalog's size (the
 *   platform's metric), else the nominal DEFAULT_STATE_BYTES, and the inputs say which.
 * - first checkpoint: a restoring job counts once the first checkpoint after its restore
 *   completes (docs/design.md#restored-means-restored): checkpoints come every
 *   `execution.checkpointing.interval` of the job's spec (else the default) from RUNNING; and
 *   not before the operator reports RUNNING (its rest-ready delay + progress check).
 * Start-up, restore and promotion rates and the engine's overhead are measured from previous
 * runs when there are any (measuredRates), else DEFAULT_RTO_RATES, whose engine terms are
 * scaled by the worker's pace this plan measured (domain/engine-pace.ts); the platform limits are
 * always the documented defaults. Seconds are then divided by the policy's timeScale, onto the engine's clock that
 * the tier targets and the report use.
 */
import type { EvacuationReport } from './report.js';
import { Heap } from 'heap-js';
import { readSpec } from './flink-spec.js';
import { pacedEngine, REFERENCE_ENGINE_PACE, type EnginePace } from './engine-pace.js';
import { jobKey, type Finding, type FleetJob, type JobKey, type JobRtoForecast, type Plan, type PlannedJob, type RtoEngineOverhead, type RtoForecast, type RtoPlatformLimits, type RtoRates, type Strategy, type TiersPolicy } from './types.js';

const MiB = 1024 * 1024;

/**
 * Rates and limits used when no previous run measured them, each the platform figure the
 * simulator's model documents too (docs/simulator-model.md, the same sources; docs/design.md#predicted-rto):
 * - start-up 105 s: Flink's own apply → RUNNING alone, so that with the operator's observation
 *   (below) a deploy alone takes the field reports' "about 2 min from apply to RUNNING in the
 *   usual case" (docs/design.md#field-reports; tiers.yaml's header);
 * - observation 20 s: the operator reports RUNNING no sooner than its rest-ready delay after the
 *   REST port opens and at its next progress check (`kubernetes.operator.observer.rest-ready.delay`
 *   and `kubernetes.operator.observer.progress-check.interval`, 10 s each by default,
 *   `KubernetesOperatorConfigOptions`), taken at the worst case;
 * - restore 200 MiB/s per job alone, which puts the field reports' "about 5 min for a savepoint
 *   redeploy of large state" at ~35 GiB; no bound on a restore alone (restoreMaxSecondsAlone 0:
 *   the simulator's model assumes big state is read by many TaskManagers within 300 s; the
 *   forecast does not assume it, so it flags a big-state job for a look rather than hide it);
 * - object-store read bandwidth 64 GiB/s per AZ, shared max-min fairly by every restore in the
 *   target AZ: assumption (Amazon S3 documents per-prefix request rates, no bucket bandwidth,
 *   "Best practices design patterns: optimizing Amazon S3 performance"; ~500 HDDs at ~130 MiB/s);
 * - reconcile parallelism 50 threads per AZ, 2 s per deploy reconcile: the operator's
 *   `kubernetes.operator.reconcile.parallelism`, defaulting to the Java Operator SDK's
 *   `DEFAULT_RECONCILIATION_THREADS_NUMBER` (50); the 2 s is an assumption;
 * - pod binding 50 pods/s per AZ: kube-scheduler `clientConnection.qps` default 50, one Binding
 *   request per pod (KubeSchedulerConfiguration v1 reference);
 * - checkpoint interval 60 s for a spec that sets none (assumption; Flink takes none when unset);
 * - promotion 10 s and jar rates (200 MiB/s from the cache, 25 MiB/s per download from the
 *   HDD-backed repository): assumptions.
 * Replace them with measurements from the first drills (measuredRates does for start-up,
 * restore and promotion).
 */
export const DEFAULT_PLATFORM_LIMITS: RtoPlatformLimits = {
  observeSeconds: 20,
  restoreMaxSecondsAlone: 0,
  objectStoreReadBytesPerSecond: 64 * 1024 * MiB,
  reconcileParallelism: 50,
  deployReconcileSeconds: 2,
  podsBoundPerSecond: 50,
  defaultCheckpointIntervalSeconds: 60,
};

/**
 * The engine's own time when no previous run measured it, wall seconds at REFERENCE_ENGINE_PACE
 * (domain/engine-pace.ts; each plan scales them by the pace it measures), as measured on the
 * default demo (`az-evac demo`: 1,000 jobs, 368 admitted, 346 of them restoring, time scale 10,
 * S3 on versitygw, the 2-core machine; docs/design.md#predicted-rto) on a fresh state dir at
 * main 7d0a61d, load 1-4 (2026-12-07, its run sample):
 * - trigger → the P0 tier's first dispatch 4.19 s, of which the trigger's snapshot lookups at
 *   most 2 s (SNAPSHOT_SIZING_BUDGET_SECONDS; 346 at ~32/s are past it): the fixed part 2.2 s
 *   (AZ holds, planning's platform reads and renders, tier, shard and first page);
 * - a later tier's first dispatch 0.79 s (P1) and 1.57 s (P2, 7 shards) after the previous
 *   tier's last dispatch: the mean, 1.2 s;
 * - start steps with the lookup queue: 346 in 11.32 s of busy time, 30.6/s; one alone ~0.5 s on
 *   an idle worker (assumption from the workflow tests).
 * Beside two CPU-bound processes (load 3-11) the same demo took 10.95 s, 1.72 / 5.76 s and
 * 10.0/s: the engine's time moves with the machine's load, hence the pace. A demo after the
 * first plans with what the previous ones measured (measuredEngine). Production (time scale 1)
 * pays these 1:1; on the simulator they are multiplied by the scale.
 */
export const DEFAULT_ENGINE_OVERHEAD: RtoEngineOverhead = {
  firstDispatchSeconds: 2.2,
  lookupsPerSecond: 32,
  tierStartSeconds: 1.2,
  startStepsPerSecond: 30.6,
  startStepSeconds: 0.5,
  from: { from: 'default' },
};

/** Defaults of every rate (DEFAULT_PLATFORM_LIMITS for the sources). */
export const DEFAULT_RTO_RATES: RtoRates = {
  startupSeconds: 105,
  startupFrom: { from: 'default' },
  restoreBytesPerSecond: 200 * MiB,
  restoreFrom: { from: 'default' },
  promoteSeconds: 10,
  promoteFrom: { from: 'default' },
  cacheBytesPerSecond: 200 * MiB,
  repositoryBytesPerSecond: 25 * MiB,
  platform: DEFAULT_PLATFORM_LIMITS,
  engine: DEFAULT_ENGINE_OVERHEAD,
};

/**
 * One job of a previous run, as measured: what the rates are fitted to. Kept across runs in
 * the report store (activities/rto-samples.ts).
 */
export interface RtoSample {
  strategy: Strategy;
  /** Platform seconds from the job's dispatch (its workflow started) to RUNNING. */
  seconds: number;
  /** State bytes restored (0 when it restored nothing). */
  stateBytes: number;
  /** Platform seconds its forecast gave the jar fetch (subtracted before fitting). */
  jarSeconds: number;
  /** Platform seconds its forecast gave the queue and the first checkpoint (subtracted before fitting); absent in older samples. */
  otherSeconds?: number;
  /** Platform seconds of the engine's start step (dispatch → apply; subtracted before fitting, it is the engine's, RtoEngineOverhead); absent in older samples. */
  engineSeconds?: number;
}

/**
 * The engine's overhead in one previous run, wall seconds (what RtoEngineOverhead is measured
 * from): kept beside the job samples.
 */
export interface RtoRunSample {
  /** Trigger (the evacuation's start) → the first dispatch of its first tier with jobs. */
  firstDispatchSeconds: number;
  /** Snapshot lookups its planning made: its restoring jobs with a forecast. */
  lookups: number;
  /** For each later tier with jobs: the moment it could start (the previous tier's last dispatch, or end when strict) → its first dispatch. */
  tierStartSeconds: number[];
  /** Restoring jobs that reached their apply, and the wall seconds during which at least one of their start steps ran (union of dispatch → apply). */
  startSteps: number;
  startStepBusySeconds: number;
  /** The fastest start step of the run (an upper bound of one alone). */
  fastestStartStepSeconds: number;
  /** The worker's pace its plan measured (EnginePace.factor, domain/engine-pace.ts); absent in samples of runs that did not measure it. */
  pace?: number;
  /**
   * The run's snapshot lookups came once its first tier had dispatched (forecastPlan), so they
   * are in its first `tierStartSeconds`, not in `firstDispatchSeconds`; absent in samples of
   * runs that looked up before the first dispatch.
   */
  lookupsAfterFirstTier?: true;
}

/** Run samples kept across runs (newest last). */
export const MAX_RTO_RUNS = 20;

/**
 * Wall seconds an evacuation's forecast spends at most on snapshot lookups for RPO now and the
 * RTO forecast (activities/plan.ts forecastPlan, once the first tier has dispatched its jobs;
 * before the change 'forecast-after-first-tier', planning at the trigger; a preview may spend
 * longer): lookups not started by then are skipped, so the second tier's start, which waits for
 * the forecast, is delayed by at most this much. Measured on the demo (1,000 jobs, load ~10): the lookups ran ~36/s and, with a
 * 20 s budget, took 10.2 of the 11.5 wall s from trigger to first dispatch.
 */
export const SNAPSHOT_SIZING_BUDGET_SECONDS = 2;

/**
 * Start steps' snapshot lookups one worker runs at once (activities/job-steps.ts lookupQueue):
 * the rest wait their turn, first come first served. The forecast takes it as the most start
 * steps in progress at once; the others queue in dispatch order. 32, as planning's lookups
 * (activities/plan.ts), which ran ~36/s on the loaded demo where 304 lookups started at once
 * ran ~20/s.
 */
export const START_STEP_LOOKUPS_AT_ONCE = 32;

/**
 * Platform seconds a stop-with-savepoint takes before the state is written (assumption, the
 * simulator's `savepointBaseSeconds`, docs/simulator-model.md).
 */
export const SAVEPOINT_BASE_SECONDS = 5;

/**
 * Platform seconds a stop-with-savepoint of `stateBytes` takes: SAVEPOINT_BASE_SECONDS + the
 * state at the rates' per-job restore rate (a savepoint writes the state at the rate a restore
 * reads it, as the simulator's model takes it). A preempted job's pods are freed only then.
 * Non-finite or negative state counts as 0.
 */
export function stopWithSavepointSeconds(stateBytes: number, rates: Pick<RtoRates, 'restoreBytesPerSecond'>): number {
  const bytes = Number.isFinite(stateBytes) && stateBytes > 0 ? stateBytes : 0;
  return SAVEPOINT_BASE_SECONDS + bytes / rates.restoreBytesPerSecond;
}

/** Samples kept across runs (newest last); older ones are dropped. */
export const MAX_RTO_SAMPLES = 1000;

/**
 * What planning learnt of a job's state size in the target AZ: the bytes its newest
 * restorable snapshot's `_metadata` records (and that snapshot's `s3://…` path), or why none
 * was read (no snapshot within the RPO, the lookup failed, the lookup budget ran out).
 */
export type StateSizeFact = { bytes: number; snapshotPath: string; ageSeconds?: number } | { unread: string };

/**
 * How fast one restore of `stateBytes` reads alone, bytes/s of the platform's clock: the
 * rates' per-job restore rate, or faster when the documented default bounds a restore alone
 * (RtoPlatformLimits.restoreMaxSecondsAlone > 0; a measured rate already says how long
 * restores took, so the bound does not apply to it).
 */
export function restoreCapBytesPerSecond(rates: RtoRates, stateBytes: number): number {
  const limits = rates.platform ?? DEFAULT_PLATFORM_LIMITS;
  const capped = rates.restoreFrom.from === 'default' && limits.restoreMaxSecondsAlone > 0;
  return Math.max(rates.restoreBytesPerSecond, capped ? stateBytes / limits.restoreMaxSecondsAlone : 0);
}

/** Inputs of estimateRto. */
export interface EstimateInput {
  /**
   * The plan: its admitted jobs, and when it preempts, the target AZ's free capacity before
   * and its preemptions (deploys beyond that capacity wait for the preempted pods).
   */
  plan: Pick<Plan, 'admitted'> & Partial<Pick<Plan, 'preemptions' | 'capacityBefore'>>;
  /** State bytes of the plan's preempted P3 jobs (the target AZ's catalog), by key; a job missing: 0 (its stop takes SAVEPOINT_BASE_SECONDS). */
  preemptedStateBytes?: ReadonlyMap<JobKey, number>;
  /** The catalog's jobs (at least the plan's admitted ones), for state size and jars. */
  jobs: readonly FleetJob[];
  policy: TiersPolicy;
  rates: RtoRates;
  /** State sizes read from each job's newest restorable snapshot in the target AZ, or why not (by job key); a job without one falls back to the catalog. */
  snapshotState: ReadonlyMap<JobKey, StateSizeFact>;
  /** Jar digests already in the target AZ's jar cache (preloaded). */
  jarsInCache: ReadonlySet<string>;
  /** The worker's pace measured over this plan's work (activities/engine-pace.ts): scales the default engine terms (pacedEngine); absent: unscaled. */
  pace?: EnginePace;
}

/**
 * Forecast every admitted job of the plan (module doc for the model). A small event simulation
 * of the target AZ in platform seconds: concurrency slots per tier, the reconcile threads and
 * pod binding as FIFO queues, restores sharing the object store's read bandwidth max-min fairly
 * (N equal restores each get min(own rate, bandwidth / N)), each restoring job done at the
 * first checkpoint after its restore.
 * @returns the forecast (jobs in plan order, seconds on the engine's clock rounded to 0.01 s)
 * @throws Error naming the job when an admitted job is not among `jobs` (plan and catalog disagree)
 */
export function estimateRto(input: EstimateInput): RtoForecast {
  const { policy } = input;
  const rates: RtoRates = input.rates.engine ? { ...input.rates, engine: pacedEngine(input.rates.engine, input.pace) } : input.rates;
  const limits = rates.platform ?? DEFAULT_PLATFORM_LIMITS;
  const engine = rates.engine;
  const byKey = new Map(input.jobs.map((j) => [jobKey(j), j]));
  const scale = policy.timeScale;
  const round = (platformSeconds: number): number => Math.round((platformSeconds / scale) * 100) / 100;
  const EPS = 1e-9;

  interface Sim {
    i: number; p: PlannedJob; job: FleetJob; tierIdx: number; promote: boolean;
    stateBytes: number; jarSeconds: number; interval: number; fact?: StateSizeFact;
    dispatch: number; stepLeft: number; stepEnd: number; ready: number; running: number; observed: number;
    /** When its reconcile ended and when its pods got the target AZ's capacity (later when they waited for a preemption). */
    reconcileEnd: number; capacityAt: number;
    capBytesPerSecond: number; left: number; restoreEnd: number; end: number;
    /** Its share of the object store's read bandwidth now, bytes/s (while restoring). */
    share: number;
    /** Deploys before its own (the order restores that start at one instant join in). */
    deployed: number;
  }
  const tiers = policy.admissionOrder
    .map((tier) => ({ tier, planned: input.plan.admitted.filter((p) => p.tier === tier) }))
    .filter((t) => t.planned.length > 0)
    .map((t) => ({ ...t, next: 0, free: Math.min(policy.tiers[t.tier].maxConcurrency, t.planned.length), inFlight: 0, activeAt: undefined as number | undefined }));
  const sims: Sim[] = [];
  const threads: number[] = Array.from({ length: Math.max(1, limits.reconcileParallelism) }, () => 0);
  let bindFree = 0;
  const stepping: Sim[] = []; // start steps running, sharing the worker (at most START_STEP_LOOKUPS_AT_ONCE)
  const stepQueue: Sim[] = []; // start steps waiting for a lookup slot, in dispatch order
  let stepQueueHead = 0;
  // Deploys not yet RUNNING, by `running` (then deploy order), and jobs not yet done, by `end`.
  const starts = new Heap<Sim>((a, b) => a.running - b.running || a.deployed - b.deployed || a.i - b.i);
  const ends = new Heap<Sim>((a, b) => a.end - b.end || a.i - b.i);
  let deploys = 0;
  const restoring: Sim[] = [];
  let order = 0;

  // The engine's own time, wall seconds onto the platform's clock (× the time scale).
  const lookups = input.plan.admitted.filter((p) => p.strategy !== 'promote-standby').length;
  const firstDispatch = engine ? engine.firstDispatchSeconds * scale : 0;
  // The forecast's lookups run once the first tier has dispatched; the second tier waits for them.
  const forecastLookups = engine && engine.lookupsPerSecond > 0 ? Math.min(lookups / engine.lookupsPerSecond, SNAPSHOT_SIZING_BUDGET_SECONDS) * scale : 0;
  const tierStart = engine ? engine.tierStartSeconds * scale : 0;
  const stepCap = engine && engine.startStepSeconds > 0 ? 1 / (engine.startStepSeconds * scale) : Infinity;
  const stepTotal = engine && engine.startStepsPerSecond > 0 ? engine.startStepsPerSecond / scale : Infinity;
  // Capacity in the target AZ: what is free before the plan, then each preempted P3 job's pods
  // once its stop-with-savepoint ends (the preemptions are requested when planning ends, at the
  // first dispatch). Deploys take it in the order they ask, first come first served.
  const capacity = input.plan.capacityBefore && (input.plan.preemptions?.length ?? 0) > 0
    ? {
      cores: input.plan.capacityBefore.cores, memoryMiB: input.plan.capacityBefore.memoryMiB, at: 0, next: 0,
      frees: input.plan.preemptions!.map((p) => ({ at: firstDispatch + stopWithSavepointSeconds(input.preemptedStateBytes?.get(p.key) ?? 0, rates), cores: p.cores, memoryMiB: p.memoryMiB })).sort((a, b) => a.at - b.at),
    }
    : undefined;
  /** When a deploy asking at `from` for `need` gets its pods' capacity (≥ from); takes it. */
  const capacityFor = (from: number, need: { cores: number; memoryMiB: number }): number => {
    if (!capacity) return from;
    let t = Math.max(from, capacity.at);
    const fits = (): boolean => capacity.cores >= need.cores && capacity.memoryMiB >= need.memoryMiB;
    for (;;) {
      while (capacity.next < capacity.frees.length && capacity.frees[capacity.next]!.at <= t + EPS) {
        const f = capacity.frees[capacity.next++]!;
        capacity.cores += f.cores; capacity.memoryMiB += f.memoryMiB;
      }
      if (fits() || capacity.next >= capacity.frees.length) break; // the plan admitted it: with every preemption freed it fits
      t = capacity.frees[capacity.next]!.at;
    }
    capacity.cores -= need.cores; capacity.memoryMiB -= need.memoryMiB;
    capacity.at = t;
    return t;
  };
  /** Steps per platform second each running start step makes now (equal shares of the worker). */
  const stepRate = (): number => Math.min(stepCap, stepTotal / Math.max(1, stepping.length));

  /** The deploy after the start step: reconcile queue, pod binding, then Flink's start-up. */
  const deploy = (sim: Sim, now: number): void => {
    sim.stepEnd = now;
    let th = 0;
    for (let k = 1; k < threads.length; k++) if (threads[k]! < threads[th]!) th = k;
    const reconcileEnd = Math.max(now, threads[th]!) + limits.deployReconcileSeconds;
    threads[th] = reconcileEnd;
    const pods = readSpec(sim.job.deployment).taskManagerReplicas + 1;
    const binding = limits.podsBoundPerSecond > 0 ? pods / limits.podsBoundPerSecond : 0;
    sim.capacityAt = capacityFor(reconcileEnd, sim.p);
    // Pods waiting for capacity are bound once it is freed; the others in the scheduler's FIFO.
    if (sim.capacityAt > reconcileEnd + EPS) sim.ready = sim.capacityAt + binding;
    else sim.ready = bindFree = Math.max(reconcileEnd, bindFree) + binding;
    sim.reconcileEnd = reconcileEnd;
    sim.running = sim.ready + rates.startupSeconds + sim.jarSeconds;
    sim.observed = sim.running + limits.observeSeconds;
    sim.deployed = deploys++;
    starts.push(sim);
  };

  const dispatchJob = (t: (typeof tiers)[number], tierIdx: number, now: number): void => {
    const p = t.planned[t.next++]!;
    t.free--; t.inFlight++;
    const job = byKey.get(p.key);
    if (!job) throw new Error(`admitted job ${p.key} is not in the catalog given to the RTO estimate; pass the catalog the plan was made from`);
    const promote = p.strategy === 'promote-standby';
    const fact = promote ? undefined : input.snapshotState.get(p.key);
    const snap = fact && 'bytes' in fact ? fact : undefined;
    const stateBytes = promote ? 0 : snap ? snap.bytes : job.stateSizeBytes;
    const jarBytes = promote ? 0 : job.jars.reduce((n, j) => n + j.sizeBytes, 0);
    const inCache = job.jars.every((j) => input.jarsInCache.has(j.digest));
    const spec = readSpec(job.deployment);
    const sim: Sim = {
      i: order++, p, job, tierIdx, promote, stateBytes, fact,
      jarSeconds: jarBytes / (inCache ? rates.cacheBytesPerSecond : rates.repositoryBytesPerSecond),
      interval: promote ? 0 : spec.checkpointIntervalSeconds ?? limits.defaultCheckpointIntervalSeconds,
      dispatch: now, stepLeft: 0, stepEnd: now, reconcileEnd: now, capacityAt: now, ready: now, running: now, observed: now, capBytesPerSecond: 0, left: 0, restoreEnd: now, end: now, share: 0, deployed: 0,
    };
    sims.push(sim);
    if (promote) {
      sim.ready = now;
      sim.running = sim.restoreEnd = sim.end = now + rates.promoteSeconds;
      ends.push(sim);
      return;
    }
    sim.left = stateBytes;
    sim.capBytesPerSecond = restoreCapBytesPerSecond(rates, stateBytes);
    if (stepCap === Infinity && stepTotal === Infinity) deploy(sim, now);
    else {
      sim.stepLeft = 1;
      if (stepping.length < START_STEP_LOOKUPS_AT_ONCE) stepping.push(sim);
      else stepQueue.push(sim);
    }
  };

  const finishRestore = (sim: Sim, now: number): void => {
    sim.restoreEnd = now;
    // Checkpoints fire every interval from RUNNING; the first one that starts after the restore has ended counts.
    const k = sim.interval > 0 ? Math.floor((now - sim.running) / sim.interval + 1e-9) + 1 : 0;
    sim.end = Math.max(sim.observed, sim.interval > 0 ? sim.running + k * sim.interval : now);
    ends.push(sim);
  };

  /**
   * A restore joins `restoring`, which is kept sorted by its own rate (ties in joining order),
   * the order max-min fair sharing hands out bandwidth in: no sort per event.
   */
  const startRestore = (sim: Sim): void => {
    let lo = 0;
    let hi = restoring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (restoring[mid]!.capBytesPerSecond <= sim.capBytesPerSecond) lo = mid + 1;
      else hi = mid;
    }
    restoring.splice(lo, 0, sim);
  };

  /** Max-min fair shares of the object store's bandwidth among the running restores (each one's `share`, bytes/s). */
  const share = (): void => {
    let left = limits.objectStoreReadBytesPerSecond > 0 ? limits.objectStoreReadBytesPerSecond : Infinity;
    for (let k = 0; k < restoring.length; k++) {
      const r = restoring[k]!;
      r.share = Math.min(r.capBytesPerSecond, left / (restoring.length - k));
      left -= r.share;
    }
  };

  /** Remove from `list` (in place, order kept) the sims `done` says are done, and return those, last first. */
  const takeDone = (list: Sim[], done: (sim: Sim) => boolean): Sim[] => {
    const out: Sim[] = [];
    let w = 0;
    for (const sim of list) {
      if (done(sim)) out.push(sim);
      else list[w++] = sim;
    }
    list.length = w;
    return out.reverse();
  };

  /** Tier `idx` may start dispatching at `at` (a later tier after the engine starts it). */
  const activate = (idx: number, at: number): void => {
    const t = tiers[idx];
    if (t && t.activeAt === undefined) t.activeAt = idx === 0 ? at : at + tierStart + (idx === 1 ? forecastLookups : 0);
  };
  activate(0, firstDispatch);
  let now = 0;
  for (;;) {
    // Dispatch into every free slot of the started tiers; a tier that dispatched its last job lets the next start (borrowIdleSlots).
    for (let idx = 0; idx < tiers.length; idx++) {
      const t = tiers[idx]!;
      if (t.activeAt === undefined || t.activeAt > now + EPS) continue;
      while (t.free > 0 && t.next < t.planned.length) dispatchJob(t, idx, now);
      if (t.next === t.planned.length && policy.borrowIdleSlots) activate(idx + 1, now);
    }
    // Restores that start now, the latest deployed first.
    const starting: Sim[] = [];
    while (starts.length > 0 && !(starts.peek()!.running > now + EPS)) starting.push(starts.pop()!);
    for (const sim of starting.sort((a, b) => b.deployed - a.deployed)) {
      if (sim.left <= 0) finishRestore(sim, sim.running);
      else startRestore(sim);
    }
    share();
    const step = stepRate();
    let nextT = Infinity;
    for (const t of tiers) if (t.activeAt !== undefined && t.activeAt > now + EPS && t.next < t.planned.length) nextT = Math.min(nextT, t.activeAt);
    for (const sim of stepping) nextT = Math.min(nextT, now + sim.stepLeft / step);
    nextT = Math.min(nextT, starts.peek()?.running ?? Infinity, ends.peek()?.end ?? Infinity);
    for (const sim of restoring) nextT = Math.min(nextT, now + sim.left / sim.share);
    if (nextT === Infinity) break;
    const dt = Math.max(0, nextT - now);
    for (const sim of restoring) sim.left -= sim.share * dt;
    for (const sim of stepping) sim.stepLeft -= step * dt;
    now = Math.max(now, nextT);
    for (const sim of takeDone(stepping, (x) => !(x.stepLeft > 1e-7)).reverse()) deploy(sim, now);
    while (stepping.length < START_STEP_LOOKUPS_AT_ONCE && stepQueueHead < stepQueue.length) stepping.push(stepQueue[stepQueueHead++]!);
    for (const sim of takeDone(restoring, (x) => !(x.left > x.capBytesPerSecond * EPS + 1))) finishRestore(sim, now);
    while (ends.length > 0 && !(ends.peek()!.end > now + EPS)) {
      const sim = ends.pop()!;
      const t = tiers[sim.tierIdx]!;
      t.free++; t.inFlight--;
      if (!policy.borrowIdleSlots && t.next === t.planned.length && t.inFlight === 0) activate(sim.tierIdx + 1, now);
    }
  }

  const byPlan = new Map(sims.map((sim) => [sim.p.key, sim]));
  const out: JobRtoForecast[] = input.plan.admitted.filter((p) => byPlan.has(p.key)).map((p) => {
    const sim = byPlan.get(p.key)!;
    const { job, fact, promote } = sim;
    const snap = fact && 'bytes' in fact ? fact : undefined;
    const stateFrom = promote ? 'none' : snap ? 'snapshot' : job.stateSizeNominal ? 'default' : 'catalog';
    const jarBytes = promote ? 0 : job.jars.reduce((n, j) => n + j.sizeBytes, 0);
    const inCache = job.jars.every((j) => input.jarsInCache.has(j.digest));
    const jarsFrom = promote || job.jars.length === 0 ? 'none' : inCache ? 'cache' : 'repository';
    const rtoTargetSeconds = policy.tiers[p.tier].rtoSeconds;
    const seconds = round(sim.end);
    const startup = promote ? rates.promoteSeconds : rates.startupSeconds;
    return {
      key: p.key, tier: p.tier, strategy: p.strategy, seconds, rtoTargetSeconds, misses: seconds > rtoTargetSeconds,
      parts: {
        dispatchWait: round(sim.dispatch), ...(engine && !promote ? { startStep: round(sim.stepEnd - sim.dispatch) } : {}),
        queue: round(sim.ready - sim.stepEnd - (sim.capacityAt - sim.reconcileEnd)), ...(sim.capacityAt > sim.reconcileEnd + EPS ? { capacity: round(sim.capacityAt - sim.reconcileEnd) } : {}),
        startup: round(startup), jarFetch: round(sim.jarSeconds),
        restore: round(sim.restoreEnd - sim.running), checkpoint: round(sim.end - sim.restoreEnd),
      },
      inputs: {
        stateBytes: sim.stateBytes, stateFrom,
        ...(snap ? { snapshotPath: snap.snapshotPath, ...(snap.ageSeconds !== undefined ? { snapshotAgeSeconds: snap.ageSeconds } : {}) } : {}),
        ...(fact && 'unread' in fact ? { stateNote: `no snapshot size: ${fact.unread}` } : {}), jarBytes, jarsFrom,
        ...(promote ? {} : { checkpointIntervalSeconds: sim.interval }),
      },
    };
  });
  return { rates, timeScale: scale, ...(input.pace ? { pace: input.pace } : {}), jobs: out };
}

/**
 * The informational `predicted-rto-miss` findings of a forecast: one per job predicted past its
 * tier's RTO, naming the estimate, its parts and inputs, and what would bring it in.
 */
export function predictedMissFindings(forecast: RtoForecast): Finding[] {
  const r = forecast.rates;
  const e = r.engine;
  const engine = e
    ? `; engine (wall seconds${forecast.timeScale === 1 ? '' : `, ×${forecast.timeScale} on the platform's clock`}): first dispatch ${e.firstDispatchSeconds}s + ${e.lookupsPerSecond} snapshot lookups/s, tier start ${e.tierStartSeconds}s, ` +
      `start steps ${e.startStepsPerSecond}/s shared, ${e.startStepSeconds}s alone (${e.from.from === 'default' ? 'documented default' : `measured over ${e.from.runs} previous run(s)`}${e.pace ? `, ${paceWords(e.pace)}` : ''})`
    : '';
  const rates = `rates: start-up ${r.startupSeconds}s (${sourceWords(r.startupFrom)}), restore ${(r.restoreBytesPerSecond / MiB).toFixed(0)} MiB/s (${sourceWords(r.restoreFrom)}), promotion ${r.promoteSeconds}s (${sourceWords(r.promoteFrom)})${engine}`;
  const clock = forecast.timeScale === 1 ? '' : ` (seconds at time scale ${forecast.timeScale})`;
  return forecast.jobs.filter((j) => j.misses).map((j) => {
    const i = j.inputs;
    const state = i.stateFrom === 'none' ? 'no state restored' : `${gib(i.stateBytes)} of state from ${stateWords(i.stateFrom)}${i.snapshotPath ? ` ${i.snapshotPath}` : ''}${i.stateNote ? ` (${i.stateNote})` : ''}`;
    const jars = i.jarsFrom === 'none' ? 'no jar fetched' : `${gib(i.jarBytes)} of jars from the ${i.jarsFrom}`;
    const named: Array<[string, number]> = [
      ['dispatch wait', j.parts.dispatchWait], ...(j.parts.startStep !== undefined ? [['start step', j.parts.startStep] as [string, number]] : []), ['queue', j.parts.queue ?? 0], ...(j.parts.capacity !== undefined ? [['capacity wait', j.parts.capacity] as [string, number]] : []), [j.strategy === 'promote-standby' ? 'promotion' : 'start-up', j.parts.startup],
      ['jar fetch', j.parts.jarFetch], ['restore', j.parts.restore], ['first checkpoint', j.parts.checkpoint ?? 0],
    ];
    const largest = named.reduce((a, b) => (b[1] > a[1] ? b : a));
    const checkpoint = i.checkpointIntervalSeconds !== undefined ? `, checkpoint interval ${i.checkpointIntervalSeconds}s` : '';
    return {
      job: j.key,
      code: 'predicted-rto-miss',
      blocking: false,
      message: `${j.key} (${j.tier}, ${j.strategy}) is predicted restored after ${j.seconds}s, past its ${j.tier} RTO of ${j.rtoTargetSeconds}s${clock}; largest part: ${largest[0]} ${largest[1]}s: ` +
        `${named.map(([n, v]) => `${n} ${v}s`).join(' + ')}; ` +
        `${state}, ${jars}${checkpoint}; ${rates}. Fix: ${largest[0] === 'dispatch wait' || largest[0] === 'start step' ? `the engine's own time dominates (planning, tier starts, start steps sharing the worker): run more workers or fewer jobs per evacuation, ` : ''}give the job a standby, shrink or split its state, preload its jars, or raise the ${j.tier} RTO in tiers.yaml.`,
    };
  });
}

/**
 * `scaled ×1.75 by the worker's pace (2.1 wall s per CPU s over the plan's 12.3 s; 1.2 when the defaults were measured)`:
 * how the plan's measured pace (domain/engine-pace.ts) scaled the engine's default terms.
 */
export function paceWords(pace: NonNullable<RtoEngineOverhead['pace']>): string {
  return `scaled ×${Math.max(1, pace.factor / pace.reference).toFixed(2)} by the worker's pace (${pace.factor} wall s per CPU s over the plan's ${pace.windowSeconds.toFixed(1)} s; ${pace.reference} when the defaults were measured)`;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function stateWords(from: JobRtoForecast['inputs']['stateFrom']): string {
  switch (from) {
    case 'snapshot': return "the newest snapshot's _metadata";
    case 'catalog': return "the platform's size at catalog sync";
    case 'default': return 'the nominal default (no size known)';
    case 'none': return 'nothing';
  }
}

function sourceWords(s: RtoRates['startupFrom']): string {
  return s.from === 'default' ? 'documented default' : `measured over ${s.jobs} jobs of previous runs`;
}

/**
 * The measurable jobs of a finished run's report: those that ended RUNNING and carry their
 * forecast, with their dispatch → RUNNING time in platform seconds (report seconds × its
 * timeScale), the state bytes they restored (0 when they restored no snapshot) and the
 * engine's start step (dispatch → the end of their apply, platform seconds) when they had one.
 */
export function samplesOf(report: Pick<EvacuationReport, 'jobs' | 'timeScale'>): RtoSample[] {
  return report.jobs.flatMap((j) => {
    const p = j.predicted;
    if (j.outcome !== 'running' || j.rtoSeconds === undefined || j.startSeconds === undefined || !p) return [];
    const seconds = (j.rtoSeconds - j.startSeconds) * report.timeScale;
    if (!(seconds >= 0)) return [];
    const other = ((p.parts.queue ?? 0) + (p.parts.checkpoint ?? 0)) * report.timeScale;
    const apply = j.steps.apply;
    const engine = apply && j.strategy !== 'promote-standby' ? Math.max(0, Math.min(apply.endSeconds, j.rtoSeconds) - j.startSeconds) * report.timeScale : undefined;
    return [{
      strategy: j.strategy, seconds, stateBytes: j.snapshotPath ? p.inputs.stateBytes : 0, jarSeconds: p.parts.jarFetch * report.timeScale,
      ...(other > 0 ? { otherSeconds: other } : {}), ...(engine !== undefined ? { engineSeconds: engine } : {}),
    }];
  });
}

/**
 * The engine's overhead in a finished run (wall seconds, the report's clock), or undefined when
 * no job was dispatched: trigger → first dispatch, each later tier's start (from the previous
 * tier's last dispatch, or its last outcome when `borrowIdleSlots` is off), and the restoring
 * jobs' start steps (dispatch → end of apply): how many, the wall time during which any ran, the fastest.
 * @param admissionOrder the policy's tier order (the report's tier lines are in it)
 */
export function runSampleOf(report: Pick<EvacuationReport, 'jobs'>, admissionOrder: readonly string[], borrowIdleSlots = true, pace?: number): RtoRunSample | undefined {
  const dispatched = report.jobs.filter((j) => j.startSeconds !== undefined && j.outcome !== 'skipped');
  if (dispatched.length === 0) return undefined;
  const tiers = admissionOrder.map((tier) => dispatched.filter((j) => j.tier === tier)).filter((js) => js.length > 0);
  const starts = (js: typeof dispatched): number[] => js.map((j) => j.startSeconds!);
  const tierStartSeconds: number[] = [];
  for (let k = 1; k < tiers.length; k++) {
    const prev = tiers[k - 1]!;
    const could = borrowIdleSlots ? Math.max(...starts(prev)) : Math.max(...prev.map((j) => j.rtoSeconds ?? j.startSeconds!));
    tierStartSeconds.push(round2(Math.max(0, Math.min(...starts(tiers[k]!)) - could)));
  }
  const steps = dispatched.filter((j) => j.strategy !== 'promote-standby' && j.steps.apply)
    .map((j) => [j.startSeconds!, j.steps.apply!.endSeconds] as const).filter(([a, b]) => b >= a).sort((x, y) => x[0] - y[0]);
  let busy = 0;
  let from = -Infinity;
  let to = -Infinity;
  for (const [a, b] of steps) {
    if (a > to) {
      if (to > from) busy += to - from;
      from = a; to = b;
    } else to = Math.max(to, b);
  }
  if (to > from) busy += to - from;
  return {
    firstDispatchSeconds: round2(Math.min(...starts(tiers[0]!))),
    lookups: report.jobs.filter((j) => j.predicted && j.predicted.inputs.stateFrom !== 'none').length,
    tierStartSeconds, startSteps: steps.length, startStepBusySeconds: round2(busy),
    fastestStartStepSeconds: steps.length > 0 ? round2(Math.min(...steps.map(([a, b]) => b - a))) : 0,
    ...(pace !== undefined && Number.isFinite(pace) && pace >= 1 ? { pace } : {}),
    lookupsAfterFirstTier: true,
  };
}

/**
 * The engine's overhead measured over previous runs (each falling back to `defaults` where the
 * runs say nothing about it). The forecast's lookups: in each run, the first dispatch (runs
 * that looked up before it) or the second tier's start (`lookupsAfterFirstTier`) beyond the
 * default fixed part is lookup time (at most the sizing budget), so that run's lookup rate is
 * its lookups / that time and its fixed part what is left; the medians of both over the runs.
 * Tier start = the median of every later tier's start, the lookup time taken out; start steps per second = the median
 * over runs of steps / busy seconds (runs with at least 10 steps); one alone = the fastest step
 * seen in any run. When every run recorded its pace (RtoRunSample.pace), each run's seconds are
 * first divided (and its rates multiplied) by max(1, its pace / `reference`), bringing them to
 * the reference pace the defaults are at (`from.atReferencePace`): the next plan scales them by
 * its own pace (domain/engine-pace.ts pacedEngine); otherwise they are taken as measured.
 */
export function measuredEngine(runs: readonly RtoRunSample[], defaults: RtoEngineOverhead = DEFAULT_ENGINE_OVERHEAD, reference = REFERENCE_ENGINE_PACE): RtoEngineOverhead {
  const ok = runs.filter((r) => [r.firstDispatchSeconds, r.lookups, r.startSteps, r.startStepBusySeconds, r.fastestStartStepSeconds].every((v) => Number.isFinite(v) && v >= 0));
  if (ok.length === 0) return defaults;
  const atReferencePace = ok.every((r) => r.pace !== undefined && Number.isFinite(r.pace) && r.pace >= 1);
  /** How much slower than at the reference pace the run was (1 when not normalizing). */
  const slower = (r: RtoRunSample): number => (atReferencePace ? Math.max(1, r.pace! / reference) : 1);
  const planning = ok.map((r) => {
    const k = slower(r);
    const starts = Array.isArray(r.tierStartSeconds) ? r.tierStartSeconds : [];
    // Where the run's lookup time is: in its second tier's start, or before its first dispatch.
    const after = r.lookupsAfterFirstTier === true;
    const withLookups = after ? starts[0] : r.firstDispatchSeconds;
    const fixedPart = after ? defaults.tierStartSeconds : defaults.firstDispatchSeconds;
    const lookupSeconds = withLookups === undefined ? 0 : Math.min(Math.max(0, withLookups - fixedPart * k), SNAPSHOT_SIZING_BUDGET_SECONDS);
    const rate = r.lookups > 0 && lookupSeconds > 0 ? r.lookups / lookupSeconds : undefined;
    const spent = rate !== undefined ? lookupSeconds : 0;
    return {
      rate: rate !== undefined ? rate * k : undefined,
      fixed: (r.firstDispatchSeconds - (after ? 0 : spent)) / k,
      tierStarts: starts.map((v, i) => (after && i === 0 ? v - spent : v) / k),
    };
  });
  const rates = planning.flatMap((p) => (p.rate !== undefined ? [p.rate] : []));
  const tierStarts = planning.flatMap((p) => p.tierStarts).filter((v) => Number.isFinite(v) && v >= 0);
  const busy = ok.filter((r) => r.startSteps >= 10 && r.startStepBusySeconds > 0);
  const stepped = ok.filter((r) => r.startSteps > 0 && r.fastestStartStepSeconds > 0);
  return {
    firstDispatchSeconds: round2(Math.max(0, median(planning.map((p) => p.fixed)))),
    lookupsPerSecond: rates.length > 0 ? round2(median(rates)) : defaults.lookupsPerSecond,
    tierStartSeconds: tierStarts.length > 0 ? round2(median(tierStarts)) : defaults.tierStartSeconds,
    startStepsPerSecond: busy.length > 0 ? round2(median(busy.map((r) => (r.startSteps / r.startStepBusySeconds) * slower(r)))) : defaults.startStepsPerSecond,
    startStepSeconds: stepped.length > 0 ? round2(Math.min(...stepped.map((r) => r.fastestStartStepSeconds / slower(r)))) : defaults.startStepSeconds,
    from: { from: 'measured', runs: ok.length, ...(atReferencePace ? { atReferencePace: true } : {}) },
  };
}

/**
 * Rates measured from previous runs' jobs, each falling back to `defaults` where the samples
 * say nothing about it:
 * - promotion: the median of the hot-standby samples' seconds;
 * - restoring starts (others), less their jar fetch, queue, first checkpoint and the engine's start step: a least-squares line over state bytes
 *   (start-up = intercept, restore rate = 1 / slope) when there are ≥ 3 samples whose largest
 *   state is at least twice the smallest and the line has a positive slope and a non-negative
 *   intercept; otherwise the default restore rate and start-up = the median of (seconds − restore
 *   at the default rate), at least 0.
 * - the engine's overhead: measuredEngine over `runs` (none: the defaults').
 * Samples with non-finite or negative numbers are ignored.
 */
export function measuredRates(samples: readonly RtoSample[], defaults: RtoRates = DEFAULT_RTO_RATES, runs: readonly RtoRunSample[] = []): RtoRates {
  const ok = samples.filter((s) => [s.seconds, s.stateBytes, s.jarSeconds, s.otherSeconds ?? 0, s.engineSeconds ?? 0].every((v) => Number.isFinite(v) && v >= 0));
  const rates: RtoRates = { ...defaults };
  if (runs.length > 0 && defaults.engine) rates.engine = measuredEngine(runs, defaults.engine);
  const promotes = ok.filter((s) => s.strategy === 'promote-standby').map((s) => s.seconds);
  if (promotes.length > 0) {
    rates.promoteSeconds = round2(median(promotes));
    rates.promoteFrom = { from: 'measured', jobs: promotes.length };
  }
  const starts = ok.filter((s) => s.strategy !== 'promote-standby').map((s) => ({ x: s.stateBytes, y: Math.max(0, s.seconds - s.jarSeconds - (s.otherSeconds ?? 0) - (s.engineSeconds ?? 0)) }));
  if (starts.length === 0) return rates;
  const fit = starts.length >= 3 ? leastSquares(starts) : undefined;
  const xs = starts.map((s) => s.x);
  const spread = Math.min(...xs) * 2 <= Math.max(...xs) && Math.max(...xs) > 0;
  if (fit && spread && fit.slope > 0 && fit.intercept >= 0) {
    rates.startupSeconds = round2(fit.intercept);
    rates.restoreBytesPerSecond = Math.round(1 / fit.slope);
    rates.startupFrom = { from: 'measured', jobs: starts.length };
    rates.restoreFrom = { from: 'measured', jobs: starts.length };
  } else {
    rates.startupSeconds = round2(Math.max(0, median(starts.map((s) => s.y - s.x / defaults.restoreBytesPerSecond))));
    rates.startupFrom = { from: 'measured', jobs: starts.length };
  }
  return rates;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Median of `values` (not empty; the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function leastSquares(points: Array<{ x: number; y: number }>): { slope: number; intercept: number } | undefined {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

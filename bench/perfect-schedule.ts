/**
 * The other side of the lower bound (bench/lower-bound.ts): the time a PERFECT, zero-cost
 * orchestrator takes to carry out a plan on the simulator's platform model. It drives an
 * in-process Simulator (simulator/simulator.ts) with a manual wall clock at time scale 1, in
 * 1 s model steps, and does at once, at no cost, what the engine must do:
 * - at the trigger (step 0): suspends the plan's preemptions in the target AZ (a stop with a
 *   savepoint under upgradeMode savepoint: the operator frees their pods after it, as for the
 *   engine's preemptJobs) and, with `preload`, starts copying the plan's jars into the target's
 *   jar cache, `preloadConcurrency` at a time in the plan's jar order (the engine's bulk preload);
 * - tiers in the policy's admission order, each tier's jobs in the plan's admission order, a job
 *   dispatched as soon as its tier's window (maxConcurrency) has a free slot and the tier rules
 *   allow (the previous tier has dispatched everything under borrowIdleSlots, else has ended);
 *   a job holds its slot from dispatch until its end, as a job workflow does;
 * - a job's start (activities/job-steps.ts): `promote-standby` labels its hot standby active
 *   when that runs in the target AZ (done at once; else redeployed, as applyPromotion falls
 *   back); otherwise, with `preload`, its own jars into the cache first (sharing the copies in
 *   flight), then the engine's snapshot choice (ObjectStorePort.findSnapshot: the job's own
 *   job ids, newest complete one within the tier's RPO, aged at the trigger; none → the tier's
 *   onNoSnapshot), then `resume-standby` deletes the cold standby's stale HA ConfigMaps and
 *   patches it (restore: initialSavepointPath + nonce, a fresh ZooKeeper root), `redeploy`
 *   deletes stale HA ConfigMaps and applies the manifest renderForTargetAz renders for the
 *   target AZ (domain/render-deployment.ts), as the engine does;
 * - a job is done when the engine's own verdict says running (domain/restore-verdict.ts, what
 *   awaitRunning waits for): RUNNING and, when it restores state, a checkpoint completed after
 *   the restore; a job the operator fails ends its slot as failed.
 * The result is one feasible schedule of the plan, whole steps: an UPPER bound on the optimum,
 * so the optimum lies in [lowerBound, perfectSchedule]. It is greedy (every slot filled at once,
 * in the plan's order), not optimal, so an engine can beat it: e.g. lower tiers dispatched at
 * once under borrowIdleSlots share the object store's reads with a higher tier's big restores
 * (`lastJobs` shows what ended each tier). Model seconds throughout; divide by a run's time
 * scale for wall seconds.
 *
 * The simulator is the bench's simulator process for the same seed: the same fleet loaded the
 * same way (simulator/fleet-loader.ts, with its default seeded traps: lagging replicas, stale HA
 * ConfigMaps), the same seed, platform model and checkpoint interval floor. Every random draw
 * of the simulator is keyed, not sequential (simulator/random.ts seededUniform of the seed and a
 * key: start-up phases by job key and deploy count, job ids by AZ, key and deploy count,
 * checkpoints by job id and number, replication lags by object key), so each per-job draw is
 * the bench's exactly, as long as a job is deployed once in the target (an engine retry that
 * re-applies would draw the next deploy count's phases). What cannot be reproduced exactly is
 * the state at the trigger that depends on the bench's wall timing: the model seconds from the
 * load to the trigger (`warmupSeconds`, which sets which checkpoint is the newest and where the
 * periodic savepoints stand) and the source AZ going down a few wall seconds before the
 * trigger (here: at it); neither changes what a restore reads (a snapshot's files sum to the
 * job's state size) nor a deploy's phases. Also not the bench's: objects stay in the
 * simulator's memory (the bench's S3 write-through adds real I/O time outside the model, e.g.
 * the jar cache read back from S3 before pods start), the simulator's clock is stepped instead
 * of ticked every 250 ms wall, and the order of applies (so which job gets which freed
 * capacity) is this schedule's, not the engine's. Not modelled: the fence (the source AZ is
 * down: the engine's suspend there fails), injected faults (none in the bench), the forecast,
 * catalog syncs and every engine cost (Temporal, activities, HTTP).
 */
import pLimit from 'p-limit';
import { SETTINGS } from '../config/settings.js';
import { redeployNonceFor } from '../domain/evacuation.js';
import { renderForTargetAz, restoreZooKeeperRoot, ROLE_LABEL } from '../domain/render-deployment.js';
import { restoreVerdict } from '../domain/restore-verdict.js';
import { snapshotOwner } from '../domain/snapshot-owner.js';
import { jobKey, type FleetJob, type PlannedJob, type Tier } from '../domain/types.js';
import type { GeneratedFleet } from '../simulator/fleet-generator.js';
import { loadFleet, type LoadFleetOptions } from '../simulator/fleet-loader.js';
import { DEFAULT_MODEL, type StartupTime } from '../simulator/latency-model.js';
import { restEvidenceOf } from '../simulator/operator.js';
import { nsName } from '../simulator/resources.js';
import { Simulator } from '../simulator/simulator.js';
import type { BoundInput } from './lower-bound.js';

/** Inputs: the bound's (the plan, the catalog it was made from, policy, preload, seed, model, floor) and the simulator's fleet. */
export interface PerfectInput extends BoundInput {
  /** The fleet the bench's simulator was loaded with (bench/run.ts: generateFleet of 2 × size jobs with the run's seed). */
  fleet: GeneratedFleet;
  /** Options the fleet was loaded with (default: the loader's, as the bench loads it). */
  loadOptions?: LoadFleetOptions;
  /** Model seconds from the fleet load to the trigger (the bench's pre-trigger steps × its time scale); default 0. */
  warmupSeconds?: number;
  /** Jars copied at once by the bulk preload (default: the engine's setting AZ_EVAC_PRELOAD_CONCURRENCY default). */
  preloadConcurrency?: number;
  /** Give up after this many model seconds from the trigger (default 86,400). */
  maxSeconds?: number;
}

/** An admitted job the perfect schedule did not bring up: the tier's onNoSnapshot or the operator's failure. */
export interface NotRunning {
  key: string;
  tier: Tier;
  outcome: 'failed' | 'skipped';
  reason: string;
}

/**
 * The job that ended a tier last, model seconds from the trigger: when it was dispatched, applied
 * (after its jar copies; absent for a promotion or a job never applied) and ended, and its
 * deploy's phases as the simulator recorded them (latency-model.ts StartupTime: `capacity` is
 * the wait for pods, `total` apply → RUNNING seen; the rest to its end is the restore and the
 * first checkpoint after it).
 */
export interface TierLastJob {
  key: string;
  dispatchedSeconds: number;
  appliedSeconds?: number;
  endSeconds: number;
  startup?: StartupTime;
}

/** The perfect schedule's times, model seconds from the trigger (whole steps), and what became of the admitted jobs. */
export interface PerfectSchedule {
  /** Trigger → the last admitted job's end (running, failed or skipped). */
  seconds: number;
  /** Trigger → the end of tier P0 (0 without P0 jobs). */
  p0Seconds: number;
  /** Per tier with admitted jobs: trigger → its last job's end (compare with lowerBound's `tiers`). */
  tiers: Partial<Record<string, number>>;
  /** Admitted jobs running in the target AZ at the end, of which promoted hot standbys. */
  running: number;
  promoted: number;
  notRunning: NotRunning[];
  /** Per tier with admitted jobs: the job that ended it (what bounds the tier in this schedule). */
  lastJobs: Partial<Record<string, TierLastJob>>;
}

/** Evacuation id of the perfect schedule's manifests (a label value) and its savepointRedeployNonce's run key. */
const RUN_ID = 'perfect-schedule';

/** Where a dispatched job stands. */
type Flight =
  | { state: 'starting'; dispatchedSeconds: number }
  | { state: 'applied'; dispatchedSeconds: number; appliedSeconds: number; namespace: string; name: string; generation: number; restoring: boolean }
  | { state: 'ended'; running: boolean };

/**
 * Run the perfect schedule of `input.plan` (module doc). CPU only, no I/O; its cost grows with
 * the fleet (every job of the fleet runs and checkpoints in the simulator) and the model seconds
 * simulated.
 * @throws Error naming the job when an admitted job is not in the catalog's source AZ, naming the
 *   AZ when the plan's source or target AZ is not in the catalog's platform profile, or naming
 *   the jobs not ended when the schedule has not ended within `maxSeconds`
 */
export async function perfectSchedule(input: PerfectInput): Promise<PerfectSchedule> {
  const { plan, catalog, policy } = input;
  const model = input.model ?? DEFAULT_MODEL;
  let wallMs = 0;
  const sim = new Simulator({ timeScale: 1, seed: input.seed, wall: () => wallMs, model, minCheckpointIntervalSeconds: input.minCheckpointIntervalSeconds ?? 0 });
  loadFleet(sim, input.fleet, input.loadOptions);
  const step = (): void => {
    wallMs += 1000;
    sim.scheduler.runDue();
  };
  /** Let the promise callbacks of the simulator's async calls run (jar copies ended, the queue's next copy): no model time passes. */
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  for (let s = 0; s < (input.warmupSeconds ?? 0); s++) step();
  sim.setAzDown(plan.sourceAz, true);
  const target = plan.targetAz;
  const triggerEpochSeconds = sim.clock.epoch(sim.clock.now());
  const profile = (az: string) => {
    const p = catalog.platform.azs.find((a) => a.name === az);
    if (!p) throw new Error(`AZ ${az} of the plan is not in the catalog's platform profile (${catalog.platform.azs.map((a) => a.name).join(', ')})`);
    return p;
  };
  const source = profile(plan.sourceAz);
  const targetProfile = profile(target);
  const nonce = redeployNonceFor(RUN_ID);
  const sourceJobs = new Map(catalog.jobs.filter((j) => j.az === plan.sourceAz).map((j) => [jobKey(j), j]));
  const jobOf = (p: PlannedJob): FleetJob => {
    const job = sourceJobs.get(p.key);
    if (!job) throw new Error(`admitted job ${p.key} is not in the catalog's ${plan.sourceAz}; pass the catalog the plan was made from`);
    return job;
  };

  for (const p of plan.preemptions) sim.suspend(target, p.namespace, p.name);
  if (input.preload) {
    const atOnce = pLimit(input.preloadConcurrency ?? SETTINGS.preloadConcurrency.default);
    // Copy failures (a jar missing from the repository) surface in the job that needs the jar.
    for (const jar of plan.jars) void atOnce(() => sim.preloadArtifact(target, jar)).catch(() => undefined);
    await settle();
  }

  const flights = new Map<string, Flight>();
  const notRunning: NotRunning[] = [];
  const lastJobs: Partial<Record<string, TierLastJob>> = {};
  let promoted = 0;
  /** Model seconds since the trigger (the step being run). */
  let now = 0;
  const end = (p: PlannedJob, outcome: NotRunning['outcome'] | 'running', reason = ''): void => {
    const f = flights.get(p.key);
    const applied = f?.state === 'applied' ? f : undefined;
    const last: TierLastJob = { key: p.key, dispatchedSeconds: f && f.state !== 'ended' ? f.dispatchedSeconds : now, endSeconds: now };
    if (applied) {
      last.appliedSeconds = applied.appliedSeconds;
      const startup = sim.cluster(target).resources.get(nsName(applied.namespace, applied.name))?.status.jobStatus?.startup;
      if (startup) last.startup = structuredClone(startup);
    }
    if ((lastJobs[p.tier]?.endSeconds ?? -1) < now) lastJobs[p.tier] = last;
    flights.set(p.key, { state: 'ended', running: outcome === 'running' });
    if (outcome !== 'running') notRunning.push({ key: p.key, tier: p.tier, outcome, reason });
  };

  /** The engine's start step of a restoring job once its jars are in place (module doc): no model time passes. */
  const start = async (p: PlannedJob, job: FleetJob): Promise<void> => {
    const tier = policy.tiers[p.tier];
    const choice = await sim.findSnapshot(target, snapshotOwner(job), { layout: catalog.platform.layout, rpoSeconds: tier.rpoSeconds * policy.timeScale, nowEpochSeconds: triggerEpochSeconds });
    if (choice.kind === 'none' && tier.onNoSnapshot !== 'restore-stateless') return end(p, tier.onNoSnapshot === 'skip' ? 'skipped' : 'failed', `no restorable snapshot within the ${p.tier} RPO: ${choice.reason}`);
    const restorePath = choice.kind === 'snapshot' ? choice.snapshot.path : undefined;
    const standby = job.standby;
    const dispatchedSeconds = (flights.get(p.key) as Extract<Flight, { state: 'starting' }>).dispatchedSeconds;
    let applied: Extract<Flight, { state: 'applied' }>;
    if (p.strategy === 'resume-standby' && standby) {
      sim.deleteHaConfigMaps(target, standby.namespace, standby.name);
      const haZooKeeperRoot = restoreZooKeeperRoot(job, nonce);
      const status = sim.restore(target, standby.namespace, standby.name, { initialSavepointPath: restorePath, savepointRedeployNonce: nonce, ...(haZooKeeperRoot ? { haZooKeeperRoot } : {}) });
      applied = { state: 'applied', dispatchedSeconds, appliedSeconds: now, namespace: standby.namespace, name: standby.name, generation: status.generation, restoring: restorePath !== undefined };
    } else {
      const manifest = renderForTargetAz({ job, source, target: targetProfile, layout: catalog.platform.layout, restore: restorePath ? { path: restorePath } : { stateless: true }, evacuationId: RUN_ID, nonce });
      const namespace = manifest.metadata.namespace ?? job.namespace;
      if (!sim.cluster(target).resources.has(nsName(namespace, manifest.metadata.name))) sim.deleteHaConfigMaps(target, namespace, manifest.metadata.name);
      const result = sim.apply(target, manifest);
      applied = { state: 'applied', dispatchedSeconds, appliedSeconds: now, namespace, name: manifest.metadata.name, generation: result.generation, restoring: restorePath !== undefined };
    }
    flights.set(p.key, applied);
  };
  const failed = (p: PlannedJob) => (err: unknown): void => end(p, 'failed', err instanceof Error ? err.message : String(err));

  /**
   * Dispatch `p`: promoted at once when its hot standby runs in the target; else started now,
   * or, with `preload` and a jar of it not yet in the target's cache, once its copies end (a
   * later step: the copies take model time).
   */
  const dispatch = async (p: PlannedJob): Promise<void> => {
    const job = jobOf(p);
    const standby = job.standby;
    if (p.strategy === 'promote-standby' && standby?.kind === 'hot' && standby.az === target && sim.getDeployment(target, standby.namespace, standby.name)?.jobState === 'RUNNING') {
      sim.label(target, standby.namespace, standby.name, { [ROLE_LABEL]: 'active' });
      promoted++;
      return end(p, 'running');
    }
    flights.set(p.key, { state: 'starting', dispatchedSeconds: now });
    if (input.preload && !job.jars.every((jar) => sim.hasArtifact(target, jar, 'cache'))) {
      Promise.resolve().then(() => Promise.all(job.jars.map((jar) => sim.preloadArtifact(target, jar)))).then(() => start(p, job)).catch(failed(p));
      return;
    }
    await start(p, job).catch(failed(p));
  };

  /** Whether `p` has ended, judging an applied job by the engine's verdict now. */
  const ended = (p: PlannedJob): boolean => {
    const f = flights.get(p.key);
    if (f?.state === 'ended') return true;
    if (f?.state !== 'applied') return false;
    const status = sim.getDeployment(target, f.namespace, f.name);
    const run = sim.cluster(target).resources.get(nsName(f.namespace, f.name))?.run;
    const verdict = restoreVerdict({ status, minGeneration: f.generation, restoring: f.restoring, ...(run ? restEvidenceOf(run) : {}) });
    if (verdict.done === undefined) return false;
    end(p, verdict.done === 'running' ? 'running' : 'failed', verdict.done === 'failed' ? verdict.reason : '');
    return true;
  };

  const tiers = policy.admissionOrder.flatMap((tier) => {
    const jobs = plan.admitted.filter((p) => p.tier === tier);
    return jobs.length > 0 ? [{ tier, waiting: jobs, inFlight: [] as PlannedJob[], endedAt: undefined as number | undefined }] : [];
  });
  const maxSeconds = input.maxSeconds ?? 86_400;
  for (let t = 0; ; t++) {
    now = t;
    for (const [i, tier] of tiers.entries()) {
      const previous = tiers[i - 1];
      const open = previous === undefined || (previous.waiting.length === 0 && (policy.borrowIdleSlots || previous.endedAt !== undefined));
      if (!open) break;
      tier.inFlight = tier.inFlight.filter((p) => !ended(p));
      while (tier.inFlight.length < policy.tiers[tier.tier].maxConcurrency && tier.waiting.length > 0) {
        const p = tier.waiting.shift()!;
        await dispatch(p);
        if (!ended(p)) tier.inFlight.push(p);
      }
      if (tier.waiting.length === 0 && tier.inFlight.length === 0) tier.endedAt ??= t;
    }
    if (tiers.every((tier) => tier.endedAt !== undefined)) break;
    if (t >= maxSeconds) {
      const open = tiers.flatMap((tier) => [...tier.inFlight, ...tier.waiting].map((p) => p.key));
      throw new Error(`the perfect schedule had not ended ${maxSeconds} model s after the trigger: ${open.length} job(s) not ended (${open.slice(0, 5).join(', ')}${open.length > 5 ? ', …' : ''}); raise maxSeconds or look for a job the simulator never starts`);
    }
    step();
    now = t + 1;
    // The start steps whose jars arrived in this step apply now.
    await settle();
  }
  const byTier = Object.fromEntries(tiers.map((tier) => [tier.tier, tier.endedAt!]));
  return {
    seconds: Math.max(0, ...tiers.map((tier) => tier.endedAt!)),
    p0Seconds: byTier.P0 ?? 0,
    tiers: byTier,
    running: [...flights.values()].filter((f) => f.state === 'ended' && f.running).length,
    promoted,
    notRunning,
    lastJobs,
  };
}

/** The perfect schedule beside a run's engine time and its lower bound, wall seconds (model seconds / time scale). */
export interface PerfectComparison {
  /** Wall seconds of the perfect schedule, to 0.1 s. */
  perfectSeconds: number;
  /** Engine wall seconds / perfect wall seconds: what the engine costs over a perfect orchestrator (null without an engine time or when the perfect schedule is 0). */
  enginePerPerfect: number | null;
  /** Perfect / lower bound: the bound's own slack on this plan (null when the bound is 0). */
  perfectPerBound: number | null;
  /** Per tier of the perfect schedule: its wall seconds and the engine's tier RTO over it. */
  tiers: Array<{ tier: string; perfectSeconds: number; enginePerPerfect: number | null }>;
}

/**
 * Compare the perfect schedule with the lower bound and, when given, the engine's run (its
 * report's wall seconds and per-tier RTOs, wall seconds). Ratios to 2 decimals. Pure.
 * @param timeScale model seconds per wall second of the run (> 0)
 */
export function comparePerfect(
  perfect: Pick<PerfectSchedule, 'seconds' | 'tiers'>,
  bound: { seconds: number },
  timeScale: number,
  engine?: { wallSeconds: number; tiers: ReadonlyArray<{ tier: string; rtoSeconds: number | null }> },
): PerfectComparison {
  const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
  const ratio = (a: number | null | undefined, b: number): number | null => (a !== null && a !== undefined && b > 0 ? round(a / b, 2) : null);
  const wall = perfect.seconds / timeScale;
  return {
    perfectSeconds: round(wall, 1),
    enginePerPerfect: ratio(engine?.wallSeconds, wall),
    perfectPerBound: ratio(perfect.seconds, bound.seconds),
    tiers: Object.entries(perfect.tiers).map(([tier, s]) => ({
      tier, perfectSeconds: round((s ?? 0) / timeScale, 1), enginePerPerfect: ratio(engine?.tiers.find((t) => t.tier === tier)?.rtoSeconds, (s ?? 0) / timeScale),
    })),
  };
}

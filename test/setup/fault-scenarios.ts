/**
 * Fault scenarios of the fault tests (docs/guarantees.md), each an evacuation of a
 * seeded fleet (az-a down → az-b) under one injected fault, checked against guarantees
 * 1–3 (./guarantees.ts) and recorded as a row of the fault table. The default suite runs
 * them on a small fleet (test/workflow/fault-injection.test.ts), the slow suite on a
 * larger one (*.slow.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { EvacuationProgress } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import type { HeartbeatTimeouts, Tier, TierPolicy } from '../../domain/types.js';
import { startTemporalDevServer, startWorkerProcess, type Started } from '../../launchers/local-processes.js';
import { EvacuationHarness } from './evacuation-harness.js';
import { guaranteeProblems, outcomeCounts, recordFigure, type FaultFigure } from './guarantees.js';

/** The fleet a suite evacuates. */
export interface FaultFleet {
  jobs: number;
  seed: number;
  timeScale: number;
  tiers: Partial<Record<Tier, Partial<TierPolicy>>>;
  suite: FaultFigure['suite'];
  /** Cap on every job's state (HarnessOptions.maxStateBytes), for runs that fail back (stops with a savepoint). */
  maxStateBytes?: number;
}

/**
 * Small: ~30 jobs in az-a, narrow windows so that the evacuation has a middle to hit. P0's
 * RPO is 1,200 model s (12 s wall): the default 300 s is 3 s wall at time scale 100, less
 * than a catalog sync round trip on a loaded 2-core machine, and the stale-catalog check
 * (tested on its own) would refuse the evacuation.
 */
export const SMALL_FLEET: FaultFleet = { jobs: 60, seed: 31, timeScale: 100, tiers: { P0: { rpoSeconds: 1200 }, P1: { maxConcurrency: 3 }, P2: { maxConcurrency: 5 } }, suite: 'default' };

/** Larger: ~150 jobs in az-a, wider windows (the slow suite). */
export const LARGE_FLEET: FaultFleet = { jobs: 300, seed: 31, timeScale: 50, tiers: { P0: { rpoSeconds: 1200 }, P1: { maxConcurrency: 20 }, P2: { maxConcurrency: 40 } }, suite: 'slow' };

const finishedJobs = (p: EvacuationProgress): number => p.tiers.reduce((n, t) => n + t.succeeded + t.failed + t.skipped, 0);
const plannedJobs = (p: EvacuationProgress): number => p.tiers.reduce((n, t) => n + t.planned, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until `fraction` of the planned jobs have an outcome (progress queries fail while no
 * worker runs: polled again). @throws when `signal` aborts (the scenario ended) or after `timeoutMs`
 */
export async function reached(h: Pick<EvacuationHarness, 'client'>, id: string, fraction: number, signal: AbortSignal, timeoutMs = 180_000): Promise<EvacuationProgress> {
  const deadline = Date.now() + timeoutMs;
  let seen = 'no progress answered';
  for (;;) {
    signal.throwIfAborted();
    const p = await h.client.progress(id).catch((e: unknown) => { seen = `progress failed: ${e instanceof Error ? e.message : String(e)}`; return undefined; });
    if (p) seen = `phase ${p.phase}, ${p.plan ? `${finishedJobs(p)} of ${plannedJobs(p)} planned jobs done` : 'no plan yet'}, tiers ${p.tiers.map((t) => `${t.tier} ${t.state}`).join(' ')}`;
    if (p?.plan && plannedJobs(p) > 0 && finishedJobs(p) >= plannedJobs(p) * fraction) return p;
    if (Date.now() > deadline) throw new Error(`${fraction * 100} % of ${id} not done after ${timeoutMs} ms (last seen: ${seen})`);
    await sleep(100);
  }
}

/**
 * The evacuation's report; a client call cut by a Temporal server restart is repeated
 * (the workflow goes on in the server's SQLite file).
 */
async function finishThroughOutages(h: EvacuationHarness, id: string): Promise<EvacuationReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await h.finish(id)).report;
    } catch (err) {
      if (attempt >= 60 || (err as Error).name === 'WorkflowFailedError') throw err;
      await sleep(2_000);
    }
  }
}

/** What a scenario ran: its harness, evacuation and report, for scenario-specific assertions. */
export interface Ran {
  h: EvacuationHarness;
  id: string;
  report: EvacuationReport;
  wallSeconds: number;
}

/**
 * Run one evacuation of `fleet` with `inject` running beside it (it gets the harness and
 * the evacuation id once started), check guarantees 1–3, record the figure, close
 * everything. `check` may assert more before the harness closes.
 */
export async function runScenario(
  fleet: FaultFleet,
  figure: Pick<FaultFigure, 'fault' | 'when' | 'note'> & { baselineSeconds?: number },
  opts: {
    worker?: 'in-process' | 'none';
    temporalAddress?: string;
    /** tiers.yaml heartbeat timeouts of the run (default: the policy's). */
    heartbeatTimeoutSeconds?: HeartbeatTimeouts;
    /** Before the catalog sync and the trigger (every AZ up). */
    before?: (h: EvacuationHarness, workers: Started[]) => Promise<void>;
    /**
     * Runs beside the evacuation; `workers` are the worker processes (worker 'none'): push new
     * ones to have them stopped; `signal` aborts when the evacuation has ended.
     */
    inject?: (h: EvacuationHarness, id: string, workers: Started[], signal: AbortSignal) => Promise<void>;
    check?: (ran: Ran) => Promise<void>;
    /** Whether the source AZ answers when the guarantees are checked (default false). */
    sourceUp?: boolean;
  } = {},
): Promise<Ran> {
  const h = await EvacuationHarness.start({ jobs: fleet.jobs, seed: fleet.seed, timeScale: fleet.timeScale, tiers: fleet.tiers, worker: opts.worker, temporalAddress: opts.temporalAddress, heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds, ...(fleet.maxStateBytes === undefined ? {} : { maxStateBytes: fleet.maxStateBytes }) });
  const workers: Started[] = [];
  const ended = new AbortController();
  let injecting: Promise<void> | undefined;
  // Evacuation ids become label values (≤ 63 chars): a short slug of the fault and a clock suffix.
  const id = `fault-${figure.fault.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 32).replace(/-+$/, '')}-${Date.now() % 1e9}`;
  try {
    if (opts.worker === 'none') workers.push(await startWorkerProcess(h.workerEnv()));
    await opts.before?.(h, workers);
    // Catalog sync right before the trigger: at time scale 100 the P0 RPO is 3 s wall.
    await h.prepareEmergency();
    const t0 = Date.now();
    await h.start(id);
    injecting = opts.inject?.(h, id, workers, ended.signal);
    const report = await finishThroughOutages(h, id);
    const wallSeconds = (Date.now() - t0) / 1000;
    await injecting;
    const ran = { h, id, report, wallSeconds };
    expect(await guaranteeProblems(h, id, report, opts.sourceUp ?? false)).toEqual([]);
    await opts.check?.(ran);
    await recordFigure({ ...figure, suite: fleet.suite, outcomes: outcomeCounts(report), wallSeconds: Math.round(wallSeconds * 10) / 10 });
    return ran;
  } finally {
    ended.abort();
    await injecting?.catch(() => undefined);
    for (const w of workers) await w.stop();
    await h.close([id]);
  }
}

/** The fault-free evacuation of `fleet`: the baseline wall time of the table. */
export async function baseline(fleet: FaultFleet): Promise<number> {
  const ran = await runScenario(fleet, { fault: 'none (baseline)', when: '-' });
  expect(ran.report.success).toBe(true);
  return ran.wallSeconds;
}

/**
 * Heartbeat timeouts of the worker-kill runs, seconds: short, so the dead worker's steps are
 * retried after 10 s instead of 60 s (start step) and 30 s (start-up wait), yet three
 * heartbeats long on a loaded 2-core machine (a step heartbeats every third of it).
 */
export const KILL_HEARTBEAT_TIMEOUTS: HeartbeatTimeouts = { startStep: 10, startupWaitMin: 10 };

/**
 * The worker process SIGKILLed once `fraction` of the jobs are done and a new one started
 * `restartAfterMs` later (`standby`: a second worker polls the queue all along instead).
 * Whether the kill still finds work open is not asserted: progress arrives in batches (every
 * second per tier), so at 90 % of a small fleet the last batch may land before the kill. The steps
 * the dead worker held are retried once their heartbeat timeout passes: the run sets it to
 * KILL_HEARTBEAT_TIMEOUTS through tiers.yaml (the same code path as production's 60 / 30 s).
 */
export function workerKilled(fleet: FaultFleet, fraction: number, restartAfterMs: number, baselineSeconds: number | undefined, standby = false): Promise<Ran> {
  return runScenario(fleet, {
    fault: standby ? 'one of two workers SIGKILLed' : 'worker SIGKILLed, restarted',
    when: standby ? `at ${fraction * 100} %, the other worker goes on` : `at ${fraction * 100} %, new worker after ${restartAfterMs / 1000} s`,
    baselineSeconds,
  }, {
    worker: 'none',
    heartbeatTimeoutSeconds: KILL_HEARTBEAT_TIMEOUTS,
    before: async (h, workers) => { if (standby) workers.push(await startWorkerProcess(h.workerEnv())); },
    inject: async (h, id, workers, signal) => {
      await reached(h, id, fraction, signal);
      const victim = workers[0]!.child;
      const exited = new Promise((r) => victim.once('exit', (_code, signal) => r(signal)));
      victim.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      if (standby) return;
      await sleep(restartAfterMs);
      workers.push(await startWorkerProcess(h.workerEnv()));
    },
  });
}

/** A dedicated Temporal dev server, stopped mid-evacuation and restarted on the same port and SQLite file. */
export async function temporalRestarted(fleet: FaultFleet, fraction: number, downMs: number, baselineSeconds: number | undefined): Promise<Ran> {
  const dir = await mkdtemp(join(tmpdir(), 'az-evac-temporal-restart-'));
  let server = await startTemporalDevServer(dir, { headless: true });
  const port = Number(server.address.split(':').at(-1));
  try {
    return await runScenario(fleet, { fault: 'Temporal dev server stopped and restarted (SQLite kept)', when: `at ${fraction * 100} %, down ${downMs / 1000} s`, baselineSeconds }, {
      worker: 'none',
      temporalAddress: server.address,
      inject: async (h, id, _workers, signal) => {
        await reached(h, id, fraction, signal);
        await server.stop();
        await sleep(downMs);
        server = await startTemporalDevServer(dir, { port, headless: true });
      },
    });
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** `rate` of the platform API calls fail: 503, 429 with Retry-After 1 s, or a 2 s hang then 504. */
export function apiFailures(fleet: FaultFleet, rate: number, baselineSeconds: number | undefined): Promise<Ran> {
  return runScenario(fleet, { fault: 'platform API calls failing (503 / 429 + Retry-After / timeout)', when: `${rate * 100} % of calls`, baselineSeconds }, {
    before: async (h) => { await h.sim.client.setFaults({ apiFailureRate: rate, kinds: ['unavailable', 'throttled', 'hang'], retryAfterSeconds: 1, hangMs: 2000 }); },
    check: async ({ h, report }) => {
      const injected = (await h.sim.client.stats()).faultsInjected;
      expect(injected.unavailable + injected.throttled + injected.hang).toBeGreaterThan(0);
      expect(report.success).toBe(true);
    },
  });
}

/** The target AZ's API server answers 503 to everything for `downMs` once `fraction` is done (its jobs keep running). */
export function targetApiDown(fleet: FaultFleet, fraction: number, downMs: number, baselineSeconds: number | undefined): Promise<Ran> {
  return runScenario(fleet, { fault: "target AZ's API unavailable (503)", when: `${downMs / 1000} s wall from ${fraction * 100} %`, baselineSeconds }, {
    inject: async (h, id, _workers, signal) => {
      await reached(h, id, fraction, signal);
      await h.sim.client.setFaults({ apiDownAzs: ['az-b'] });
      await sleep(downMs);
      await h.sim.client.setFaults({ apiDownAzs: [] });
    },
    check: async ({ report }) => { expect(report.success).toBe(true); },
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planEvacuation } from '../../domain/planner.js';
import { buildReport, predictionSummary } from '../../domain/report.js';
import { renderReportHtml } from '../../domain/report-html.js';
import { reportText } from '../../cli/report-text.js';
import { pacedEngine, REFERENCE_ENGINE_PACE } from '../../domain/engine-pace.js';
import { DEFAULT_ENGINE_OVERHEAD, DEFAULT_PLATFORM_LIMITS, DEFAULT_RTO_RATES, estimateRto, measuredEngine, measuredRates, predictedMissFindings, runSampleOf, samplesOf, SNAPSHOT_SIZING_BUDGET_SECONDS, START_STEP_LOOKUPS_AT_ONCE, type EstimateInput, type RtoSample, type StateSizeFact } from '../../domain/rto-estimate.js';
import type { FleetJob, TiersPolicy } from '../../domain/types.js';
import { catalog, coldJob, hotJob, job, tiersPolicy } from './fixtures/fleet.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** The platform's rates alone, without the engine's own time (the tests of the platform model). */
const { engine: _engine, ...PLATFORM_RATES } = DEFAULT_RTO_RATES;

function forecast(jobs: FleetJob[], over: Partial<EstimateInput> & { policy?: TiersPolicy } = {}) {
  const policy = over.policy ?? tiersPolicy();
  const plan = planEvacuation({ catalog: catalog(jobs), tiers: policy, sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 10_000, memoryMiB: 10_000_000 }, nowEpochSeconds: 1_800_000_000 });
  return { plan, rto: estimateRto({ plan, jobs, policy, rates: PLATFORM_RATES, snapshotState: new Map(), jarsInCache: new Set(), ...over }) };
}

const one = (jobs: FleetJob[], name: string, over: Partial<EstimateInput> = {}) => forecast(jobs, over).rto.jobs.find((j) => j.key === `streaming/${name}`)!;

describe('estimateRto', () => {
  it('is queue + start-up + jar fetch + restore + first checkpoint after it at the default rates for a lone redeploy, and says where each input came from', () => {
    const f = one([job('orders', { stateSizeBytes: 20 * GiB })], 'orders');
    // Reconcile 2 s + 3 pods bound at 50/s; 20 GiB at 200 MiB/s = 102.4 s; checkpoints every 60 s from RUNNING: the first after the restore at 120 s.
    expect(f.parts).toEqual({ dispatchWait: 0, queue: 2.06, startup: 105, jarFetch: 2, restore: 102.4, checkpoint: 17.6 });
    expect(f.seconds).toBe(229.06);
    expect(f.inputs).toEqual({ stateBytes: 20 * GiB, stateFrom: 'catalog', jarBytes: 50 * MiB, jarsFrom: 'repository', checkpointIntervalSeconds: 60 });
    expect(f.misses).toBe(false);
  });

  it('predicts a P0 job without a hot standby to miss a 60 s RTO, naming start-up as the largest part', () => {
    const { rto } = forecast([job('pay', { tier: 'P0', stateSizeBytes: GiB })], { policy: tiersPolicy({ tiers: { P0: { strategy: 'redeploy' } } }) });
    const [finding] = predictedMissFindings(rto);
    expect(rto.jobs[0]).toMatchObject({ key: 'streaming/pay', misses: true, rtoTargetSeconds: 60 });
    expect(finding!.message).toContain('largest part: start-up 105s');
    expect(finding!.message).toContain('past its P0 RTO of 60s');
  });

  it('shares the object store: 20 concurrent 40 GiB restores each take longer than one alone, and miss the P2 RTO it makes alone', () => {
    const big = (n: number) => Array.from({ length: n }, (_, i) => job(`big-${i}`, { stateSizeBytes: 40 * GiB }));
    const rates = { ...PLATFORM_RATES, platform: { ...DEFAULT_PLATFORM_LIMITS, objectStoreReadBytesPerSecond: GiB } };
    const alone = forecast(big(1), { rates }).rto.jobs[0]!;
    const crowd = forecast(big(20), { rates }).rto.jobs;
    expect(alone.parts.restore).toBe(204.8); // 40 GiB at 200 MiB/s, under the 1 GiB/s store
    expect(alone.misses).toBe(false);
    // 20 × 200 MiB/s wanted > 1 GiB/s: each gets 51.2 MiB/s, 800 s.
    for (const f of crowd) expect(f.parts.restore).toBeGreaterThan(790);
    expect(crowd.every((f) => f.misses)).toBe(true);
    const bounded = forecast(big(1), { rates: { ...PLATFORM_RATES, platform: { ...DEFAULT_PLATFORM_LIMITS, restoreMaxSecondsAlone: 100 } } }).rto.jobs[0]!;
    expect(bounded.parts.restore).toBe(100);
  });

  it("queues reconciles behind the operator's reconcile threads", () => {
    const jobs = Array.from({ length: 4 }, (_, i) => job(`j-${i}`, { stateSizeBytes: 0 }));
    const rates = { ...PLATFORM_RATES, platform: { ...DEFAULT_PLATFORM_LIMITS, reconcileParallelism: 1, deployReconcileSeconds: 10, podsBoundPerSecond: 1000 } };
    const { rto } = forecast(jobs, { rates });
    expect(rto.jobs.map((j) => j.parts.queue)).toEqual([10, 20, 30, 40]);
  });

  it("takes the state size from the newest snapshot's _metadata over the catalog, and calls a nominal catalog size the default", () => {
    const jobs = [job('a', { stateSizeBytes: GiB }), job('b', { stateSizeBytes: GiB, stateSizeNominal: true }), job('c', { stateSizeBytes: 3 * GiB })];
    const snapshotState = new Map<string, StateSizeFact>([
      ['streaming/a', { bytes: 300 * GiB, snapshotPath: 's3://flink-state/savepoints/streaming/a/savepoint-0f1e2d-000000000001', ageSeconds: 42 }],
      ['streaming/c', { unread: 'snapshot lookup failed: s3 503' }],
    ]);
    const { rto } = forecast(jobs, { snapshotState });
    const of = (name: string) => rto.jobs.find((j) => j.key === `streaming/${name}`)!.inputs;
    expect(['a', 'b', 'c'].map((n) => [of(n).stateBytes, of(n).stateFrom])).toEqual([[300 * GiB, 'snapshot'], [GiB, 'default'], [3 * GiB, 'catalog']]);
    expect(of('a').snapshotPath).toContain('savepoint-0f1e2d');
    expect(of('a').snapshotAgeSeconds).toBe(42);
    expect(of('c').snapshotAgeSeconds).toBeUndefined();
    expect(of('c').stateNote).toBe('no snapshot size: snapshot lookup failed: s3 503');
  });

  it('is monotone in state size: more state never predicts an earlier RUNNING', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 44 }), fc.integer({ min: 0, max: 2 ** 44 }), fc.integer({ min: 0, max: 2 ** 44 }), (x, y, other) => {
      const [small, big] = x <= y ? [x, y] : [y, x];
      // Alone, and beside a neighbour restoring `other` bytes from the same object store (no binding queue: the plan orders jobs by state, which moves them in it).
      const at = (bytes: number) => one([job('s', { stateSizeBytes: bytes }), job('n', { stateSizeBytes: other })], 's', { rates: { ...PLATFORM_RATES, platform: { ...DEFAULT_PLATFORM_LIMITS, objectStoreReadBytesPerSecond: GiB, podsBoundPerSecond: 0 } } }).seconds;
      const alone = (bytes: number) => one([job('s', { stateSizeBytes: bytes })], 's').seconds;
      return at(small) <= at(big) && alone(small) <= alone(big);
    }));
  });

  it('flags a P2 job whose state cannot be restored within the P2 RTO, and not its small neighbour', () => {
    const jobs = [job('huge', { stateSizeBytes: 200 * GiB }), job('small', { stateSizeBytes: GiB })];
    const { rto } = forecast(jobs, { rates: { ...PLATFORM_RATES, restoreBytesPerSecond: 200 * MiB, platform: { ...DEFAULT_PLATFORM_LIMITS, restoreMaxSecondsAlone: 3600 } } });
    expect(rto.jobs.filter((j) => j.misses).map((j) => j.key)).toEqual(['streaming/huge']);
    const [finding, ...rest] = predictedMissFindings(rto);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ job: 'streaming/huge', code: 'predicted-rto-miss', blocking: false });
    expect(finding!.message).toContain('past its P2 RTO of 600s');
    expect(finding!.message).toContain("200.00 GiB of state from the platform's size at catalog sync");
    expect(finding!.message).toContain('restore 200 MiB/s (documented default)');
    expect(finding!.message).toContain('largest part: restore 1024s');
  });

  it('promotes a hot standby in the promotion time: nothing restored, no jar fetched', () => {
    const f = one([hotJob('pay', { stateSizeBytes: 500 * GiB })], 'pay');
    expect(f).toMatchObject({ strategy: 'promote-standby', seconds: 10, parts: { startup: 10, jarFetch: 0, restore: 0 }, inputs: { stateBytes: 0, stateFrom: 'none', jarsFrom: 'none' } });
  });

  it('fetches preloaded jars at the cache rate', () => {
    const j = job('orders');
    expect(one([j], 'orders', { jarsInCache: new Set([j.jars[0]!.digest]) }).parts.jarFetch).toBe(0.25);
  });

  it('makes a job wait for a slot when its tier has more jobs than maxConcurrency, and the next tier wait for the last dispatch', () => {
    const policy = tiersPolicy({ tiers: { P2: { maxConcurrency: 1 } } });
    const jobs = [job('a', { stateSizeBytes: 0 }), job('b', { stateSizeBytes: 0 }), job('c', { tier: 'P3', stateSizeBytes: 0 })];
    const { rto } = forecast(jobs, { policy });
    // Each job: 2.06 s queue + 105 s start-up + 2 s jar + the first checkpoint 60 s after RUNNING = 169.06 s.
    expect(rto.jobs.map((j) => [j.key, j.parts.dispatchWait])).toEqual([['streaming/a', 0], ['streaming/b', 169.06], ['streaming/c', 169.06]]);
    const strict = forecast(jobs, { policy: tiersPolicy({ borrowIdleSlots: false, tiers: { P2: { maxConcurrency: 1 } } }) }).rto;
    expect(strict.jobs.at(-1)!.parts.dispatchWait).toBe(338.12);
  });

  it("divides by the policy's time scale, so predictions compare with its scaled targets", () => {
    const policy = { ...tiersPolicy(), timeScale: 10 };
    const f = one([coldJob('p1', { stateSizeBytes: 0, jars: [] })], 'p1', { policy });
    expect(f).toMatchObject({ seconds: 16.71, parts: { startup: 10.5, queue: 0.21, checkpoint: 6 } });
  });
});

describe('measuredRates', () => {
  it('keeps the documented defaults without samples', () => {
    expect(measuredRates([])).toEqual(DEFAULT_RTO_RATES);
  });

  it("fits start-up and restore rate to previous runs' jobs, less their jar fetch, and says how many jobs it used", () => {
    const rate = 50 * MiB;
    const samples: RtoSample[] = [1, 10, 40, 80].map((g) => ({ strategy: 'redeploy', stateBytes: g * GiB, seconds: 30 + 5 + (g * GiB) / rate, jarSeconds: 5 }));
    samples.push({ strategy: 'promote-standby', stateBytes: 0, seconds: 3, jarSeconds: 0 }, { strategy: 'promote-standby', stateBytes: 0, seconds: 5, jarSeconds: 0 });
    const r = measuredRates(samples);
    expect(r.startupSeconds).toBeCloseTo(30, 1);
    expect(r.restoreBytesPerSecond / rate).toBeCloseTo(1, 3);
    expect(r).toMatchObject({ startupFrom: { from: 'measured', jobs: 4 }, restoreFrom: { from: 'measured', jobs: 4 }, promoteSeconds: 4, promoteFrom: { from: 'measured', jobs: 2 } });
    // Measured rates change the forecast: at 50 MiB/s 40 GiB misses the P2 RTO, at the default it does not.
    const jobs = [job('big', { stateSizeBytes: 40 * GiB })];
    expect(one(jobs, 'big').misses).toBe(false);
    expect(one(jobs, 'big', { rates: r }).misses).toBe(true);
  });

  it('measures only the start-up (default restore rate) when the states are too alike to fit a line', () => {
    const samples: RtoSample[] = [0, 0, 0].map(() => ({ strategy: 'redeploy', stateBytes: GiB, seconds: 70, jarSeconds: 0 }));
    const r = measuredRates(samples);
    expect(r.restoreFrom).toEqual({ from: 'default' });
    expect(r.startupSeconds).toBe(64.88); // 70 s less 1 GiB at the default 200 MiB/s
    expect(r.startupFrom).toEqual({ from: 'measured', jobs: 3 });
  });
});

describe('the report puts predicted beside achieved', () => {
  it("copies each job's forecast onto its line, and its measured run becomes a sample in platform seconds", () => {
    const policy = { ...tiersPolicy(), timeScale: 2 };
    const jobs = [job('orders', { stateSizeBytes: 10 * GiB })];
    const { plan, rto } = forecast(jobs, { policy });
    const report = buildReport({
      evacuationId: 'e1', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', startedAtMs: 0, endedAtMs: 100_000,
      plan: { ...plan, rto }, policy,
      outcomes: [{ key: 'streaming/orders', name: 'orders', namespace: 'streaming', tier: 'P2', strategy: 'redeploy', outcome: 'running', startedAtMs: 1000, endedAtMs: 81_000, snapshotPath: 's3://flink-state/x', steps: {} }],
    });
    const line = report.jobs[0]!;
    expect(line.rtoSeconds).toBe(81);
    expect(line.predicted).toEqual({ seconds: rto.jobs[0]!.seconds, misses: false, parts: rto.jobs[0]!.parts, inputs: rto.jobs[0]!.inputs });
    const parts = rto.jobs[0]!.parts;
    expect(samplesOf(report)).toEqual([{ strategy: 'redeploy', seconds: 160, stateBytes: 10 * GiB, jarSeconds: 2, otherSeconds: expect.closeTo(((parts.queue ?? 0) + (parts.checkpoint ?? 0)) * 2, 6) }]);
  });

  it('shows predicted beside achieved in the HTML and terminal reports, misses first', async () => {
    const policy = tiersPolicy();
    const jobs = [job('huge', { stateSizeBytes: 200 * GiB }), job('small', { stateSizeBytes: GiB })];
    const { plan, rto } = forecast(jobs, { policy, rates: { ...PLATFORM_RATES, restoreBytesPerSecond: 200 * MiB, platform: { ...DEFAULT_PLATFORM_LIMITS, restoreMaxSecondsAlone: 3600 } } });
    const ran = (name: string, endS: number) => ({ key: `streaming/${name}`, name, namespace: 'streaming', tier: 'P2' as const, strategy: 'redeploy' as const, outcome: 'running' as const, startedAtMs: 0, endedAtMs: endS * 1000, snapshotPath: 's3://x', steps: {} });
    const report = buildReport({ evacuationId: 'e2', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', startedAtMs: 0, endedAtMs: 900_000, plan: { ...plan, rto }, policy, outcomes: [ran('small', 130), ran('huge', 700)] });
    const s = predictionSummary(report);
    expect(s).toMatchObject({ jobs: 2, predictedMisses: 1, achievedMisses: 1 });
    expect(s.rows.map((r) => [r.key, r.predictedSeconds, r.achievedSeconds, r.predictedMiss, r.achievedMiss])).toEqual([
      ['streaming/huge', 1189.06, 700, true, true], ['streaming/small', 169.12, 130, false, false],
    ]);
    expect(s.medianErrorSeconds).toBe(264.09);
    const html = await renderReportHtml(report);
    expect(html).toMatch(/<table id="predicted">.*<tr data-job="streaming\/huge">.*<td data-field="predicted" class="missed">1189\.1 s<\/td><td data-field="achieved" class="missed">700\.0 s/s);
    expect(reportText(report)).toContain('streaming/huge: predicted 1189.1s, achieved 700.0s, target 600.0s (200.00 GiB of state from catalog)');
  });
});

describe("the engine's own time in the forecast", () => {
  const scaled = (timeScale: number) => ({ ...tiersPolicy({ tiers: { P2: { maxConcurrency: 1000 } } }), timeScale });

  it("puts planning before the first dispatch, the forecast's snapshot lookups before the second tier's start and a start step before the apply, in wall seconds whatever the time scale", () => {
    const jobs = [job('orders', { stateSizeBytes: 0, jars: [] }), hotJob('pay', { stateSizeBytes: 0 })];
    const at = (timeScale: number) => forecast(jobs, { policy: scaled(timeScale), rates: DEFAULT_RTO_RATES }).rto.jobs;
    const e = DEFAULT_ENGINE_OVERHEAD;
    for (const timeScale of [1, 10]) {
      const [pay, orders] = [at(timeScale).find((j) => j.key === 'streaming/pay')!, at(timeScale).find((j) => j.key === 'streaming/orders')!];
      // The P0 tier first, without waiting for any lookup (forecastPlan runs once it has
      // dispatched); P2 a tier start and the forecast's one snapshot lookup later.
      expect(pay.parts.dispatchWait).toBe(e.firstDispatchSeconds);
      expect(pay.parts.startStep).toBeUndefined();
      expect(orders.parts.dispatchWait).toBe(Math.round((e.firstDispatchSeconds + 1 / e.lookupsPerSecond + e.tierStartSeconds) * 100) / 100);
      expect(orders.parts.startStep).toBe(e.startStepSeconds);
    }
    // The platform's own parts are divided by the scale, the engine's are not.
    expect(at(10).find((j) => j.key === 'streaming/orders')!.parts.startup).toBe(10.5);
    expect(at(1).find((j) => j.key === 'streaming/orders')!.parts.startup).toBe(105);
  });

  it("shares the worker among at most START_STEP_LOOKUPS_AT_ONCE start steps, the rest waiting in dispatch order: 300 at once end in turn, one alone in its own time", () => {
    const rates = { ...DEFAULT_RTO_RATES, engine: { ...DEFAULT_ENGINE_OVERHEAD, startStepsPerSecond: 30, startStepSeconds: 0.5 } };
    const crowd = forecast(Array.from({ length: 300 }, (_, i) => job(`j-${i}`, { stateSizeBytes: 0, jars: [] })), { rates, policy: scaled(10) }).rto.jobs;
    const steps = crowd.map((j) => j.parts.startStep!);
    const L = START_STEP_LOOKUPS_AT_ONCE;
    // The first L share the worker (30/s over L each) and end after L / 30 s; the rest are served
    // in dispatch order at the steps' rate, the last 300 / 30 s after the dispatch (and then
    // alone-bound: the last 300 mod L end half a second after the others).
    expect(steps[0]).toBeCloseTo(L / 30, 1);
    expect(steps.every((x, i) => i === 0 || x >= steps[i - 1]!)).toBe(true);
    expect(steps.at(-1)!).toBeGreaterThanOrEqual(10);
    expect(steps.at(-1)!).toBeLessThanOrEqual(10.6);
    // So half of them are done by about half of the crowd's time (all at once, none before 10 s).
    expect(steps[149]!).toBeLessThan(5.5);
    const alone = forecast([job('a', { stateSizeBytes: 0, jars: [] })], { rates, policy: scaled(10) }).rto.jobs[0]!;
    expect(alone.parts.startStep).toBe(0.5);
    // Monotone: more jobs at once never make a start step shorter.
    const ten = forecast(Array.from({ length: 10 }, (_, i) => job(`j-${i}`, { stateSizeBytes: 0, jars: [] })), { rates, policy: scaled(10) }).rto.jobs[0]!;
    expect(ten.parts.startStep).toBe(0.5);
    const sixty = forecast(Array.from({ length: 60 }, (_, i) => job(`j-${i}`, { stateSizeBytes: 0, jars: [] })), { rates, policy: scaled(10) }).rto.jobs;
    expect(sixty[0]!.parts.startStep).toBeCloseTo(L / 30, 1);
    expect(sixty.at(-1)!.parts.startStep).toBeCloseTo(2, 1);
  });

  it("predicts a P0 hot standby miss at time scale 10 when planning takes longer than the scaled target, naming the engine's time", () => {
    const jobs = Array.from({ length: 22 }, (_, i) => hotJob(`hot-${i}`, { stateSizeBytes: 0 }));
    const rates = { ...DEFAULT_RTO_RATES, engine: { ...DEFAULT_ENGINE_OVERHEAD, firstDispatchSeconds: 11.5 } };
    // The tiers.yaml loader divides the targets by the time scale: P0's 60 s is 6 s at scale 10.
    const { rto } = forecast(jobs, { policy: { ...tiersPolicy({ tiers: { P0: { rtoSeconds: 6 } } }), timeScale: 10 }, rates });
    expect(rto.jobs.every((j) => j.misses && j.rtoTargetSeconds === 6 && j.seconds === 12.5)).toBe(true);
    const [finding] = predictedMissFindings(rto);
    expect(finding!.message).toContain('largest part: dispatch wait 11.5s');
    expect(finding!.message).toContain("the engine's own time dominates");
    expect(finding!.message).toContain('engine (wall seconds, ×10 on the platform\'s clock): first dispatch 11.5s');
  });

  it("scales the default engine terms by the pace the plan measured: the default demo's P0 promotions meet 6 s on a quiet machine and are announced late on a loaded one", () => {
    // The demo's shape: 22 hot standbys, 346 restoring jobs, P0's 60 s RTO scaled to 6 s.
    const jobs = [...Array.from({ length: 22 }, (_, i) => hotJob(`hot-${i}`, { stateSizeBytes: 0 })), ...Array.from({ length: 346 }, (_, i) => job(`j-${i}`, { stateSizeBytes: 0, jars: [] }))];
    const policy = { ...tiersPolicy({ tiers: { P0: { rtoSeconds: 6 }, P2: { maxConcurrency: 2000 } } }), timeScale: 10 };
    const at = (factor?: number) => forecast(jobs, { policy, rates: DEFAULT_RTO_RATES, ...(factor ? { pace: { factor, runSeconds: 2, waitSeconds: 2 * (factor - 1), windowSeconds: 10 } } : {}) }).rto;
    const e = DEFAULT_ENGINE_OVERHEAD;
    // At the pace the defaults were measured at (and without a measurement): the first promotion
    // (10 platform s = 1 wall s) ends before 6 s, as on the quiet machine (4.6 s); no lookup
    // comes before it (the forecast's come once P0 has dispatched).
    for (const rto of [at(), at(REFERENCE_ENGINE_PACE)]) {
      const p0 = rto.jobs.filter((j) => j.tier === 'P0');
      expect(new Set(p0.map((j) => j.parts.dispatchWait))).toEqual(new Set([e.firstDispatchSeconds]));
      expect(p0.some((j) => j.misses)).toBe(false);
    }
    // Twice as slow (the worker waited a CPU second per CPU second run, beyond the reference): every engine term doubles.
    expect(at(REFERENCE_ENGINE_PACE * 2).rates.engine).toMatchObject({ firstDispatchSeconds: e.firstDispatchSeconds * 2, lookupsPerSecond: e.lookupsPerSecond / 2, tierStartSeconds: e.tierStartSeconds * 2, startStepsPerSecond: e.startStepsPerSecond / 2, startStepSeconds: e.startStepSeconds * 2 });
    // Three times as slow: the first dispatch alone (6.6 s) is past P0's 6 s.
    const slow = at(REFERENCE_ENGINE_PACE * 3);
    const p0 = slow.jobs.filter((j) => j.tier === 'P0');
    expect(p0.every((j) => j.misses && j.parts.dispatchWait === Math.round(e.firstDispatchSeconds * 3 * 100) / 100)).toBe(true);
    const [finding] = predictedMissFindings(slow);
    expect(finding!.message).toContain("scaled ×3.00 by the worker's pace");
    // The P2 start steps too: the last restoring job is applied nearly twice as late (the trigger's 2 s lookup budget does not stretch).
    const lastApply = (rto: ReturnType<typeof at>) => Math.max(...rto.jobs.filter((j) => j.tier === 'P2').map((j) => j.parts.dispatchWait + j.parts.startStep!));
    expect(lastApply(slow)).toBeGreaterThan(1.8 * lastApply(at()));
  });

  it('leaves engine terms measured from runs without a recorded pace unscaled: they carry the load those runs had', () => {
    const measured = { ...DEFAULT_ENGINE_OVERHEAD, from: { from: 'measured' as const, runs: 2 } };
    expect(pacedEngine(measured, { factor: 5, runSeconds: 1, waitSeconds: 4, windowSeconds: 5 })).toBe(measured);
  });

  it('brings runs that recorded their pace to the reference pace, so the next plan scales them by its own: a loaded run and a quiet one measure the same engine', () => {
    const ref = REFERENCE_ENGINE_PACE;
    // The same engine: 3 s fixed + 40 lookups in 1 s, tier start 1 s, 100 steps in 5 s, fastest 0.5 s, at the reference pace; twice as slow at twice the pace.
    const quiet = { firstDispatchSeconds: DEFAULT_ENGINE_OVERHEAD.firstDispatchSeconds + 1, lookups: 40, tierStartSeconds: [1], startSteps: 100, startStepBusySeconds: 5, fastestStartStepSeconds: 0.5, pace: ref };
    const loaded = { ...quiet, firstDispatchSeconds: 2 * DEFAULT_ENGINE_OVERHEAD.firstDispatchSeconds + 1, tierStartSeconds: [2], startStepBusySeconds: 10, fastestStartStepSeconds: 1, lookups: 20, pace: 2 * ref };
    const both = measuredEngine([quiet, loaded]);
    expect(both).toEqual({ firstDispatchSeconds: DEFAULT_ENGINE_OVERHEAD.firstDispatchSeconds, lookupsPerSecond: 40, tierStartSeconds: 1, startStepsPerSecond: 20, startStepSeconds: 0.5, from: { from: 'measured', runs: 2, atReferencePace: true } });
    expect(pacedEngine(both, { factor: 2 * ref, runSeconds: 1, waitSeconds: 2 * ref - 1, windowSeconds: 2 })).toMatchObject({ firstDispatchSeconds: 2 * DEFAULT_ENGINE_OVERHEAD.firstDispatchSeconds, tierStartSeconds: 2, startStepsPerSecond: 10, startStepSeconds: 1 });
    // One run without a pace: nothing is normalized, and nothing scaled.
    const { pace: _p, ...old } = loaded;
    expect(measuredEngine([quiet, old]).from).toEqual({ from: 'measured', runs: 2 });
  });

  it("waits for the capacity the plan's preemptions free: a deploy beyond the target's free capacity starts once a preempted job's stop-with-savepoint ends", () => {
    const jobs = Array.from({ length: 3 }, (_, i) => job(`j-${i}`, { stateSizeBytes: 0, jars: [] }));
    const policy = tiersPolicy({ tiers: { P2: { maxConcurrency: 10 } } });
    const plan = planEvacuation({ catalog: catalog(jobs), tiers: policy, sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 10_000, memoryMiB: 10_000_000 }, nowEpochSeconds: 1_800_000_000 });
    const need = plan.admitted[0]!;
    // Room for two of the three; a preempted P3 job of 100 GiB frees the third one's room after 5 s + 100 GiB at 200 MiB/s = 517 s.
    const tight = { ...plan, capacityBefore: { cores: need.cores * 2, memoryMiB: need.memoryMiB * 2 }, preemptions: [{ key: 'batch/p3', name: 'p3', namespace: 'batch', cores: need.cores, memoryMiB: need.memoryMiB, forJob: need.key }] };
    const run = (preemptedStateBytes?: Map<string, number>) => estimateRto({ plan: tight, jobs, policy, rates: PLATFORM_RATES, snapshotState: new Map(), jarsInCache: new Set(), ...(preemptedStateBytes ? { preemptedStateBytes } : {}) }).jobs;
    const waited = run(new Map([['batch/p3', 100 * GiB]]));
    expect(waited.map((j) => j.parts.capacity)).toEqual([undefined, undefined, Math.round((517 - 2) * 100) / 100]);
    expect(waited[2]!.seconds - waited[1]!.seconds).toBeGreaterThan(500);
    expect(waited[2]!.misses).toBe(true);
    const [finding] = predictedMissFindings({ rates: PLATFORM_RATES, timeScale: 1, jobs: waited });
    expect(finding!.message).toContain('largest part: capacity wait 515s');
    // Unknown state: the stop's base time only. Without preemptions nobody waits.
    expect(run()[2]!.parts.capacity).toBe(3);
    expect(estimateRto({ plan, jobs, policy, rates: PLATFORM_RATES, snapshotState: new Map(), jarsInCache: new Set() }).jobs.every((j) => j.parts.capacity === undefined)).toBe(true);
  });

  it("measures the engine from a previous run's report: first dispatch, tier starts, start steps' rate and the fastest one", () => {
    const policy = scaled(10);
    const jobs = [hotJob('pay', { stateSizeBytes: 0 }), ...Array.from({ length: 20 }, (_, i) => job(`j-${i}`, { stateSizeBytes: GiB }))];
    const { plan, rto } = forecast(jobs, { policy, rates: DEFAULT_RTO_RATES });
    const t = (s: number) => 1000 * s;
    const outcomes = [
      { key: 'streaming/pay', name: 'pay', namespace: 'streaming', tier: 'P0' as const, strategy: 'promote-standby' as const, outcome: 'running' as const, startedAtMs: t(10), endedAtMs: t(10.3), steps: { promote: { startedAtMs: t(10), endedAtMs: t(10.3), attempts: 1 } } },
      // 20 P2 jobs dispatched 2 s after the P0 tier's last dispatch; their start steps run 12 → 12 + 0.5·(i+1) (busy 10 s).
      ...Array.from({ length: 20 }, (_, i) => ({
        key: `streaming/j-${i}`, name: `j-${i}`, namespace: 'streaming', tier: 'P2' as const, strategy: 'redeploy' as const, outcome: 'running' as const,
        startedAtMs: t(12), endedAtMs: t(40), snapshotPath: 's3://flink-state/x',
        steps: { snapshot: { startedAtMs: t(12), endedAtMs: t(12 + 0.4 * (i + 1)), attempts: 1 }, apply: { startedAtMs: t(12 + 0.4 * (i + 1)), endedAtMs: t(12 + 0.5 * (i + 1)), attempts: 1 } },
      })),
    ];
    const report = buildReport({ evacuationId: 'e', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', startedAtMs: 0, endedAtMs: t(50), plan: { ...plan, rto }, policy, outcomes });
    const run = runSampleOf(report, policy.admissionOrder, policy.borrowIdleSlots)!;
    expect(run).toEqual({ firstDispatchSeconds: 10, lookups: 20, tierStartSeconds: [2], startSteps: 20, startStepBusySeconds: 10, fastestStartStepSeconds: 0.5, lookupsAfterFirstTier: true });
    expect(runSampleOf(report, policy.admissionOrder, policy.borrowIdleSlots, 3.1)!.pace).toBe(3.1);
    // Strict tiers: the next one could start at the previous one's last outcome.
    expect(runSampleOf(report, policy.admissionOrder, false)!.tierStartSeconds).toEqual([1.7]);
    // A sample of a run that looked up before its first dispatch (recorded before forecastPlan):
    // 10 s to the first dispatch, the default fixed part, then the 20 lookups, which planning at
    // the trigger stopped at the sizing budget; whatever is left over is the fixed part.
    const { lookupsAfterFirstTier: _after, ...before } = run;
    const lookupSeconds = Math.min(10 - DEFAULT_ENGINE_OVERHEAD.firstDispatchSeconds, SNAPSHOT_SIZING_BUDGET_SECONDS);
    expect(measuredEngine([before])).toEqual({
      firstDispatchSeconds: Math.round((10 - lookupSeconds) * 100) / 100, lookupsPerSecond: Math.round((20 / lookupSeconds) * 100) / 100,
      tierStartSeconds: 2, startStepsPerSecond: 2, startStepSeconds: 0.5, from: { from: 'measured', runs: 1 },
    });
    // This run's lookups came once its first tier had dispatched: the 10 s to the first dispatch
    // are all fixed part, and its second tier's 2 s start is the default tier start (1.2 s)
    // and 0.8 s of the 20 lookups.
    const engine = measuredEngine([run]);
    const after = 2 - DEFAULT_ENGINE_OVERHEAD.tierStartSeconds;
    expect(engine).toEqual({
      firstDispatchSeconds: 10, lookupsPerSecond: Math.round((20 / after) * 100) / 100,
      tierStartSeconds: DEFAULT_ENGINE_OVERHEAD.tierStartSeconds, startStepsPerSecond: 2, startStepSeconds: 0.5, from: { from: 'measured', runs: 1 },
    });
    // The job samples carry their start step, which the start-up fit leaves out (it is the engine's).
    const samples = samplesOf(report);
    expect(samples.find((x) => x.strategy === 'redeploy')!.engineSeconds).toBeCloseTo(5, 6);
    const rates = measuredRates(samples, DEFAULT_RTO_RATES, [run]);
    expect(rates.engine).toEqual(engine);
    const without = measuredRates(samples.map(({ engineSeconds: _e, ...x }) => x), DEFAULT_RTO_RATES);
    expect(rates.startupSeconds).toBeLessThan(without.startupSeconds);
    expect(without.engine).toEqual(DEFAULT_ENGINE_OVERHEAD);
    // And the next forecast of the same fleet puts the first dispatch where this run had it.
    const next = forecast(jobs, { policy, rates }).rto.jobs.find((j) => j.key === 'streaming/pay')!;
    expect(next.parts.dispatchWait).toBeCloseTo(10, 1);
  });

  it('ignores broken run samples and keeps the defaults for what the runs do not measure', () => {
    expect(measuredEngine([])).toEqual(DEFAULT_ENGINE_OVERHEAD);
    expect(measuredEngine([{ firstDispatchSeconds: Number.NaN, lookups: 1, tierStartSeconds: [], startSteps: 0, startStepBusySeconds: 0, fastestStartStepSeconds: 0 }])).toEqual(DEFAULT_ENGINE_OVERHEAD);
    const few = measuredEngine([{ firstDispatchSeconds: 3, lookups: 0, tierStartSeconds: [], startSteps: 2, startStepBusySeconds: 1, fastestStartStepSeconds: 0.4 }]);
    expect(few).toMatchObject({ firstDispatchSeconds: 3, lookupsPerSecond: DEFAULT_ENGINE_OVERHEAD.lookupsPerSecond, tierStartSeconds: DEFAULT_ENGINE_OVERHEAD.tierStartSeconds, startStepsPerSecond: DEFAULT_ENGINE_OVERHEAD.startStepsPerSecond, startStepSeconds: 0.4 });
  });

  it("measures planning's lookup rate per run: fast in-memory lookups, and a run past the sizing budget leaves its excess in the fixed part", () => {
    const run = (firstDispatchSeconds: number, lookups: number) => ({ firstDispatchSeconds, lookups, tierStartSeconds: [], startSteps: 0, startStepBusySeconds: 0, fastestStartStepSeconds: 0 });
    const fixed = DEFAULT_ENGINE_OVERHEAD.firstDispatchSeconds;
    // In-memory lookups: 1,381 of them within the budget, the first dispatch 1 s after the fixed part.
    const quick = fixed + Math.min(1, SNAPSHOT_SIZING_BUDGET_SECONDS / 2);
    const fast = measuredEngine([run(quick, 1381)]);
    expect(fast.lookupsPerSecond).toBeCloseTo(1381 / (quick - fixed), 1);
    expect(fast.firstDispatchSeconds).toBeCloseTo(fixed, 6);
    // A loaded demo: 346 lookups and 28.6 s: the budget ended the lookups.
    const slow = measuredEngine([run(28.6, 346)]);
    expect(slow.lookupsPerSecond).toBeCloseTo(346 / SNAPSHOT_SIZING_BUDGET_SECONDS, 1);
    expect(slow.firstDispatchSeconds).toBeCloseTo(28.6 - SNAPSHOT_SIZING_BUDGET_SECONDS, 6);
    // Either way the same fleet's next first dispatch is predicted where it was.
    for (const [engine, seconds, lookups] of [[fast, quick, 1381], [slow, 28.6, 346]] as const) {
      expect(engine.firstDispatchSeconds + Math.min(lookups / engine.lookupsPerSecond, SNAPSHOT_SIZING_BUDGET_SECONDS)).toBeCloseTo(seconds, 1);
    }
  });
});

/**
 * The plan at the trigger pays less before the first dispatch (issue 12: P0's hot-standby
 * promotions ≤ 10 s after the trigger at 5,000 jobs; the plan took 8.7 s of it):
 *  - the manifests are rendered and CRD-validated while the platform reads are answered, and
 *    the snapshot lookups for the forecast run while the rest are rendered, instead of each
 *    after the other (activities/plan.ts), shown by the order of the calls;
 *  - a P3 job that does not fit when its turn comes is not rendered at all (domain/planner.ts):
 *    it is not admitted for want of room whatever its manifest;
 *  - a hot-standby promotion is neither rendered nor looked up.
 * In-process fakes of the ports (no servers, no timers as conditions).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createPlanActivities, type PlanOptions } from '../../activities/plan.js';
import type { ActivityDeps } from '../../activities/deps.js';
import type { EvacuationInput } from '../../domain/evacuation.js';
import { planEvacuation } from '../../domain/planner.js';
import { withForecast, type PlanForecast } from '../../domain/plan-forecast.js';
import { jobKey, type FleetJob, type FlinkDeploymentManifest } from '../../domain/types.js';
import type { EvacuationStore, StoredPlan } from '../../platform/ports.js';
import { FileEvacuationStore } from '../../platform/evacuation-file-store.js';
import { recordsKey, type PlanSummary } from '../../domain/evacuation.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError } from '../../platform/errors.js';
import { catalog, hotJob, job, tiersPolicy } from './fixtures/fleet.js';

const INPUT: EvacuationInput = { evacuationId: 'cost', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', triggeredAtMs: Date.now(), forceStaleCatalog: true };

/** Every call of a plan, in order: `render <name>`, `lookup <name>` or `read <what>` (when it is answered). */
interface PlanRun {
  calls: string[];
  stored: StoredPlan | undefined;
}

/** Ports of a plan over in-process fakes (the plan store too unless `evacuations` is given); the target has `free` capacity. */
function fakeDeps(jobs: FleetJob[], run: PlanRun, free = { cores: 1_000, memoryMiB: 4_000_000 }, evacuations?: EvacuationStore): ActivityDeps {
  const cat = catalog(jobs);
  const answered = async <T>(what: string, value: T): Promise<T> => {
    await Promise.resolve();
    run.calls.push(`read ${what}`);
    return value;
  };
  const deps = {
    cluster: {
      capacity: async () => answered('capacity', free),
      getDeployment: async (az: string, namespace: string, name: string) => answered(`standby ${name}`, { az, namespace, name, generation: 1, specState: 'running', lifecycleState: 'STABLE' }),
      checkObjects: async (_az: string, namespace: string) => answered(`namespace ${namespace}`, { namespaceExists: true, missing: [], unchecked: [] }),
    },
    objects: {
      hasArtifact: async (_az: string, jar: { key: string }) => answered(`jar ${jar.key}`, true),
      findSnapshot: async (_az: string, owner: { checkpointPrefix: string }) => {
        // The fixtures' prefix ends with the job's name (fixtures/fleet.ts job()).
        run.calls.push(`lookup ${owner.checkpointPrefix.split('/').at(-1)}`);
        throw new Error('no snapshot store in this test');
      },
    },
    catalogs: { latest: async () => cat, get: async () => cat, put: async () => undefined },
    evacuations: evacuations ?? { putPlan: async (_id: string, p: StoredPlan) => { run.stored = p; } },
    reports: { refOf: (name: string) => name, read: async () => { throw new PlatformError('not-found', 'no samples', false); }, put: async (name: string) => name },
    loadTiers: async () => tiersPolicy(),
    validateManifest: (m: FlinkDeploymentManifest) => {
      run.calls.push(`render ${m.metadata.name}`);
      return { ok: true };
    },
    preloadConcurrency: 4,
  } as unknown as ActivityDeps;
  return deps;
}

/** An activity environment as the evacuateAz workflow runs its planning activities. */
const atTrigger = (): MockActivityEnvironment => new MockActivityEnvironment({ activityType: 'planEvacuation', workflowType: 'evacuateAz', scheduledTimestampMs: Date.now(), scheduleToCloseTimeoutMs: 120_000 });

/** Plan `jobs` at the trigger with the forecast (as evacuateAz did before 'forecast-after-first-tier') over in-process fakes of the ports. */
async function planAtTrigger(jobs: FleetJob[], free?: { cores: number; memoryMiB: number }): Promise<PlanRun> {
  const run: PlanRun = { calls: [], stored: undefined };
  await atTrigger().run(createPlanActivities(fakeDeps(jobs, run, free)).planEvacuation, INPUT);
  return run;
}

describe('planning at the trigger: lookups beside the renders', () => {
  it('renders start before the reads are all answered, lookups before the renders are all done; promotions are neither rendered nor looked up', async () => {
    const redeploys = Array.from({ length: 60 }, (_, i) => job(`agg-${String(i).padStart(2, '0')}`));
    const promoted = hotJob('orders-hot');
    const { calls, stored } = await planAtTrigger([promoted, ...redeploys]);

    const renders = calls.filter((c) => c.startsWith('render '));
    const lookups = calls.filter((c) => c.startsWith('lookup '));
    expect(renders).toHaveLength(60);
    expect(lookups).toHaveLength(60);
    const reads = calls.filter((c) => c.startsWith('read '));
    expect(reads.length).toBeGreaterThan(60); // capacity, the standby, 61 jars (cache), the namespace
    // In turn (read everything, render everything, then look up) would order them read < render < lookup.
    expect(calls.indexOf(renders[0]!)).toBeLessThan(calls.indexOf(reads.at(-1)!));
    expect(calls.indexOf(lookups[0]!)).toBeLessThan(calls.indexOf(renders.at(-1)!));
    expect([...renders, ...lookups].some((c) => c.endsWith(' orders-hot'))).toBe(false);
    // The plan is the same: everything admitted, the promotion a promotion, every restoring job assessed.
    expect(stored?.plan.admitted).toHaveLength(61);
    expect(stored?.plan.admitted.find((p) => p.key === jobKey(promoted))?.strategy).toBe('promote-standby');
    expect(stored?.plan.protection?.jobs).toHaveLength(60);
    expect(stored?.plan.protection?.notLookedUp).toEqual([]);
  });

  it('looks up no P3 job the plan does not admit; the P3 job it admits is assessed or listed as not looked up', async () => {
    const p2 = Array.from({ length: 20 }, (_, i) => job(`p2-${String(i).padStart(2, '0')}`));
    const fits = job('p3-fits', { tier: 'P3' });
    const tooBig = Array.from({ length: 20 }, (_, i) => job(`p3-big-${String(i).padStart(2, '0')}`, { tier: 'P3', resources: { cores: 100, memoryMiB: 4096 } }));
    // Room for the 20 P2 jobs (2 cores each) and one small P3 job, not for a 100-core one.
    const { calls, stored } = await planAtTrigger([...p2, fits, ...tooBig], { cores: 50, memoryMiB: 1_000_000 });

    expect(stored?.plan.admitted.map((p) => p.name)).toContain('p3-fits');
    expect(stored?.plan.notAdmitted.map((n) => n.key)).toEqual(tooBig.map(jobKey));
    const lookedUp = calls.filter((c) => c.startsWith('lookup ')).map((c) => c.slice('lookup '.length));
    expect(lookedUp.filter((n) => n.startsWith('p3-big-'))).toEqual([]);
    expect(lookedUp.filter((n) => n.startsWith('p2-'))).toHaveLength(20);
    // Nothing silently skipped: every admitted restoring job is assessed or said not looked up.
    const protection = stored?.plan.protection;
    expect([...(protection?.jobs.map((j) => j.job) ?? []), ...(protection?.notLookedUp ?? [])].sort()).toEqual([...p2, fits].map(jobKey).sort());
  });
});

describe('planning at the trigger with the forecast after the first tier', () => {
  it('plans and stores with no snapshot lookup; forecastPlan adds the forecast, which another process that read the plan before then sees', async () => {
    const redeploys = Array.from({ length: 30 }, (_, i) => job(`agg-${String(i).padStart(2, '0')}`));
    const promoted = hotJob('orders-hot');
    const dir = await mkdtemp(join(tmpdir(), 'forecast-later-'));
    // Two stores on one directory: the planning worker's and another worker process's (each caches plans).
    const planner = new FileEvacuationStore(dir);
    const otherWorker = new FileEvacuationStore(dir);
    const run: PlanRun = { calls: [], stored: undefined };
    const activities = createPlanActivities(fakeDeps([promoted, ...redeploys], run, undefined, planner));
    const summary: PlanSummary = await atTrigger().run(activities.planEvacuation, INPUT, { forecast: 'after-first-tier' } satisfies PlanOptions);

    expect(run.calls.filter((c) => c.startsWith('lookup '))).toEqual([]);
    expect(run.calls.filter((c) => c.startsWith('render '))).toHaveLength(30); // every manifest checked before anything acts
    const records = recordsKey(INPUT);
    const early = await otherWorker.getPlan(records);
    expect(early.plan.admitted).toHaveLength(31);
    expect(early.plan.rto).toBeUndefined();
    expect(early.pendingForecast?.jarsInCache).toHaveLength(31); // what planning's reads found in the jar cache, for the forecast
    expect(summary.findings).toBe(early.plan.findings.length);

    const { findings }: { findings: number } = await atTrigger().run(activities.forecastPlan, records);
    expect(run.calls.filter((c) => c.startsWith('lookup ')).map((c) => c.slice('lookup '.length)).sort()).toEqual(redeploys.map((j) => j.name));
    const late = await otherWorker.getPlan(records);
    expect(late.pendingForecast).toBeUndefined();
    expect(late.plan.admitted).toEqual(early.plan.admitted);
    expect(late.plan.rto?.jobs).toHaveLength(31);
    expect(late.plan.protection?.jobs).toHaveLength(30); // each lookup failed: unprotected, with the store's error
    expect(late.plan.findings.length).toBe(findings);
    expect(late.plan.findings.filter((f) => f.blocking)).toEqual([]);
    expect(await new FileEvacuationStore(dir).getPlan(records)).toEqual(late);

    // Idempotent: a retried forecastPlan finds the forecast and looks nothing up again.
    const lookupsBefore = run.calls.filter((c) => c.startsWith('lookup ')).length;
    await atTrigger().run(activities.forecastPlan, records);
    expect(run.calls.filter((c) => c.startsWith('lookup '))).toHaveLength(lookupsBefore);
  });
});

describe('withForecast: a forecast only adds to a plan that waits for it', () => {
  const plan = planEvacuation({ catalog: catalog([job('a')]), tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 10, memoryMiB: 100_000 }, nowEpochSeconds: 0 });
  const forecast = (blocking: boolean): PlanForecast => ({
    rto: { jobs: [] } as unknown as PlanForecast['rto'], protection: { jobs: [], notLookedUp: [] },
    findings: [{ job: 'streaming/a', code: 'unprotected', blocking, message: 'no snapshot' }],
  });

  it('merges into a waiting plan: its admissions kept, the findings appended, no longer waiting', () => {
    const merged = withForecast({ plan, pendingForecast: { jarsInCache: [] } }, forecast(false));
    expect(merged.pendingForecast).toBeUndefined();
    expect(merged.plan.admitted).toEqual(plan.admitted);
    expect(merged.plan.findings).toEqual([...plan.findings, forecast(false).findings[0]]);
  });

  it('refuses a plan that does not wait for one, and a blocking finding (admissions are decided before anything acts)', () => {
    expect(() => withForecast({ plan }, forecast(false))).toThrow(/not waiting for a forecast/);
    expect(() => withForecast({ plan, pendingForecast: { jarsInCache: [] } }, forecast(true))).toThrow(/cannot add blocking findings .*: unprotected streaming\/a/);
  });
});

describe('planner: a P3 job that cannot fit is not rendered', () => {
  it('is not admitted for want of room without its manifest being rendered; a P2 job that cannot fit still is', () => {
    const p2 = job('big-p2', { resources: { cores: 50, memoryMiB: 4096 } });
    const p3 = job('big-p3', { tier: 'P3', resources: { cores: 50, memoryMiB: 4096 } });
    const small = job('small-p3', { tier: 'P3' });
    const rendered: string[] = [];
    const plan = planEvacuation({
      catalog: catalog([p2, p3, small]), tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b',
      targetFree: { cores: 10, memoryMiB: 100_000 }, nowEpochSeconds: 0,
      validateManifest: (j: FleetJob) => { rendered.push(j.name); return []; },
    });
    expect(rendered).toEqual(['big-p2', 'small-p3']);
    expect(plan.admitted.map((p) => p.name)).toEqual(['small-p3']);
    expect(plan.notAdmitted.map((n) => [n.key, n.reason.startsWith('does not fit')])).toEqual([[jobKey(p2), true], [jobKey(p3), true]]);
    expect(plan.findings.find((f) => f.job === jobKey(p3))).toMatchObject({ code: 'does-not-fit', blocking: false });
  });
});

/**
 * Planning at the trigger rides through API trouble (activities/plan.ts planningRead,
 * domain/plan-deadline.ts): a target-namespace readiness read that fails transiently more
 * often than platformCall's in-place retries allow is retried with back-off inside the
 * attempt until the planning deadline and the plan is made; one still failing at the deadline
 * fails the plan for good, naming the deadline; bad answers (a 404 error, a 403) fail at once,
 * and a namespace that is really missing is a blocking finding, asked once.
 * In-process fakes of the ports (no servers); the 503s carry Retry-After 0 so that
 * platformCall's own in-place retries (platform/transient-retry.ts) take no time.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createPlanActivities } from '../../activities/plan.js';
import type { ActivityDeps } from '../../activities/deps.js';
import type { EvacuationInput, PlanSummary } from '../../domain/evacuation.js';
import { planningDeadlineSeconds, planningReadsDeadline, DEFAULT_PLANNING_DEADLINE_SECONDS } from '../../domain/plan-deadline.js';
import type { NamespaceCheck } from '../../domain/target-readiness.js';
import type { StoredPlan } from '../../platform/ports.js';
import { PlatformError } from '../../platform/errors.js';
import { IN_CALL_RETRY } from '../../platform/transient-retry.js';
import { catalog, hotJob, job, tiersPolicy } from './fixtures/fleet.js';

const CATALOG = catalog([hotJob('orders-hot'), job('billing-agg', { namespace: 'billing' }), job('ads-join', { namespace: 'ads' })]);
const INPUT: EvacuationInput = { evacuationId: 'api-trouble', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', triggeredAtMs: Date.now(), forceStaleCatalog: true };
const PRESENT: NamespaceCheck = { namespaceExists: true, missing: [], unchecked: [] };
const unavailable = (what: string): PlatformError => new PlatformError('unavailable', `az-b: get Namespace ${what}: API server error 503: injected`, true, 0);

/** Ports answering everything, the target namespaces' readiness read from `checkObjects`. */
function depsWith(checkObjects: (namespace: string) => Promise<NamespaceCheck>): { deps: ActivityDeps; stored: () => StoredPlan | undefined } {
  let stored: StoredPlan | undefined;
  const deps = {
    cluster: {
      capacity: async () => ({ cores: 1_000, memoryMiB: 4_000_000 }),
      getDeployment: async (az: string, namespace: string, name: string) => ({ az, namespace, name, generation: 1, specState: 'running', lifecycleState: 'STABLE' }),
      checkObjects: async (_az: string, namespace: string) => checkObjects(namespace),
    },
    objects: {
      hasArtifact: async () => true,
      findSnapshot: async () => { throw new Error('no object store in this test'); },
    },
    catalogs: { latest: async () => CATALOG, get: async () => CATALOG, put: async () => undefined },
    evacuations: { putPlan: async (_id: string, p: StoredPlan) => { stored = p; } },
    reports: { refOf: (name: string) => name, read: async () => { throw new PlatformError('not-found', 'no samples', false); }, put: async (name: string) => name },
    loadTiers: async () => tiersPolicy(),
    validateManifest: () => ({ ok: true }),
    preloadConcurrency: 4,
  } as unknown as ActivityDeps;
  return { deps, stored: () => stored };
}

/** Run planEvacuation as the evacuation's attempt with a schedule-to-close deadline of `deadlineMs`; heartbeats collected. */
async function plan(deps: ActivityDeps, deadlineMs = 120_000): Promise<{ result: Promise<PlanSummary>; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment({ activityType: 'planEvacuation', workflowType: 'evacuateAz', scheduledTimestampMs: Date.now(), scheduleToCloseTimeoutMs: deadlineMs });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  return { result: env.run(createPlanActivities(deps).planEvacuation, INPUT), heartbeats };
}

describe('planning rides through API trouble', () => {
  it("a namespace readiness read failing with 503s 12 times (more than platformCall's in-place retries) is retried inside the attempt: the plan is made", async () => {
    const calls = new Map<string, number>();
    const { deps, stored } = depsWith(async (ns) => {
      const n = (calls.get(ns) ?? 0) + 1;
      calls.set(ns, n);
      if (ns === 'billing' && n <= 12) throw unavailable(ns);
      return PRESENT;
    });
    const { result, heartbeats } = await plan(deps);
    const summary = await result;
    expect(calls.get('billing')).toBe(13);
    expect(12).toBeGreaterThan(IN_CALL_RETRY.attempts);
    expect(summary.tiers.reduce((n, t) => n + t.jobs, 0)).toBe(3);
    expect(stored()?.plan.admitted.map((p) => p.key).sort()).toEqual(['ads/ads-join', 'billing/billing-agg', 'streaming/orders-hot']);
    // Each retry after back-off says what is retried and why.
    expect(heartbeats.some((h) => typeof h === 'string' && /namespace billing in az-b: .*503.*retrying in/.test(h))).toBe(true);
  }, 30_000);

  it("a read still failing at the planning deadline fails the plan for good, with its error and the deadline", async () => {
    const { deps } = depsWith(async (ns) => { throw unavailable(ns); });
    const started = Date.now();
    const { result } = await plan(deps, 3_000);
    const err = await result.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('PlatformUnavailable');
    expect((err as ApplicationFailure).message).toMatch(/503.*still failing at planning's deadline/);
    // Not before the deadline less its margin (a tenth of 3 s), and not long after.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_600);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('a 404 error fails at once (not retried), naming what was read', async () => {
    let n = 0;
    const { deps } = depsWith(async (ns) => {
      n++;
      throw new PlatformError('not-found', `az-b: get Namespace ${ns}: not found (404): the server could not find the requested resource`, false);
    });
    const started = Date.now();
    const { result } = await plan(deps);
    const err = await result.then(() => undefined, (e: unknown) => e);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('NotFound');
    expect((err as ApplicationFailure).message).toMatch(/^namespace (ads|billing|streaming) in az-b: .*404/);
    expect(n).toBeLessThanOrEqual(3); // one read per namespace at most, none retried
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a 403 fails after platformCall's few in-place retries (an apiserver's RBAC still syncing), not retried until the deadline", async () => {
    let n = 0;
    const { deps } = depsWith(async (ns) => {
      n++;
      throw new PlatformError('forbidden', `az-b: get Namespace ${ns}: forbidden (403). Fix: bind the worker's identity to deploy/rbac/az-evac-worker.yaml`, false, 0);
    });
    const { result } = await plan(deps);
    const err = await result.then(() => undefined, (e: unknown) => e);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('Forbidden');
    expect((err as ApplicationFailure).message).toMatch(/403.*Fix: bind/);
    expect(n).toBeLessThanOrEqual(3 * IN_CALL_RETRY.attempts);
  });

  it('a namespace that is really missing is an answer: its jobs are not admitted, with a blocking finding, and it is read once', async () => {
    const calls = new Map<string, number>();
    const { deps, stored } = depsWith(async (ns) => {
      calls.set(ns, (calls.get(ns) ?? 0) + 1);
      return ns === 'ads' ? { namespaceExists: false, missing: [], unchecked: [] } : PRESENT;
    });
    const { result } = await plan(deps);
    const summary = await result;
    expect(calls.get('ads')).toBe(1);
    expect(summary.notAdmitted).toBe(1);
    expect(stored()?.plan.notAdmitted.map((n) => n.key)).toEqual(['ads/ads-join']);
    expect(stored()?.plan.findings.some((f) => f.job === 'ads/ads-join' && f.blocking && f.code === 'target-namespace-missing')).toBe(true);
  });
});

describe('planning deadline (domain/plan-deadline.ts)', () => {
  it('defaults to 5 minutes and refuses a deadline outside 30 s..1 h with the fix', () => {
    expect(planningDeadlineSeconds({})).toBe(DEFAULT_PLANNING_DEADLINE_SECONDS);
    expect(planningDeadlineSeconds({ planningDeadlineSeconds: 600 })).toBe(600);
    for (const bad of [0, 5, 29.5, 7_200, Number.NaN]) expect(() => planningDeadlineSeconds({ planningDeadlineSeconds: bad })).toThrow(/whole number of seconds from 30 to 3600. Fix/);
  });

  it("reads retry until just before the activity's schedule-to-close deadline, and not at all in an attempt without one (a preview answers at once)", () => {
    expect(planningReadsDeadline({ scheduledTimestampMs: 1_000_000, scheduleToCloseTimeoutMs: 300_000 }, 1_005_000)).toEqual({ untilMs: 1_290_000, final: true });
    expect(planningReadsDeadline({ scheduledTimestampMs: 1_000_000, scheduleToCloseTimeoutMs: 30_000 }, 1_000_000)).toEqual({ untilMs: 1_027_000, final: true });
    expect(planningReadsDeadline({ scheduledTimestampMs: 1_000_000, scheduleToCloseTimeoutMs: 0 }, 2_000_000)).toEqual({ untilMs: 2_000_000, final: false });
  });
});

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
import { createPlanActivities } from '../../activities/plan.js';
import type { ActivityDeps } from '../../activities/deps.js';
import type { EvacuationInput } from '../../domain/evacuation.js';
import { planEvacuation } from '../../domain/planner.js';
import { jobKey, type FleetJob, type FlinkDeploymentManifest } from '../../domain/types.js';
import type { StoredPlan } from '../../platform/ports.js';
import { PlatformError } from '../../platform/errors.js';
import { catalog, hotJob, job, tiersPolicy } from './fixtures/fleet.js';

const INPUT: EvacuationInput = { evacuationId: 'cost', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', triggeredAtMs: Date.now(), forceStaleCatalog: true };

describe('planning at the trigger: lookups beside the renders', () => {
  it('renders start before the reads are all answered, lookups before the renders are all done; promotions are neither rendered nor looked up', async () => {
    const redeploys = Array.from({ length: 60 }, (_, i) => job(`agg-${String(i).padStart(2, '0')}`));
    const promoted = hotJob('orders-hot');
    const cat = catalog([promoted, ...redeploys]);
    /** Every call, in order: `render <name>`, `lookup <name>` or `read <what>` (when it is answered). */
    const calls: string[] = [];
    let stored: StoredPlan | undefined;
    const answered = async <T>(what: string, value: T): Promise<T> => {
      await Promise.resolve();
      calls.push(`read ${what}`);
      return value;
    };
    const deps = {
      cluster: {
        capacity: async () => answered('capacity', { cores: 1_000, memoryMiB: 4_000_000 }),
        getDeployment: async (az: string, namespace: string, name: string) => answered(`standby ${name}`, { az, namespace, name, generation: 1, specState: 'running', lifecycleState: 'STABLE' }),
        checkObjects: async (_az: string, namespace: string) => answered(`namespace ${namespace}`, { namespaceExists: true, missing: [], unchecked: [] }),
      },
      objects: {
        hasArtifact: async (_az: string, jar: { key: string }) => answered(`jar ${jar.key}`, true),
        findSnapshot: async (_az: string, owner: { name: string }) => {
          calls.push(`lookup ${owner.name}`);
          throw new Error('no snapshot store in this test');
        },
      },
      catalogs: { latest: async () => cat, get: async () => cat, put: async () => undefined },
      evacuations: { putPlan: async (_id: string, p: StoredPlan) => { stored = p; } },
      reports: { refOf: (name: string) => name, read: async () => { throw new PlatformError('not-found', 'no samples', false); }, put: async (name: string) => name },
      loadTiers: async () => tiersPolicy(),
      validateManifest: (m: FlinkDeploymentManifest) => {
        calls.push(`render ${m.metadata.name}`);
        return { ok: true };
      },
      preloadConcurrency: 4,
    } as unknown as ActivityDeps;
    const env = new MockActivityEnvironment({ activityType: 'planEvacuation', workflowType: 'evacuateAz', scheduledTimestampMs: Date.now(), scheduleToCloseTimeoutMs: 120_000 });
    await env.run(createPlanActivities(deps).planEvacuation, INPUT);

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

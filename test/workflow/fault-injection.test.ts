/**
 * Fault injection, reduced form (docs/guarantees.md; the larger fleet runs in
 * fault-injection.slow.test.ts): one small seeded fleet evacuated out of a down az-a under
 * each kind of fault once, on the real Temporal dev server, worker processes and simulator.
 * Every scenario checks guarantees 1–3 (exactly one outcome per job, no job RUNNING in two
 * AZs, nothing applied twice) and records a row of the fault table of docs/guarantees.md.
 * The other points of the same rows (worker killed at 25 % and 90 %, 30 % of the API calls
 * failing, the target API down 30 s) and the fault-free baseline run in the slow lane only
 * (fault-injection.slow.test.ts, 300 jobs), with the same checks: the 30 % row spent ~50 s more
 * wall time here than the 10 % one on its 2 s hangs and 1 s Retry-Afters, and fault-free
 * evacuations run in every other file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKey } from '../../domain/types.js';
import { EvacuationHarness, SOURCE_AZ, reportKey, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { SMALL_FLEET, apiFailures, runScenario, targetApiDown, temporalRestarted, workerKilled } from '../setup/fault-scenarios.js';

const fleet = SMALL_FLEET;
/** No baseline in the default suite (its row is the slow lane's): the rows record none. */
const baselineSeconds = undefined;

describe('evacuation under faults (reduced)', { timeout: 300_000 }, () => {
  it('worker SIGKILLed at half of the jobs and restarted 3 s later: the new worker finishes', async () => {
    await workflowBundle();
    const { report } = await workerKilled(fleet, 0.5, 3_000, baselineSeconds);
    expect(report.success).toBe(true);
  });

  it('two workers on the task queue, one SIGKILLed at half: the other finishes', async () => {
    const { report } = await workerKilled(fleet, 0.5, 0, baselineSeconds, true);
    expect(report.success).toBe(true);
  });

  it('10 % of the platform API calls fail (503, 429 + Retry-After, 504 after a hang): every job still moves', async () => {
    await apiFailures(fleet, 0.1, baselineSeconds);
  });

  // 10 s spans five retries of a job step (500 ms doubling, activities/job-batch.ts); the slow lane holds it 30 s.
  it("the target AZ's API answers 503 for 10 s wall mid-evacuation: steps retry through it", async () => {
    await targetApiDown(fleet, 0.3, 10_000, baselineSeconds);
  });

  it('a job that never becomes RUNNING fails at its start-up deadline (timeout + its restore share), named in the report; the others move', async () => {
    let victim = '';
    await runScenario(fleet, { fault: 'one job never RUNNING', when: 'from its deploy', baselineSeconds }, {
      before: async (h) => {
        const job = h.fleet.jobs.filter((j) => j.az === SOURCE_AZ && j.tier === 'P2').sort((a, b) => a.resources.cores - b.resources.cores)[0]!;
        victim = jobKey(job);
        await h.sim.client.setFaults({ neverRunning: [victim] });
      },
      check: async ({ report }) => {
        const line = report.jobs.find((j) => reportKey(j) === victim)!;
        expect(line.outcome).toBe('failed');
        expect(line.reason).toMatch(/StartupTimeout/);
        expect(line.reason).toContain(victim);
        // Its deadline: the tier's start-up timeout plus its restore at its share of az-b's store, named in the reason and on its line.
        const deadline = line.startupDeadline!;
        expect(deadline.seconds).toBe(deadline.timeoutSeconds + (deadline.capacitySeconds ?? 0) + deadline.restoreSeconds + deadline.checkpointSeconds);
        expect(deadline.restoreSeconds).toBeGreaterThan(0);
        expect(line.reason).toContain(`within ${deadline.seconds.toFixed(0)}s of its apply (${deadline.why})`);
        const others = report.jobs.filter((j) => reportKey(j) !== victim && j.tier !== 'P3');
        expect(others.length).toBeGreaterThan(10);
        expect(others.filter((j) => j.outcome !== 'running')).toEqual([]);
      },
    });
  });

  it('the Temporal dev server stopped mid-evacuation and restarted on its SQLite file: the evacuation finishes', async () => {
    const { report } = await temporalRestarted(fleet, 0.4, 5_000, baselineSeconds);
    expect(report.success).toBe(true);
  });
});

describe('catalog older than the RPO, or missing', { timeout: 120_000 }, () => {
  // One stack for both cases, in this order: no catalog is synced before the first.
  let h: EvacuationHarness;
  const ids: string[] = [];
  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 30, seed: 5, timeScale: 100 });
  });
  afterAll(async () => {
    await h?.close(ids);
  });

  it('an evacuation without any catalog refuses to start, saying how to sync', async () => {
    const id = `evac-nocatalog-${Date.now()}`;
    ids.push(id);
    await h.sim.client.setAzDown(SOURCE_AZ, true);
    await h.start(id, { forceStaleCatalog: true });
    const err = await h.client.result(id).then(() => undefined, (e: unknown) => e as Error);
    expect(messageChain(err)).toMatch(/no fleet catalog has been synced yet.*Fix: run `az-evac catalog sync`/s);
    await h.sim.client.setAzDown(SOURCE_AZ, false);
  });

  it('an emergency evacuation refuses a stale catalog, saying age, RPO, version and how to sync; --force-stale-catalog goes ahead', async () => {
    const synced = await h.client.syncCatalog();
    await h.sim.client.setAzDown(SOURCE_AZ, true);
    // P0's RPO is 300 model seconds = 3 s wall at time scale 100: wait until the catalog is older.
    const staleAtMs = Date.parse(synced.takenAt) + 3_000;
    await waitFor('the catalog older than the P0 RPO', async () => (Date.now() > staleAtMs + 200 ? true : undefined), 30_000, 100);
    const refused = `evac-stale-${Date.now()}`;
    ids.push(refused);
    await h.start(refused);
    const err = await h.client.result(refused).then(() => undefined, (e: unknown) => e as Error);
    const message = messageChain(err);
    expect(message).toMatch(/StaleCatalog|emergency evacuation refused/);
    expect(message).toMatch(/catalog v1 was taken at \S+, \d+s ago: older than the P0 RPO of 3s \(300s on a simulated platform at time scale 100\)/);
    expect(message).toContain('az-evac catalog sync');
    expect(message).toContain('--force-stale-catalog');
    // Refused before acting: nothing was applied in az-b.
    const counters = (await h.sim.client.stats({ az: 'az-b' })).counters['az-b'] ?? {};
    expect(Object.values(counters).filter((c) => c.created + c.specChanges > 0)).toEqual([]);

    const forced = `evac-stale-forced-${Date.now()}`;
    ids.push(forced);
    await h.start(forced, { forceStaleCatalog: true });
    const { report } = await h.finish(forced);
    expect(report.findings.find((f) => f.code === 'catalog-stale')?.message).toMatch(/forced by vitest/);
    expect(report.jobs.filter((j) => j.tier !== 'P3' && j.outcome === 'running').length).toBeGreaterThan(5);
  });
});

/** An error's message and its causes' (a failed workflow's cause holds the activity's). */
function messageChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 6; e = e.cause) parts.push(e.message);
  return parts.join(': ');
}

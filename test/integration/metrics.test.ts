/**
 * /metrics on the real processes: a worker process (worker/main.ts) on the simulator and
 * the dev server evacuates a small fleet; its /metrics then counts that run, its jobs by
 * tier and outcome and its tier RTOs exactly as the report does; the Temporal SDK's own
 * exporter answers on AZ_EVAC_TEMPORAL_METRICS_ADDRESS; the console serves its /metrics
 * without sign-in; the next plan's predicted RTO measures its rates from that run's jobs. Protection behind (a job's savepoints keep failing, before any trigger): the
 * plan, its `unprotected` finding and the worker's /metrics name that job, with the reason; then
 * `az-evac protect run` runs a protection pass on the simulator (savepoints through its operator,
 * timed by its platform model): the failing job is reported with the operator's reason (exit 1),
 * /metrics counts the pass, the next plan's reason carries the operator's, and `protect status`
 * shows it all. The same worker's stdout is its log stream (JSON lines at AZ_EVAC_LOG_LEVEL
 * info): the activities' lines carry the evacuation id, job, tier and attempt, the workflows'
 * lines theirs, with the Temporal SDK's lines in the same stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../console/start.js';
import { freePort, startWorkerProcess, type Started } from '../../launchers/local-processes.js';
import { EvacuationHarness, SOURCE_AZ, TARGET_AZ, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes.js';
import { planText } from '../../cli/plan-text.js';
import { tierRpoNow } from '../../domain/rpo-now.js';
import { sample } from '../setup/prometheus-text.js';
import { runCli } from '../../cli/program.js';
import { EXIT } from '../../cli/exit-codes.js';
import type { ProtectionPassResult, ProtectionStatus } from '../../workflows/protect.js';


const scrape = async (url: string): Promise<string> => {
  const r = await fetch(url);
  expect(r.status, url).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
};

describe('Prometheus /metrics of the worker and the console', { timeout: 120_000 }, () => {
  let h: EvacuationHarness;
  let worker: Started | undefined;
  let console: RunningConsole | undefined;
  const ids: string[] = [];
  let healthUrl = '';
  let sdkUrl = '';
  let output = '';

  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 30, seed: 14, timeScale: 100, worker: 'none', tiers: { P0: { rpoSeconds: 1200 } } });
    const [healthPort, sdkPort] = [await freePort(), await freePort()];
    healthUrl = `http://127.0.0.1:${healthPort}`;
    sdkUrl = `http://127.0.0.1:${sdkPort}/metrics`;
    worker = await startWorkerProcess({ ...h.workerEnv(), AZ_EVAC_WORKER_HEALTH_PORT: String(healthPort), AZ_EVAC_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`, AZ_EVAC_LOG_LEVEL: 'info' }, (text) => { output += text; });
  });
  afterAll(async () => {
    await console?.close();
    await worker?.stop();
    await h?.close(ids);
  });

  it("counts the evacuation its activities ran, as the report does; the SDK's exporter answers", async () => {
    const before = await scrape(`${healthUrl}/metrics`);
    // The observer works before the run: the metric is declared, with no run counted yet.
    expect(before).toContain('# TYPE az_evac_evacuations_total counter');
    expect(before).toContain('# TYPE az_evac_platform_api_errors_total counter');
    expect(sample(before, 'az_evac_evacuations_total', { mode: 'emergency' })).toBeUndefined();

    await h.prepareEmergency();
    const id = `metrics-${Date.now()}`;
    ids.push(id);
    await h.start(id);
    const { result, report } = await h.finish(id);
    expect(result.success).toBe(true);

    const text = await scrape(`${healthUrl}/metrics`);
    expect(sample(text, 'az_evac_evacuations_total', { mode: 'emergency', outcome: 'success' })).toBe(1);
    expect(sample(text, 'az_evac_catalog_syncs_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'az_evac_catalog_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 120);
    for (const t of report.tiers) {
      for (const outcome of ['running', 'failed', 'skipped'] as const) {
        const expected = report.jobs.filter((j) => j.tier === t.tier && j.outcome === outcome).length;
        expect(sample(text, 'az_evac_jobs_total', { tier: t.tier, mode: 'emergency', outcome }) ?? 0, `${t.tier} ${outcome}`).toBe(expected);
      }
      if (t.rtoSeconds !== null) expect(sample(text, 'az_evac_tier_rto_seconds', { tier: t.tier, mode: 'emergency' })).toBe(t.rtoSeconds);
      expect(sample(text, 'az_evac_tier_rto_target_seconds', { tier: t.tier, mode: 'emergency' })).toBe(t.rtoTargetSeconds);
    }
    const plan = (await h.plan(id)).plan;
    const blocking = plan.findings.filter((f) => f.blocking).length;
    const recorded = text.split('\n').filter((l) => l.startsWith('az_evac_readiness_findings{') && l.includes('blocking="true"')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    expect(recorded).toBe(blocking);
    // The worst RPO each tier would pay now and its unprotected jobs, per the plan's snapshot lookups.
    const rpoNow = tierRpoNow(plan.protection?.jobs ?? []);
    expect(rpoNow.length).toBeGreaterThan(0);
    for (const t of rpoNow) {
      expect(sample(text, 'az_evac_tier_snapshot_age_seconds', { tier: t.tier }), t.tier).toBe(t.worstAgeSeconds ?? undefined);
      expect(sample(text, 'az_evac_unprotected_jobs', { tier: t.tier }), t.tier).toBe(t.unprotected);
    }

    // Jar preload bytes: what the run's preload calls copied, as its progress counts them.
    const done = await h.client.progress(id);
    expect(done.preload.state).toBe('done');
    expect(sample(text, 'az_evac_jar_preload_bytes_total') ?? 0).toBe(done.preload.bytesDone);

    // The Temporal SDK's own metrics (task latencies, polls) on their own address.
    const sdk = await (await fetch(sdkUrl)).text();
    expect(sdk).toMatch(/^temporal_\w+/m);

    // The run's jobs became the predicted RTO's samples: the next plan measures its rates from
    // them (the run planned above, before any, used the documented defaults).
    expect(plan.rto?.rates.startupFrom).toEqual({ from: 'default' });
    const previewId = `metrics-preview-${Date.now()}`;
    await h.client.syncCatalog(); // within the tightest RPO again (az-a's jobs carried over)
    await h.client.planPreview(h.request(), previewId);
    const next = (await h.state.evacuations.getPlan(previewId)).plan;
    expect(next.rto?.rates.startupFrom).toMatchObject({ from: 'measured', jobs: expect.any(Number) });
  });

  it("the worker's stdout is one stream of JSON lines: activity lines with evacuation id, job, tier and attempt, workflow lines, the SDK's", async () => {
    const [id] = ids;
    expect(id).toBeDefined();
    const lines = (): Record<string, unknown>[] => output.split('\n').filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    // The worker's stdout reaches this process after the result may have: wait for the last line
    // (the workflow's, through the SDK's sinks once its activation is done); the lines before it are in by then.
    const ended = await waitFor('the workflow line of the evacuation end', async () => lines().find((l) => l.msg === 'evacuation ended' && l.evacuationId === id));
    expect(ended).toMatchObject({ sdkComponent: 'workflow', workflowType: 'evacuateAz', phase: 'done', success: true });
    const started = lines().filter((l) => l.msg === 'start step' && l.evacuationId === id);
    expect(started.length).toBeGreaterThan(0);
    expect(started[0]).toMatchObject({ name: 'az-evac-worker', level: 30, activityType: 'startJobs', attempt: 1, sdkComponent: 'activity', job: expect.stringMatching(/^[\w-]+\/[\w-]+$/), tier: expect.stringMatching(/^P[0-3]$/) });
    expect(started[0]).not.toHaveProperty('taskToken');
    expect(lines().filter((l) => l.msg === 'running' && l.evacuationId === id && ['startJobs', 'awaitJobsRunning'].includes(String(l.activityType))).length).toBeGreaterThan(0);
    expect(lines().some((l) => l.msg === 'report written' && l.evacuationId === id && l.success === true)).toBe(true);
    expect(lines().some((l) => l.msg === 'job running' && l.evacuationId === id && l.workflowType === 'evacuateTierShard')).toBe(true);
    // The SDK's own lines (worker lifecycle) are in the same stream.
    expect(lines().some((l) => l.sdkComponent === 'worker')).toBe(true);
  });

  it('the console serves /metrics without sign-in, counting its requests', async () => {
    console = await startConsole({ ...h.settings, consolePort: 0, consoleHost: '127.0.0.1', consoleTokens: 'olga:operator:0123456789abcdef0123' });
    expect((await fetch(`${console.url}healthz`)).status).toBe(200);
    const text = await scrape(`${console.url}metrics`);
    expect(sample(text, 'az_evac_console_requests_total', { method: 'GET', route: '/healthz', status: '200' })).toBe(1);
    expect(text).toContain('az_evac_console_process_cpu_seconds_total');
  });
});

describe('protection behind, before any trigger', { timeout: 120_000 }, () => {
  let h: EvacuationHarness;
  let worker: Started | undefined;
  let healthUrl = '';

  beforeAll(async () => {
    await workflowBundle();
    // Per-AZ buckets: only savepoints restore in the other AZ. The fleet's periodic savepoints come
    // every 30 model minutes, so a 45-minute RPO holds for every job whose savepoints succeed
    // (P1 and P2 are protected by tiers.yaml; P0's RPO also bounds the catalog's age an emergency plan accepts).
    // Refresh at 5 % of the RPO (135 s): a job whose other AZ is past that is due a savepoint
    // unless its own newest savepoint is under 135 s old, so in the replication outage below
    // az-a's jobs stay due (their own periodic savepoint is younger than that 7.5 % of its
    // 30-minute cycle) and the pass has savepoints to take whenever its shards assess.
    h = await EvacuationHarness.start({
      jobs: 12, seed: 15, timeScale: 300, worker: 'none', layout: 'per-az-buckets',
      tiers: { P0: { rpoSeconds: 2700 }, P1: { rpoSeconds: 2700 }, P2: { rpoSeconds: 2700 } }, protection: { refreshAtRpoFraction: 0.05 },
    });
    const healthPort = await freePort();
    healthUrl = `http://127.0.0.1:${healthPort}`;
    worker = await startWorkerProcess({ ...h.workerEnv(), AZ_EVAC_WORKER_HEALTH_PORT: String(healthPort) }, () => {});
  });
  afterAll(async () => {
    await worker?.stop();
    await h?.close();
  });

  it("a job whose savepoints keep failing: the plan, its 'unprotected' finding and /metrics show it unprotected with the reason; every other job protected", async () => {
    const failing = h.fleet.jobs.find((j) => j.az === SOURCE_AZ && j.tier === 'P2');
    expect(failing, 'a P2 job in az-a').toBeDefined();
    const key = `${failing!.namespace}/${failing!.name}`;
    await h.sim.client.setFaults({ failSavepoint: [key] });
    // Its newest savepoint (seeded 10 model minutes before the load) passes the RPO 35 model minutes later.
    const stored = await waitFor(`${key} unprotected in a plan preview`, async () => {
      const id = `plan-protection-${Date.now()}`;
      await h.client.syncCatalog(); // as the catalog sync Schedule does: an emergency plan refuses a catalog older than the P0 RPO
      await h.client.planPreview(h.request(), id);
      const got = await h.state.evacuations.getPlan(id);
      return got.plan.protection?.jobs.find((j) => j.job === key)?.state === 'unprotected' ? got : undefined;
    });
    const plan = stored.plan;
    const covered = stored.policy.protection?.tiers ?? [];
    expect(covered).toEqual(['P1', 'P2']); // tiers.yaml
    const assessed = plan.protection!.jobs;
    expect(plan.protection!.notLookedUp).toEqual([]);
    const mine = assessed.find((j) => j.job === key)!;
    const tier = mine.tier; // P2, or higher when lineage lifts it for a consumer
    expect(mine.reason).toMatch(/^az-b: newest restorable savepoint s3:\/\/\S+ is \d+ s old, beyond the RPO of 9 s$/);
    // Every other job of a protected tier is protected; the others are not required to be.
    const others = assessed.filter((j) => j.job !== key);
    expect(others.map((j) => [j.job, j.state])).toEqual(others.map((j) => [j.job, covered.includes(j.tier) ? 'protected' : 'not-required']));
    expect(others.filter((j) => j.state === 'protected').length).toBeGreaterThan(0);

    const findings = plan.findings.filter((f) => f.code === 'unprotected');
    expect(findings).toEqual([expect.objectContaining({ job: key, blocking: false, message: expect.stringContaining(mine.reason!) })]);
    const text = planText(plan);
    expect(text).toMatch(new RegExp(`${tier} .*UNPROTECTED \\(1\\)`));
    expect(text).toContain(`unprotected ${key}: ${key} (${tier}) is unprotected: no restorable snapshot within its 9 s RPO: ${mine.reason}`);

    const metrics = await scrape(`${healthUrl}/metrics`);
    expect(sample(metrics, 'az_evac_unprotected_jobs', { tier })).toBe(1);
    for (const t of tierRpoNow(assessed).filter((x) => x.tier !== tier)) expect(sample(metrics, 'az_evac_unprotected_jobs', { tier: t.tier }), t.tier).toBe(0);
    expect(sample(metrics, 'az_evac_readiness_findings', { code: 'unprotected', blocking: 'false' })).toBe(1);
    for (const t of tierRpoNow(assessed)) {
      if (t.worstAgeSeconds !== null) expect(sample(metrics, 'az_evac_tier_snapshot_age_seconds', { tier: t.tier }), t.tier).toBe(t.worstAgeSeconds);
    }
  });

  it("`az-evac protect run` on the simulator: savepoints of the due jobs, the failing one reported with the operator's reason (exit 1); /metrics counts the pass; the next plan and `protect status` carry that reason", async () => {
    const failing = h.fleet.jobs.find((j) => j.az === SOURCE_AZ && j.tier === 'P2')!;
    const key = `${failing.namespace}/${failing.name}`;
    const cli = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
      const r = { code: -1, out: '', err: '' };
      r.code = await runCli(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, env: { ...process.env, ...h.workerEnv() }, interactive: false, ask: async () => '' });
      return r;
    };
    // A replication outage az-a → az-b: az-a's jobs' newest restorable snapshots in az-b age past the refresh point.
    await h.sim.client.setReplicationDown(SOURCE_AZ, 'az-b', true);
    const outaged = new Set(h.fleet.jobs.filter((j) => j.az === SOURCE_AZ).map((j) => `${j.namespace}/${j.name}`));
    await waitFor('a job of az-a besides the failing one unprotected toward az-b', async () =>
      ((await h.client.protectionStatus()).unprotected.some((u) => u.job !== key && outaged.has(u.job)) ? true : undefined));
    const run = await cli(['protect', 'run', '--json']);
    await h.sim.client.setReplicationDown(SOURCE_AZ, 'az-b', false);
    expect(run.code, run.err).toBe(EXIT.failed);
    const pass = JSON.parse(run.out) as ProtectionPassResult;
    expect(run.err).toMatch(/^protect: pass az-evac-protection-\d+ started$/m);
    expect(pass.before.unprotected).toBeGreaterThanOrEqual(1);
    // Every job due a savepoint got one through the simulated operator, but the one whose savepoints fail.
    expect(pass.savepoints.length).toBeGreaterThanOrEqual(1);
    expect(pass.savepoints.map((s) => s.job)).not.toContain(key);
    for (const s of pass.savepoints) expect(s.path, s.job).toMatch(/^s3:\/\/\S+\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(pass.shipped).toEqual([]); // the stores replicate: protection waits for replication
    expect(pass.failures).toEqual([{ job: key, step: 'savepoint', reason: expect.stringMatching(new RegExp(`^${key}: savepoint failed: operator: FlinkStateSnapshot ${failing.namespace}/${failing.name}-az-evac-\\d+ FAILED after 1 attempt\\(s\\): `)) }]);
    // The pass ran its jobs in shard children (workflows/protect-shard.ts: one AZ and tier, at most 50 jobs each), each finished with a small history.
    const passId = /^protect: pass (\S+) started$/m.exec(run.err)![1]!;
    expect(pass.totals).toMatchObject({ jobs: pass.before.jobs, savepoints: pass.savepoints.length, failures: 1 });
    expect(pass.totals!.shards).toBeGreaterThan(1);
    for (let k = 0; k < pass.totals!.shards; k++) {
      const shard = await h.temporal.workflow.getHandle(`${passId}/shard/${k}`).describe();
      expect(shard.status.name, `shard ${k}`).toBe('COMPLETED');
      expect(shard.historyLength, `shard ${k}`).toBeLessThan(450);
    }

    const metrics = await scrape(`${healthUrl}/metrics`);
    expect(sample(metrics, 'az_evac_protection_passes_total')).toBe(1);
    expect(sample(metrics, 'az_evac_protection_savepoints_total', { outcome: 'taken' })).toBe(pass.savepoints.length);
    expect(sample(metrics, 'az_evac_protection_savepoints_total', { outcome: 'failed' })).toBe(1);
    expect(sample(metrics, 'az_evac_protection_pass_duration_seconds')).toBeGreaterThan(0);
    // The RPO-now gauges follow the pass's own assessment of the whole fleet.
    const unprotectedGauge = metrics.split('\n').filter((l) => l.startsWith('az_evac_unprotected_jobs{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    expect(unprotectedGauge).toBe(pass.before.unprotected);

    const id = `plan-protection-after-pass-${Date.now()}`;
    await h.client.syncCatalog();
    await h.client.planPreview(h.request(), id);
    const mine = (await h.state.evacuations.getPlan(id)).plan.protection!.jobs.find((j) => j.job === key)!;
    expect(mine.state).toBe('unprotected');
    // The Temporal UI finds the plan preview, the protection pass with its shards and the catalog
    // syncs by their typed search attributes (workflows/search-attributes.ts).
    const k = SEARCH_ATTRIBUTE_KEYS;
    const tags = (d: { typedSearchAttributes: { get: (key: (typeof k)[keyof typeof k]) => unknown } }) =>
      [k.kind, k.run, k.mode, k.sourceAz, k.targetAz].map((x) => d.typedSearchAttributes.get(x));
    expect(tags(await h.temporal.workflow.getHandle(id).describe())).toEqual(['plan', id, 'emergency', SOURCE_AZ, TARGET_AZ]);
    expect(tags(await h.temporal.workflow.getHandle(passId).describe())).toEqual(['protection', undefined, undefined, undefined, undefined]);
    expect(tags(await h.temporal.workflow.getHandle(`${passId}/shard/0`).describe())).toEqual(['protection', undefined, undefined, undefined, undefined]);
    const syncs = await waitFor('the catalog syncs listed by AzEvacKind', async () => {
      const found: string[] = [];
      for await (const w of h.temporal.workflow.list({ query: `AzEvacKind = 'catalog-sync' AND ExecutionStatus = 'Completed'` })) found.push(w.workflowId);
      return found.length >= 2 ? found : undefined;
    });
    for (const s of syncs) expect(s).toMatch(/^az-evac-catalog-sync-\d+$/);
    // The outage over, replication delivered the pass's savepoints: every other job of az-a is protected again.
    const caughtUp = await waitFor('every other job protected after the outage', async () => {
      const pid = `plan-protection-caught-up-${Date.now()}`;
      await h.client.syncCatalog();
      await h.client.planPreview(h.request(), pid);
      const jobs = (await h.state.evacuations.getPlan(pid)).plan.protection!.jobs;
      return jobs.every((j) => j.job === key || j.state !== 'unprotected') ? jobs : undefined;
    });
    expect(caughtUp.filter((j) => j.state === 'unprotected').map((j) => j.job)).toEqual([key]);
    expect(mine.reason).toMatch(/; last savepoint failed \d+ s ago: \S+: savepoint failed: operator: FlinkStateSnapshot \S+ FAILED after 1 attempt\(s\): /);

    const st = await cli(['protect', 'status', '--json']);
    expect(st.code, st.err).toBe(EXIT.ok);
    const status = JSON.parse(st.out) as ProtectionStatus;
    expect(status.lastPass).toMatchObject({ savepoints: pass.savepoints.length, failures: pass.failures });
    expect(status.unprotected.find((u) => u.job === key)?.reason).toContain('FAILED after 1 attempt(s)');
    expect(status.tiers.map((t) => t.tier).length).toBeGreaterThan(0);
    // `protect status` is an assessment of every job toward every other AZ: /metrics now shows
    // its RPO now per tier, not the plans' (the last ones saw az-a's jobs toward az-b, earlier).
    const afterStatus = await scrape(`${healthUrl}/metrics`);
    for (const t of status.tiers) {
      expect(sample(afterStatus, 'az_evac_unprotected_jobs', { tier: t.tier }), t.tier).toBe(t.unprotected);
      if (t.worstAgeSeconds !== null) expect(sample(afterStatus, 'az_evac_tier_snapshot_age_seconds', { tier: t.tier }), t.tier).toBe(t.worstAgeSeconds);
    }
    const text = await cli(['protect', 'status']);
    expect(text.out).toContain(`${key} (`);
    expect(text.out).toMatch(/Last pass: ended \d+ s ago/);
  });
});

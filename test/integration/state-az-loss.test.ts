/**
 * The worker's own AZ fails mid-evacuation and takes its state replica with it: the S3 state
 * store (AZ_EVAC_STATE_STORE=s3) replicates to one versitygw per AZ; once a third of the jobs
 * are done, the worker process is SIGKILLed and az-a's versitygw (its state bucket) stopped.
 * A new worker process "in az-b" starts on the same settings (its start check names the
 * unwritable az-a replica and goes on), finishes the evacuation from the replicated state,
 * and the report, plan and outcomes are all in az-b's bucket. Real dev server, real simulator.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordsKey } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { startS3Server, startWorkerProcess, type Started, type StartedS3 } from '../../launchers/local-processes.js';
import { S3Clients } from '../../platform/s3/clients.js';
import { EvacuationHarness, workflowBundle } from '../setup/evacuation-harness.js';
import { KILL_HEARTBEAT_TIMEOUTS, SMALL_FLEET, reached } from '../setup/fault-scenarios.js';
import { guaranteeProblems, outcomeCounts } from '../setup/guarantees.js';
import { createBuckets } from '../setup/s3.js';

const BUCKETS = { 'az-a': 'az-evac-state-a', 'az-b': 'az-evac-state-b' } as const;
const PREFIX = 'az-evac/';

describe('S3 state store: the worker\'s AZ and its state replica fail mid-evacuation', () => {
  const credentials = { accessKeyId: `azevac${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(18).toString('hex') };
  let root: string;
  const servers: Partial<Record<'az-a' | 'az-b', StartedS3>> = {};
  let clients: S3Clients;
  let h: EvacuationHarness | undefined;
  const workers: Started[] = [];
  const id = `state-az-loss-${Date.now() % 1e9}`;

  beforeAll(async () => {
    await workflowBundle();
    root = await mkdtemp(join(tmpdir(), 'az-evac-state-loss-'));
    for (const az of ['az-a', 'az-b'] as const) servers[az] = await startS3Server({ rootDir: join(root, az), credentials });
    clients = new S3Clients({ ...credentials, region: 'us-east-1', checksums: 'sdk-default', retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 100 }, maxSockets: 8 });
    for (const az of ['az-a', 'az-b'] as const) await createBuckets(clients.client(servers[az]!.endpoint), BUCKETS[az]);
  }, 600_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await h?.close([id]);
    clients?.destroy();
    for (const s of Object.values(servers)) await s?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a new worker in az-b finishes the evacuation from the replicated state', async () => {
    const endpoints = { 'az-a': servers['az-a']!.endpoint, 'az-b': servers['az-b']!.endpoint };
    h = await EvacuationHarness.start({
      jobs: SMALL_FLEET.jobs, seed: SMALL_FLEET.seed, timeScale: SMALL_FLEET.timeScale, tiers: SMALL_FLEET.tiers, worker: 'none',
      // The killed worker's steps are retried once their heartbeat timeout passes (tiers.yaml, as in the worker-kill rows).
      heartbeatTimeoutSeconds: KILL_HEARTBEAT_TIMEOUTS,
      s3: { endpoints, ...credentials },
      env: {
        AZ_EVAC_STATE_STORE: 's3', AZ_EVAC_STATE_BUCKETS: `az-a=${BUCKETS['az-a']},az-b=${BUCKETS['az-b']}`, AZ_EVAC_STATE_PREFIX: PREFIX,
        AZ_EVAC_STATE_TIMEOUT_MS: '2000', AZ_EVAC_STATE_REPLICA_BACKOFF_SECONDS: '5',
      },
    });
    let firstOut = '';
    workers.push(await startWorkerProcess(h.workerEnv(), (t) => { firstOut += t; }));
    await h.prepareEmergency();
    await h.start(id);
    const ended = new AbortController();
    const atLoss = await reached(h, id, 0.3, ended.signal);

    // az-a is gone: the worker running there, and its state replica.
    const tLoss = Date.now();
    const victim = workers[0]!.child;
    const exited = new Promise((r) => victim.once('exit', (_code, signal) => r(signal)));
    victim.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await servers['az-a']!.stop();

    let secondOut = '';
    workers.push(await startWorkerProcess(h.workerEnv(), (t) => { secondOut += t; }));
    const tSecond = Date.now();
    expect(secondOut).toMatch(/az-evac state store: az-a cannot be written .*continuing with the other AZs/);

    const { result, report } = await h.finish(id);
    const tDone = Date.now();
    expect(result.phase).toBe('done');
    expect(await guaranteeProblems(h, id, report, false)).toEqual([]);
    const counts = outcomeCounts(report);
    // Jobs finished after the loss, so the second worker did real work from the replicated plan.
    const doneAtLoss = atLoss.tiers.reduce((n, t) => n + t.succeeded + t.failed + t.skipped, 0);
    expect(counts.running + counts.failed + counts.skipped).toBeGreaterThan(doneAtLoss);
    expect(firstOut).not.toMatch(/cannot be written/);

    // Everything of the run is in az-b's bucket: plan, outcomes of every admitted job, the report.
    const b = clients.client(servers['az-b']!.endpoint);
    const list = async (prefix: string): Promise<string[]> => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await b.send(new ListObjectsV2Command({ Bucket: BUCKETS['az-b'], Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    };
    const run = `${PREFIX}runs/${encodeURIComponent(recordsKey(report))}/`;
    const keys = await list(run);
    expect(keys).toContain(`${run}plan.json`);
    expect(keys.filter((k) => k.startsWith(`${run}outcomes/`)).length).toBeGreaterThan(0);
    expect(await list(`${PREFIX}reports/${encodeURIComponent(`${recordsKey(report)}.report.json`)}`)).toHaveLength(1);
    const outcomes = await h.state.evacuations.listOutcomes(recordsKey(report));
    const plan = await h.plan(id);
    expect(outcomes.map((o) => o.key).sort()).toEqual(plan.plan.admitted.map((p) => p.key).sort());
    const stored = JSON.parse(await h.state.reports.read(result.reportFile)) as EvacuationReport;
    expect(stored.jobs).toHaveLength(report.jobs.length);

    console.log(`[state-az-loss] ${report.jobs.length} jobs, ${doneAtLoss} done at the loss; second worker ready ${((tSecond - tLoss) / 1000).toFixed(1)} s after it, evacuation done ${((tDone - tLoss) / 1000).toFixed(1)} s after it; outcomes ${JSON.stringify(counts)}`);
  }, 400_000);
});

/**
 * The replicated S3 state store (platform/s3/replicated-state-store.ts) on the real S3
 * servers of the test run (versitygw, one per AZ): newest version wins across replicas, a
 * record one replica lacks is read from another, a write succeeds while one replica answers
 * and is replayed to the other when it answers again (through a fault proxy in front of
 * az-b's server: a process-boundary mock of an outage), and a store no AZ can write stops the
 * worker's start check with the setting and the fix.
 */
import { createServer } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.js';
import type { FenceRecord, JobOutcome } from '../../domain/evacuation.js';
import type { Catalog } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import type { StoredPlan } from '../../platform/ports.js';
import type { PlanForecast } from '../../domain/plan-forecast.js';
import { ReplicatedStateStore, type StateReplica } from '../../platform/s3/replicated-state-store.js';
import { buildStateStores } from '../../platform/state-stores.js';
import { startFaultProxy, type FaultProxy } from '../setup/fault-proxy.js';
import { createBuckets, testClients, testS3, uniqueBucket } from '../setup/s3.js';

const catalog = (version: number): Catalog => ({ version, takenAt: new Date(version).toISOString(), jobs: [], platform: { azs: [] } } as unknown as Catalog);
const outcome = (key: string, endedAtMs: number, kind: JobOutcome['outcome']): JobOutcome =>
  ({ key, name: key, namespace: 'ns', tier: 'P2', strategy: 'redeploy', outcome: kind, steps: {}, startedAtMs: endedAtMs - 1, endedAtMs } as JobOutcome);

/** A port nothing listens on: connections are refused at once, like a stopped S3 server's. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('replicated S3 state store on versitygw', () => {
  const clients = testClients();
  const buckets = { 'az-a': uniqueBucket('state-a'), 'az-b': uniqueBucket('state-b') };
  let a: StateReplica;
  let b: StateReplica;
  let proxy: FaultProxy;
  let bDown = false;
  const problems: string[] = [];
  const store = (replicas: StateReplica[], prefix: string, backoffMs = 60_000): ReplicatedStateStore =>
    new ReplicatedStateStore({ replicas, prefix, requestTimeoutMs: 2000, replicaBackoffMs: backoffMs, onProblem: (l) => problems.push(l) });

  beforeAll(async () => {
    const s3 = testS3();
    a = { az: 'az-a', bucket: buckets['az-a'], client: clients.client(s3.endpoints['az-a']!) };
    b = { az: 'az-b', bucket: buckets['az-b'], client: clients.client(s3.endpoints['az-b']!) };
    await createBuckets(a.client, a.bucket);
    await createBuckets(b.client, b.bucket);
    proxy = await startFaultProxy({
      target: s3.endpoints['az-b']!,
      fault: () => (bDown ? { status: 503, headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>az-b is down</Message></Error>' } : undefined),
    });
  });

  afterAll(async () => {
    await proxy?.close();
    clients.destroy();
  });

  it('keeps every kind of record in both replicas; newest version wins', async () => {
    const s = store([a, b], 'kinds/');
    for (const v of [1, 3, 2]) await s.catalogs.put(catalog(v));
    expect((await s.catalogs.latest())?.version).toBe(3);
    expect((await s.catalogs.get(2)).version).toBe(2);
    const plan = { request: { evacuationId: 'e' }, policy: {}, plan: { admitted: [] } } as unknown as StoredPlan;
    await s.evacuations.putPlan('e@r1', plan);
    await s.evacuations.putOutcomes('e@r1', [outcome('ns/x', 10, 'failed'), outcome('ns/y', 11, 'running')]);
    await s.evacuations.putOutcomes('e@r1', [outcome('ns/x', 20, 'running')]);
    const pending: FenceRecord = { key: 'ns/x', sourceAz: 'az-a', namespace: 'ns', name: 'x', state: 'pending', recordedAtMs: 5 };
    await s.evacuations.putFence('e@r1', pending);
    // Later states win whatever the write order: stopped over requested over pending.
    await s.evacuations.putFence('e@r1', { ...pending, state: 'stopped', suspendGeneration: 3, fencedAtMs: 30 });
    await s.evacuations.putFence('e@r1', { ...pending, state: 'requested', suspendGeneration: 3 });
    await s.evacuations.putFence('e@r1', { ...pending, key: 'ns/y', name: 'y' });
    const ref = await s.reports.put('e@r1.report.json', '{"ok":true}');

    // A fresh store (another host: no cache) reads each replica alone the same.
    for (const only of [[a], [b]]) {
      const r = store(only, 'kinds/');
      expect((await r.catalogs.latest())?.version).toBe(3);
      expect(await r.evacuations.getPlan('e@r1')).toEqual(plan);
      const outs = new Map((await r.evacuations.listOutcomes('e@r1')).map((o) => [o.key, o]));
      expect(outs.get('ns/x')?.outcome).toBe('running');
      expect(outs.size).toBe(2);
      expect((await r.evacuations.listFences('e@r1')).map((f) => `${f.key}:${f.state}`)).toEqual(['ns/x:stopped', 'ns/y:pending']);
      expect(await r.reports.read(ref)).toBe('{"ok":true}');
      await expect(r.evacuations.getPlan('e@other')).rejects.toMatchObject({ code: 'not-found' });
      expect(await r.evacuations.listOutcomes('e@other')).toEqual([]);
    }
  });

  it('merges a plan\'s forecast stored after it into every later read, also on a host that read the plan before', async () => {
    const planner = store([a, b], 'forecast/');
    const otherHost = store([a, b], 'forecast/');
    const plan = { request: { evacuationId: 'e' }, policy: {}, plan: { admitted: [], findings: [{ job: 'ns/x', code: 'no-standby', blocking: false, message: 'm' }] }, pendingForecast: { jarsInCache: ['sha256:1'] } } as unknown as StoredPlan;
    await planner.evacuations.putPlan('e@r1', plan);
    expect(await otherHost.evacuations.getPlan('e@r1')).toEqual(plan); // read (and cached) before the forecast exists
    const forecast = { rto: { jobs: [] }, protection: { jobs: [], notLookedUp: [] }, findings: [{ job: 'ns/x', code: 'unprotected', blocking: false, message: 'u' }] } as unknown as PlanForecast;
    await planner.evacuations.putForecast('e@r1', forecast);
    const merged = { request: plan.request, policy: plan.policy, plan: { ...plan.plan, rto: forecast.rto, protection: forecast.protection, findings: [...plan.plan.findings, ...forecast.findings] } };
    for (const s3 of [planner, otherHost, store([b], 'forecast/')]) expect(await s3.evacuations.getPlan('e@r1')).toEqual(merged);
  });

  it('reads a record one replica lacks from the other, and the newest catalog of either', async () => {
    await store([a], 'split/').catalogs.put(catalog(5));
    await store([b], 'split/').catalogs.put(catalog(4));
    await store([b], 'split/').evacuations.putOutcomes('e@r', [outcome('ns/only-b', 7, 'running')]);
    const both = store([a, b], 'split/');
    expect((await both.catalogs.latest())?.version).toBe(5);
    expect((await both.catalogs.get(4)).version).toBe(4);
    expect((await both.evacuations.listOutcomes('e@r')).map((o) => o.key)).toEqual(['ns/only-b']);
  });

  it('writes while one replica is down, reports it, and replays its missed writes when it answers', async () => {
    const viaProxy: StateReplica = { ...b, client: clients.client(proxy.endpoint) };
    const s = store([a, viaProxy], 'outage/', 300);
    problems.length = 0;
    bDown = true;
    const t0 = performance.now();
    await s.catalogs.put(catalog(7));
    await s.evacuations.putOutcomes('e@r', [outcome('ns/z', 9, 'running')]);
    const writeMs = performance.now() - t0;
    expect(problems.some((l) => /az-b/.test(l) && /kept to replay/.test(l))).toBe(true);
    expect(s.health().find((h) => h.az === 'az-b')).toMatchObject({ missedWrites: 2 });
    expect((await s.catalogs.latest())?.version).toBe(7);
    // Nothing reached az-b itself.
    await expect(b.client.send(new GetObjectCommand({ Bucket: b.bucket, Key: `outage/catalogs/${String(10 ** 15 - 1 - 7).padStart(16, '0')}.json` }))).rejects.toThrow();

    bDown = false;
    await new Promise((r) => setTimeout(r, 350)); // the replica's skip (300 ms) ends
    await s.reports.put('after.json', '{}'); // answers again: the backlog is replayed
    await expect.poll(() => s.health().find((h) => h.az === 'az-b')?.missedWrites, { timeout: 10_000 }).toBe(0);
    const alone = store([b], 'outage/');
    expect((await alone.catalogs.latest())?.version).toBe(7);
    expect((await alone.evacuations.listOutcomes('e@r')).map((o) => o.key)).toEqual(['ns/z']);
    expect(problems.some((l) => /replayed 2 missed write/.test(l))).toBe(true);
    console.log(`[s3-state-store] two writes with az-b answering 503: ${writeMs.toFixed(0)} ms`);
  });

  it('fails a write no replica takes (retryable), and stops the start check naming the setting and the fix', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const s = store([{ az: 'az-a', bucket: 'x', client: clients.client(dead) }], 'dead/');
    const err = await s.catalogs.put(catalog(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'unavailable', retryable: true });
    expect((err as Error).message).toMatch(/no AZ took catalog v1: az-a: .*ECONNREFUSED/);

    const s3 = testS3();
    const env = { AZ_EVAC_STATE_STORE: 's3', AZ_EVAC_STATE_BUCKETS: `az-a=${buckets['az-a']},az-b=${buckets['az-b']}`, AZ_EVAC_S3_ACCESS_KEY: s3.accessKeyId, AZ_EVAC_S3_SECRET_KEY: s3.secretAccessKey };
    const none = buildStateStores(loadSettings({ ...env, AZ_EVAC_S3_ENDPOINTS: `az-a=${dead},az-b=${dead}` }));
    await expect(none.checkWritable()).rejects.toThrow(/the state store cannot be written in any AZ \(AZ_EVAC_STATE_BUCKETS=.*az-a: .*az-b: .*Fix: create the buckets and grant s3:PutObject/);
    none.close();
    const one = buildStateStores(loadSettings({ ...env, AZ_EVAC_S3_ENDPOINTS: `az-a=${s3.endpoints['az-a']},az-b=${dead}` }));
    expect(await one.checkWritable()).toEqual([expect.stringMatching(/az-b cannot be written .*continuing with the other AZs/)]);
    one.close();
    expect(() => buildStateStores(loadSettings({ AZ_EVAC_STATE_STORE: 's3' }))).toThrow(/AZ_EVAC_STATE_STORE=s3 needs AZ_EVAC_STATE_BUCKETS\. Fix:/);
    expect(() => buildStateStores(loadSettings({ ...env, AZ_EVAC_S3_ENDPOINTS: `az-a=${dead}` }))).toThrow(/names az-b, which AZ_EVAC_S3_ENDPOINTS does not\. Fix:/);
    expect(() => buildStateStores(loadSettings({ AZ_EVAC_STATE_STORE: 'etcd' }))).toThrow(/AZ_EVAC_STATE_STORE="etcd" is not a state store\. Fix:/);
  });
});

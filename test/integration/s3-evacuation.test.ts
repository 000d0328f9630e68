/**
 * The demo's evacuation with checkpoints, savepoints and jars on versitygw: the simulator
 * process writes every object through to one S3 server per AZ, the production worker
 * (buildWorker with S3 credentials) lists snapshots and preloads jars over S3, Temporal is
 * the real dev server. Assertions compare the report with what S3 holds.
 */
import { HeadObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvacuationResult } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { readFlinkMetadata } from '../../domain/flink-metadata.js';
import { parseS3Uri } from '../../domain/snapshot-layout.js';
import type { StoredPlan } from '../../platform/ports.js';
import { EvacuationHarness, TARGET_AZ, workflowBundle } from '../setup/evacuation-harness.js';
import { testClients, testS3 } from '../setup/s3.js';

describe('demo evacuation az-a → az-b with checkpoints and jars on versitygw', () => {
  const id = `evac-s3-${Date.now()}`;
  const clients = testClients();
  let h: EvacuationHarness;
  let result: EvacuationResult;
  let report: EvacuationReport;
  let stored: StoredPlan;

  beforeAll(async () => {
    await workflowBundle();
    // P0's RPO of 300 model s is 3 wall s at time scale 100: an emergency refuses a catalog older
    // than that, and taking az-a down first flushes the S3 write-through, which took longer on a
    // loaded machine (StaleCatalog, catalog taken 3 s before the plan). 3,000 model s: 30 wall s.
    h = await EvacuationHarness.start({ jobs: 24, seed: 11, timeScale: 100, s3: testS3(), tiers: { P0: { rpoSeconds: 3000 } } });
    await h.prepareEmergency();
    await h.start(id);
    ({ result, report } = await h.finish(id));
    stored = await h.plan(id);
  }, 300_000); // fleet load through S3 + a whole evacuation; minutes on a shared 2-core machine

  afterAll(async () => {
    clients.destroy();
    await h?.close([id]);
  });

  it('moves every admitted job, restoring from snapshots found in az-b\'s S3 replica', async () => {
    expect(result.phase).toBe('done');
    const failed = report.jobs.filter((j) => j.outcome !== 'running' && j.tier !== 'P3').map((j) => `${j.tier} ${j.name}: ${j.reason ?? j.outcome}`);
    expect(failed).toEqual([]);
    expect(result.success).toBe(true); // every admitted P0–P2 job RUNNING in az-b
    const restored = report.jobs.filter((j) => j.snapshotPath && j.outcome === 'running');
    expect(restored.length).toBeGreaterThan(5);
    const s3 = clients.client(testS3().endpoints[TARGET_AZ]!);
    for (const j of restored) {
      const at = parseS3Uri(j.snapshotPath!)!;
      const meta = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: `${at.key}/_metadata` }));
      const body = readFlinkMetadata(await meta.Body!.transformToByteArray(), { snapshotDir: j.snapshotPath! });
      expect(body.files.length).toBeGreaterThan(0);
    }
  });

  it('preloaded every jar of the plan into az-b\'s artifact bucket in S3, digest on each', async () => {
    const az = stored.plan.targetAz;
    const profile = h.fleet.platform.azs.find((a) => a.name === az)!;
    const s3 = clients.client(testS3().endpoints[az]!);
    expect(stored.plan.jars.length).toBeGreaterThan(0);
    for (const jar of stored.plan.jars) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: profile.artifactBucket, Key: jar.key }));
      expect(`sha256:${head.Metadata?.sha256}`).toBe(jar.digest);
    }
  });
});

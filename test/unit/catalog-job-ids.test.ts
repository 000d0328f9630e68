/**
 * Catalog sync keeps each job's Flink job ids across versions (activities/catalog-sync.ts over
 * the in-process simulator and the file catalog store, in the SDK's MockActivityEnvironment): the live status.jobStatus.jobId first,
 * then what the previous version held, bounded; never the standby's; and a lookup over them
 * finds the job's own snapshots but not its hot standby's under the same prefixes. And the sync
 * heartbeats while a slow fleet read runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createCatalogActivities } from '../../activities/catalog-sync.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { validateCatalog } from '../../domain/catalog-validation.js';
import { MAX_JOB_IDS, snapshotOwner } from '../../domain/snapshot-owner.js';
import { FileCatalogStore } from '../../platform/catalog-file-store.js';
import { fleetJob, manifest, simWith } from './fixtures/sim-platform.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function syncOver(sim: ReturnType<typeof simWith>['sim']) {
  const dir = mkdtempSync(join(tmpdir(), 'az-evac-catalog-'));
  dirs.push(dir);
  const catalogs = new FileCatalogStore(dir);
  const deps = { fleet: { readFleet: async () => sim.readFleet() }, catalogs } as unknown as ActivityDeps;
  // Run inside an activity context (the SDK's MockActivityEnvironment), as the worker does: the
  // activity logs through the context's logger (activities/log.ts).
  const { syncCatalog } = createCatalogActivities(deps);
  return { sync: () => new MockActivityEnvironment({ activityType: 'syncCatalog' }).run(syncCatalog), catalogs };
}

describe('catalog sync records the job ids a job has had', () => {
  it('puts the live job id first and keeps the older ones across syncs', async () => {
    const { sim, advance } = simWith([fleetJob('az-a', 'job-a')]);
    advance(5);
    const { sync, catalogs } = syncOver(sim);
    await sync();
    const first = (await catalogs.latest())!.jobs[0]!.jobIds!;
    expect(first).toEqual([sim.getDeployment('az-a', 'ns', 'job-a')!.jobId]);
    // A redeploy (a savepoint redeploy: new nonce and path) runs the job under a new job id.
    // (A restore without a path changes only upgradeMode, which the operator's diff ignores.)
    const from = sim.listSnapshots('az-a', snapshotOwner(fleetJob('az-a', 'job-a'), first[0]))[0]!;
    sim.restore('az-a', 'ns', 'job-a', { initialSavepointPath: from.path, savepointRedeployNonce: 1 });
    advance(600);
    const second = sim.getDeployment('az-a', 'ns', 'job-a')!.jobId!;
    expect(second).not.toBe(first[0]);
    await sync();
    expect((await catalogs.latest())!.jobs[0]!.jobIds).toEqual([second, first[0]]);
  });

  it("never records the standby's job id, and a lookup over the job's ids skips the standby's newer snapshots", async () => {
    // Same checkpoint and savepoint directories as its primary, as hot standbys have.
    const standby = manifest('az-b', 'job-a-standby', {}, {
      'execution.checkpointing.dir': 's3://flink-state/checkpoints/ns/job-a',
      'execution.checkpointing.savepoint-dir': 's3://flink-state/savepoints/ns/job-a',
    });
    standby.metadata.labels = { ...standby.metadata.labels, 'az-evac.io/role': 'standby' };
    standby.metadata.annotations = { 'az-evac.io/standby-for': 'ns/job-a' };
    const { sim, advance } = simWith([fleetJob('az-a', 'job-a')]);
    sim.apply('az-b', standby);
    advance(600);
    const standbyId = sim.getDeployment('az-b', 'ns', 'job-a-standby')!.jobId!;
    expect(standbyId).toMatch(/^[0-9a-f]{32}$/);
    const { sync, catalogs } = syncOver(sim);
    await sync();
    const job = (await catalogs.latest())!.jobs.find((j) => j.name === 'job-a')!;
    expect(job.standby).toMatchObject({ kind: 'hot', az: 'az-b' });
    expect(job.jobIds).toEqual([sim.getDeployment('az-a', 'ns', 'job-a')!.jobId]);
    // The standby writes under the same prefixes into az-b; the job's own replicate there too.
    const underPrefix = sim.listSnapshots('az-b', job).map((s) => s.path);
    expect(underPrefix.some((p) => p.includes(standbyId.slice(0, 6)))).toBe(true);
    const own = sim.snapshotCandidates('az-b', snapshotOwner(job));
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((c) => c.path.includes(standbyId) || c.path.includes(`savepoint-${standbyId.slice(0, 6)}-`))).toEqual([]);
    const choice = await sim.findSnapshot('az-b', snapshotOwner(job), { layout: 'symmetric', nowEpochSeconds: Date.now() / 1000 + 10_000 });
    expect(choice.kind === 'snapshot' && choice.snapshot.path).toContain(job.jobIds![0]!.slice(0, 6));
  });

  it('the catalog refuses job ids that are not Flink JobIDs, or too many', async () => {
    const { sim, advance } = simWith([fleetJob('az-a', 'job-a')]);
    advance(5);
    const { platform, jobs } = sim.readFleet();
    const catalog = { version: 1, takenAt: new Date().toISOString(), platform, jobs };
    const bad = { ...catalog, jobs: catalog.jobs.map((j) => ({ ...j, jobIds: ['not-a-job-id'] })) };
    expect(() => validateCatalog(bad, 'catalog v1')).toThrow(/jobIds/);
    const many = { ...catalog, jobs: catalog.jobs.map((j) => ({ ...j, jobIds: Array.from({ length: MAX_JOB_IDS + 1 }, (_, i) => i.toString(16).padStart(32, '0')) })) };
    expect(() => validateCatalog(many, 'catalog v1')).toThrow(/jobIds/);
    expect(() => validateCatalog(catalog, 'catalog v1')).not.toThrow();
  });
});

describe('catalog sync heartbeats', () => {
  it('heartbeats while a slow fleet read runs, so a heartbeat timeout does not kill a live sync', async () => {
    const { sim, advance } = simWith([fleetJob('az-a', 'job-a')]);
    advance(5);
    const dir = mkdtempSync(join(tmpdir(), 'az-evac-catalog-'));
    dirs.push(dir);
    // Short heartbeat timeout (beats every third of it). The fleet read answers only after
    // two heartbeats (a read slower than the timeout): without them it never does and the test times out.
    const env = new MockActivityEnvironment({ activityType: 'syncCatalog', heartbeatTimeoutMs: 300 });
    const beats: unknown[] = [];
    let heard = (): void => undefined;
    env.on('heartbeat', (d: unknown) => {
      beats.push(d);
      heard();
    });
    const readFleet = async (): Promise<ReturnType<typeof sim.readFleet>> => {
      await new Promise<void>((resolve) => {
        heard = () => beats.length >= 2 && resolve();
      });
      return sim.readFleet();
    };
    const catalogs = new FileCatalogStore(dir);
    const deps = { fleet: { readFleet }, catalogs } as unknown as ActivityDeps;
    await env.run(createCatalogActivities(deps).syncCatalog);
    expect((await catalogs.latest())!.jobs.map((j) => j.name)).toEqual(['job-a']);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats[0]).toMatch(/catalog sync/);
  });
});

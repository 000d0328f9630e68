/**
 * Protection activities (docs/protection.md): assess every job of the newest catalog against
 * the protection policy (domain/protection.ts), take a savepoint through the operator, ship a
 * savepoint to an AZ whose store does not replicate from the job's, and expire old shipped
 * copies. Each concerns one job, so one bad job never holds up another; failures are thrown
 * as ApplicationFailures whose message carries the operator's or the store's reason, and the
 * workflow's retry policy (tiers.yaml protection.retry) backs off between attempts.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import { assessProtection, expiredShipments, newestOwnSavepoint, NO_PROTECTION, overdueSeconds, protectionShards, replicates, savepointFormatFor, savepointOrder, type DueSavepoint, type JobProtection, type NewestSnapshot, type ProtectionPolicy, type SavepointFormat } from '../domain/protection.js';
import { snapshotOwner, type SnapshotOwner } from '../domain/snapshot-owner.js';
import { jobKey, type Catalog, type FleetJob, type JobKey, type StorageLayout, type Tier } from '../domain/types.js';
import { PlatformError } from '../platform/errors.js';
import type { ShippedSavepoint } from '../platform/ports.js';
import { SEARCH_ATTRIBUTE_KEYS, type WorkflowKind } from '../workflows/search-attributes.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { activityLog } from './log.js';
import { lastProtectionFailures } from './protection-pass.js';
import { tierRpoNow, type TierRpoNow } from '../domain/rpo-now.js';

/** Snapshot lookups in flight at once during an assessment. */
const ASSESS_CONCURRENCY = 16;
/** Unprotected jobs listed by name in an assessment (the rest are counted). */
const MAX_LISTED = 200;
/** Seconds between reads of a pending savepoint's progress. */
const PROGRESS_POLL_MS = 1000;

/** A job the protection pass acts on. */
export interface ProtectionTask extends DueSavepoint {
  namespace: string;
  name: string;
  action: JobProtection['action'];
  /** Savepoint format for this job's Flink version (savepointFormatFor). */
  format: SavepointFormat;
  /** AZs whose stores do not replicate from `az`: each new savepoint is shipped there. */
  shipTo: string[];
  /** Whose savepoints the ship step looks up right before copying (absent in tasks of passes recorded before). */
  owner?: SnapshotOwner;
}

/** What a protection pass works through (protectionScope). */
export interface ProtectionScope {
  catalogVersion: number;
  /** The policy in force (NO_PROTECTION when tiers.yaml has none). */
  policy: ProtectionPolicy;
  /** Jobs in the catalog. */
  jobs: number;
  /** Its shards in protectionShards order: AZ, tier and job count of each. */
  shards: Array<{ az: string; tier: Tier; jobs: number }>;
}

/** What one assessment found. */
export interface ProtectionAssessment {
  catalogVersion: number;
  /** The policy in force (NO_PROTECTION when tiers.yaml has none). */
  policy: ProtectionPolicy;
  nowEpochSeconds: number;
  /** Jobs assessed, and of them: protected, unprotected, not required. */
  counts: { jobs: number; protected: number; unprotected: number; notRequired: number };
  /** Per tier: counts and the worst RPO an evacuation out of the job's AZ would pay now (domain/rpo-now.ts). */
  tiers: TierRpoNow[];
  /** Unprotected jobs with why (at most MAX_LISTED; `counts.unprotected` has them all). */
  unprotected: Array<{ job: JobKey; tier: Tier; reason: string }>;
  /** Jobs to act on, savepoints in savepointOrder, then ships. */
  tasks: ProtectionTask[];
  /** Protected-tier jobs with AZs that do not replicate from theirs: where retention runs. */
  retention: RetentionTask[];
}

/** Expiry of the shipped copies of one job in the AZs it ships to. */
export interface RetentionTask {
  job: JobKey;
  owner: SnapshotOwner;
  layout: StorageLayout;
  toAzs: string[];
  /** FlinkDeployments in those AZs that may restore from a copy (its standby, a copy of the same name). */
  copies: Array<{ az: string; namespace: string; name: string }>;
}

/**
 * Workflows that restore jobs from snapshots in their target AZ (AzEvacKind): an evacuation
 * (emergency, planned), a drill, a failback. While one runs, retention holds in its target AZ.
 */
export const RESTORING_KINDS: readonly WorkflowKind[] = ['evacuation', 'drill', 'failback'];

/** An AZ where retention deletes nothing during this pass, and why. */
export interface RetentionHold {
  /** The AZ, or `*` for every AZ (a run whose target AZ is not known, or the check failed). */
  az: string;
  /** What holds it: `<kind> <workflow id>`, or why the check failed. */
  by: string;
}

/** Build the protection activities over `deps`. */
export function createProtectionActivities(deps: ActivityDeps) {
  /** The last catalog a shard read: catalog versions never change, and a pass's shards read the same one. */
  let cached: Catalog | undefined;
  const catalogOf = async (version: number): Promise<Catalog> => {
    if (cached?.version !== version) cached = await platformCall(`read catalog v${version}`, () => deps.catalogs.get(version));
    return cached;
  };
  const newestCatalog = async (): Promise<Catalog> => {
    const catalog = await platformCall('read the newest catalog', () => deps.catalogs.latest());
    if (!catalog) throw terminal('NoCatalog', 'no catalog yet: protection needs one. Fix: run `az-evac catalog sync` (or wait for the catalog sync schedule)');
    return catalog;
  };

  /** Assess `jobs` of `catalog` now; `record` gets every job's protection (the fleet's RPO-now gauges). */
  const assess = async (catalog: Catalog, jobs: readonly FleetJob[], record?: (assessed: JobProtection[]) => void): Promise<ProtectionAssessment> => {
    const tiers = await deps.loadTiers();
    const policy = tiers.protection ?? NO_PROTECTION;
    const platform = catalog.platform;
    const now = Math.floor(Date.now() / 1000);
    const limit = pLimit(ASSESS_CONCURRENCY);
    // The last pass's failures (savepoints, refused copies): their reason joins the job's unprotected reason.
    const failures = await lastProtectionFailures(deps);
    const newest = async (az: string, owner: SnapshotOwner): Promise<NewestSnapshot> => {
      try {
        const choice = await deps.objects.findSnapshot(az, owner, { layout: platform.layout, nowEpochSeconds: now });
        return choice.kind === 'snapshot'
          ? { kind: 'snapshot', path: choice.snapshot.path, snapshotKind: choice.snapshot.kind, completedAtEpochSeconds: choice.snapshot.completedAtEpochSeconds }
          : { kind: 'none', reason: choice.reason };
      } catch (err) {
        return { kind: 'unknown', reason: err instanceof Error ? err.message : String(err) };
      }
    };
    const assessed = await Promise.all(jobs.map((job) => limit(async () => {
      Context.current().heartbeat(jobKey(job));
      const owner = snapshotOwner(job);
      const others = platform.azs.map((a) => a.name).filter((az) => az !== job.az);
      const otherAzs = Object.fromEntries(await Promise.all(others.map(async (az) => [az, await newest(az, owner)] as const)));
      const sp = newestOwnSavepoint(await deps.objects.listSnapshots(job.az, owner).catch(() => []));
      const p = assessProtection(
        {
          job: jobKey(job), tier: job.tier, az: job.az, rpoSeconds: tiers.tiers[job.tier].rpoSeconds, otherAzs,
          ...(sp ? { sourceSavepoint: sp } : {}),
          ...(failures.has(jobKey(job)) ? { lastFailure: failures.get(jobKey(job))! } : {}),
        },
        policy, platform, now,
      );
      return { job, p, others };
    })));
    const unprotected = assessed.filter((x) => x.p.state === 'unprotected');
    const shipTo = (job: FleetJob, others: string[]): string[] => others.filter((az) => !replicates(platform, job.az, az));
    const task = (job: FleetJob, p: JobProtection, others: string[]): ProtectionTask => ({
      job: p.job, az: job.az, tier: job.tier, namespace: job.namespace, name: job.name, action: p.action, owner: snapshotOwner(job),
      overdueSeconds: overdueSeconds(p, policy.refreshAtRpoFraction), format: savepointFormatFor(job.deployment.spec.flinkVersion, policy.savepointFormat), shipTo: shipTo(job, others),
    });
    const acting = assessed.filter((x) => x.p.action.kind !== 'none').map((x) => task(x.job, x.p, x.others));
    // RPO now per tier on /metrics follows every assessment of the whole fleet, as it follows every plan.
    record?.(assessed.map((x) => x.p));
    return {
      catalogVersion: catalog.version, policy, nowEpochSeconds: now,
      counts: {
        jobs: assessed.length, protected: assessed.filter((x) => x.p.state === 'protected').length,
        unprotected: unprotected.length, notRequired: assessed.filter((x) => x.p.state === 'not-required').length,
      },
      tiers: tierRpoNow(assessed.map((x) => x.p)),
      unprotected: unprotected.slice(0, MAX_LISTED).map((x) => ({ job: x.p.job, tier: x.p.tier, reason: x.p.reason! })),
      tasks: [...savepointOrder(acting.filter((t) => t.action.kind === 'savepoint')), ...acting.filter((t) => t.action.kind === 'ship')],
      retention: assessed
        .filter((x) => x.p.state !== 'not-required' && shipTo(x.job, x.others).length > 0)
        .map((x) => ({
          job: x.p.job, owner: snapshotOwner(x.job), layout: platform.layout, toAzs: shipTo(x.job, x.others),
          copies: shipTo(x.job, x.others).flatMap((az) => [
            { az, namespace: x.job.namespace, name: x.job.name },
            ...(x.job.standby && x.job.standby.az === az ? [{ az, namespace: x.job.standby.namespace, name: x.job.standby.name }] : []),
          ]),
        })),
    };
  };
  return {
    /**
     * Assess every job of the newest catalog (docs/protection.md): per other AZ the newest
     * restorable snapshot (findSnapshot with no RPO), the job's newest savepoint in its own AZ,
     * and what to do. A store that does not answer makes that AZ unknown for the job, not the
     * assessment fail. Sets the RPO-now gauges on /metrics for the whole fleet. Used by
     * `protect status` (protectionStatus) and by passes recorded before protection ran in shards.
     * @throws non-retryable NoCatalog when no catalog was synced yet
     */
    async assessProtection(): Promise<ProtectionAssessment> {
      const catalog = await newestCatalog();
      const result = await assess(catalog, catalog.jobs, (assessed) => deps.metrics?.recordProtection(assessed));
      activityLog({}).info('protection assessed', { catalogVersion: catalog.version, ...result.counts, tasks: result.tasks.length });
      return result;
    },

    /**
     * What a protection pass works through: the newest catalog's version, the policy, and its
     * shards (domain/protection.ts protectionShards: per AZ and tier, at most 50 jobs each), by
     * AZ, tier and job count only: a shard finds its jobs again from the version and its index.
     * @throws non-retryable NoCatalog when no catalog was synced yet
     */
    async protectionScope(): Promise<ProtectionScope> {
      const catalog = await newestCatalog();
      const tiers = await deps.loadTiers();
      const shards = protectionShards(catalog.jobs, catalog.platform.azs.map((a) => a.name));
      return {
        catalogVersion: catalog.version, policy: tiers.protection ?? NO_PROTECTION, jobs: catalog.jobs.length,
        shards: shards.map((x) => ({ az: x.az, tier: x.tier, jobs: x.indices.length })),
      };
    },

    /**
     * Assess the jobs of one shard of a pass (protectionShards of catalog `catalogVersion`,
     * shard `shard`) right before the shard acts on them, as assessProtection assesses the fleet.
     * Does not set the RPO-now gauges (the pass sets them once from every shard's tiers).
     * @throws non-retryable InvalidCatalog when the catalog has no such shard (it changed under
     *   the same version: a bug); the store's error when the catalog version cannot be read
     */
    async assessProtectionShard(t: { catalogVersion: number; shard: number }): Promise<ProtectionAssessment> {
      const catalog = await catalogOf(t.catalogVersion);
      const shards = protectionShards(catalog.jobs, catalog.platform.azs.map((a) => a.name));
      const mine = shards[t.shard];
      if (!mine) throw terminal('InvalidCatalog', `catalog v${t.catalogVersion} has ${shards.length} protection shard(s), not shard ${t.shard}: a pass reads only the catalog version it started with`);
      return assess(catalog, mine.indices.map((i) => catalog.jobs[i]!));
    },

    /**
     * Take a savepoint of one running job through the operator and wait (heartbeating) until
     * the operator reports it complete. The trigger id is the activity's start second and
     * attempt, so a retried attempt triggers a new savepoint and a replayed call the same one.
     * The job is never suspended, restarted or reconfigured.
     * @returns the savepoint's path
     * @throws retryable SavepointFailed with the operator's reason; retryable SavepointTimeout
     *   after `timeoutSeconds` (naming the last state the operator reported); ProtectionUnsupported
     *   when the platform has no savepoint port
     */
    async takeProtectionSavepoint(t: { job: JobKey; az: string; namespace: string; name: string; format: SavepointFormat; timeoutSeconds: number }): Promise<{ path: string }> {
      const port = deps.savepoints;
      if (!port) throw terminal('ProtectionUnsupported', `${t.job}: this platform cannot take savepoints for protection (no SavepointPort; the Kubernetes platform has one)`);
      const info = Context.current().info;
      const id = `${Math.floor(info.currentAttemptScheduledTimestampMs / 1000)}${info.attempt}`;
      const trigger = await platformCall(`${t.job}: trigger savepoint`, () => port.triggerSavepoint(t.az, t.namespace, t.name, { id, format: t.format }));
      const deadline = Date.now() + t.timeoutSeconds * 1000;
      let detail = 'not yet reported';
      try {
        for (;;) {
          const progress = await platformCall(`${t.job}: read savepoint progress`, () => port.savepointProgress(trigger));
          if (progress.state === 'completed') {
            activityLog({}).info('protection savepoint taken', { job: t.job, path: progress.path, via: trigger.via });
            return { path: progress.path };
          }
          if (progress.state === 'failed') throw ApplicationFailure.retryable(`${t.job}: savepoint failed: ${progress.reason}`, 'SavepointFailed');
          detail = progress.detail;
          if (Date.now() > deadline) throw ApplicationFailure.retryable(`${t.job}: savepoint not complete after ${t.timeoutSeconds} s (tiers.yaml protection.savepointTimeoutSeconds); last seen: ${detail}`, 'SavepointTimeout');
          Context.current().heartbeat(detail);
          await Context.current().sleep(PROGRESS_POLL_MS);
        }
      } finally {
        await port.releaseSavepointTrigger(trigger).catch((err: unknown) => activityLog({}).warn('savepoint trigger not released', { job: t.job, error: String(err) }));
      }
    },

    /**
     * Ship the job's newest savepoint of its own AZ into `toAz`'s state bucket, verified
     * (platform/s3/snapshot-shipping.ts). With `owner`, the savepoint is looked up right now
     * (domain/protection.ts newestOwnSavepoint, as the assessment chose): `path`, the one the pass
     * took or assessed, may have been replaced since by the job's savepoint retention, and then its
     * successor is shipped. Without `owner` (passes recorded before), `path` is shipped as given.
     * @returns the copy, its bytes and the shipped savepoint's completion time
     * @throws non-retryable NotFound when the job has no complete savepoint of its own in
     *   `fromAz` any more; the store's refusal as an ApplicationFailure naming the job, the AZ and the reason
     */
    async shipProtectionSavepoint(t: { job: JobKey; fromAz: string; toAz: string; path: string; owner?: SnapshotOwner }): Promise<ShippedSavepoint> {
      const port = deps.shipping;
      if (!port) throw terminal('ProtectionUnsupported', `${t.job}: this platform cannot ship savepoints between AZs (no SnapshotShippingPort; the S3 object store has one)`);
      let path = t.path;
      if (t.owner) {
        const owner = t.owner;
        const newest = newestOwnSavepoint(await platformCall(`${t.job}: list its savepoints in ${t.fromAz}`, () => deps.objects.listSnapshots(t.fromAz, owner)));
        if (!newest) throw terminal('NotFound', `${t.job}: no complete savepoint of its own in ${t.fromAz} to ship to ${t.toAz} (${t.path}, the one this pass saw, is gone and none replaced it). Fix: check the job's savepoints in ${t.fromAz}; the next pass takes a new one`);
        path = newest.path;
      }
      const shipped = await platformCall(`${t.job}: ship ${path} to ${t.toAz}`, () => port.shipSavepoint(t.fromAz, t.toAz, path));
      activityLog({}).info('protection savepoint shipped', { job: t.job, to: t.toAz, path: shipped.path, bytes: shipped.copiedBytes, ...(path !== t.path ? { instead: t.path } : {}) });
      return shipped;
    },

    /**
     * The AZs where retention must delete nothing now: the target AZ of every evacuation,
     * drill or failback running on this worker's task queue (RESTORING_KINDS, from Temporal
     * visibility through the worker's client: `AzEvacKind IN (…) AND TaskQueue = '<queue>' AND
     * ExecutionStatus = 'Running'`; the queue is the az-evac deployment, as `az-evac runs` lists). Such a
     * run chooses its snapshots in its start step and names them in the FlinkDeployment it
     * applies only afterwards; until it ends, none of its target AZ's copies is expired. A run
     * whose AzEvacTargetAz is not set yet (a failback before its first task) holds every AZ.
     * Visibility is eventually consistent: a run started in the last seconds may be missed; it
     * plans before it restores, and the newest restorable copy it would choose is never expired.
     * @throws when visibility does not answer (the pass then expires nothing: the workflow holds every AZ)
     */
    async retentionHolds(): Promise<RetentionHold[]> {
      const k = SEARCH_ATTRIBUTE_KEYS;
      const queue = Context.current().info.taskQueue.replace(/'/g, "''");
      const query = `${k.kind.name} IN (${RESTORING_KINDS.map((x) => `'${x}'`).join(', ')}) AND TaskQueue = '${queue}' AND ExecutionStatus = 'Running'`;
      const holds: RetentionHold[] = [];
      for await (const wf of Context.current().client.workflow.list({ query })) {
        const kind = wf.typedSearchAttributes.get(k.kind) ?? 'run';
        holds.push({ az: wf.typedSearchAttributes.get(k.targetAz) ?? '*', by: `${kind} ${wf.workflowId}` });
      }
      if (holds.length > 0) activityLog({}).info('retention held', { holds });
      return holds;
    },

    /**
     * Expire the shipped copies of one job by retention (domain/protection.ts expiredShipments):
     * keep the newest `keepPerJob` per AZ, the newest restorable snapshot there, and any copy a
     * FlinkDeployment in that AZ names as its spec.job.initialSavepointPath.
     * @returns copies deleted
     */
    async expireShippedSavepoints(t: RetentionTask & { keepPerJob: number }): Promise<{ deleted: string[] }> {
      const port = deps.shipping;
      if (!port) return { deleted: [] };
      const deleted: string[] = [];
      for (const az of t.toAzs) {
        const listed = await platformCall(`${t.job}: list ${az}`, () => deps.objects.listSnapshots(az, t.owner));
        const shipped = listed.filter((c) => c.shippedFrom !== undefined && c.hasMetadata).map((c) => ({ path: c.path, completedAtEpochSeconds: c.completedAtEpochSeconds }));
        if (shipped.length <= t.keepPerJob) continue;
        const choice = await platformCall(`${t.job}: newest restorable in ${az}`, () => deps.objects.findSnapshot(az, t.owner, { layout: t.layout, nowEpochSeconds: Math.floor(Date.now() / 1000) }));
        const needed = new Set<string>();
        for (const c of t.copies.filter((x) => x.az === az)) {
          const d = await platformCall(`${t.job}: read ${c.namespace}/${c.name} in ${az}`, () => deps.cluster.getDeployment(az, c.namespace, c.name));
          if (d?.initialSavepointPath) needed.add(d.initialSavepointPath);
        }
        for (const s of expiredShipments(shipped, t.keepPerJob, choice.kind === 'snapshot' ? choice.snapshot.path : undefined, needed)) {
          try {
            await port.deleteShipped(az, s.path);
            deleted.push(s.path);
          } catch (err) {
            if (!(err instanceof PlatformError) || err.retryable) throw err;
            activityLog({}).warn('shipped copy not expired', { job: t.job, path: s.path, error: err.message });
          }
        }
      }
      return { deleted };
    },
  };
}

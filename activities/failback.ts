/**
 * Failback of a drill (guarantee 4: nothing leaked, nothing stranded): move every job the
 * drill moved back into its source AZ, restoring from the fresh savepoint of the state it
 * built during the drill, and put the target AZ back as it was.
 *
 * Failback of one job (idempotent, safe to retry at any point), an evacuation in reverse:
 *  1. a planned stop of the copy in the target AZ (activities/planned-stop.ts awaitSavepointStop): stop it
 *     with a savepoint (ClusterPort.stopWithSavepoint), which writes the fresh savepoint of the
 *     state it built during the drill, its path as the operator reports it; a stop that fails is
 *     taken back (the copy keeps running there) and the job's failback fails with why;
 *  2. wait until exactly that savepoint is complete in the source AZ's replica (replication
 *     lags), up to tiers.yaml savepointTimeout;
 *  3. restore the source FlinkDeployment from it (initialSavepointPath + a new
 *     savepointRedeployNonce + state running) and wait for RUNNING;
 *  4. put the target AZ back as it was: delete a redeployed copy (only the drill's own, never
 *     a standby of the same name: a P0 redeployed onto its unusable hot standby gets that
 *     standby back), leave a cold standby suspended, restart a hot standby from its own
 *     savepoint and label it standby again.
 * A job that never ran in the target AZ is restored from its own newest snapshot in the
 * source AZ when the drill suspended it there, and left alone when it never stopped or was
 * suspended before the drill. Then the P3 jobs the drill preempted are resumed.
 * Preloaded jars stay in the target AZ's jar cache (content-addressed; the next drill or a
 * real evacuation reuses them).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { recordsKey, redeployNonceFor, type RunRef } from '../domain/evacuation.js';
import { PlatformError } from '../platform/errors.js';
import { EVACUATION_ID_LABEL, ROLE_LABEL, restoreZooKeeperRoot } from '../domain/render-deployment.js';
import { mergeJobIds, snapshotOwner, type SnapshotOwner } from '../domain/snapshot-owner.js';
import { pollUntil } from './poll.js';
import { capacityRefusal, replicaRefusal } from '../domain/failback-readiness.js';
import type { EvacuationMode } from '../domain/evacuation.js';
import type { PlannedJob, Tier } from '../domain/types.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { loadJobContext, type JobContext } from './job-context.js';
import { nonceOf, targetResource } from './job-steps.js';
import { awaitSavepointStop, savepointInReplica, undoMode } from './planned-stop.js';
import { actingRun, recordMarkEvent } from './fencing.js';
import { failbackMark } from '../domain/fence.js';

/** What failback did to one job. */
export interface FailbackJobResult {
  key: string;
  /** Its tier in the evacuation's plan (absent in results recorded before failback reported tiers). */
  tier?: Tier;
  /** When it was seen RUNNING in the source AZ again, epoch ms (absent: untouched). */
  runningAtMs?: number;
  /** `restored-from-target`: restored from the fresh savepoint of its drilled copy; `restored-own`: from its own snapshot; `untouched`: it never stopped. */
  action: 'restored-from-target' | 'restored-own' | 'untouched';
  restoredFrom?: string;
  /** What was done in the target AZ: `deleted`, `suspended`, `standby-restarted`, `none`. */
  target: 'deleted' | 'suspended' | 'standby-restarted' | 'none';
}

/** Build the failback activities over `deps`. */
export function createFailbackActivities(deps: ActivityDeps) {
  return {
    /**
     * The jobs a failback of `evacuationId` handles: every job the plan of its newest run
     * admitted, in admission order (tier by tier), and that run's id (the workflow's first run
     * id; absent for a run recorded before runs had one), under which the failback reads the
     * run's records. `drill` is false for a real evacuation (emergency or planned, outside a
     * drill), whose failback re-protects first and moves the jobs back tier by tier (`tiers`:
     * how many of `jobs`, in order, each tier has).
     * @param drillOwned the evacuation ran inside a drill workflow (a runbook may evacuate in
     *   `mode: emergency` after taking the source AZ down): its state is a rehearsal's too
     * @throws non-retryable 'EvacuationRunning' while the evacuation still runs (failback would
     *   move jobs back while it moves them out), 'NotFound' when no such evacuation was planned
     */
    async failbackScope(req: { evacuationId: string; drillOwned?: boolean }): Promise<{
      jobs: string[]; sourceAz: string; targetAz: string; runId?: string; mode?: EvacuationMode; drill?: boolean; tiers?: Array<{ tier: Tier; jobs: number }>;
    }> {
      const run = await Context.current().client.workflow.getHandle(req.evacuationId).describe().catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
      if (run?.status.name === 'RUNNING') {
        throw terminal('EvacuationRunning', `${req.evacuationId} is still running: a failback now would move jobs back while it moves them out. Fix: wait for it to end, or abort it (az-evac abort ${req.evacuationId} --reason "…") and fail back once it has ended`);
      }
      const firstRunId = run?.raw.workflowExecutionInfo?.firstRunId || undefined;
      let runId: string | undefined = firstRunId;
      const stored = await deps.evacuations.getPlan(recordsKey({ evacuationId: req.evacuationId, runId })).catch(async (err: unknown) => {
        // A run recorded before runs had an identity keeps its records under the id alone.
        if (!(err instanceof PlatformError) || err.code !== 'not-found' || !runId) throw err;
        runId = undefined;
        return deps.evacuations.getPlan(req.evacuationId);
      });
      const tiers: Array<{ tier: Tier; jobs: number }> = [];
      for (const p of stored.plan.admitted) {
        const last = tiers[tiers.length - 1];
        if (last?.tier === p.tier) last.jobs += 1;
        else tiers.push({ tier: p.tier, jobs: 1 });
      }
      return {
        jobs: stored.plan.admitted.map((p) => p.key), sourceAz: stored.plan.sourceAz, targetAz: stored.plan.targetAz, ...(runId ? { runId } : {}),
        mode: stored.request.mode, drill: stored.request.mode === 'drill' || req.drillOwned === true, tiers,
      };
    },

    /**
     * Readiness of the failback of a real evacuation (run `req`), before anything is touched:
     * the former source AZ's API server and object store answer, it has room for the jobs
     * moving back (domain/failback-readiness.ts capacityRefusal: each job the evacuation did
     * not skip whose source copy is not running now), and each moved job is re-protected: a
     * snapshot of the run it is now in the former target AZ has reached the source AZ's object
     * store within its tier's RPO (replicaRefusal), waited for up to one RPO (replication may be
     * catching up after the outage). Jobs that are not re-protected by then are returned with
     * why; they are not moved back and keep running where they are.
     * @returns the jobs not ready, with the reason
     * @throws non-retryable 'SourceUnhealthy' when the source AZ's API server or object store
     *   does not answer or it lacks the capacity, naming what failed and the fix
     */
    async failbackReadiness(req: RunRef): Promise<{ notReady: Array<{ key: string; reason: string }> }> {
      const stored = await deps.evacuations.getPlan(recordsKey(req));
      const { sourceAz, targetAz } = stored.plan;
      const refuse = (why: string) => terminal('SourceUnhealthy', `failback of ${req.evacuationId} into ${sourceAz} refused: ${why}`);
      const unhealthy = (what: string) => (err: unknown): never => {
        if (err instanceof PlatformError) throw refuse(`${what} does not answer (${err.message}). Fix: wait until ${sourceAz} is healthy again (its stale copies are fenced then), and run the failback again`);
        throw err;
      };
      const free = await deps.cluster.capacity(sourceAz).catch(unhealthy(`the API server of ${sourceAz}`));
      const outcomes = new Map((await deps.evacuations.listOutcomes(recordsKey(req))).map((o) => [o.key, o]));
      const limit = pLimit(32);
      const movingBack: PlannedJob[] = [];
      const checks: Array<{ key: string; jobId: string; owner: SnapshotOwner; rpoSeconds: number }> = [];
      await Promise.all(stored.plan.admitted.map((p) => limit(async () => {
        const outcome = outcomes.get(p.key);
        if (outcome?.outcome === 'skipped') return;
        const src = await deps.cluster.getDeployment(sourceAz, p.namespace, p.name).catch(unhealthy(`the API server of ${sourceAz}`));
        // A copy whose job still runs holds its pods, even when a fence is stopping it (a
        // stop-with-savepoint frees them only once the savepoint is written): it needs none again.
        if (src?.jobState !== 'RUNNING') movingBack.push(p);
        // Only a job running in the target AZ with state of its own has snapshots to replicate.
        if (outcome?.outcome !== 'running' || !outcome.jobId || (outcome.snapshotPath === undefined && p.strategy !== 'promote-standby')) return;
        const ctx = await loadJobContext(deps, req, p.key);
        checks.push({ key: p.key, jobId: outcome.jobId, owner: { ...snapshotOwner(ctx.job), jobIds: mergeJobIds([outcome.jobId]) }, rpoSeconds: ctx.policy.rpoSeconds });
      })));
      const lacking = capacityRefusal(sourceAz, free, movingBack);
      if (lacking) throw refuse(lacking);
      // Re-protect: replication into the source AZ may be catching up after its outage; a job
      // whose run checkpoints as its RPO demands has a fresh snapshot there within one RPO.
      const startedMs = Date.now();
      const reasons = new Map<string, string>();
      let pending = checks;
      await pollUntil(`re-protection of ${checks.length} job(s) in ${sourceAz}`, Math.max(0, ...checks.map((c) => c.rpoSeconds * 1000)) + 60_000, async () => {
        const still: typeof checks = [];
        await Promise.all(pending.map((c) => limit(async () => {
          const listed = await deps.objects.listSnapshots(sourceAz, c.owner).catch(unhealthy(`the object store of ${sourceAz}`));
          const reason = replicaRefusal({ key: c.key, jobId: c.jobId, sourceAz, targetAz }, listed, c.rpoSeconds, Date.now() / 1000, (Date.now() - startedMs) / 1000);
          if (reason) {
            reasons.set(c.key, reason);
            still.push(c);
          } else reasons.delete(c.key);
        })));
        pending = still.filter((c) => Date.now() - startedMs < c.rpoSeconds * 1000);
        return pending.length === 0 ? true : undefined;
      });
      const notReady = [...reasons].map(([key, reason]) => ({ key, reason }));
      return { notReady: notReady.sort((a, b) => a.key.localeCompare(b.key)) };
    },

    /**
     * Move one drilled job back into the source AZ (see the module comment), waiting up to
     * `startupTimeoutSeconds` (wall; default the tier policy's start-up timeout ÷ time scale + 60 s)
     * for it to run there again.
     * @throws non-retryable 'NotFound' when the source FlinkDeployment (or the drilled copy) is
     *   gone, 'DeploymentFailed' when the drilled copy's stop-with-savepoint fails or times out
     *   (taken back: the copy keeps running in the target), 'StartupTimeout' when the fresh
     *   savepoint is not complete in the source replica within tiers.yaml savepointTimeout
     */
    async failbackJob(req: RunRef & { key: string; startupTimeoutSeconds?: number; requestedBy?: string; drill?: boolean }): Promise<FailbackJobResult> {
      const ctx = await loadJobContext(deps, req, req.key);
      // A real evacuation's job must not end up running nowhere: a move back that cannot finish is taken back.
      const real = req.drill === false;
      const source = ctx.source.name;
      const target = ctx.target.name;
      const outcome = (await deps.evacuations.listOutcomes(recordsKey(req))).find((o) => o.key === req.key);
      const strategy = outcome?.strategy ?? ctx.planned.strategy;
      const copy = targetResource(ctx, strategy);
      const fbNonce = redeployNonceFor(`${req.evacuationId}@failback`);
      const startupSeconds = req.startupTimeoutSeconds ?? ctx.policy.startupTimeoutSeconds + 60;
      const src = await platformCall(`read ${req.key} in ${source}`, () => deps.cluster.getDeployment(source, ctx.job.namespace, ctx.job.name));
      if (!src) throw terminal('NotFound', `${req.key} no longer exists in ${source}; restore it from the catalog by hand`);
      const tgt = await platformCall(`read ${copy.namespace}/${copy.name} in ${target}`, () => deps.cluster.getDeployment(target, copy.namespace, copy.name));
      // A job the catalog shows suspended before the drill stays suspended (nothing leaked, nothing started).
      const wasSuspended = ctx.job.deployment.spec.job?.state === 'suspended';
      const deployedByDrill = !!tgt && (tgt.labels[EVACUATION_ID_LABEL] === req.evacuationId || tgt.savepointRedeployNonce === nonceOf(ctx));

      let result: FailbackJobResult;
      if (src.specState === 'running' && src.savepointRedeployNonce === fbNonce) {
        result = { key: req.key, action: 'restored-from-target', target: 'none' };
      } else if (outcome?.outcome === 'running' && outcome.jobId && deployedByDrill) {
        const stateless = outcome.snapshotPath === undefined && (ctx.job.deployment.spec.job as { upgradeMode?: string } | undefined)?.upgradeMode === 'stateless';
        let path: string | undefined;
        if (stateless) {
          await platformCall(`suspend ${copy.name} in ${target}`, () => deps.cluster.suspend(target, copy.namespace, copy.name));
        } else {
          // 1. a planned stop of the drilled copy: stop-with-savepoint, the path as the operator
          //    reports it (status.jobStatus.upgradeSavepointPath); a failed one keeps it running there.
          const stopped = await platformCall(`stop ${copy.name} with savepoint in ${target}`, () => deps.cluster.stopWithSavepoint(target, copy.namespace, copy.name));
          if (!stopped) throw terminal('NotFound', `${copy.namespace}/${copy.name} disappeared from ${target} before it could be stopped with a savepoint`);
          const baseline = tgt.specState === 'suspended' ? { ...tgt, upgradeSavepointPath: undefined, error: undefined } : tgt;
          const verdict = await awaitSavepointStop(deps, ctx, target, copy, baseline, stopped.generation);
          if (verdict.kind === 'failed') {
            const mode = undoMode(ctx);
            await platformCall(`take back the stop of ${copy.name} in ${target}`, () => deps.cluster.undoStop(target, copy.namespace, copy.name, mode));
            throw terminal('DeploymentFailed', `stop-with-savepoint of ${copy.namespace}/${copy.name} in ${target} failed: ${verdict.reason}; it keeps running in ${target} (upgradeMode ${mode}) and ${req.key} stays suspended in ${source}. Fix: repair it, then run the failback again`);
          }
          // 2. exactly that savepoint, of the drilled run's own job id, complete in the source
          //    AZ's replica (replication lags).
          const ready = await savepointInReplica(deps, ctx, source, { ...snapshotOwner(ctx.job), jobIds: mergeJobIds([outcome.jobId]) }, verdict.savepointPath);
          if (ready.kind !== 'snapshot') {
            if (real) throw await takeBack(ctx, copy, `${ready.reason}; ${req.key} stays suspended in ${source}`);
            throw terminal('StartupTimeout', `${ready.reason}; ${req.key} stays suspended in ${source}`);
          }
          path = ready.snapshot.path;
        }
        await restoreSource(ctx, path, fbNonce, src.specState === 'suspended', req.requestedBy);
        result = { key: req.key, action: 'restored-from-target', ...(path ? { restoredFrom: path } : {}), target: 'suspended' };
      } else {
        if (deployedByDrill && tgt.specState === 'running') {
          await platformCall(`suspend ${copy.name} in ${target}`, () => deps.cluster.suspend(target, copy.namespace, copy.name));
        }
        if (src.specState === 'running' || wasSuspended) {
          result = { key: req.key, action: 'untouched', target: deployedByDrill ? 'suspended' : 'none' };
        } else {
          const c = await platformCall(`snapshot of ${req.key} in ${source}`, () => deps.objects.findSnapshot(source, snapshotOwner(ctx.job, src.jobId), { nowEpochSeconds: Date.now() / 1000 }));
          const own = c.kind === 'snapshot' ? c.snapshot : undefined;
          await restoreSource(ctx, own?.path, fbNonce, true, req.requestedBy);
          result = { key: req.key, action: 'restored-own', ...(own ? { restoredFrom: own.path } : {}), target: deployedByDrill ? 'suspended' : 'none' };
        }
      }
      if (result.action !== 'untouched') {
        const now = await platformCall(`read ${req.key} in ${source}`, () => deps.cluster.getDeployment(source, ctx.job.namespace, ctx.job.name));
        try {
          await platformCall(`${req.key} RUNNING in ${source}`, () => deps.cluster.waitForRunning(source, ctx.job.namespace, ctx.job.name, {
            minGeneration: now?.generation ?? 0, timeoutSeconds: startupSeconds, restoring: result.restoredFrom !== undefined, signal: Context.current().cancellationSignal,
            onProgress: () => Context.current().heartbeat('waiting for RUNNING in the source AZ'),
          }));
        } catch (err) {
          if (!real || result.action !== 'restored-from-target' || !(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
          // Suspended again in the source before the copy in the target resumes from the savepoint it stopped with.
          await platformCall(`suspend ${req.key} in ${source}`, () => deps.cluster.suspend(source, ctx.job.namespace, ctx.job.name));
          throw await takeBack(ctx, copy, `${err.message}; suspended again in ${source}`);
        }
        result.runningAtMs = Date.now();
      }
      result.tier = ctx.planned.tier;
      result.target = await restoreTarget(ctx, strategy, outcome?.jobId, deployedByDrill, fbNonce, req.evacuationId) ?? result.target;
      return result;
    },

    /**
     * Resume the P3 jobs the evacuation preempted in its target AZ, each from its own newest
     * complete snapshot there (a new redeploy nonce). Jobs already running are left alone.
     * @param evacuationId the evacuation's id; `runId` its run (failbackScope), whose plan is read
     * @returns how many were resumed
     */
    async resumePreempted(evacuationId: string, runId?: string): Promise<{ resumed: number }> {
      const stored = await deps.evacuations.getPlan(recordsKey({ evacuationId, runId }));
      const az = stored.plan.targetAz;
      const catalog = await deps.catalogs.get(stored.plan.catalogVersion);
      const limit = pLimit(32);
      let resumed = 0;
      await Promise.all(stored.plan.preemptions.map((p) => limit(async () => {
        const status = await platformCall(`read ${p.key} in ${az}`, () => deps.cluster.getDeployment(az, p.namespace, p.name));
        if (!status || status.specState === 'running') return;
        const job = catalog.jobs.find((j) => j.az === az && j.namespace === p.namespace && j.name === p.name);
        const c = job ? await platformCall(`snapshot of ${p.key} in ${az}`, () => deps.objects.findSnapshot(az, snapshotOwner(job, status.jobId), { nowEpochSeconds: Date.now() / 1000 })) : undefined;
        const own = c?.kind === 'snapshot' ? c.snapshot : undefined;
        await platformCall(`resume ${p.key} in ${az}`, () => deps.cluster.restore(az, p.namespace, p.name, {
          ...(own ? { initialSavepointPath: own.path } : {}), savepointRedeployNonce: redeployNonceFor(`${evacuationId}@failback`),
        }));
        resumed += 1;
      })));
      return { resumed };
    },
  };

  /**
   * Take back the move of a real evacuation's job: its copy in the target AZ, stopped with a
   * savepoint, runs again (ClusterPort.undoStop: from the savepoint it stopped with).
   * @returns the non-retryable 'DeploymentFailed' failure to throw, naming `why` and what was done
   */
  async function takeBack(ctx: JobContext, copy: { namespace: string; name: string }, why: string): Promise<ApplicationFailure> {
    const az = ctx.target.name;
    const mode = undoMode(ctx);
    await platformCall(`take back the stop of ${copy.name} in ${az}`, () => deps.cluster.undoStop(az, copy.namespace, copy.name, mode));
    return terminal('DeploymentFailed', `${why}; its copy ${copy.namespace}/${copy.name} runs again in ${az} from the savepoint it was stopped with (upgradeMode ${mode}). Fix: repair what failed, then run the failback again`);
  }

  /**
   * Restore the source FlinkDeployment from `path` (own state when undefined and it runs), with
   * the failback nonce, and mark it (domain/fence.ts failbackMark: annotations in the same patch,
   * then an Event) as failed back at the request of `requestedBy`.
   */
  async function restoreSource(ctx: JobContext, path: string | undefined, nonce: number, suspended: boolean, requestedBy: string | undefined): Promise<void> {
    const { name: az } = ctx.source;
    // A suspended job's HA ConfigMaps are gone (stop-with-savepoint); delete any stale ones
    // that would silently win over initialSavepointPath (docs/design.md#upgrade-mode-and-ha-metadata).
    if (suspended) await platformCall(`delete stale HA ConfigMaps of ${ctx.job.name} in ${az}`, () => deps.cluster.deleteHaConfigMaps(az, ctx.job.namespace, ctx.job.name));
    // ZooKeeper HA data of the copy's earlier run (kept under last-state) would win the same way: a fresh root.
    const haZooKeeperRoot = restoreZooKeeperRoot(ctx.job, nonce);
    const run = actingRun(ctx.stored);
    const mark = failbackMark(run, Date.now(), { ...(requestedBy ? { requestedBy } : {}), ...(path ? { restoredFrom: path } : {}) });
    const status = await platformCall(`restore ${ctx.job.name} in ${az}`, () => deps.cluster.restore(az, ctx.job.namespace, ctx.job.name, {
      ...(path ? { initialSavepointPath: path } : {}), savepointRedeployNonce: nonce, ...(haZooKeeperRoot ? { haZooKeeperRoot } : {}),
    }, mark.annotations));
    const copy = { az, namespace: ctx.job.namespace, name: ctx.job.name };
    await recordMarkEvent(deps, copy, status.uid, mark, `${recordsKey(run)}/failed-back/${copy.namespace}/${copy.name}`);
  }

  /** Put the target AZ back as it was before the drill for one job. @returns what was done, or undefined for nothing */
  async function restoreTarget(ctx: JobContext, strategy: string, jobId: string | undefined, deployedByDrill: boolean, nonce: number, evacuationId: string): Promise<FailbackJobResult['target'] | undefined> {
    const az = ctx.target.name;
    const copy = targetResource(ctx, strategy as never);
    // A P0 whose hot standby was not usable falls back to a redeploy; where the standby bears
    // the job's own name in the target AZ, that redeploy was applied onto the standby itself.
    // It is the standby again after failback (restarted and labelled), never deleted.
    const standby = ctx.job.standby;
    const ontoHotStandby = strategy === 'redeploy' && standby?.kind === 'hot' && standby.az === az && standby.namespace === copy.namespace && standby.name === copy.name;
    if (strategy === 'redeploy' && !ontoHotStandby) {
      if (!deployedByDrill) return undefined;
      await platformCall(`delete ${copy.name} in ${az}`, () => deps.cluster.deleteDeployment(az, copy.namespace, copy.name));
      return 'deleted';
    }
    if (strategy !== 'promote-standby' && !ontoHotStandby) return undefined;
    const current = await platformCall(`read ${copy.name} in ${az}`, () => deps.cluster.getDeployment(az, copy.namespace, copy.name));
    if (!current) return undefined;
    if (current.specState !== 'running') {
      // The standby's own job ids (the promoted run's, its status's), never its primary's.
      const owner = { ...snapshotOwner(ctx.job), jobIds: mergeJobIds([jobId, current.jobId]) };
      const c = await platformCall(`snapshot of ${copy.name} in ${az}`, () => deps.objects.findSnapshot(az, owner, { nowEpochSeconds: Date.now() / 1000 }));
      const own = c.kind === 'snapshot' ? c.snapshot : undefined;
      await platformCall(`restart hot standby ${copy.name} in ${az}`, () => deps.cluster.restore(az, copy.namespace, copy.name, {
        ...(own ? { initialSavepointPath: own.path } : {}), savepointRedeployNonce: nonce,
      }));
    }
    if (current.labels[ROLE_LABEL] !== 'standby' || current.labels[EVACUATION_ID_LABEL] === evacuationId) {
      await platformCall(`label ${copy.name} standby in ${az}`, () => deps.cluster.label(az, copy.namespace, copy.name, { [ROLE_LABEL]: 'standby' }));
    }
    return 'standby-restarted';
  }}

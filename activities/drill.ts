/**
 * Drill activities: fault injection (simulator or hook command) and its teardown, the wait
 * for the source AZ to answer again, verification of an evacuation against targets (report
 * numbers, then live: RUNNING and a completed checkpoint in the target AZ), failback of each
 * drilled job from a fresh savepoint, the resumption of preempted jobs, and the drill report.
 *
 * Failback of one job (idempotent, safe to retry at any point), an evacuation in reverse:
 *  1. fence the copy in the target AZ: suspend it (stop-with-savepoint, upgradeMode savepoint),
 *     which writes the fresh savepoint of the state it built during the drill;
 *  2. find that savepoint (the newest `savepoint-<6 hex of its jobId>-…` in the target AZ's
 *     store) and wait until it is complete in the source AZ's replica (replication lags);
 *  3. restore the source FlinkDeployment from it (initialSavepointPath + a new
 *     savepointRedeployNonce + state running) and wait for RUNNING;
 *  4. put the target AZ back as it was: delete a redeployed copy, leave a cold standby
 *     suspended, restart a hot standby from its own savepoint and label it standby again.
 * A job that never ran in the target AZ is restored from its own newest snapshot in the
 * source AZ when the drill suspended it there, and left alone when it never stopped.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import { verifyReport, type DrillStatus, type VerifyCheck } from '../domain/drill.js';
import { redeployNonceFor } from '../domain/evacuation.js';
import type { EvacuationReport } from '../domain/report.js';
import { renderDrillReportHtml } from '../domain/drill-report-html.js';
import { renderReportHtml } from '../domain/report-html.js';
import type { FaultStep, VerifyStep } from '../domain/runbook.js';
import type { SnapshotEntry } from '../domain/types.js';
import { writeJsonAtomic, writeTextAtomic } from '../platform/json-files.js';
import { PlatformError } from '../platform/errors.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { loadJobContext, type JobContext } from './job-context.js';
import { nonceOf, targetResource } from './job-steps.js';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Label az-evac and the fleet use for a resource's role (`primary`, `standby`; `active` once promoted). */
const ROLE_LABEL = 'az-evac.io/role';
const EVACUATION_LABEL = 'az-evac.io/evacuation-id';
/** Polling interval of the activities' waits, ms. */
const POLL_MS = 500;

/** What failback did to one job. */
export interface FailbackJobResult {
  key: string;
  /** `restored-from-target`: restored from the fresh savepoint of its drilled copy; `restored-own`: from its own snapshot; `untouched`: it never stopped. */
  action: 'restored-from-target' | 'restored-own' | 'untouched';
  restoredFrom?: string;
  /** What was done in the target AZ: `deleted`, `suspended`, `standby-restarted`, `none`. */
  target: 'deleted' | 'suspended' | 'standby-restarted' | 'none';
}

/** Newest complete snapshot of `entries` matching `match`. */
function newestComplete(entries: SnapshotEntry[], match: (e: SnapshotEntry) => boolean): SnapshotEntry | undefined {
  return entries.filter((e) => e.hasMetadata && e.referencedFilesPresent && match(e))
    .sort((a, b) => b.completedAtEpochSeconds - a.completedAtEpochSeconds)[0];
}

/** Heartbeat every few seconds while `fn` polls. */
async function poll<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const activity = Context.current();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw terminal('StartupTimeout', `${what}: not done after ${Math.round(timeoutMs / 1000)}s`);
    activity.heartbeat(what);
    await sleep(POLL_MS);
  }
}

/** Build the drill activities over `deps`. */
export function createDrillActivities(deps: ActivityDeps) {
  /** Run a hook command (argv, no shell) with the drill in its environment. */
  async function hook(argv: string[], env: Record<string, string>, timeoutSeconds: number): Promise<string> {
    try {
      const { stdout } = await run(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, timeout: timeoutSeconds * 1000, maxBuffer: 1 << 20 });
      return stdout.trim().split('\n').slice(-1)[0] ?? '';
    } catch (err) {
      const e = err as Error & { code?: unknown; stderr?: string };
      throw terminal('Forbidden', `hook ${JSON.stringify(argv)} failed (${String(e.code ?? e.message)}): ${(e.stderr ?? '').trim().slice(-500)}`);
    }
  }

  return {
    /**
     * Inject (`teardown: false`) or lift (`teardown: true`) a runbook fault.
     * @returns a one-line summary
     * @throws non-retryable 'Forbidden' when a simulator fault is asked of a platform without fault injection, or a hook fails
     */
    async drillFault(req: { drillId: string; sourceAz: string; targetAz: string; fault: FaultStep; teardown: boolean }): Promise<string> {
      if ('simulator' in req.fault) {
        if (!deps.faults) throw terminal('Forbidden', "fault.simulator needs the simulator platform; on real clusters use fault.hook with a command");
        const az = req.fault.simulator.azDown;
        await platformCall(`set ${az} ${req.teardown ? 'up' : 'down'}`, () => deps.faults!.setAzDown(az, !req.teardown));
        return req.teardown ? `${az} is up again` : `${az} is down (API server and object store do not answer)`;
      }
      const argv = req.teardown ? req.fault.hook.teardown : req.fault.hook.command;
      if (!argv) return 'no teardown command';
      const env = { AZ_EVAC_DRILL_ID: req.drillId, AZ_EVAC_SOURCE_AZ: req.sourceAz, AZ_EVAC_TARGET_AZ: req.targetAz };
      const out = await hook(argv, env, req.fault.hook.timeoutSeconds ?? 300);
      return `${req.teardown ? 'teardown' : 'hook'} ${argv.join(' ')} exited 0${out ? `: ${out}` : ''}`;
    },

    /** Wait until `az`'s API answers (capacity read succeeds). @throws 'StartupTimeout' after `timeoutSeconds` */
    async awaitAzUp(req: { az: string; timeoutSeconds: number }): Promise<void> {
      await poll(`${req.az} API to answer`, req.timeoutSeconds * 1000, async () => {
        try {
          await deps.cluster.capacity(req.az);
          return true;
        } catch (err) {
          if (err instanceof PlatformError && err.retryable) return undefined;
          throw err;
        }
      });
    },

    /**
     * Verify an evacuation against targets: the report's per-tier RTO and worst RPO and
     * P0–P2 RUNNING (verifyReport), then live in the target AZ: every moved job RUNNING and a
     * checkpoint of its new JobID completed within `requireCheckpointWithinSeconds` (model) of RUNNING.
     */
    async verifyDrill(req: { evacuationId: string; reportFile: string; targets: VerifyStep }): Promise<VerifyCheck[]> {
      const report = JSON.parse(await readFile(req.reportFile, 'utf8')) as EvacuationReport;
      const checks = verifyReport(report, req.targets);
      const within = req.targets.requireCheckpointWithinSeconds ?? 600;
      const moved = report.jobs.filter((j) => j.outcome === 'running' && j.jobId);
      if (within <= 0 || moved.length === 0) return checks;
      const triggeredAt = Date.parse(report.startedAt) / 1000;
      const missing: string[] = [];
      for (const j of moved) {
        const key = `${j.namespace}/${j.name}`;
        const ctx = await loadJobContext(deps, req.evacuationId, key);
        const { namespace, name } = targetResource(ctx, j.strategy);
        const status = await platformCall(`read ${key} in ${report.targetAz}`, () => deps.cluster.getDeployment(report.targetAz, namespace, name));
        if (status?.jobState !== 'RUNNING') { missing.push(`${key} is ${status?.jobState ?? 'absent'}`); continue; }
        const runningAt = triggeredAt + (j.rtoSeconds ?? 0);
        const deadlineMs = (runningAt + within / report.timeScale) * 1000;
        const found = await poll(`checkpoint of ${key} in ${report.targetAz}`, Math.max(0, deadlineMs - Date.now()) + 1000, async () => {
          const entries = await platformCall(`snapshots of ${key}`, () => deps.objects.listSnapshots(report.targetAz, ctx.job));
          const chk = newestComplete(entries, (e) => e.kind === 'checkpoint' && e.path.includes(`/${status.jobId ?? j.jobId}/chk-`));
          if (chk) return chk;
          return Date.now() > deadlineMs ? null : undefined;
        }).catch(() => null);
        if (!found) missing.push(`${key}: no checkpoint within ${within}s of RUNNING`);
      }
      checks.push({
        name: 'checkpointing in target',
        passed: missing.length === 0,
        detail: missing.length === 0
          ? `${moved.length} moved job(s) RUNNING in ${report.targetAz} with a completed checkpoint`
          : `${missing.length} of ${moved.length}: ${missing.slice(0, 5).join('; ')}${missing.length > 5 ? '; …' : ''}`,
      });
      return checks;
    },

    /** Jobs a failback handles: every job the evacuation admitted, and the P3 jobs it preempted in the target AZ. */
    async failbackPlan(evacuationId: string): Promise<{ jobs: string[]; preempted: string[] }> {
      const stored = await deps.evacuations.getPlan(evacuationId).catch(() => undefined);
      if (!stored) return { jobs: [], preempted: [] };
      return { jobs: stored.plan.admitted.map((p) => p.key), preempted: stored.plan.preemptions.map((p) => p.key) };
    },

    /** Move one drilled job back into the source AZ (see the module comment). */
    async failbackJob(req: { evacuationId: string; key: string }): Promise<FailbackJobResult> {
      const ctx = await loadJobContext(deps, req.evacuationId, req.key);
      const source = ctx.source.name;
      const target = ctx.target.name;
      const outcome = (await deps.evacuations.listOutcomes(req.evacuationId)).find((o) => o.key === req.key);
      const strategy = outcome?.strategy ?? ctx.planned.strategy;
      const copy = targetResource(ctx, strategy);
      const fbNonce = redeployNonceFor(`${req.evacuationId}@failback`);
      const startupSeconds = (ctx.policy.startupTimeoutSeconds / ctx.timeScale) + 60;
      const src = await platformCall(`read ${req.key} in ${source}`, () => deps.cluster.getDeployment(source, ctx.job.namespace, ctx.job.name));
      if (!src) throw terminal('NotFound', `${req.key} no longer exists in ${source}; restore it from the catalog by hand`);
      const tgt = await platformCall(`read ${copy.namespace}/${copy.name} in ${target}`, () => deps.cluster.getDeployment(target, copy.namespace, copy.name));
      const deployedByDrill = !!tgt && (tgt.labels[EVACUATION_LABEL] === req.evacuationId || tgt.savepointRedeployNonce === nonceOf(ctx));

      let result: FailbackJobResult;
      if (src.specState === 'running' && src.savepointRedeployNonce === fbNonce) {
        result = { key: req.key, action: 'restored-from-target', target: 'none' };
      } else if (outcome?.outcome === 'running' && outcome.jobId && deployedByDrill) {
        // 1. fence the drilled copy; its stop-with-savepoint is the fresh restore point.
        await platformCall(`suspend ${copy.name} in ${target}`, () => deps.cluster.suspend(target, copy.namespace, copy.name));
        const stateless = outcome.snapshotPath === undefined && (ctx.job.deployment.spec.job as { upgradeMode?: string } | undefined)?.upgradeMode === 'stateless';
        let path: string | undefined;
        if (!stateless) {
          const prefix = `savepoint-${outcome.jobId.slice(0, 6)}-`;
          // The stop-with-savepoint is the newest savepoint of the drilled run in the target
          // AZ's own store (a suspended job writes no more). An older periodic one would
          // lose state and may be removed by retention while the source restores from it.
          const stop = await poll(`stop savepoint of ${req.key} in ${target}`, 10 * 60_000, async () => {
            const entries = await platformCall(`snapshots of ${req.key} in ${target}`, () => deps.objects.listSnapshots(target, ctx.job));
            return newestComplete(entries, (e) => e.kind === 'savepoint' && e.path.includes(prefix));
          });
          const dir = stop.path.replace(/^s3:\/\/[^/]+\//, '/');
          // 2. the fresh savepoint must be complete in the source AZ's replica.
          const fresh = await poll(`fresh savepoint of ${req.key} replicated to ${source}`, 10 * 60_000, async () => {
            const entries = await platformCall(`snapshots of ${req.key} in ${source}`, () => deps.objects.listSnapshots(source, ctx.job));
            return newestComplete(entries, (e) => e.path.endsWith(dir));
          });
          path = fresh.path;
        }
        await restoreSource(ctx, path, fbNonce, src.specState === 'suspended');
        result = { key: req.key, action: 'restored-from-target', ...(path ? { restoredFrom: path } : {}), target: 'suspended' };
      } else {
        if (deployedByDrill && tgt.specState === 'running') {
          await platformCall(`suspend ${copy.name} in ${target}`, () => deps.cluster.suspend(target, copy.namespace, copy.name));
        }
        if (src.specState === 'running') {
          result = { key: req.key, action: 'untouched', target: deployedByDrill ? 'suspended' : 'none' };
        } else {
          const entries = await platformCall(`snapshots of ${req.key} in ${source}`, () => deps.objects.listSnapshots(source, ctx.job));
          const own = newestComplete(entries, () => true);
          await restoreSource(ctx, own?.path, fbNonce, true);
          result = { key: req.key, action: 'restored-own', ...(own ? { restoredFrom: own.path } : {}), target: deployedByDrill ? 'suspended' : 'none' };
        }
      }
      if (result.action !== 'untouched') {
        const now = await platformCall(`read ${req.key} in ${source}`, () => deps.cluster.getDeployment(source, ctx.job.namespace, ctx.job.name));
        await platformCall(`${req.key} RUNNING in ${source}`, () => deps.cluster.waitForRunning(source, ctx.job.namespace, ctx.job.name, {
          minGeneration: now?.generation ?? 0, timeoutSeconds: startupSeconds, signal: Context.current().cancellationSignal,
          onProgress: () => Context.current().heartbeat('waiting for RUNNING in the source AZ'),
        }));
      }
      result.target = await restoreTarget(ctx, strategy, outcome?.jobId, deployedByDrill, fbNonce, req.evacuationId) ?? result.target;
      return result;
    },

    /** Resume a P3 job the evacuation preempted in the target AZ, from its own newest snapshot there. No-op when it runs. */
    async resumePreempted(req: { evacuationId: string; key: string }): Promise<boolean> {
      const stored = await deps.evacuations.getPlan(req.evacuationId);
      const az = stored.plan.targetAz;
      const [namespace = '', name = ''] = req.key.split('/');
      const status = await platformCall(`read ${req.key} in ${az}`, () => deps.cluster.getDeployment(az, namespace, name));
      if (!status || status.specState === 'running') return false;
      const catalog = await deps.catalogs.get(stored.plan.catalogVersion);
      const job = catalog.jobs.find((j) => j.az === az && j.namespace === namespace && j.name === name);
      const entries = job ? await platformCall(`snapshots of ${req.key} in ${az}`, () => deps.objects.listSnapshots(az, job)) : [];
      const own = newestComplete(entries, () => true);
      await platformCall(`resume ${req.key} in ${az}`, () => deps.cluster.restore(az, namespace, name, {
        ...(own ? { initialSavepointPath: own.path } : {}), savepointRedeployNonce: redeployNonceFor(`${req.evacuationId}@failback`),
      }));
      return true;
    },

    /**
     * Write the drill's reports next to the evacuation reports: JSON (the status: steps,
     * checks, decisions, cleanup) and HTML (the drill section above the evacuation's report).
     * @returns both files
     */
    async writeDrillReport(status: DrillStatus): Promise<{ json: string; html: string }> {
      const base = join(deps.reportDir, `${encodeURIComponent(status.drillId)}.drill`);
      const json = `${base}.json`;
      const html = `${base}.html`;
      await writeJsonAtomic(json, { ...status, reportFile: json, reportHtmlFile: html });
      const evacuation = status.evacuationReportFile
        ? JSON.parse(await readFile(status.evacuationReportFile, 'utf8')) as EvacuationReport
        : undefined;
      await writeTextAtomic(html, renderDrillReportHtml(status, evacuation ? await renderReportHtml(evacuation) : undefined));
      return { json, html };
    },
  };

  /** Restore the source FlinkDeployment from `path` (own state when undefined and it runs), with the failback nonce. */
  async function restoreSource(ctx: JobContext, path: string | undefined, nonce: number, suspended: boolean): Promise<void> {
    const { name: az } = ctx.source;
    // A suspended job's HA ConfigMaps are gone (stop-with-savepoint); delete any stale ones
    // that would silently win over initialSavepointPath (DESIGN.md §3).
    if (suspended) await platformCall(`delete stale HA ConfigMaps of ${ctx.job.name} in ${az}`, () => deps.cluster.deleteHaConfigMaps(az, ctx.job.namespace, ctx.job.name));
    await platformCall(`restore ${ctx.job.name} in ${az}`, () => deps.cluster.restore(az, ctx.job.namespace, ctx.job.name, {
      ...(path ? { initialSavepointPath: path } : {}), savepointRedeployNonce: nonce,
    }));
  }

  /** Put the target AZ back as it was before the drill for one job. @returns what was done, or undefined for nothing */
  async function restoreTarget(ctx: JobContext, strategy: string, jobId: string | undefined, deployedByDrill: boolean, nonce: number, evacuationId: string): Promise<FailbackJobResult['target'] | undefined> {
    const az = ctx.target.name;
    const copy = targetResource(ctx, strategy as never);
    if (strategy === 'redeploy') {
      if (!deployedByDrill) return undefined;
      await platformCall(`delete ${copy.name} in ${az}`, () => deps.cluster.deleteDeployment(az, copy.namespace, copy.name));
      return 'deleted';
    }
    if (strategy !== 'promote-standby') return undefined;
    const standby = await platformCall(`read ${copy.name} in ${az}`, () => deps.cluster.getDeployment(az, copy.namespace, copy.name));
    if (!standby) return undefined;
    if (standby.specState !== 'running') {
      const entries = await platformCall(`snapshots of ${copy.name} in ${az}`, () => deps.objects.listSnapshots(az, ctx.job));
      const own = newestComplete(entries, (e) => !jobId || e.kind !== 'savepoint' || e.path.includes(`savepoint-${jobId.slice(0, 6)}-`));
      await platformCall(`restart hot standby ${copy.name} in ${az}`, () => deps.cluster.restore(az, copy.namespace, copy.name, {
        ...(own ? { initialSavepointPath: own.path } : {}), savepointRedeployNonce: nonce,
      }));
    }
    if (standby.labels[ROLE_LABEL] !== 'standby' || standby.labels[EVACUATION_LABEL] === evacuationId) {
      await platformCall(`label ${copy.name} standby in ${az}`, () => deps.cluster.label(az, copy.namespace, copy.name, { [ROLE_LABEL]: 'standby' }));
    }
    return 'standby-restarted';
  }
}

/**
 * Drill activities: fault injection (simulator or hook command) and its teardown, the wait
 * for the source AZ to answer again, verification of an evacuation against targets (report
 * numbers, then live: RUNNING and a completed checkpoint in the target AZ) and the drill
 * report. Failback is activities/failback.ts (also used outside drills, by `az-evac failback`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { verifyReport, type DrillStatus, type VerifyCheck } from '../domain/drill.js';
import type { EvacuationReport } from '../domain/report.js';
import { renderDrillReportHtml } from '../domain/drill-report-html.js';
import { renderReportHtml } from '../domain/report-html.js';
import type { FaultStep, VerifyStep } from '../domain/runbook.js';
import { mergeJobIds, snapshotOwner } from '../domain/snapshot-owner.js';
import { PlatformError } from '../platform/errors.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { pollUntil } from './poll.js';
import { loadJobContext } from './job-context.js';
import { targetResource } from './job-steps.js';

const run = promisify(execFile);


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
      await pollUntil(`${req.az} API to answer`, req.timeoutSeconds * 1000, async () => {
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
    async verifyDrill(req: { evacuationId: string; runId?: string; reportFile: string; targets: VerifyStep }): Promise<VerifyCheck[]> {
      const report = JSON.parse(await deps.reports.read(req.reportFile)) as EvacuationReport;
      const checks = verifyReport(report, req.targets);
      const within = req.targets.requireCheckpointWithinSeconds ?? 600;
      const moved = report.jobs.filter((j) => j.outcome === 'running' && j.jobId);
      if (within <= 0 || moved.length === 0) return checks;
      const triggeredAt = Date.parse(report.startedAt) / 1000;
      const missing: string[] = [];
      for (const j of moved) {
        const key = `${j.namespace}/${j.name}`;
        const ctx = await loadJobContext(deps, req, key);
        const { namespace, name } = targetResource(ctx, j.strategy);
        const status = await platformCall(`read ${key} in ${report.targetAz}`, () => deps.cluster.getDeployment(report.targetAz, namespace, name));
        if (status?.jobState !== 'RUNNING') { missing.push(`${key} is ${status?.jobState ?? 'absent'}`); continue; }
        const runningAt = triggeredAt + (j.rtoSeconds ?? 0);
        const deadlineMs = (runningAt + within / report.timeScale) * 1000;
        const found = await pollUntil(`checkpoint of ${key} in ${report.targetAz}`, Math.max(0, deadlineMs - Date.now()) + 1000, async () => {
          // The moved copy's own checkpoints, in the AZ that writes them (no cross-AZ layout rule).
          const owner = { ...snapshotOwner(ctx.job), jobIds: mergeJobIds([status.jobId ?? j.jobId]) };
          const chk = await platformCall(`checkpoint of ${key}`, () => deps.objects.findSnapshot(report.targetAz, owner, { kind: 'checkpoint', nowEpochSeconds: Date.now() / 1000 }));
          if (chk.kind === 'snapshot') return chk.snapshot;
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

    /**
     * Write the drill's reports into the report store beside the evacuation reports: JSON (the status: steps,
     * checks, decisions, cleanup) and HTML (the drill section above the evacuation's report).
     * @returns both files
     */
    async writeDrillReport(status: DrillStatus): Promise<{ json: string; html: string }> {
      const json = deps.reports.refOf(`${status.drillId}.drill.json`);
      const html = deps.reports.refOf(`${status.drillId}.drill.html`);
      await deps.reports.put(`${status.drillId}.drill.json`, JSON.stringify({ ...status, reportFile: json, reportHtmlFile: html }));
      const evacuation = status.evacuationReportFile
        ? JSON.parse(await deps.reports.read(status.evacuationReportFile)) as EvacuationReport
        : undefined;
      await deps.reports.put(`${status.drillId}.drill.html`, renderDrillReportHtml(status, evacuation ? await renderReportHtml(evacuation) : undefined));
      return { json, html };
    },
  };
}

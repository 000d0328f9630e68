/**
 * The per-job steps: prepare (snapshot choice + config regeneration + CRD validation),
 * promote a hot standby, fence the source copy, deploy (server-side apply or standby
 * restore), and wait until RUNNING. Each is idempotent: deterministic names, the same
 * redeploy nonce for every retry of one evacuation, apply with a fixed field manager.
 */
import { Context } from '@temporalio/activity';
import { redeployNonceFor, type EvacuationMode, type FenceState, type PrepareResult, type StepTiming } from '../domain/evacuation.js';
import { chooseSnapshot } from '../domain/snapshot-choice.js';
import { renderForTargetAz } from '../domain/render-deployment.js';
import type { FlinkDeploymentManifest, Strategy } from '../domain/types.js';
import { PlatformError } from '../platform/errors.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { loadJobContext, type JobContext } from './job-context.js';

/** A job step's reference: evacuation id and job key, nothing more. */
export interface JobRef {
  evacuationId: string;
  key: string;
}

function timing(startedAtMs: number): StepTiming {
  return { startedAtMs, endedAtMs: Date.now(), attempt: Context.current().info.attempt };
}

/** Render the target manifest of a job (restore from `restorePath`, or stateless). */
function render(ctx: JobContext, evacuationId: string, restorePath: string | undefined): FlinkDeploymentManifest {
  return renderForTargetAz({
    job: ctx.job, source: ctx.source, target: ctx.target, layout: ctx.catalog.platform.layout,
    restore: restorePath ? { path: restorePath } : { stateless: true },
    evacuationId, nonce: redeployNonceFor(evacuationId),
  });
}

/** Where the job runs in the target AZ: its cold standby for resume-standby, else its own name. */
function targetResource(ctx: JobContext, strategy: Strategy): { namespace: string; name: string } {
  if (strategy !== 'redeploy' && ctx.job.standby) return { namespace: ctx.job.standby.namespace, name: ctx.job.standby.name };
  return { namespace: ctx.job.namespace, name: ctx.job.name };
}

/** Build the job-step activities over `deps`. */
export function createJobSteps(deps: ActivityDeps) {
  return {
    /**
     * Choose the newest complete restorable snapshot within the tier's RPO in the target
     * AZ's replica, then render and CRD-validate the target manifest.
     * @returns the action: restore (path, age in wall seconds), stateless, fail or skip (tier's onNoSnapshot)
     */
    async prepareJob(ref: JobRef): Promise<PrepareResult> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref.evacuationId, ref.key);
      const entries = await platformCall(`snapshots of ${ref.key} in ${ctx.target.name}`, () => deps.objects.listSnapshots(ctx.target.name, ctx.job));
      const choice = chooseSnapshot(entries, {
        layout: ctx.catalog.platform.layout,
        rpoSeconds: ctx.policy.rpoSeconds / ctx.timeScale,
        nowEpochSeconds: Date.now() / 1000,
      });
      const snapshotEndedAtMs = Date.now();
      let restorePath: string | undefined;
      let action: PrepareResult;
      if (choice.kind === 'snapshot') {
        restorePath = choice.snapshot.path;
        action = { action: 'restore', snapshotPath: restorePath, snapshotAgeSeconds: choice.ageSeconds, ...timing(startedAtMs), snapshotEndedAtMs };
      } else {
        const reason = `no restorable snapshot within the ${ctx.planned.tier} RPO of ${ctx.policy.rpoSeconds}s in ${ctx.target.name}: ${choice.reason}`;
        if (ctx.policy.onNoSnapshot === 'fail') return { action: 'fail', reason, ...timing(startedAtMs), snapshotEndedAtMs };
        if (ctx.policy.onNoSnapshot === 'skip') return { action: 'skip', reason, ...timing(startedAtMs), snapshotEndedAtMs };
        action = { action: 'stateless', reason: `${reason}; restored stateless (tier policy)`, ...timing(startedAtMs), snapshotEndedAtMs };
      }
      if (ctx.planned.strategy === 'redeploy') {
        const check = deps.validateManifest(render(ctx, ref.evacuationId, restorePath));
        if (!check.ok) return { action: 'fail', reason: `rendered manifest fails the FlinkDeployment CRD: ${check.errors.join('; ')}`, ...timing(startedAtMs), snapshotEndedAtMs };
      }
      return { ...action, endedAtMs: Date.now() };
    },

    /**
     * Verify the hot standby in the target AZ is RUNNING and mark it active.
     * @returns promoted false (with reason) when the standby is absent or unhealthy: the workflow redeploys instead
     */
    async promoteStandby(ref: JobRef): Promise<StepTiming & { promoted: boolean; reason?: string; jobId?: string }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref.evacuationId, ref.key);
      const standby = ctx.job.standby;
      if (!standby || standby.kind !== 'hot' || standby.az !== ctx.target.name) {
        return { promoted: false, reason: `no hot standby in ${ctx.target.name}`, ...timing(startedAtMs) };
      }
      const status = await platformCall(`hot standby of ${ref.key}`, () => deps.cluster.getDeployment(standby.az, standby.namespace, standby.name));
      if (!status) return { promoted: false, reason: `hot standby ${standby.namespace}/${standby.name} is absent in ${standby.az}`, ...timing(startedAtMs) };
      if (status.jobState !== 'RUNNING') {
        return { promoted: false, reason: `hot standby is ${status.lifecycleState ?? '?'}/${status.jobState ?? '?'}, not RUNNING`, ...timing(startedAtMs) };
      }
      await platformCall(`promote ${ref.key}`, () => deps.cluster.label(standby.az, standby.namespace, standby.name, {
        'az-evac.io/role': 'active', 'az-evac.io/evacuation-id': ref.evacuationId,
      }));
      return { promoted: true, jobId: status.jobId, ...timing(startedAtMs) };
    },

    /**
     * Fence the source copy before the target copy starts: suspend it when the source API
     * answers. In an emergency an unreachable source is recorded as `unreachable` at once
     * (no retry storm against a dead AZ).
     */
    async fenceSource(ref: JobRef & { mode: EvacuationMode }): Promise<StepTiming & { fence: FenceState }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref.evacuationId, ref.key);
      try {
        const status = await deps.cluster.suspend(ctx.source.name, ctx.job.namespace, ctx.job.name);
        return { fence: status ? 'suspended' : 'absent', ...timing(startedAtMs) };
      } catch (err) {
        const unreachable = err instanceof PlatformError && ['az-down', 'unavailable', 'timeout'].includes(err.code);
        if (unreachable && ref.mode === 'emergency') return { fence: 'unreachable', ...timing(startedAtMs) };
        return platformCall(`fence ${ref.key} in ${ctx.source.name}`, () => Promise.reject(err));
      }
    },

    /**
     * Start the job in the target AZ. resume-standby: patch the cold standby
     * (initialSavepointPath + savepointRedeployNonce + state running). redeploy: delete stale
     * HA ConfigMaps before a first deploy, then server-side apply the rendered manifest.
     * @returns the resource generation to wait for
     */
    async deployJob(ref: JobRef & { strategy: Strategy; restorePath?: string }): Promise<StepTiming & { generation: number }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref.evacuationId, ref.key);
      const az = ctx.target.name;
      const nonce = redeployNonceFor(ref.evacuationId);
      if (ref.strategy === 'resume-standby' && ctx.job.standby) {
        const { namespace, name } = targetResource(ctx, ref.strategy);
        const status = await platformCall(`resume ${ref.key} in ${az}`, () => deps.cluster.restore(az, namespace, name, {
          initialSavepointPath: ref.restorePath, savepointRedeployNonce: nonce,
        }));
        return { generation: status.generation, ...timing(startedAtMs) };
      }
      const manifest = render(ctx, ref.evacuationId, ref.restorePath);
      const { namespace, name } = { namespace: manifest.metadata.namespace ?? ctx.job.namespace, name: manifest.metadata.name };
      const existing = await platformCall(`read ${ref.key} in ${az}`, () => deps.cluster.getDeployment(az, namespace, name));
      if (!existing) await platformCall(`delete stale HA ConfigMaps of ${ref.key} in ${az}`, () => deps.cluster.deleteHaConfigMaps(az, namespace, name));
      const applied = await platformCall(`apply ${ref.key} in ${az}`, () => deps.cluster.apply(az, manifest));
      return { generation: applied.generation, ...timing(startedAtMs) };
    },

    /**
     * Wait until the job reports RUNNING in the target AZ, heartbeating while it waits.
     * @throws non-retryable 'DeploymentFailed' with the operator's status.error, 'StartupTimeout' after timeoutSeconds
     */
    async awaitRunning(ref: JobRef & { minGeneration: number; timeoutSeconds: number }): Promise<StepTiming & { jobId: string }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref.evacuationId, ref.key);
      const { namespace, name } = targetResource(ctx, ctx.planned.strategy);
      const activity = Context.current();
      const status = await platformCall(`start-up of ${ref.key} in ${ctx.target.name}`, () => deps.cluster.waitForRunning(ctx.target.name, namespace, name, {
        minGeneration: ref.minGeneration, timeoutSeconds: ref.timeoutSeconds, signal: activity.cancellationSignal,
        onProgress: (s) => activity.heartbeat({ lifecycleState: s?.lifecycleState, jobState: s?.jobState }),
      })).catch((err: unknown) => {
        if (err instanceof Error && err.name === 'ApplicationFailure' && (err as { type?: string }).type === 'StartupTimeout') {
          throw terminal('StartupTimeout', `${ref.key} did not reach RUNNING in ${ctx.target.name} within ${ref.timeoutSeconds}s`);
        }
        throw err;
      });
      return { jobId: status.jobId ?? '', ...timing(startedAtMs) };
    },
  };
}

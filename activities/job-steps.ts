/**
 * The per-job activities. `startJob` runs the steps before start-up in one activity
 * (snapshot choice → config regeneration + CRD validation → the job's own jars → fence
 * the source copy → deploy) and reports each phase's timing, so a job costs two activity
 * round trips instead of five; `promoteStandby` for hot standbys; `awaitRunning` waits,
 * heartbeating. Every step is idempotent (deterministic names, one redeploy nonce per
 * evacuation, server-side apply with a fixed field manager), so a retry redoes nothing.
 */
import { Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import { recordsKey, redeployNonceFor, type EvacuationMode, type FenceSeen, type FenceState, type PromotionResult, type StartJobResult, type StepTiming } from '../domain/evacuation.js';
import type { SnapshotQuery } from '../domain/snapshot-choice.js';
import { snapshotOwner, type SnapshotOwner } from '../domain/snapshot-owner.js';
import { DEFAULT_FENCE_OBSERVE_SECONDS } from '../domain/tiers-policy.js';
import { EVACUATION_ID_LABEL, ROLE_LABEL, renderForTargetAz, restoreZooKeeperRoot, sourceAzLeftoverProblem } from '../domain/render-deployment.js';
import type { FlinkDeploymentManifest, SnapshotChoice, Strategy } from '../domain/types.js';
import type { RestoreEvidence } from '../domain/restore-verdict.js';
import { START_STEP_LOOKUPS_AT_ONCE } from '../domain/rto-estimate.js';
import { savepointInReplica } from './planned-stop.js';
import { parseS3Uri } from '../domain/snapshot-layout.js';
import { PlatformError } from '../platform/errors.js';
import type { ActivityDeps } from './deps.js';
import { asFailure, platformCall, terminal } from './failures.js';
import { actingRun, fenceStaysPending, recordMarkEvent, requestFence, type FenceAttempt } from './fencing.js';
import { applyMark, type AppliedCopy } from '../domain/fence.js';
import type { JarStager } from './jar-stager.js';
import { loadJobContext, type JobContext } from './job-context.js';
import { heartbeating } from './poll.js';

/** A job step's reference: evacuation id, its run and the job key, nothing more. */
export interface JobRef {
  evacuationId: string;
  /** The evacuation's run (EvacuationInput.runId): its plan and fences are under recordsKey(). */
  runId?: string;
  key: string;
}

/**
 * The savepointRedeployNonce of this evacuation run: from its id and trigger time, so every
 * retry of one run sets the same nonce and a later evacuation with the same id another one.
 */
export function nonceOf(ctx: JobContext): number {
  return redeployNonceFor(`${ctx.stored.request.evacuationId}@${ctx.stored.request.triggeredAtMs ?? 0}`);
}

/** Render the target manifest of a job (restore from `restorePath`, or stateless). */
function render(ctx: JobContext, evacuationId: string, restorePath: string | undefined): FlinkDeploymentManifest {
  return renderForTargetAz({
    job: ctx.job, source: ctx.source, target: ctx.target, layout: ctx.catalog.platform.layout,
    restore: restorePath ? { path: restorePath } : { stateless: true },
    evacuationId, nonce: nonceOf(ctx),
  });
}

/** `manifest` with `annotations` merged into its metadata (a copy). */
function withAnnotations(manifest: FlinkDeploymentManifest, annotations: Record<string, string>): FlinkDeploymentManifest {
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, ...annotations } } };
}

/** Where the job runs in the target AZ: its standby for the standby strategies, else its own name. */
export function targetResource(ctx: JobContext, strategy: Strategy): { namespace: string; name: string } {
  if (strategy !== 'redeploy' && ctx.job.standby) return { namespace: ctx.job.standby.namespace, name: ctx.job.standby.name };
  return { namespace: ctx.job.namespace, name: ctx.job.name };
}

/**
 * The mark of the copy this run brings up in the target AZ (domain/fence.ts applyMark), to go
 * into the apply or patch that starts it, and the function that records its Event afterwards
 * (best effort, one Event per run and copy however often the step is retried).
 */
function applied(deps: ActivityDeps, ctx: JobContext, copy: { namespace: string; name: string }, what: AppliedCopy) {
  const mark = applyMark(actingRun(ctx.stored), Date.now(), what);
  const ref = { az: ctx.target.name, ...copy };
  return {
    annotations: mark.annotations,
    recordEvent: (uid: string | undefined) => recordMarkEvent(deps, ref, uid, mark, `${recordsKey(ctx.stored.request)}/applied/${copy.namespace}/${copy.name}`),
  };
}

/** What a job's fence step did: its state and what was seen of the source copy. */
interface Fenced {
  state: FenceState;
  seen?: FenceSeen;
}

/**
 * Fence the source copy (guarantee 2): suspend it with az-evac's annotations and Event and
 * wait up to `observeSeconds` (wall) to see it stopped (fencing.ts requestFence). Not seen
 * stopped in time: a `requested` fence record is stored for the fencing follow-up, which
 * keeps looking, and the job goes on (the report says "fence requested, not observed"). In
 * an emergency an unreachable source (or one answering 403 or 429: fenceStaysPending) is
 * recorded as `unreachable` at once (no retry storm against a dead AZ) and a pending fence is
 * stored BEFORE the target copy is deployed, so the follow-up suspends it when the AZ comes
 * back; in other modes it fails the step.
 */
async function fence(deps: ActivityDeps, ctx: JobContext, mode: EvacuationMode, observeSeconds: number): Promise<Fenced> {
  const what = `fence ${ctx.planned.key} in ${ctx.source.name}`;
  const records = recordsKey(ctx.stored.request);
  const copy = { az: ctx.source.name, namespace: ctx.job.namespace, name: ctx.job.name };
  const record = { key: ctx.planned.key, sourceAz: copy.az, namespace: copy.namespace, name: copy.name };
  let attempt: FenceAttempt;
  try {
    attempt = await requestFence(deps, actingRun(ctx.stored), copy, observeSeconds * 1000);
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    if (!fenceStaysPending(err) || mode !== 'emergency') throw asFailure(what, err);
    await deps.evacuations.putFence(records, { ...record, state: 'pending', recordedAtMs: Date.now() });
    return { state: 'unreachable' };
  }
  if (attempt.state === 'requested') {
    await deps.evacuations.putFence(records, { ...record, state: 'requested', recordedAtMs: Date.now(), suspendGeneration: attempt.suspendGeneration, seen: attempt.seen });
  }
  return { state: attempt.state, seen: attempt.seen };
}

/**
 * Wall seconds a start step waits to see its fenced source copy stopped (tiers.yaml
 * fenceObserveSeconds on the platform's clock; plans stored before it existed: the default).
 */
function observeSeconds(ctx: JobContext): number {
  const p = ctx.stored.policy;
  return p.fenceObserveSeconds ?? DEFAULT_FENCE_OBSERVE_SECONDS / p.timeScale;
}

/**
 * Why the rendered manifest must not be applied: it fails the FlinkDeployment CRD, or some
 * value or key anywhere in it still names the source AZ (findSourceAzLeftovers, with its
 * allowlist; the readiness check reports the same before any trigger). @returns the reason,
 * or undefined when it may be applied
 */
function manifestProblem(deps: ActivityDeps, ctx: JobContext, manifest: FlinkDeploymentManifest): string | undefined {
  const check = deps.validateManifest(manifest);
  if (!check.ok) return `rendered manifest fails the FlinkDeployment CRD: ${check.errors.join('; ')}`;
  return sourceAzLeftoverProblem(manifest, ctx.source, ctx.catalog.platform.layout);
}

/**
 * The job id the source copy runs now (`status.jobStatus.jobId`), read from the source AZ;
 * undefined when the source does not answer or has none (the catalog's ids are used alone).
 */
async function liveJobId(deps: ActivityDeps, ctx: JobContext): Promise<string | undefined> {
  const src = await deps.cluster.getDeployment(ctx.source.name, ctx.job.namespace, ctx.job.name).catch(() => null);
  return src?.jobId;
}

/**
 * Start step of a job suspended in the source AZ: it is not started in the target. Redeploy
 * applies it with `state: suspended` and initialSavepointPath = its newest complete snapshot
 * in the target's replica (none: stateless), so `state: running` later deploys it from there;
 * a standby strategy leaves the standby as it is. @returns action `skip` with what was done
 */
async function startSuspended(
  deps: ActivityDeps, ctx: JobContext, ref: JobRef & { strategy: Strategy }, owner: SnapshotOwner, nowEpochSeconds: number,
  phases: StartJobResult['phases'], phase: (name: string) => void, attempt: number,
): Promise<StartJobResult> {
  const az = ctx.target.name;
  const was = `suspended in ${ctx.source.name} before the evacuation`;
  if (ref.strategy !== 'redeploy') return { action: 'skip', reason: `${was}: left suspended, its standby in ${az} not started`, phases, attempt };
  const newest = await platformCall(`snapshot of ${ref.key} in ${az}`, () => deps.objects.findSnapshot(az, owner, { layout: ctx.catalog.platform.layout, nowEpochSeconds }));
  const own = newest.kind === 'snapshot' ? newest.snapshot : undefined;
  const manifest = render(ctx, ref.evacuationId, own?.path);
  const problem = manifestProblem(deps, ctx, manifest);
  if (problem) return { action: 'fail', reason: problem, phases, attempt };
  phase('config');
  const namespace = manifest.metadata.namespace ?? ctx.job.namespace;
  const current = await platformCall(`read ${ref.key} in ${az}`, () => deps.cluster.getDeployment(az, namespace, manifest.metadata.name));
  if (!current) await platformCall(`delete stale HA ConfigMaps of ${ref.key} in ${az}`, () => deps.cluster.deleteHaConfigMaps(az, namespace, manifest.metadata.name));
  const mark = applied(deps, ctx, { namespace, name: manifest.metadata.name }, { strategy: 'redeploy', ...(own ? { snapshotPath: own.path } : {}), suspended: true });
  const { uid } = await platformCall(`apply ${ref.key} suspended in ${az}`, () => deps.cluster.apply(az, withAnnotations(manifest, mark.annotations)));
  await mark.recordEvent(uid);
  phase('apply');
  const from = own ? `initialSavepointPath ${own.path}` : 'no snapshot (stateless)';
  return { action: 'skip', reason: `${was}: deployed suspended in ${az} with ${from}, not started; set spec.job.state: running to start it`, phases, attempt };
}

/**
 * A first-come, first-served bound on the start steps' snapshot lookups of one worker: at most
 * `atOnce` run at once (START_STEP_LOOKUPS_AT_ONCE, domain/rto-estimate.ts), the others wait in
 * the order they asked. A lookup is a dozen object-store requests (list, HEADs, the `_metadata`
 * read and parse); started all at once, the 304 P2 lookups of the default demo advanced in
 * lock-step behind the worker's S3 request bound and ended together 8.7–16.7 s after their
 * dispatch (median 13.8 s, load 6–12), so no P2 job was applied before 24.8 s. In turn, the
 * first ones end after one lookup's time and their jobs start up while the rest are looked up.
 * @returns a function running `fn` under the bound (its result or rejection, unchanged)
 */
export function lookupQueue(atOnce: number = START_STEP_LOOKUPS_AT_ONCE): <T>(fn: () => Promise<T>) => Promise<T> {
  return pLimit(atOnce);
}

/** Build the job activities over `deps`; `jars` is shared with the bulk preload. */
export function createJobSteps(deps: ActivityDeps, jars: JarStager) {
  // One queue per worker: every burst's start steps share it.
  const lookups = lookupQueue();
  const steps = {
    /**
     * Everything before start-up. Snapshot: newest complete restorable one within the
     * tier's RPO in the target AZ's replica, of the job's own Flink job ids only (the catalog's
     * `jobIds`, never its standby's), checked newest first up to the first complete one
     * (ObjectStorePort.findSnapshot), aged at the trigger (the RPO paid); none →
     * the tier's onNoSnapshot (fail, skip, restore stateless). In a planned move
     * (`savepointPath`: the savepoint the source was stopped with, activities/planned-stop.ts)
     * exactly that savepoint instead, waited for in the target's replica (phase `replica`) up to
     * the policy's savepointTimeoutSeconds, else `fail` naming why; never an older snapshot.
     * An action `fail` always means nothing was deployed in the target. Then render + CRD-validate,
     * this job's jars (when preloading), fence the source (when it answered: wait up to
     * tiers.yaml fenceObserveSeconds to see it stopped; once seen stopped, choose again among
     * the snapshots its own store still holds if its retention deleted the chosen checkpoint
     * meanwhile), and deploy: resume-standby patches the cold standby (initialSavepointPath +
     * savepointRedeployNonce + running, and a fresh ZooKeeper root when the job uses ZooKeeper HA);
     * redeploy deletes stale HA ConfigMaps before a first deploy and server-side applies.
     * @throws non-retryable 'JarMissing', 'ManifestRejected', 'Forbidden'; retryable platform errors
     */
    async startJob(ref: JobRef & { strategy: Strategy; mode: EvacuationMode; preload: boolean; savepointPath?: string }): Promise<StartJobResult> {
      const t0 = Date.now();
      const phases: StartJobResult['phases'] = {};
      const attempt = Context.current().info.attempt;
      let mark = t0;
      const phase = (name: string): void => { const now = Date.now(); phases[name] = { startedAtMs: mark, endedAtMs: now }; mark = now; };

      const ctx = await loadJobContext(deps, ref, ref.key);
      const az = ctx.target.name;
      ctx.log.info('start step', { strategy: ref.strategy, mode: ref.mode, targetAz: az });
      // Only the job's own job ids' snapshots: never its hot standby's under the same prefixes.
      // Where the source AZ answers (drill, planned), its live job id comes first: a job
      // redeployed since the last catalog sync checkpoints under an id the catalog lacks.
      const owner = snapshotOwner(ctx.job, ref.mode === 'emergency' ? undefined : await liveJobId(deps, ctx));
      const triggeredAtMs = ctx.stored.request.triggeredAtMs ?? t0;

      // A job suspended in the source stays suspended (docs/design.md "Operator rules the
      // renderer follows"): redeployed suspended from its newest complete snapshot (its stop
      // savepoint, however old: the RPO is about running jobs), reported as skipped.
      if (ctx.job.deployment.spec.job?.state === 'suspended') return startSuspended(deps, ctx, ref, owner, triggeredAtMs / 1000, phases, phase, attempt);

      // A retry after this run already deployed the job (lost completion, worker crash) must
      // not choose again: the job now writes newer checkpoints of its own, and restoring from
      // one would restart a RUNNING job. The nonce on the resource says this run deployed it.
      const target = targetResource(ctx, ref.strategy);
      const current = await platformCall(`read ${ref.key} in ${az}`, () => deps.cluster.getDeployment(az, target.namespace, target.name));
      if (current && current.specState === 'running' && current.savepointRedeployNonce === nonceOf(ctx)) {
        phase('snapshot');
        const fenced = await fence(deps, ctx, ref.mode, observeSeconds(ctx));
        // The attempt that deployed it may have ended before its Event was recorded.
        await applied(deps, ctx, target, { strategy: ref.strategy === 'resume-standby' ? 'resume-standby' : 'redeploy', ...(current.initialSavepointPath ? { snapshotPath: current.initialSavepointPath } : {}) }).recordEvent(current.uid);
        const listed = current.initialSavepointPath ? await platformCall(`snapshots of ${ref.key} in ${az}`, () => deps.objects.listSnapshots(az, owner)) : [];
        const used = listed.find((e) => e.path === current.initialSavepointPath);
        return {
          action: 'deployed', generation: current.generation, phases, attempt, fence: fenced.state, ...(fenced.seen ? { fenceSeen: fenced.seen } : {}),
          ...(current.initialSavepointPath ? { snapshotPath: current.initialSavepointPath } : {}),
          ...(used ? { snapshotAgeSeconds: triggeredAtMs / 1000 - used.completedAtEpochSeconds } : {}),
        };
      }

      const choiceOptions: SnapshotQuery = { layout: ctx.catalog.platform.layout, rpoSeconds: ctx.policy.rpoSeconds, nowEpochSeconds: triggeredAtMs / 1000 };
      let choice: SnapshotChoice;
      if (ref.savepointPath !== undefined) {
        // Planned move: exactly the savepoint the source was stopped with, once complete in
        // this AZ's replica; never another snapshot.
        const found = await savepointInReplica(deps, ctx, az, owner, ref.savepointPath);
        phase('replica');
        if (found.kind !== 'snapshot') return { action: 'fail', reason: found.reason, phases, attempt };
        // The job stopped at this savepoint, after the trigger: nothing is rewound, the RPO paid
        // is 0 by construction. (Measured against the trigger it could show up to a second:
        // object stores may keep whole-second timestamps, e.g. S3 LastModified.)
        choice = { ...found, ageSeconds: 0 };
      } else {
        choice = await platformCall(`snapshot of ${ref.key} in ${az}`, () => lookups(() => deps.objects.findSnapshot(az, owner, choiceOptions)));
        phase('snapshot');
      }
      let restorePath: string | undefined;
      let note: string | undefined;
      if (choice.kind === 'snapshot') {
        restorePath = choice.snapshot.path;
      } else {
        const reason = `no restorable snapshot within the ${ctx.planned.tier} RPO (${ctx.policy.rpoSeconds}s model) in ${az}: ${choice.reason}`;
        if (ctx.policy.onNoSnapshot !== 'restore-stateless') return { action: ctx.policy.onNoSnapshot, reason, phases, attempt };
        note = `${reason}; restored stateless (tier policy)`;
      }
      let manifest = render(ctx, ref.evacuationId, restorePath);
      if (ref.strategy === 'redeploy') {
        const problem = manifestProblem(deps, ctx, manifest);
        if (problem) return { action: 'fail', reason: problem, phases, attempt };
      }
      phase('config');
      if (ref.preload) {
        // A jar copy may take minutes under contention: keep the activity alive meanwhile.
        const activity = Context.current();
        const beat = setInterval(() => activity.heartbeat('waiting for jars'), 20_000);
        try {
          await Promise.all(ctx.job.jars.map((jar) => jars.ensure(az, jar, ref.key)));
        } finally {
          clearInterval(beat);
        }
        phase('jars');
      }
      const fenced = await fence(deps, ctx, ref.mode, observeSeconds(ctx));
      // The source runs on until its operator has stopped it, and its checkpoint retention
      // may delete the chosen checkpoint meanwhile (a short interval, a slow stop); the
      // delete reaches the target's replica later. Once the source is seen stopped its own store
      // is final: choose again among the target's snapshots it still holds if the choice is gone.
      if (fenced.state === 'stopped' && ref.savepointPath === undefined && choice.kind === 'snapshot') {
        const src = ctx.source.name;
        const inSource = await platformCall(`snapshots of ${ref.key} in ${src}`, () => deps.objects.listSnapshots(src, owner));
        // Compared by key: AZs name their replicas' buckets apart.
        const keyOf = (path: string): string => parseS3Uri(path)?.key ?? path;
        const kept = inSource.map((e) => keyOf(e.path));
        const again = kept.includes(keyOf(choice.snapshot.path))
          ? undefined
          : await platformCall(`snapshot of ${ref.key} in ${az}`, () => deps.objects.findSnapshot(az, owner, { ...choiceOptions, dirKeys: kept }));
        if (again?.kind === 'snapshot') {
          choice = again;
          restorePath = again.snapshot.path;
          manifest = render(ctx, ref.evacuationId, restorePath);
        }
      }
      phase('fence');

      let generation: number;
      if (ref.strategy === 'resume-standby' && ctx.job.standby) {
        const { namespace, name } = targetResource(ctx, ref.strategy);
        // The cold standby never ran here: any HA ConfigMaps of its cluster-id are stale and
        // would silently win over initialSavepointPath on this first start (docs/design.md#upgrade-mode-and-ha-metadata).
        await platformCall(`delete stale HA ConfigMaps of ${ref.key} in ${az}`, () => deps.cluster.deleteHaConfigMaps(az, namespace, name));
        // ZooKeeper HA: a fresh root, as for a redeploy (docs/design.md "Operator rules the renderer follows", rule 7).
        const haZooKeeperRoot = restoreZooKeeperRoot(ctx.job, nonceOf(ctx));
        const mark = applied(deps, ctx, { namespace, name }, { strategy: 'resume-standby', ...(restorePath ? { snapshotPath: restorePath } : {}) });
        const status = await platformCall(`resume ${ref.key} in ${az}`, () => deps.cluster.restore(az, namespace, name, {
          initialSavepointPath: restorePath, savepointRedeployNonce: nonceOf(ctx), ...(haZooKeeperRoot ? { haZooKeeperRoot } : {}),
        }, mark.annotations));
        await mark.recordEvent(status.uid);
        generation = status.generation;
      } else {
        const namespace = manifest.metadata.namespace ?? ctx.job.namespace;
        if (!current) await platformCall(`delete stale HA ConfigMaps of ${ref.key} in ${az}`, () => deps.cluster.deleteHaConfigMaps(az, namespace, manifest.metadata.name));
        // The mark goes in after the checks above: it names both AZs.
        const mark = applied(deps, ctx, { namespace, name: manifest.metadata.name }, { strategy: 'redeploy', ...(restorePath ? { snapshotPath: restorePath } : {}) });
        const result = await platformCall(`apply ${ref.key} in ${az}`, () => deps.cluster.apply(az, withAnnotations(manifest, mark.annotations)));
        await mark.recordEvent(result.uid);
        generation = result.generation;
      }
      phase('apply');
      ctx.log.info('deployed', { generation, snapshotPath: restorePath ?? null, fence: fenced.state });
      return {
        action: 'deployed', generation, phases, attempt, fence: fenced.state, ...(fenced.seen ? { fenceSeen: fenced.seen } : {}),
        ...(choice.kind === 'snapshot' ? { snapshotPath: choice.snapshot.path, snapshotAgeSeconds: choice.ageSeconds } : {}),
        ...(note ? { note } : {}),
      };
    },

    /**
     * Verify the hot standby in the target AZ is RUNNING, mark it active, fence the source.
     * @returns promoted false (with reason) when the standby is absent or unhealthy: the workflow redeploys instead
     */
    async promoteStandby(ref: JobRef & { mode: EvacuationMode }): Promise<StepTiming & PromotionResult> {
      const startedAtMs = Date.now();
      const done = (r: PromotionResult) => ({ ...r, startedAtMs, endedAtMs: Date.now(), attempt: Context.current().info.attempt });
      const ctx = await loadJobContext(deps, ref, ref.key);
      const standby = ctx.job.standby;
      if (!standby || standby.kind !== 'hot' || standby.az !== ctx.target.name) return done({ promoted: false, reason: `no hot standby in ${ctx.target.name}` });
      const status = await platformCall(`hot standby of ${ref.key}`, () => deps.cluster.getDeployment(standby.az, standby.namespace, standby.name));
      if (!status) return done({ promoted: false, reason: `hot standby ${standby.namespace}/${standby.name} is absent in ${standby.az}` });
      if (status.jobState !== 'RUNNING') return done({ promoted: false, reason: `hot standby is ${status.lifecycleState ?? '?'}/${status.jobState ?? '?'}, not RUNNING` });
      // The hot standby already runs beside the source copy by design: promotion does not wait
      // for the source to stop (one look); a copy not yet seen stopped is left to the follow-up.
      const fenced = await fence(deps, ctx, ref.mode, 0);
      const mark = applied(deps, ctx, standby, { strategy: 'promote-standby' });
      const promoted = await platformCall(`promote ${ref.key}`, () => deps.cluster.label(standby.az, standby.namespace, standby.name, {
        [ROLE_LABEL]: 'active', [EVACUATION_ID_LABEL]: ref.evacuationId,
      }, mark.annotations));
      await mark.recordEvent(promoted.uid);
      return done({ promoted: true, jobId: status.jobId, fence: fenced.state, ...(fenced.seen ? { fenceSeen: fenced.seen } : {}) });
    },

    /**
     * Wait until the job counts RUNNING in the target AZ (domain/restore-verdict.ts: the
     * operator reports it running and, when `restoring`, a checkpoint completed after the
     * restore), heartbeating while it waits (`heartbeatSeconds` is the activity's heartbeat timeout).
     * @returns the job id and what showed the restore ended
     * @throws non-retryable 'DeploymentFailed' with the operator's status.error or a restore
     *   loop's exception, 'StartupTimeout' after timeoutSeconds
     */
    async awaitRunning(ref: JobRef & { strategy: Strategy; minGeneration: number; timeoutSeconds: number; heartbeatSeconds: number; restoring?: boolean }): Promise<StepTiming & { jobId: string; restore: RestoreEvidence }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref, ref.key);
      const { namespace, name } = targetResource(ctx, ref.strategy);
      const activity = Context.current();
      try {
        const status = await deps.cluster.waitForRunning(ctx.target.name, namespace, name, {
          minGeneration: ref.minGeneration, timeoutSeconds: ref.timeoutSeconds, restoring: ref.restoring === true, signal: activity.cancellationSignal,
          // Heartbeats are server writes: the first goes out after a third of the heartbeat
          // timeout, so quick start-ups cost none; the SDK throttles the rest (settings).
          onProgress: (s) => {
            if (Date.now() - startedAtMs >= (ref.heartbeatSeconds * 1000) / 3) activity.heartbeat({ lifecycleState: s?.lifecycleState, jobState: s?.jobState });
          },
        });
        ctx.log.info('running', { flinkJobId: status.jobId ?? null, seconds: (Date.now() - startedAtMs) / 1000 });
        return { jobId: status.jobId ?? '', restore: status.restore, startedAtMs, endedAtMs: Date.now(), attempt: activity.info.attempt };
      } catch (err) {
        ctx.log.warn('start-up wait failed', { error: err instanceof Error ? err.message : String(err) });
        if (err instanceof PlatformError && err.code === 'timeout') {
          throw terminal('StartupTimeout', `${ref.key} did not reach RUNNING in ${ctx.target.name} within ${ref.timeoutSeconds.toFixed(0)}s: ${err.message}`);
        }
        throw err instanceof PlatformError ? asFailure(`start-up of ${ref.key} in ${ctx.target.name}`, err) : err;
      }
    },
  };
  return {
    ...steps,
    /** The start step (see `steps.startJob`), heartbeating all along: its heartbeat timeout (tiers.yaml heartbeatTimeoutSeconds.startStep) is how soon a dead worker's step is retried. */
    startJob: (ref: Parameters<typeof steps.startJob>[0]): Promise<StartJobResult> => heartbeating(`start step of ${ref.key}`, () => steps.startJob(ref)),
  };
}

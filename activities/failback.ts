/**
 * Failback of a drill (guarantee 4: nothing leaked): put every job a drill touched back
 * where it was, and remove what the drill created. Per admitted job of the drill's plan,
 * in this order (no job ever runs in two AZs):
 *  1. the drill's copy in the target AZ goes away: a redeployed copy (label
 *     `az-evac.io/evacuation-id` = the drill, role neither `active` nor `standby`) is
 *     deleted with its HA ConfigMaps; a resumed
 *     cold standby is suspended again (it keeps its name, as before the drill); a promoted
 *     hot standby is labelled `az-evac.io/role: standby` again (it keeps running, as before);
 *  2. the source copy is resumed (spec.job.state running: it restarts from the savepoint
 *     its fence took) when the catalog says it ran before the drill, and awaited RUNNING.
 * Then the P3 jobs the drill preempted in the target AZ are resumed. Every step is
 * idempotent (delete/suspend/resume/label of an absent or settled resource are no-ops).
 *
 * A drill is a rehearsal: the state its copies built in the target AZ is discarded; the
 * source copies carry on from their own savepoints (their sinks see the drill window
 * again: at-least-once). Jars preloaded into the target AZ's jar cache stay (policy: a
 * content-addressed cache that the next drill or a real evacuation reuses).
 */
import { Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { ActivityDeps } from './deps.js';
import { PlatformError } from '../platform/errors.js';
import { asFailure, platformCall, terminal } from './failures.js';
import { loadJobContext, planIndex } from './job-context.js';

/** What the failback of one job did. */
export interface FailbackJobResult {
  key: string;
  /** The drill's redeployed copy in the target AZ was deleted. */
  removed: boolean;
  /** What was done to the job's standby in the target AZ, if it has one there. */
  standby?: 'suspended' | 'relabelled' | 'untouched';
  /** The source copy was resumed and is RUNNING again. */
  resumed: boolean;
}

/** Label az-evac sets on everything an evacuation applies (domain/render-deployment.ts). */
const EVACUATION_LABEL = 'az-evac.io/evacuation-id';
const ROLE_LABEL = 'az-evac.io/role';

/** Build the failback activities over `deps`. */
export function createFailbackActivities(deps: ActivityDeps) {
  return {
    /**
     * The jobs a failback of `drillId` handles: every admitted job of its plan.
     * @throws non-retryable 'NotADrill' for an emergency evacuation (its target copies hold the only live state)
     */
    async failbackScope(drillId: string): Promise<{ jobs: string[]; sourceAz: string; targetAz: string }> {
      const stored = await deps.evacuations.getPlan(drillId);
      if (stored.request.mode !== 'drill') {
        throw terminal('NotADrill', `${drillId} was an ${stored.request.mode} evacuation: failback discards the state built in ${stored.plan.targetAz}, which only a drill may do. Fix: evacuate back with \`az-evac evacuate --from ${stored.plan.targetAz} --to ${stored.plan.sourceAz}\``);
      }
      return { jobs: [...planIndex(stored).byKey.keys()], sourceAz: stored.plan.sourceAz, targetAz: stored.plan.targetAz };
    },

    /**
     * Undo the drill for one job (see the module doc for the steps), waiting up to
     * `timeoutSeconds` (wall) for the source copy to run again.
     * @throws non-retryable 'PlatformTimeout' / 'DeploymentFailed' when the source copy does not come back
     */
    async failbackJob(drillId: string, key: string, timeoutSeconds: number): Promise<FailbackJobResult> {
      const ctx = await loadJobContext(deps, drillId, key);
      const { job, source, target } = ctx;
      const az = target.name;
      const result: FailbackJobResult = { key, removed: false, resumed: false };

      const copy = await platformCall(`read ${key} in ${az}`, () => deps.cluster.getDeployment(az, job.namespace, job.name));
      // The drill's own copy: labelled with the drill, and not a standby it promoted or resumed
      // (a standby may share the job's name; promotion labels it too, with role active).
      const role = copy?.labels[ROLE_LABEL];
      if (copy?.labels[EVACUATION_LABEL] === drillId && role !== 'active' && role !== 'standby') {
        result.removed = await platformCall(`delete drill copy ${key} in ${az}`, () => deps.cluster.deleteDeployment(az, job.namespace, job.name));
      }
      const standby = job.standby?.az === az ? job.standby : undefined;
      if (standby) {
        const s = await platformCall(`read standby of ${key} in ${az}`, () => deps.cluster.getDeployment(az, standby.namespace, standby.name));
        result.standby = 'untouched';
        if (s && standby.kind === 'cold' && s.specState === 'running') {
          await platformCall(`suspend cold standby of ${key} in ${az}`, () => deps.cluster.suspend(az, standby.namespace, standby.name));
          result.standby = 'suspended';
        }
        if (s && standby.kind === 'hot' && s.labels[ROLE_LABEL] === 'active') {
          await platformCall(`relabel hot standby of ${key} in ${az}`, () => deps.cluster.label(az, standby.namespace, standby.name, { [ROLE_LABEL]: 'standby' }));
          result.standby = 'relabelled';
        }
      }

      if (job.deployment.spec.job?.state === 'suspended') return result;
      const resumed = await platformCall(`resume ${key} in ${source.name}`, () => deps.cluster.resume(source.name, job.namespace, job.name));
      if (!resumed) return result;
      const activity = Context.current();
      try {
        await deps.cluster.waitForRunning(source.name, job.namespace, job.name, {
          minGeneration: resumed.generation, timeoutSeconds, signal: activity.cancellationSignal, onProgress: (st) => activity.heartbeat(st?.lifecycleState),
        });
      } catch (err) {
        throw err instanceof PlatformError ? asFailure(`failback of ${key} in ${source.name}`, err) : err;
      }
      result.resumed = true;
      return result;
    },

    /** Resume the P3 jobs the drill preempted in its target AZ. @returns how many were resumed */
    async resumePreempted(drillId: string): Promise<{ resumed: number }> {
      const stored = await deps.evacuations.getPlan(drillId);
      const az = stored.plan.targetAz;
      const limit = pLimit(32);
      let resumed = 0;
      await Promise.all(stored.plan.preemptions.map((p) => limit(async () => {
        if (await platformCall(`resume preempted ${p.key} in ${az}`, () => deps.cluster.resume(az, p.namespace, p.name))) resumed += 1;
      })));
      return { resumed };
    },
  };
}

/**
 * Jar preloading: copy every distinct jar (by digest) the plan needs from the target AZ's
 * replicated jar repository into its jar cache, concurrently under a bound, highest tier
 * first; and the per-job step that waits only for that job's own jars. Both share one
 * in-flight map per worker, so a jar is never copied twice at once.
 */
import { Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { PreloadResult, StepTiming } from '../domain/evacuation.js';
import type { JarArtifact } from '../domain/types.js';
import type { ActivityDeps } from './deps.js';
import { platformCall, terminal } from './failures.js';
import { loadJobContext } from './job-context.js';
import type { JobRef } from './job-steps.js';
import { PlatformError } from '../platform/errors.js';

/** Build the jar activities over `deps`. */
export function createJarActivities(deps: ActivityDeps) {
  const inFlight = new Map<string, Promise<{ copiedBytes: number }>>();
  const ensureJar = (az: string, jar: JarArtifact): Promise<{ copiedBytes: number }> => {
    const id = `${az}/${jar.digest}`;
    let p = inFlight.get(id);
    if (!p) {
      p = deps.objects.preloadArtifact(az, jar).finally(() => inFlight.delete(id));
      inFlight.set(id, p);
    }
    return p;
  };

  return {
    /**
     * Preload jars `offset`..`offset+limit` of the plan (ordered by first use, highest tier
     * first). A missing or unreadable jar is reported, not thrown: only the jobs that need
     * it fail, at their own jar step.
     */
    async preloadJars(evacuationId: string, offset: number, limit: number): Promise<PreloadResult> {
      const stored = await deps.evacuations.getPlan(evacuationId);
      const az = stored.plan.targetAz;
      const jars = stored.plan.jars.slice(offset, offset + limit);
      const bound = pLimit(deps.preloadConcurrency);
      const result: PreloadResult = { jars: jars.length, copied: 0, alreadyPresent: 0, copiedBytes: 0, failed: [] };
      await Promise.all(jars.map((jar) => bound(async () => {
        try {
          const { copiedBytes } = await ensureJar(az, jar);
          if (copiedBytes > 0) result.copied += 1;
          else result.alreadyPresent += 1;
          result.copiedBytes += copiedBytes;
        } catch (err) {
          if (err instanceof PlatformError && err.retryable) throw err;
          result.failed.push({ key: jar.key, digest: jar.digest, reason: err instanceof Error ? err.message : String(err) });
        }
        Context.current().heartbeat({ done: result.copied + result.alreadyPresent, bytes: result.copiedBytes });
      })));
      return result;
    },

    /**
     * Make sure this job's jars are in the target AZ's jar cache (copying any the bulk
     * preload has not reached yet).
     * @throws non-retryable 'JarMissing' naming the jar when the repository lacks it
     */
    async ensureJobJars(ref: JobRef): Promise<StepTiming & { copiedBytes: number }> {
      const startedAtMs = Date.now();
      const ctx = await loadJobContext(deps, ref.evacuationId, ref.key);
      let copiedBytes = 0;
      for (const jar of ctx.job.jars) {
        try {
          copiedBytes += (await platformCall(`jar ${jar.key} of ${ref.key}`, () => ensureJar(ctx.target.name, jar))).copiedBytes;
        } catch (err) {
          if (err instanceof Error && (err as { type?: string }).type === 'NotFound') {
            throw terminal('JarMissing', `jar ${jar.key} (${jar.digest}) of ${ref.key} is missing from ${ctx.target.name}'s jar repository`);
          }
          throw err;
        }
      }
      return { copiedBytes, startedAtMs, endedAtMs: Date.now(), attempt: Context.current().info.attempt };
    },
  };
}

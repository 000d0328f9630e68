/**
 * Bulk jar preloading: copy every distinct jar (by digest) the plan needs from the target
 * AZ's replicated jar repository into its jar cache, concurrently under a bound, in plan
 * order (highest tier first). Jobs do not wait for the whole preload: each job's start
 * step ensures only its own jars through the same JarStager.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { PreloadResult } from '../domain/evacuation.js';
import type { ActivityDeps } from './deps.js';
import { platformCall } from './failures.js';
import type { JarStager } from './jar-stager.js';

/** Build the preload activity over `deps`. */
export function createJarActivities(deps: ActivityDeps, jars: JarStager) {
  return {
    /**
     * Preload jars `offset`..`offset+limit` of the plan. A missing or unreadable jar is
     * reported, not thrown: only the jobs that need it fail, at their own jar step.
     * Heartbeats `{ done: jars finished, bytes: bytes copied so far }` as copies progress.
     */
    async preloadJars(evacuationId: string, offset: number, limit: number): Promise<PreloadResult> {
      const stored = await deps.evacuations.getPlan(evacuationId);
      const az = stored.plan.targetAz;
      const slice = stored.plan.jars.slice(offset, offset + limit);
      const bound = pLimit(deps.preloadConcurrency);
      const result: PreloadResult = { jars: slice.length, copied: 0, alreadyPresent: 0, copiedBytes: 0, failed: [] };
      let bytesMoved = 0;
      const beat = (): void => Context.current().heartbeat({ done: result.copied + result.alreadyPresent + result.failed.length, bytes: bytesMoved });
      await Promise.all(slice.map((jar) => bound(async () => {
        try {
          const { copiedBytes } = await platformCall(`preload ${jar.key} into ${az}`, () => jars.copy(az, jar, (bytes) => { bytesMoved += bytes; beat(); }));
          if (copiedBytes > 0) result.copied += 1;
          else result.alreadyPresent += 1;
          result.copiedBytes += copiedBytes;
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
          result.failed.push({ key: jar.key, digest: jar.digest, reason: err instanceof Error ? err.message : String(err) });
        }
        beat();
      })));
      deps.metrics?.recordPreloadBytes(result.copiedBytes);
      return result;
    },
  };
}

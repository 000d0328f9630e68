/**
 * One per worker: makes sure jars are in an AZ's jar cache, copying each (repository →
 * artifact bucket, digest verified by the store) at most once at a time, whether the bulk
 * preload or a job's own start step asks first. A jar this worker has seen in the cache (copied
 * or found there with its digest) is taken as present for JAR_SEEN_MS without asking the store
 * again: a popular jar is shared by many jobs (the default demo: 138 distinct jars for 346
 * restoring jobs), and each ask is an object-store request queued behind the start steps'
 * snapshot lookups (P1's jar step took a median 2.0 s at load 16, the same HEAD for each job).
 */
import type { JarArtifact } from '../domain/types.js';
import type { ObjectStorePort } from '../platform/ports.js';
import { PlatformError } from '../platform/errors.js';
import { platformCall, terminal } from './failures.js';

/**
 * How long, wall ms, a jar seen in an AZ's cache counts as there without asking the store again
 * (10 min: one evacuation's start steps; a cache whose jar is evicted within it costs that job a
 * fetch from the repository at start-up, or a failed start if the cache is its only source).
 */
export const JAR_SEEN_MS = 10 * 60_000;

export class JarStager {
  private readonly inFlight = new Map<string, Promise<{ copiedBytes: number }>>();
  /** `az/digest` → when this worker last saw the jar in the cache (wall ms). */
  private readonly seen = new Map<string, number>();

  /** @param now the wall clock, ms (tests pass their own) */
  constructor(private readonly objects: ObjectStorePort, private readonly now: () => number = Date.now) {}

  /**
   * Copy `jar` into `az`'s cache unless present (or seen there by this worker within
   * JAR_SEEN_MS: then nothing is asked, 0 bytes copied); concurrent calls for one jar share one
   * copy (only the call that starts it gets `onBytes` progress). Raw PlatformErrors; a failed
   * copy is not remembered.
   */
  copy(az: string, jar: JarArtifact, onBytes?: (bytes: number) => void): Promise<{ copiedBytes: number }> {
    const id = `${az}/${jar.digest}`;
    const seenAt = this.seen.get(id);
    if (seenAt !== undefined && this.now() - seenAt < JAR_SEEN_MS) return Promise.resolve({ copiedBytes: 0 });
    let p = this.inFlight.get(id);
    if (!p) {
      p = this.objects.preloadArtifact(az, jar, onBytes).then((r) => {
        this.seen.set(id, this.now());
        return r;
      }).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
    return p;
  }

  /**
   * `copy` for one job's step.
   * @throws non-retryable 'JarMissing' naming the jar and the job when the repository lacks it
   */
  async ensure(az: string, jar: JarArtifact, jobKey: string): Promise<{ copiedBytes: number }> {
    const what = `jar ${jar.key} of ${jobKey}`;
    try {
      return await platformCall(what, () => this.copy(az, jar).catch((err: unknown) => {
        // A missing jar is terminal with its own type; keep it out of the in-call retry.
        if (err instanceof PlatformError && err.code === 'not-found') throw new MissingJar(err);
        throw err;
      }));
    } catch (err) {
      if (err instanceof MissingJar) {
        throw terminal('JarMissing', `jar ${jar.key} (${jar.digest}) of ${jobKey} is missing from ${az}'s jar repository: ${err.cause.message}`);
      }
      throw err;
    }
  }
}

/** A repository without the jar (not a PlatformError, so platformCall passes it through). */
class MissingJar extends Error {
  constructor(override readonly cause: PlatformError) {
    super(cause.message);
  }
}

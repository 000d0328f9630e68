/**
 * One per worker: makes sure jars are in an AZ's jar cache, copying each (repository →
 * artifact bucket, digest verified by the store) at most once at a time, whether the bulk
 * preload or a job's own start step asks first.
 */
import type { JarArtifact } from '../domain/types.js';
import type { ObjectStorePort } from '../platform/ports.js';
import { PlatformError } from '../platform/errors.js';
import { platformCall, terminal } from './failures.js';

export class JarStager {
  private readonly inFlight = new Map<string, Promise<{ copiedBytes: number }>>();

  constructor(private readonly objects: ObjectStorePort) {}

  /**
   * Copy `jar` into `az`'s cache unless present; concurrent calls for one jar share one copy
   * (only the call that starts it gets `onBytes` progress). Raw PlatformErrors.
   */
  copy(az: string, jar: JarArtifact, onBytes?: (bytes: number) => void): Promise<{ copiedBytes: number }> {
    const id = `${az}/${jar.digest}`;
    let p = this.inFlight.get(id);
    if (!p) {
      p = this.objects.preloadArtifact(az, jar, onBytes).finally(() => this.inFlight.delete(id));
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

/**
 * Jars in one AZ: the jar cache (the artifact bucket jarURIs point to) and the replicated
 * HDD-backed jar repository (`<artifactBucket>-repository`) a cache miss falls back to.
 * Repository reads — deploys that miss the cache and server-side preload copies — share
 * the repository's total bandwidth (az-bottlenecks.ts).
 */
import { PlatformError } from '../platform/errors.js';
import { jarRepositoryBucket, type JarArtifact } from '../domain/types.js';
import type { ArtifactPlace } from '../platform/ports.js';
import type { AzBottlenecks } from './az-bottlenecks.js';
import type { StoredObject } from './object-store.js';
import type { ReplicatedStores } from './replication.js';
import type { S3Mirror } from './s3-mirror.js';
import type { Scheduler } from './scheduler.js';
import { parseS3Uri } from '../domain/snapshot-layout.js';

/** Where a jarURI resolves in an AZ. `image` = not an s3:// URI (e.g. `local://`, inside the image). */
export type JarLocation =
  | { place: ArtifactPlace; sizeBytes: number; digest?: string }
  | { place: 'image'; sizeBytes: 0 }
  | { place: 'missing'; reason: string };

/** Jar cache and repository access for every AZ. */
export class Jars {
  private readonly copies = new Map<string, Promise<{ copiedBytes: number }>>();

  /** @param mirror when the stores are written through to S3: the jar cache is read back from there (the engine preloads into S3) */
  constructor(
    private readonly stores: ReplicatedStores,
    private readonly scheduler: Scheduler,
    private readonly bottlenecks: AzBottlenecks,
    private readonly mirror?: S3Mirror,
  ) {}

  /**
   * With an S3 mirror: learn which of `uris` the engine has copied into `az`'s jar cache in
   * S3 (HeadObject, same digest as the repository's) before a deploy looks them up.
   * @returns undefined without a mirror (nothing to learn: the in-memory cache is the truth)
   */
  syncCache(az: string, uris: string[]): Promise<void> | undefined {
    const mirror = this.mirror;
    if (!mirror) return undefined;
    const store = this.stores.store(az);
    return Promise.all(uris.map(async (uri) => {
      const s3 = parseS3Uri(uri);
      if (!s3 || store.get(s3.bucket, s3.key)) return;
      const repo = store.get(jarRepositoryBucket(s3.bucket), s3.key);
      if (!repo?.digest || !store.hasBucket(s3.bucket)) return;
      const cached = await mirror.digestOf(az, s3.bucket, s3.key).catch(() => undefined);
      if (cached !== undefined && `sha256:${cached}` === repo.digest) store.put(s3.bucket, s3.key, repo, { silent: true });
    })).then(() => undefined);
  }

  /** Resolve a jarURI in `az`: the cache (the URI's bucket) first, then that bucket's repository. */
  locate(az: string, uri: string): JarLocation {
    const s3 = parseS3Uri(uri);
    if (!s3) return { place: 'image', sizeBytes: 0 };
    const store = this.stores.store(az);
    const cached = store.get(s3.bucket, s3.key);
    if (cached) return { place: 'cache', sizeBytes: cached.sizeBytes, digest: cached.digest };
    const repo = store.get(jarRepositoryBucket(s3.bucket), s3.key);
    if (repo) return { place: 'repository', sizeBytes: repo.sizeBytes, digest: repo.digest };
    return { place: 'missing', reason: `jar ${uri} is in neither the jar cache (bucket ${s3.bucket}) nor the repository (bucket ${jarRepositoryBucket(s3.bucket)}) of ${az}` };
  }

  /** The jar in `place` of the AZ with the same digest. */
  has(az: string, artifactBucket: string, jar: JarArtifact, place: ArtifactPlace): boolean {
    return this.object(az, artifactBucket, jar, place)?.digest === jar.digest;
  }

  /**
   * Server-side copy repository → cache, reading the repository like a download does (its
   * per-download rate, sharing the repository's bandwidth). Concurrent calls for the same jar
   * share one copy.
   * @throws PlatformError('not-found') when the repository lacks the jar,
   *   ('invalid') when the repository's digest differs from `jar.digest`.
   */
  preload(az: string, artifactBucket: string, jar: JarArtifact): Promise<{ copiedBytes: number }> {
    if (this.has(az, artifactBucket, jar, 'cache')) return Promise.resolve({ copiedBytes: 0 });
    const src = this.object(az, artifactBucket, jar, 'repository');
    if (!src) throw new PlatformError('not-found', `jar ${jar.key} is not in ${az}'s repository (bucket ${jarRepositoryBucket(artifactBucket)}); publish it there first`, false);
    if (src.digest !== jar.digest) {
      throw new PlatformError('invalid', `jar ${jar.key} in ${az}'s repository has digest ${src.digest ?? 'none'}, expected ${jar.digest}; the catalog and the repository disagree`, false);
    }
    const id = `${az}|${jar.key}|${jar.digest}`;
    let copy = this.copies.get(id);
    if (!copy) {
      copy = this.copy(az, artifactBucket, jar, src).finally(() => this.copies.delete(id));
      this.copies.set(id, copy);
    }
    return copy;
  }

  private async copy(az: string, artifactBucket: string, jar: JarArtifact, src: StoredObject): Promise<{ copiedBytes: number }> {
    const perDownload = this.bottlenecks.model.repositoryBytesPerSecondPerDownload;
    await new Promise<void>((resolve) => this.bottlenecks.of(az).repository.transfer(src.sizeBytes, perDownload, () => resolve()));
    this.stores.store(az).put(artifactBucket, jar.key, { ...src, lastModifiedEpochSeconds: this.scheduler.clock.epoch(this.scheduler.clock.now()) });
    if (!this.has(az, artifactBucket, jar, 'cache')) {
      throw new PlatformError('unavailable', `jar ${jar.key} copied into ${az}'s cache but its digest does not verify; retry`, true);
    }
    return { copiedBytes: src.sizeBytes };
  }

  private object(az: string, artifactBucket: string, jar: JarArtifact, place: ArtifactPlace): StoredObject | undefined {
    const bucket = place === 'cache' ? artifactBucket : jarRepositoryBucket(artifactBucket);
    return this.stores.store(az).get(bucket, jar.key);
  }
}

/**
 * ObjectStorePort over S3 (AWS SDK v3): snapshot listing and choice in the target AZ's replica of
 * the state bucket (snapshot-listing.ts) and jar preloading from its jar repository bucket
 * (`<artifactBucket>-repository`) into its artifact bucket (jar-copy.ts); shipping savepoints
 * between AZs that do not replicate (snapshot-shipping.ts). Both copy through object-copy.ts.
 *
 * An AZ's buckets come from its AzProfile in the catalog (`resolveAz`); its endpoint from
 * `endpoints[az]` when configured (AZ_EVAC_S3_ENDPOINTS), else the profile's s3Endpoint.
 * Every S3 request of every caller shares one concurrency bound (`maxConcurrentRequests`),
 * so thousands of concurrent job lookups never open thousands of sockets.
 */
import pLimit from 'p-limit';
import type { SnapshotQuery } from '../../domain/snapshot-choice.js';
import type { SnapshotOwner } from '../../domain/snapshot-owner.js';
import { jarRepositoryBucket, type AzProfile, type JarArtifact, type SnapshotCandidate, type SnapshotChoice } from '../../domain/types.js';
import { PlatformError } from '../errors.js';
import type { ArtifactPlace, ObjectStorePort, ShippedSavepoint, SnapshotShippingPort } from '../ports.js';
import { parseS3Uri } from '../../domain/snapshot-layout.js';
import { deleteShippedCopy, shipSavepoint } from './snapshot-shipping.js';
import { checkS3Access, type S3AccessCheck, type S3Clients } from './clients.js';
import type { S3CallContext } from './errors.js';
import { copyJar, hasJar, type JarCopyContext } from './jar-copy.js';
import type { CopyLimits } from './object-copy.js';
import { findSnapshotOverS3, listSnapshotCandidates } from './snapshot-listing.js';

/** Options of the S3 object store. */
export interface S3ObjectStoreOptions extends CopyLimits {
  clients: S3Clients;
  /** The AZ's profile (buckets, s3Endpoint), normally from the newest catalog. */
  resolveAz: (az: string) => Promise<AzProfile>;
  /** Endpoint per AZ overriding the profile's s3Endpoint, e.g. `{ 'az-b': 'http://127.0.0.1:7071' }`. */
  endpoints: Record<string, string>;
  /** S3 requests in flight at once across all callers, ≥ 1. */
  maxConcurrentRequests: number;
}

/** The S3 adapter of ObjectStorePort. */
export class S3ObjectStore implements ObjectStorePort, SnapshotShippingPort {
  private readonly call: S3CallContext;

  constructor(private readonly opts: S3ObjectStoreOptions) {
    const limit = pLimit(Math.max(1, opts.maxConcurrentRequests));
    this.call = { bounded: (fn) => limit(fn), retry: opts.clients.settings.retry };
  }

  async listSnapshots(az: string, owner: SnapshotOwner): Promise<SnapshotCandidate[]> {
    const { profile, client } = await this.target(az);
    return listSnapshotCandidates({ ...this.call, client, bucket: profile.stateBucket }, owner);
  }

  async findSnapshot(az: string, owner: SnapshotOwner, query: SnapshotQuery): Promise<SnapshotChoice> {
    const { profile, client } = await this.target(az);
    return findSnapshotOverS3({ ...this.call, client, bucket: profile.stateBucket }, owner, query);
  }

  async hasArtifact(az: string, jar: JarArtifact, place: ArtifactPlace): Promise<boolean> {
    const ctx = await this.jarContext(az);
    return hasJar(ctx, place === 'cache' ? ctx.artifactBucket : ctx.repositoryBucket, jar);
  }

  async preloadArtifact(az: string, jar: JarArtifact, onBytes?: (bytes: number) => void): Promise<{ copiedBytes: number }> {
    return copyJar(await this.jarContext(az), jar, onBytes);
  }

  async shipSavepoint(fromAz: string, toAz: string, path: string): Promise<ShippedSavepoint> {
    const [source, target] = await Promise.all([this.target(fromAz), this.target(toAz)]);
    const dirKey = this.dirKeyIn(path, source.profile.stateBucket, fromAz);
    const shipped = await shipSavepoint({
      ...this.call, ...this.copyLimits(),
      source: { client: source.client, endpoint: source.endpoint, bucket: source.profile.stateBucket },
      target: { client: target.client, endpoint: target.endpoint, bucket: target.profile.stateBucket },
    }, dirKey);
    return { path: shipped.path, files: shipped.files, copiedBytes: shipped.copiedBytes, completedAtEpochSeconds: shipped.completedAtEpochSeconds };
  }

  async deleteShipped(az: string, path: string): Promise<number> {
    const { profile, client } = await this.target(az);
    return deleteShippedCopy(this.call, { client, bucket: profile.stateBucket }, this.dirKeyIn(path, profile.stateBucket, az));
  }

  /**
   * Start check of each AZ's object store (clients.ts checkS3Access on its state bucket), in parallel.
   * @returns one result per AZ: refused credentials are non-retryable 'forbidden' errors naming the fix
   */
  checkAccess(azs: string[]): Promise<S3AccessCheck[]> {
    return Promise.all(azs.map(async (az) => {
      const { profile, endpoint } = await this.target(az);
      return checkS3Access(this.opts.clients, az, endpoint, profile.stateBucket);
    }));
  }

  /** The key of `path` when it lies in `bucket`. @throws PlatformError('invalid') naming both otherwise */
  private dirKeyIn(path: string, bucket: string, az: string): string {
    const at = parseS3Uri(path);
    if (!at || at.bucket !== bucket || at.key === '') throw new PlatformError('invalid', `${path} is not a directory of ${az}'s state bucket s3://${bucket}/; pass a savepoint path the listing of ${az} returned`, false);
    return at.key;
  }

  private async jarContext(az: string): Promise<JarCopyContext> {
    const { profile, client } = await this.target(az);
    return {
      ...this.call, az, client,
      repositoryBucket: jarRepositoryBucket(profile.artifactBucket), artifactBucket: profile.artifactBucket,
      ...this.copyLimits(),
    };
  }

  private copyLimits(): CopyLimits {
    const o = this.opts;
    return { multipartThresholdBytes: o.multipartThresholdBytes, partSizeBytes: o.partSizeBytes, partConcurrency: o.partConcurrency };
  }

  private async target(az: string) {
    const profile = await this.opts.resolveAz(az);
    const endpoint = this.opts.endpoints[az] ?? profile.s3Endpoint;
    if (!/^https?:\/\//.test(endpoint)) {
      throw new PlatformError('invalid', `S3 endpoint of ${az} is ${JSON.stringify(endpoint)}; set AZ_EVAC_S3_ENDPOINTS=${az}=http://host:port or fix the AZ profile's s3Endpoint`, false);
    }
    return { profile, endpoint, client: this.opts.clients.client(endpoint, az) };
  }
}

/**
 * The k8s platform's profile file (AZ_EVAC_PLATFORM_PROFILE): a JSON PlatformProfile —
 * storage layout and, per AZ, zone, registry mirror, S3 endpoint, state and artifact
 * buckets — which a cluster cannot tell us. Example: `{"layout":"symmetric","azs":[{"name":
 * "az-a","zone":"us-east-1a","imageRegistry":"registry.az-a.example.internal","s3Endpoint":
 * "https://s3.az-a.example.internal","stateBucket":"flink-state","artifactBucket":"flink-jars"}, ...]}`.
 */
import { readFile } from 'node:fs/promises';
import { validateCatalogJson } from '../../domain/catalog-validation.js';
import type { PlatformProfile } from '../../domain/types.js';

/**
 * Read and validate the profile (with the catalog's schema for `platform`: ≥ 2 AZs, distinct names).
 * @throws Error naming the file when it cannot be read; ConfigValidationError naming the key path and fix
 */
export async function loadPlatformProfile(file: string): Promise<PlatformProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the platform profile ${file}: ${(err as Error).message}. Fix: write it (see platform/kube/platform-profile.ts) or set AZ_EVAC_PLATFORM_PROFILE`);
  }
  // The profile is the catalog's `platform` section: validate it as a catalog with no jobs.
  return validateCatalogJson(`{"version":1,"takenAt":"1970-01-01T00:00:00Z","platform":${text},"jobs":[]}`, file).platform;
}

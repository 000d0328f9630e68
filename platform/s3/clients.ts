/**
 * S3 clients of az-evac, one per AZ endpoint, from settings (config/settings.ts):
 * credentials come from AZ_EVAC_S3_ACCESS_KEY / AZ_EVAC_S3_SECRET_KEY, never from source.
 * Path-style addressing (S3-compatible servers such as versitygw serve buckets as paths).
 * The SDK's own retry is off (maxAttempts 1): errors.ts classifies and retries in one place.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../../config/settings.js';
import type { S3RetryPolicy } from './errors.js';

/** How the SDK computes and checks checksums: `sdk-default` is what production uses (WHEN_SUPPORTED). */
export type ChecksumMode = 'sdk-default' | 'when-required';

/** Connection settings shared by every AZ's client. */
export interface S3ConnectionSettings {
  accessKeyId: string;
  secretAccessKey: string;
  /** Signing region, e.g. `us-east-1`. */
  region: string;
  checksums: ChecksumMode;
  retry: S3RetryPolicy;
  /** Sockets per client (the SDK's default of 50 would cap bounded-concurrent preloads). */
  maxSockets: number;
}

/** Cache of clients by endpoint URL. */
export class S3Clients {
  private readonly byEndpoint = new Map<string, S3Client>();

  constructor(readonly settings: S3ConnectionSettings) {
    if (!settings.accessKeyId || !settings.secretAccessKey) {
      throw new Error('S3 credentials are empty. Fix: export AZ_EVAC_S3_ACCESS_KEY and AZ_EVAC_S3_SECRET_KEY');
    }
  }

  /** The client of `endpoint` (e.g. `http://127.0.0.1:7070`). */
  client(endpoint: string): S3Client {
    let c = this.byEndpoint.get(endpoint);
    if (!c) {
      const s = this.settings;
      c = new S3Client({
        endpoint,
        region: s.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
        maxAttempts: 1,
        requestHandler: { httpAgent: { maxSockets: s.maxSockets, keepAlive: true } },
        ...(s.checksums === 'when-required' ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
      });
      this.byEndpoint.set(endpoint, c);
    }
    return c;
  }

  /** Close every client's sockets. */
  destroy(): void {
    for (const c of this.byEndpoint.values()) c.destroy();
    this.byEndpoint.clear();
  }
}

/**
 * Connection settings from az-evac's settings (config/settings.ts).
 * @throws Error naming the variable when AZ_EVAC_S3_CHECKSUMS is not sdk-default|when-required
 *   or AZ_EVAC_S3_MAX_ATTEMPTS < 1
 */
export function connectionSettings(s: Settings): S3ConnectionSettings {
  if (s.s3Checksums !== 'sdk-default' && s.s3Checksums !== 'when-required') {
    throw new Error(`AZ_EVAC_S3_CHECKSUMS=${JSON.stringify(s.s3Checksums)} is not one of sdk-default, when-required. Fix: unset it (sdk-default, as in production) or set when-required`);
  }
  if (s.s3MaxAttempts < 1) throw new Error(`AZ_EVAC_S3_MAX_ATTEMPTS=${s.s3MaxAttempts} must be ≥ 1 (1 = no retry)`);
  return {
    accessKeyId: s.s3AccessKey, secretAccessKey: s.s3SecretKey, region: s.s3Region, checksums: s.s3Checksums,
    retry: { maxAttempts: Math.floor(s.s3MaxAttempts), baseDelayMs: s.s3RetryBaseMs, maxDelayMs: s.s3RetryMaxMs },
    maxSockets: Math.max(1, s.s3MaxConcurrentRequests),
  };
}

/**
 * `az-a=http://h:p,az-b=http://h:q` → `{ 'az-a': 'http://h:p', ... }`; '' → {}.
 * @throws Error naming the entry and the expected form
 */
export function parseEndpoints(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)=(https?:\/\/\S+)$/.exec(entry);
    if (!m) throw new Error(`AZ_EVAC_S3_ENDPOINTS entry ${JSON.stringify(entry)} is not <az>=http(s)://host:port. Fix: e.g. az-a=http://127.0.0.1:7070,az-b=http://127.0.0.1:7071`);
    out[m[1]!] = m[2]!.replace(/\/+$/, '');
  }
  return out;
}

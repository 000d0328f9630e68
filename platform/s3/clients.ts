/**
 * S3 clients of az-evac, one per AZ endpoint, from settings (config/settings.ts):
 * credentials come from AZ_EVAC_S3_ACCESS_KEY / AZ_EVAC_S3_SECRET_KEY, never from source.
 * Path-style addressing (S3-compatible servers such as versitygw serve buckets as paths).
 * The SDK's own retry is off (maxAttempts 1): errors.ts classifies and retries in one place.
 */
import { S3Client } from '@aws-sdk/client-s3';
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

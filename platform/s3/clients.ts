/**
 * S3 clients of az-evac, one per (AZ, endpoint), from settings (config/settings.ts). What
 * each AZ's client needs differs on real platforms, so region, addressing and static keys
 * may be set per AZ (`az-a=...,az-b=...`) or once for every AZ:
 *
 * - credentials: the AZ's static keys (AZ_EVAC_S3_ACCESS_KEY / AZ_EVAC_S3_SECRET_KEY) when
 *   set, else the AWS SDK's default credential chain (environment AWS_ACCESS_KEY_ID/…,
 *   shared config and credentials files with AWS_PROFILE, web identity tokens as EKS IRSA
 *   and Pod Identity provide them, container and instance metadata). Source: AWS SDK for
 *   JavaScript v3 developer guide, "Set credentials in Node.js" → default credential provider
 *   chain (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html);
 *   leaving `credentials` out of the S3Client config selects it.
 * - addressing (AZ_EVAC_S3_ADDRESSING): `path` (http://host/bucket/key: versitygw, MinIO,
 *   Ceph RGW) or `virtual` (http://bucket.host/key: AWS's default; Aliyun OSS accepts nothing else).
 * - region (AZ_EVAC_S3_REGION): the SigV4 signing region of the AZ's endpoint.
 *
 * Keys are never put into error messages. The SDK's own retry is off (maxAttempts 1):
 * errors.ts classifies and retries in one place.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../../config/settings.js';
import { PlatformError } from '../errors.js';
import type { S3RetryPolicy } from './errors.js';
import { classifyS3Error } from './errors.js';

/** How the SDK computes and checks checksums: `sdk-default` is what production uses (WHEN_SUPPORTED). */
export type ChecksumMode = 'sdk-default' | 'when-required';

/** Bucket addressing: `path` = endpoint/bucket/key, `virtual` = bucket.endpoint/key. */
export type S3Addressing = 'path' | 'virtual';

/** What one AZ's client differs in. Unset fields fall back to the all-AZ values. */
export interface S3AzConnection {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  addressing?: S3Addressing;
}

/** Connection settings of every AZ's client. */
export interface S3ConnectionSettings {
  /** Static access key id for every AZ without its own; '' (with an empty secret): the SDK's default credential chain. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Signing region, e.g. `us-east-1`. */
  region: string;
  /** Default `path`. */
  addressing?: S3Addressing;
  /** Per-AZ overrides, by AZ name. */
  azs?: Record<string, S3AzConnection>;
  checksums: ChecksumMode;
  retry: S3RetryPolicy;
  /** Sockets per client (the SDK's default of 50 would cap bounded-concurrent preloads). */
  maxSockets: number;
}

/** One AZ's resolved connection: where its credentials come from, for messages. */
export interface ResolvedS3Connection {
  region: string;
  addressing: S3Addressing;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** `AZ_EVAC_S3_ACCESS_KEY/AZ_EVAC_S3_SECRET_KEY (az-b=…)`, `… (every AZ)` or `the AWS SDK default credential chain`. */
  credentialSource: string;
}

/** Cache of clients by AZ and endpoint URL. */
export class S3Clients {
  private readonly byEndpoint = new Map<string, S3Client>();

  constructor(readonly settings: S3ConnectionSettings) {
    const check = (where: string, key: string | undefined, secret: string | undefined): void => {
      if (!key !== !secret) {
        throw new Error(`S3 static credentials of ${where} have ${key ? 'an access key but no secret key' : 'a secret key but no access key'}. Fix: set both AZ_EVAC_S3_ACCESS_KEY and AZ_EVAC_S3_SECRET_KEY${where === 'every AZ' ? '' : ` for ${where}`}, or neither (the AWS SDK default credential chain)`);
      }
    };
    check('every AZ', settings.accessKeyId, settings.secretAccessKey);
    for (const [az, c] of Object.entries(settings.azs ?? {})) if (c.accessKeyId !== undefined || c.secretAccessKey !== undefined) check(az, c.accessKeyId, c.secretAccessKey);
  }

  /** The connection of `az` (per-AZ values over the all-AZ ones); `az` undefined: the all-AZ values. */
  resolve(az?: string): ResolvedS3Connection {
    const s = this.settings;
    const own = az !== undefined ? s.azs?.[az] : undefined;
    const region = own?.region ?? s.region;
    const addressing = own?.addressing ?? s.addressing ?? 'path';
    if (own?.accessKeyId && own.secretAccessKey) {
      return { region, addressing, credentials: { accessKeyId: own.accessKeyId, secretAccessKey: own.secretAccessKey }, credentialSource: `AZ_EVAC_S3_ACCESS_KEY/AZ_EVAC_S3_SECRET_KEY (${az}=…)` };
    }
    if (s.accessKeyId && s.secretAccessKey) {
      return { region, addressing, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }, credentialSource: 'AZ_EVAC_S3_ACCESS_KEY/AZ_EVAC_S3_SECRET_KEY (every AZ)' };
    }
    return { region, addressing, credentialSource: 'the AWS SDK default credential chain (AWS_* variables, AWS_PROFILE, web identity, instance metadata)' };
  }

  /**
   * The client of `endpoint` (e.g. `http://127.0.0.1:7070`) for `az`.
   * @param az selects the AZ's region, addressing and keys; undefined: the all-AZ values
   */
  client(endpoint: string, az?: string): S3Client {
    // An AZ without settings of its own shares the all-AZ client of the endpoint.
    const id = az !== undefined && this.settings.azs?.[az] ? `${az}|${endpoint}` : `|${endpoint}`;
    let c = this.byEndpoint.get(id);
    if (!c) {
      const s = this.settings;
      const r = this.resolve(az);
      c = new S3Client({
        endpoint,
        region: r.region,
        forcePathStyle: r.addressing === 'path',
        ...(r.credentials ? { credentials: r.credentials } : {}),
        maxAttempts: 1,
        requestHandler: { httpAgent: { maxSockets: s.maxSockets, keepAlive: true }, httpsAgent: { maxSockets: s.maxSockets, keepAlive: true } },
        ...(s.checksums === 'when-required' ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
      });
      this.byEndpoint.set(id, c);
    }
    return c;
  }

  /** Close every client's sockets. */
  destroy(): void {
    for (const c of this.byEndpoint.values()) c.destroy();
    this.byEndpoint.clear();
  }
}

/** Result of the start check of one AZ's object store. */
export type S3AccessCheck = { az: string; ok: true } | { az: string; ok: false; error: PlatformError };

/**
 * Start check of one AZ's S3 access: one ListObjectsV2 (at most 1 key) on its state bucket,
 * the request the snapshot lookup makes first. Not retried.
 * @returns ok; or a non-retryable PlatformError('forbidden') naming the credential source,
 *   the settings and the fix when the endpoint refuses the credentials (401/403,
 *   InvalidAccessKeyId, SignatureDoesNotMatch) or none can be found (CredentialsProviderError);
 *   or the classified error (retryable when unreachable: that may be the failed AZ). A missing
 *   bucket is ok here (snapshot listing counts it as empty).
 */
export async function checkS3Access(clients: S3Clients, az: string, endpoint: string, bucket: string): Promise<S3AccessCheck> {
  const source = clients.resolve(az).credentialSource;
  const fix = `Fix: set AZ_EVAC_S3_ACCESS_KEY and AZ_EVAC_S3_SECRET_KEY (once, or per AZ: ${az}=<key>) to keys this endpoint accepts, or unset both so the AWS SDK default credential chain is used (docs/kubernetes.md)`;
  try {
    await clients.client(endpoint, az).send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    return { az, ok: true };
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (name === 'CredentialsProviderError') {
      return { az, ok: false, error: new PlatformError('forbidden', `${az}: no S3 credentials for ${endpoint}: ${(err as Error).message}. ${fix}`, false) };
    }
    const e = classifyS3Error(err, `${az}: S3 check (list s3://${bucket} at ${endpoint})`);
    if (e.code === 'not-found') return { az, ok: true };
    if (e.code === 'forbidden') {
      return { az, ok: false, error: new PlatformError('forbidden', `${az}: the S3 endpoint ${endpoint} refuses the credentials from ${source} (${name || 'HTTP 403'}) for bucket ${bucket}. ${fix}`, false) };
    }
    return { az, ok: false, error: e };
  }
}

/**
 * Connection settings from az-evac's settings (config/settings.ts).
 * @param azs the platform's AZ names, when known: per-AZ entries naming another AZ are refused
 * @throws Error naming the variable when AZ_EVAC_S3_CHECKSUMS is not sdk-default|when-required,
 *   AZ_EVAC_S3_MAX_ATTEMPTS < 1, a per-AZ value is malformed, names an unknown AZ, or an
 *   addressing is not path|virtual
 */
export function connectionSettings(s: Settings, azs?: string[]): S3ConnectionSettings {
  if (s.s3Checksums !== 'sdk-default' && s.s3Checksums !== 'when-required') {
    throw new Error(`AZ_EVAC_S3_CHECKSUMS=${JSON.stringify(s.s3Checksums)} is not one of sdk-default, when-required. Fix: unset it (sdk-default, as in production) or set when-required`);
  }
  if (s.s3MaxAttempts < 1) throw new Error(`AZ_EVAC_S3_MAX_ATTEMPTS=${s.s3MaxAttempts} must be ≥ 1 (1 = no retry)`);
  const key = parsePerAz('AZ_EVAC_S3_ACCESS_KEY', s.s3AccessKey, azs, true);
  const secret = parsePerAz('AZ_EVAC_S3_SECRET_KEY', s.s3SecretKey, azs, true);
  const region = parsePerAz('AZ_EVAC_S3_REGION', s.s3Region, azs, false);
  const addressing = parsePerAz('AZ_EVAC_S3_ADDRESSING', s.s3Addressing, azs, false);
  for (const [az, v] of [['', addressing.all], ...Object.entries(addressing.byAz)] as [string, string | undefined][]) {
    if (v !== undefined && v !== 'path' && v !== 'virtual') {
      throw new Error(`AZ_EVAC_S3_ADDRESSING${az ? ` of ${az}` : ''} is ${JSON.stringify(v)}, not path or virtual. Fix: path (endpoint/bucket/key: versitygw, MinIO, Ceph) or virtual (bucket.endpoint/key: AWS, Aliyun OSS), e.g. az-a=path,az-b=virtual`);
    }
  }
  const perAz: Record<string, S3AzConnection> = {};
  const at = (az: string): S3AzConnection => (perAz[az] ??= {});
  for (const [az, v] of Object.entries(key.byAz)) at(az).accessKeyId = v;
  for (const [az, v] of Object.entries(secret.byAz)) at(az).secretAccessKey = v;
  for (const [az, v] of Object.entries(region.byAz)) at(az).region = v;
  for (const [az, v] of Object.entries(addressing.byAz)) at(az).addressing = v as S3Addressing;
  return {
    accessKeyId: key.all ?? '', secretAccessKey: secret.all ?? '', region: region.all ?? 'us-east-1',
    addressing: (addressing.all ?? 'path') as S3Addressing, azs: perAz, checksums: s.s3Checksums,
    retry: { maxAttempts: Math.floor(s.s3MaxAttempts), baseDelayMs: s.s3RetryBaseMs, maxDelayMs: s.s3RetryMaxMs },
    maxSockets: Math.max(1, s.s3MaxConcurrentRequests),
  };
}

/**
 * A setting given once for every AZ (`value`) or per AZ (`az-a=value,az-b=value`): a value
 * without `=` is for every AZ; otherwise every comma-separated entry is `<az>=<value>` (the
 * value may itself contain `=`).
 * @param secret the value is a secret: messages never show it
 * @throws Error naming the variable (and the entry, unless secret) when an entry is malformed,
 *   an AZ repeats, or (with `azs`) an AZ is not the platform's
 */
export function parsePerAz(env: string, raw: string, azs: string[] | undefined, secret: boolean): { all?: string; byAz: Record<string, string> } {
  const text = raw.trim();
  if (text === '') return { byAz: {} };
  if (!text.includes('=')) return { all: text, byAz: {} };
  const byAz: Record<string, string> = {};
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  entries.forEach((entry, i) => {
    const m = /^([a-z0-9][a-z0-9.-]*)=(\S+)$/.exec(entry);
    const shown = secret ? `entry ${i + 1}` : `entry ${JSON.stringify(entry)}`;
    if (!m) throw new Error(`${env} ${shown} is not <az>=<value>. Fix: one value for every AZ (no '='), or az-a=<value>,az-b=<value>${secret ? " (a secret containing '=' or ',' must be given per AZ, one entry per AZ)" : ''}`);
    if (byAz[m[1]!] !== undefined) throw new Error(`${env} names AZ ${m[1]} twice. Fix: one entry per AZ`);
    if (azs && !azs.includes(m[1]!)) throw new Error(`${env} ${shown} names AZ ${JSON.stringify(m[1])}, which is not one of the platform's AZs (${azs.join(', ')}). Fix: use those names${secret ? ", or, if this is one secret containing '=', give it per AZ" : ''}`);
    byAz[m[1]!] = m[2]!;
  });
  return { byAz };
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

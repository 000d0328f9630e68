/**
 * Helpers for tests against the real S3 servers (versitygw) that
 * test/setup/s3-global-setup.ts starts, one per AZ: an S3ObjectStore wired like the worker
 * wires it, raw clients to lay objects out, and a request log of what the adapter sent.
 */
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import type { AzProfile } from '../../domain/types.js';
import { S3Clients, type ChecksumMode } from '../../platform/s3/clients.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../platform/s3/object-store.js';
import type { TestS3 } from './s3-global-setup.js';
import type { InjectedResponse } from './fault-proxy.js';

/** @throws Error when called outside the `temporal` project (no global setup ran). */
export function testS3(): TestS3 {
  const s3 = inject('s3');
  if (!s3) throw new Error("no S3 server for this test: put it under test/integration/ or test/kube/ (vitest projects 'temporal' and 'kube'), whose globalSetup starts versitygw");
  return s3;
}

/** An AZ profile whose buckets carry `suffix` (unique per test, so tests never share state). */
export function testProfile(az: string, stateBucket: string, artifactBucket: string): AzProfile {
  return { name: az, zone: `zone-${az}`, imageRegistry: `registry.${az}.test`, s3Endpoint: testS3().endpoints[az]!, stateBucket, artifactBucket };
}

/** One S3 request the adapter sent: the SDK command name and its input. */
export interface LoggedRequest {
  command: string;
  input: Record<string, unknown>;
}

/** S3 clients for the test servers, logging every command the adapter sends into `log`. */
export function testClients(opts: { checksums?: ChecksumMode; maxAttempts?: number; log?: LoggedRequest[]; endpoints?: Record<string, string> } = {}): S3Clients {
  const s3 = testS3();
  const clients = new S3Clients({
    accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: 'us-east-1', checksums: opts.checksums ?? 'sdk-default',
    retry: { maxAttempts: opts.maxAttempts ?? 4, baseDelayMs: 20, maxDelayMs: 200 }, maxSockets: 64,
  });
  const log = opts.log;
  if (log) {
    const original = clients.client.bind(clients);
    const instrumented = new Set<S3Client>();
    clients.client = (endpoint: string): S3Client => {
      const c = original(endpoint);
      if (!instrumented.has(c)) {
        instrumented.add(c);
        c.middlewareStack.add((next, context) => (args) => {
          log.push({ command: context.commandName ?? '?', input: args.input as Record<string, unknown> });
          return next(args);
        }, { step: 'initialize', name: 'testRequestLog' });
      }
      return c;
    };
  }
  return clients;
}

/** An S3ObjectStore over `profiles` (by AZ name), like the worker builds it. */
export function testStore(clients: S3Clients, profiles: AzProfile[], overrides: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  return new S3ObjectStore({
    clients,
    resolveAz: async (az) => {
      const p = profiles.find((x) => x.name === az);
      if (!p) throw new Error(`no profile for ${az}`);
      return p;
    },
    endpoints: {},
    maxConcurrentRequests: 16,
    multipartThresholdBytes: 5 * 1024 ** 3,
    partSizeBytes: 64 * 1024 ** 2,
    partConcurrency: 4,
    ...overrides,
  });
}

/** Create buckets (idempotent) on `client`. */
export async function createBuckets(client: S3Client, ...buckets: string[]): Promise<void> {
  for (const b of buckets) {
    await client.send(new CreateBucketCommand({ Bucket: b })).catch((err: { name?: string }) => {
      if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
    });
  }
}

/** Put one object. */
export async function putObject(client: S3Client, bucket: string, key: string, body: string | Uint8Array, metadata?: Record<string, string>): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
}

/** A bucket name unique to this test run: lowercase, `prefix-<random>`. */
export function uniqueBucket(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** S3's throttling answer (versitygw has no throttling of its own). */
export const S3_SLOW_DOWN: InjectedResponse = {
  status: 503,
  headers: { 'content-type': 'application/xml', 'retry-after': '0' },
  body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
};

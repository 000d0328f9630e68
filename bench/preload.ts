/**
 * Preload throughput over a real S3 server (versitygw): `jars` distinct jars with the
 * fleet generator's size mix (≈ 10 % shared libraries of 20–80 MiB, the rest job jars of
 * 60–300 MiB, log-uniform), every size multiplied by `scale` when disk or time is short,
 * published into the jar repository bucket with random content; then copied into the
 * artifact bucket by the S3 adapter — once serially, once with `concurrency` jars at once
 * (as the preload activity bounds them) into a fresh artifact bucket — each copy verified
 * (SHA-256 read back). Reports bytes/s of both and the speedup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { loadSettings } from '../config/settings.js';
import { jarRepositoryBucket, type AzProfile, type JarArtifact } from '../domain/types.js';
import { s3Env, startS3Servers } from '../launchers/local-processes.js';
import { logUniform, seededUniform } from '../simulator/random.js';
import { connectionSettings, S3Clients } from '../platform/s3/clients.js';
import { S3ObjectStore } from '../platform/s3/object-store.js';

const MiB = 1024 * 1024;

/** One preload measurement. */
export interface PreloadBenchRow {
  mode: 'serial' | 'bounded-concurrent';
  concurrency: number;
  jars: number;
  bytes: number;
  wallSeconds: number;
  mibPerSecond: number;
}

/** Jar sizes, bytes: the fleet generator's mix × `scale`, from `seed`. */
export function jarSizes(jars: number, scale: number, seed: number): number[] {
  const u = seededUniform(seed, 'preload-bench');
  const libraries = Math.max(1, Math.round(jars * 0.1));
  return Array.from({ length: jars }, (_, i) => Math.max(1024, Math.round((i < libraries ? logUniform(u, 20, 80) : logUniform(u, 60, 300)) * MiB * scale)));
}

/**
 * Run the preload benchmark in `workDir` (the S3 server's root lives there and is removed after).
 * @returns the serial row, the bounded-concurrent row, and the speedup (serial time / concurrent time)
 */
export async function runPreloadBench(o: { jars: number; scale: number; concurrency: number; seed: number; workDir: string; log: (line: string) => void }): Promise<{ rows: PreloadBenchRow[]; speedup: number }> {
  const root = await mkdtemp(join(o.workDir, 'preload-s3-'));
  const servers = await startS3Servers(root, ['az-b']);
  const clients = new S3Clients(connectionSettings(loadSettings(s3Env(servers))));
  try {
    const endpoint = servers.endpoints['az-b']!;
    const raw = clients.client(endpoint);
    const sizes = jarSizes(o.jars, o.scale, o.seed);
    const caches = ['flink-artifacts-serial', 'flink-artifacts-concurrent'];
    for (const b of caches.flatMap((c) => [c, jarRepositoryBucket(c)])) {
      await raw.send(new CreateBucketCommand({ Bucket: b }));
    }
    o.log(`publishing ${o.jars} jars, ${(sizes.reduce((a, b) => a + b, 0) / MiB).toFixed(0)} MiB (scale ${o.scale})…`);
    const jars: JarArtifact[] = [];
    for (const [i, size] of sizes.entries()) {
      const body = randomBytes(size);
      const jar = { key: `jars/bench/job-${i}.jar`, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, sizeBytes: size };
      // The same jar in each cache's repository bucket (both runs copy from an identical repository).
      for (const c of caches) {
        await raw.send(new PutObjectCommand({ Bucket: jarRepositoryBucket(c), Key: jar.key, Body: body, Metadata: { sha256: jar.digest.slice(7) } }));
      }
      jars.push(jar);
    }
    const rows: PreloadBenchRow[] = [];
    for (const [mode, concurrency, cache] of [['serial', 1, caches[0]!], ['bounded-concurrent', o.concurrency, caches[1]!]] as const) {
      const profile: AzProfile = { name: 'az-b', zone: 'z', imageRegistry: 'r', s3Endpoint: endpoint, stateBucket: 'unused', artifactBucket: cache };
      const store = new S3ObjectStore({
        clients, resolveAz: async () => profile, endpoints: {}, maxConcurrentRequests: 64,
        multipartThresholdBytes: 5 * 1024 ** 3, partSizeBytes: 256 * MiB, partConcurrency: 4,
      });
      const bound = pLimit(concurrency);
      const t0 = performance.now();
      const copied = await Promise.all(jars.map((jar) => bound(() => store.preloadArtifact('az-b', jar))));
      const wallSeconds = (performance.now() - t0) / 1000;
      const bytes = copied.reduce((n, c) => n + c.copiedBytes, 0);
      const row = { mode, concurrency, jars: jars.length, bytes, wallSeconds: round(wallSeconds), mibPerSecond: round(bytes / MiB / wallSeconds) };
      o.log(JSON.stringify(row));
      rows.push(row);
    }
    return { rows, speedup: round(rows[0]!.wallSeconds / rows[1]!.wallSeconds) };
  } finally {
    clients.destroy();
    await servers.stop();
    await rm(root, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

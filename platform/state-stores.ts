/**
 * The state store settings choose (AZ_EVAC_STATE_STORE): `file` (a directory on this host:
 * the demo and tests) or `s3` (platform/s3/replicated-state-store.ts: the state bucket of every
 * AZ, AZ_EVAC_STATE_BUCKETS). The worker, the CLI and the console build it the same way, so
 * the CLI and the console read what the worker wrote from any host that reaches the store.
 */
import { join, resolve } from 'node:path';
import type { Settings } from '../config/settings.js';
import { FileCatalogStore } from './catalog-file-store.js';
import { FileEvacuationStore } from './evacuation-file-store.js';
import { writeJsonAtomic } from './json-files.js';
import type { CatalogStore, EvacuationStore, ReportStore } from './ports.js';
import { FileReportStore } from './report-file-store.js';
import { connectionSettings, parseEndpoints, S3Clients } from './s3/clients.js';
import { ReplicatedStateStore, type ReplicaHealth } from './s3/replicated-state-store.js';

/** The three state ports, one store behind them. */
export interface StateStores {
  /** `file` or `s3`, and where (for messages). */
  describe: string;
  catalogs: CatalogStore;
  evacuations: EvacuationStore;
  reports: ReportStore;
  /**
   * Check the store can be written: every replica of the s3 store gets a probe object.
   * @returns one warning per replica that failed while another took the probe (it may be the failed AZ)
   * @throws Error naming the setting and the fix when no replica (or the directory) can be written
   */
  checkWritable(): Promise<string[]>;
  /** Replica health of the s3 store (empty for the file store). */
  health(): ReplicaHealth[];
  close(): void;
}

/**
 * `az-a=bucket-a,az-b=bucket-b` → `{ 'az-a': 'bucket-a', ... }`.
 * @throws Error naming AZ_EVAC_STATE_BUCKETS and the expected form
 */
export function parseStateBuckets(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)=([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/.exec(entry);
    if (!m) throw new Error(`AZ_EVAC_STATE_BUCKETS entry ${JSON.stringify(entry)} is not <az>=<bucket> (S3 bucket names: 3-63 lowercase letters, digits, '.', '-'). Fix: e.g. az-a=az-evac-state-a,az-b=az-evac-state-b`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * Build the state store `settings` name.
 * @param onProblem receives the s3 store's replica problems (failed writes, replays), one line each
 * @throws Error naming the setting and the fix for an unknown store, missing buckets or endpoints
 */
export function buildStateStores(settings: Settings, onProblem: (line: string) => void = () => undefined): StateStores {
  if (settings.stateStore === 'file') {
    const dir = resolve(settings.stateDir);
    return {
      describe: `file store in ${dir} (AZ_EVAC_STATE)`,
      catalogs: new FileCatalogStore(join(dir, 'catalog')),
      evacuations: new FileEvacuationStore(join(dir, 'evacuations')),
      reports: new FileReportStore(join(dir, 'reports')),
      checkWritable: async () => {
        try {
          await writeJsonAtomic(join(dir, 'health.json'), { pid: process.pid, atMs: Date.now() });
        } catch (err) {
          throw new Error(`the state store cannot be written: AZ_EVAC_STATE=${settings.stateDir} (${(err as Error).message}). Fix: point AZ_EVAC_STATE at a writable directory, or use AZ_EVAC_STATE_STORE=s3`);
        }
        return [];
      },
      health: () => [],
      close: () => undefined,
    };
  }
  if (settings.stateStore !== 's3') {
    throw new Error(`AZ_EVAC_STATE_STORE=${JSON.stringify(settings.stateStore)} is not a state store. Fix: set it to file (AZ_EVAC_STATE, one host: demo and tests) or s3 (AZ_EVAC_STATE_BUCKETS, every AZ)`);
  }
  const buckets = parseStateBuckets(settings.stateBuckets);
  const azs = Object.keys(buckets);
  if (azs.length === 0) throw new Error('AZ_EVAC_STATE_STORE=s3 needs AZ_EVAC_STATE_BUCKETS. Fix: set it to <az>=<bucket> for every AZ, e.g. az-a=az-evac-state-a,az-b=az-evac-state-b');
  const endpoints = parseEndpoints(settings.s3Endpoints);
  const missing = azs.filter((az) => !endpoints[az]);
  if (missing.length > 0) throw new Error(`AZ_EVAC_STATE_BUCKETS names ${missing.join(', ')}, which AZ_EVAC_S3_ENDPOINTS does not. Fix: add ${missing.map((az) => `${az}=https://…`).join(',')} to AZ_EVAC_S3_ENDPOINTS`);
  if (azs.length < 2) onProblem(`az-evac state store: AZ_EVAC_STATE_BUCKETS names one AZ (${azs[0]}): losing it loses the state. Fix: name a bucket in every AZ`);
  const clients = new S3Clients(connectionSettings(settings));
  const store = new ReplicatedStateStore({
    replicas: azs.map((az) => ({ az, bucket: buckets[az]!, client: clients.client(endpoints[az]!) })),
    prefix: settings.statePrefix,
    requestTimeoutMs: settings.stateRequestTimeoutMs,
    replicaBackoffMs: settings.stateReplicaBackoffSeconds * 1000,
    onProblem,
  });
  const where = azs.map((az) => `${az}=${buckets[az]}`).join(', ');
  return {
    describe: `s3 store (AZ_EVAC_STATE_BUCKETS ${where})`,
    catalogs: store.catalogs,
    evacuations: store.evacuations,
    reports: store.reports,
    checkWritable: async () => {
      const results = await store.probe();
      const failed = results.filter((r) => !r.ok);
      if (failed.length === results.length) {
        throw new Error(`the state store cannot be written in any AZ (AZ_EVAC_STATE_BUCKETS=${settings.stateBuckets}): ${failed.map((f) => (f.ok ? '' : `${f.az}: ${f.error.message}`)).join('; ')}. Fix: create the buckets and grant s3:PutObject, s3:GetObject and s3:ListBucket on them to the worker's S3 credentials, and check AZ_EVAC_S3_ENDPOINTS`);
      }
      return failed.map((f) => (f.ok ? '' : `az-evac state store: ${f.az} cannot be written (${f.error.message}); continuing with the other AZs (it may be the failed AZ)`));
    },
    health: () => store.health(),
    close: () => clients.destroy(),
  };
}

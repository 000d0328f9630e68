/**
 * The k8s worker's start (worker/build.ts buildPlatform) on the run's real apiservers and S3
 * servers, with NO simulator URL: good settings give a KubePlatform that reads the fleet;
 * every bad setting stops it before anything is touched, with one message naming the
 * setting and the fix (a missing context, S3 credentials the endpoint refuses); a blackholed
 * AZ is reported within the request deadline and does not stop it (it may be the failed AZ).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from '../../config/settings.js';
import type { PlatformProfile } from '../../domain/types.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet } from '../../simulator/fleet-generator.js';
import { buildPlatform } from '../../worker/build.js';
import { testControlPlane } from '../setup/kube.js';
import { kubeWorkerSettings } from '../setup/kube-platform.js';
import { testS3 } from '../setup/s3.js';

let stateDir: string;
let settings: Settings;
let profile: PlatformProfile;

/** buildPlatform's rejection message (or '' when it resolved), its warnings and time. */
async function start(s: Settings): Promise<{ error: string; warnings: string[]; ms: number }> {
  const warnings: string[] = [];
  const started = Date.now();
  const error = await buildPlatform(s, (line) => warnings.push(line)).then(() => '', (err: unknown) => (err as Error).message);
  return { error, warnings, ms: Date.now() - started };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'az-evac-worker-start-'));
  profile = generateFleet({ jobs: 4, seed: 3, templates: loadExampleTemplates() }).platform;
  settings = await kubeWorkerSettings(profile, { ...loadSettings({}), stateDir });
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('k8s worker start without a simulator', () => {
  it('good settings: a KubePlatform that reads both clusters, no warnings, no AZ_EVAC_SIMULATOR_URL', async () => {
    expect(settings.simulatorUrl).toBe('');
    const warnings: string[] = [];
    const platform = await buildPlatform(settings, (line) => warnings.push(line));
    expect(platform).toBeInstanceOf(KubePlatform);
    expect(warnings).toEqual([]);
    expect((await platform.readFleet()).unreachableAzs).toEqual([]);
  });

  it('an S3 secret the endpoint refuses stops it, naming the AZ, the settings and the fix, never the secret', async () => {
    const wrong = 'not-the-secret-0123456789';
    const all = await start({ ...settings, s3SecretKey: wrong });
    expect(all.error).toMatch(/^az-a: the S3 endpoint http:\/\/\S+ refuses the credentials from AZ_EVAC_S3_ACCESS_KEY\/AZ_EVAC_S3_SECRET_KEY \(every AZ\) \((SignatureDoesNotMatch|InvalidAccessKeyId)\) for bucket \S+\. Fix: set AZ_EVAC_S3_ACCESS_KEY and AZ_EVAC_S3_SECRET_KEY/);
    expect(all.error).not.toContain(wrong);
    // Per AZ: only az-b's secret is wrong.
    const s3 = testS3();
    const perAz = await start({ ...settings, s3AccessKey: `az-a=${s3.accessKeyId},az-b=${s3.accessKeyId}`, s3SecretKey: `az-a=${s3.secretAccessKey},az-b=${wrong}` });
    expect(perAz.error).toMatch(/^az-b: the S3 endpoint .* refuses the credentials from AZ_EVAC_S3_ACCESS_KEY\/AZ_EVAC_S3_SECRET_KEY \(az-b=…\)/);
  });

  it('no static keys: the AWS SDK default credential chain (here the AWS_* environment variables); none found stops it', async () => {
    const s3 = testS3();
    const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];
    const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    const chain = { ...settings, s3AccessKey: '', s3SecretKey: '' };
    try {
      for (const k of keys) delete process.env[k];
      process.env.AWS_CONFIG_FILE = join(stateDir, 'no-aws-config');
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(stateDir, 'no-aws-credentials');
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
      process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
      expect((await start(chain)).error).toBe('');
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const none = await start(chain);
      expect(none.error).toMatch(/^az-a: no S3 credentials for http:\S+: .*Fix: set AZ_EVAC_S3_ACCESS_KEY and AZ_EVAC_S3_SECRET_KEY/);
    } finally {
      for (const k of keys) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('a missing context stops it, naming AZ_EVAC_KUBE_CONTEXTS and the fix', async () => {
    const unknown = await start({ ...settings, kubeContexts: 'az-a=az-a,az-b=prod-use1b' });
    expect(unknown.error).toMatch(/has no context "prod-use1b" for AZ az-b \(it has: az-a, az-b\)\. Fix: set AZ_EVAC_KUBE_CONTEXTS=az-b=<one of those>/);
    const absent = await start({ ...settings, kubeContexts: 'az-a=az-a' });
    expect(absent.error).toMatch(/^AZ_EVAC_KUBE_CONTEXTS has no context for az-b .*Fix: add az-b=<context> to AZ_EVAC_KUBE_CONTEXTS/);
  });

  describe('a blackholed AZ (its API server accepts TCP and never answers)', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    let kubeconfig: string;

    beforeAll(async () => {
      silent = createServer((s) => { sockets.add(s); });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const kc = new KubeConfig();
      kc.loadFromFile(testControlPlane().workerKubeconfigPath);
      const clusterOfB = kc.getContextObject('az-b')!.cluster;
      const port = (silent.address() as { port: number }).port;
      kc.loadFromOptions({
        clusters: kc.getClusters().map((c) => (c.name === clusterOfB ? { ...c, server: `https://127.0.0.1:${port}` } : c)),
        users: kc.getUsers(), contexts: kc.getContexts(), currentContext: kc.getCurrentContext(),
      });
      kubeconfig = join(stateDir, 'kubeconfig-blackholed');
      await writeFile(kubeconfig, kc.exportConfig(), { mode: 0o600 });
    });

    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    });

    it('is a warning within the deadline, not a stop; the catalog read reports it unreachable after one deadline', async () => {
      const s = { ...settings, kubeconfig, kubeRequestTimeoutSeconds: 2 };
      const warnings: string[] = [];
      const started = Date.now();
      const platform = await buildPlatform(s, (line) => warnings.push(line));
      const startMs = Date.now() - started;
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/az-b: .*API server unreachable: no answer within the request deadline \(AZ_EVAC_KUBE_REQUEST_TIMEOUT_SECONDS\).*continuing: it may be the failed AZ/);
      expect(startMs).toBeLessThan(8000);
      const readStarted = Date.now();
      const fleet = await platform.readFleet();
      const readMs = Date.now() - readStarted;
      expect(fleet.unreachableAzs).toEqual(['az-b']);
      expect(readMs).toBeLessThan(8000);
      console.log(`[worker start] blackholed az-b, deadline 2 s: start ${startMs} ms (warning), catalog read ${readMs} ms (az-b unreachable)`);
    });
  });
});

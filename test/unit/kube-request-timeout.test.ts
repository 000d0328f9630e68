/**
 * Kubernetes request deadline (platform/kube/az-apis.ts): an API server address that accepts
 * TCP but never answers (a blackholed AZ: here a local server that accepts and stays silent,
 * so even the TLS handshake never completes) fails each call within the deadline with a
 * retryable "unreachable" PlatformError, instead of waiting for the OS (minutes); the
 * catalog read reports that AZ unreachable after one deadline and reads the other.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformProfile } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import { assertFlinkCrd, azApis } from '../../platform/kube/az-apis.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import type { ObjectStorePort } from '../../platform/ports.js';

let silent: Server;
let refusedPort: number;
const sockets = new Set<Socket>();

/** A KubeConfig with one context `az` whose API server is `server`. */
function kubeconfig(az: string, server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: az, server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: az, cluster: az, user: 'u' }],
    currentContext: az,
  });
  return kc;
}

beforeAll(async () => {
  silent = createServer((s) => { sockets.add(s); }); // accepts, never writes
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  refusedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r())); // nothing listens there any more
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
});

const silentUrl = () => `https://127.0.0.1:${(silent.address() as { port: number }).port}`;

describe('Kubernetes request deadline', () => {
  it('a silent API server: the call fails after the deadline (1 s), retryable, "unreachable", naming the setting', async () => {
    const apis = azApis(new Map([['az-a', kubeconfig('az-a', silentUrl())]]), { requestTimeoutMs: 1000 });
    const started = Date.now();
    const err = await assertFlinkCrd(apis.get('az-a')!).then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - started;
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'az-down', retryable: true });
    expect((err as Error).message).toMatch(/az-a: .*API server unreachable: no answer within the request deadline \(AZ_EVAC_KUBE_REQUEST_TIMEOUT_SECONDS\)/);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(5000);
    console.log(`[kube deadline] silent API server: unreachable after ${ms} ms (deadline 1000 ms)`);
  });

  it('readFleet: the silent AZ is reported unreachable after one deadline (not retried in place); all silent → az-down', async () => {
    const profile: PlatformProfile = {
      layout: 'symmetric',
      azs: ['az-a', 'az-b'].map((name) => ({ name, zone: `z-${name}`, imageRegistry: `r.${name}`, s3Endpoint: `http://s3.${name}`, stateBucket: 'state', artifactBucket: 'jars' })),
    } as PlatformProfile;
    const objects = {} as ObjectStorePort;
    const both = new KubePlatform(azApis(new Map([['az-a', kubeconfig('az-a', silentUrl())], ['az-b', kubeconfig('az-b', silentUrl())]]), { requestTimeoutMs: 800 }), profile, objects);
    const started = Date.now();
    const err = await both.readFleet().then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - started;
    expect(err).toMatchObject({ code: 'az-down', retryable: true });
    expect((err as Error).message).toMatch(/no AZ's API server answers \(az-a, az-b\)/);
    expect(ms).toBeLessThan(3000);
    console.log(`[kube deadline] readFleet with both AZs silent: az-down after ${ms} ms (deadline 800 ms)`);
  });

  it('a closed port is still a fast retryable unavailable (ECONNREFUSED), not a deadline', async () => {
    const apis = azApis(new Map([['az-a', kubeconfig('az-a', `https://127.0.0.1:${refusedPort}`)]]), { requestTimeoutMs: 10_000 });
    const started = Date.now();
    const err = await assertFlinkCrd(apis.get('az-a')!).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', retryable: true });
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

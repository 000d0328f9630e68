/**
 * Fault proxies (./fault-proxy.ts) in front of each AZ's real kube-apiserver, and a worker
 * kubeconfig pointing at them: the worker talks TLS to the proxy (which serves the
 * apiserver's own certificate, so the kubeconfig's certificate-authority is unchanged), the
 * proxy talks TLS to the apiserver. Watches pass through untouched; other requests fail at
 * the configured rate, drawn by the simulator's seeded fault stream (simulator/faults.ts):
 * 503, 429 with Retry-After, or a stall then 504, each with a Kubernetes Status body.
 * A process-boundary mock: tests that use it say so in their name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { LocalControlPlane } from '../../launchers/local-control-plane.js';
import { Faults, type ApiFault, type FaultConfig } from '../../simulator/faults.js';
import { startFaultProxy, type FaultProxy, type InjectedResponse } from './fault-proxy.js';

/** The proxies of every AZ, sharing one fault stream. */
export interface KubeFaultProxies {
  /** Worker-identity kubeconfig, one context per AZ (named after it), servers = the proxies. */
  kubeconfigPath: string;
  /** The fault settings and counters (`faults.injected`); `faults.set` changes them live. */
  faults: Faults;
  /** Requests forwarded to the apiservers, summed over AZs. */
  forwarded(): number;
  close(): Promise<void>;
}

/** A Kubernetes Status answer for a drawn fault. */
function statusResponse(fault: ApiFault, req: string): InjectedResponse {
  const [code, reason, headers, delayMs] =
    fault.kind === 'throttled' ? [429, 'TooManyRequests', { 'retry-after': String(fault.retryAfterSeconds) }, 0]
      : fault.kind === 'hang' ? [504, 'Timeout', {}, fault.ms]
        : [503, 'ServiceUnavailable', {}, 0];
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `injected fault (${fault.kind}): ${req}`, reason, code });
  return { status: code, headers, body, delayMs };
}

/** Whether a request is a watch (streams pass through unfaulted). */
function isWatch(url: string | undefined): boolean {
  const watch = new URL(url ?? '/', 'https://x').searchParams.get('watch');
  return watch === 'true' || watch === '1';
}

/**
 * Start one proxy per AZ of `cp` and write `<dir>/kubeconfig-worker-proxied`.
 * @param workerKubeconfigPath the control plane's worker kubeconfig (token and CA are copied from it)
 * @param seed seed of the fault stream; `config` its settings (no faults by default)
 */
export async function startKubeFaultProxies(cp: LocalControlPlane, workerKubeconfigPath: string, dir: string, seed: number, config: Partial<FaultConfig> = {}): Promise<KubeFaultProxies> {
  const faults = new Faults(seed);
  faults.set(config);
  const proxies: FaultProxy[] = [];
  const doc = parse(readFileSync(workerKubeconfigPath, 'utf8')) as { clusters: { name: string; cluster: { server: string } }[] };
  try {
    for (const entry of doc.clusters) {
      const cluster = cp.cluster(entry.name);
      const cert = readFileSync(cluster.caFile);
      const proxy = await startFaultProxy({
        target: cluster.server,
        targetCa: cert,
        tls: { cert, key: readFileSync(join(dirname(cluster.caFile), 'apiserver.key')) },
        fault: (req) => {
          if (isWatch(req.url)) return undefined;
          const fault = faults.draw();
          return fault && statusResponse(fault, `${req.method} ${req.url}`);
        },
      });
      proxies.push(proxy);
      entry.cluster.server = proxy.endpoint;
    }
  } catch (err) {
    await Promise.all(proxies.map((p) => p.close()));
    throw err;
  }
  const kubeconfigPath = join(dir, 'kubeconfig-worker-proxied');
  writeFileSync(kubeconfigPath, stringify(doc), { mode: 0o600 });
  return {
    kubeconfigPath,
    faults,
    forwarded: () => proxies.reduce((n, p) => n + p.forwarded, 0),
    close: async () => { await Promise.all(proxies.map((p) => p.close())); },
  };
}

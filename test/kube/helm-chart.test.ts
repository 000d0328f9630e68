/**
 * The Helm chart deploy/helm/az-evac, checked with the real helm (built from the Go module
 * proxy by scripts/helm.sh) and the real kube-apiserver of the local control plane:
 *  - `helm lint --strict` passes with the default values and with every option set
 *    (ci/all-options-values.yaml); a console with no way to sign in, or several console replicas
 *    without a shared session secret, fail to render, naming the value;
 *  - what it renders is what production needs: worker and console Deployments with probes on
 *    /healthz and /readyz, the worker's Temporal SDK metrics port, SIGTERM drain time inside terminationGracePeriodSeconds, a
 *    PodDisruptionBudget each, kubeconfig and S3 keys from Secrets, the tiers policy and the
 *    platform profile in a ConfigMap that the worker's own parsers accept, only settings of
 *    config/settings.ts as AZ_EVAC_* variables, and the per-AZ RBAC equal to
 *    deploy/rbac/az-evac-worker.yaml;
 *  - every rendered object is accepted by the apiserver in a server-side apply dry run
 *    (dryRun=All, fieldValidation=Strict, so a misspelt field fails), and nothing is created.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../config/settings.js';
import { parseTiersPolicy } from '../../domain/tiers-policy.js';
import { loadPlatformProfile } from '../../platform/kube/platform-profile.js';
import { testControlPlane } from '../setup/kube.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(REPO, 'deploy/helm/az-evac');
const ALL_OPTIONS = join(CHART, 'ci/all-options-values.yaml');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML
type Obj = Record<string, any>;

let helm = '';

/** `helm <args>` in the repo; rejects with helm's stderr. */
async function helmRun(args: string[]): Promise<string> {
  return (await run(helm, args, { cwd: REPO, maxBuffer: 32 * 1024 * 1024 })).stdout;
}

/** The objects `helm template` renders into `namespace` with extra `args`. */
async function render(namespace: string, args: string[] = []): Promise<Obj[]> {
  const text = await helmRun(['template', 'az-evac', CHART, '--namespace', namespace, ...args]);
  return parseAllDocuments(text).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

const named = (objs: Obj[], kind: string, suffix = ''): Obj => {
  const o = objs.find((x) => x.kind === kind && String(x.metadata.name).endsWith(suffix));
  if (!o) throw new Error(`no ${kind} *${suffix} rendered; got ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};

/** Every AZ_EVAC_* name in `env` lists of the pod specs of `objs`. */
function envNames(objs: Obj[]): string[] {
  const names = new Set<string>();
  for (const o of objs) {
    for (const c of o.spec?.template?.spec?.containers ?? []) for (const e of c.env ?? []) names.add(e.name as string);
  }
  return [...names].filter((n) => n.startsWith('AZ_EVAC_'));
}

/** One HTTPS request to the apiserver of `kc`'s current context with its credentials. */
async function kubeRequest(kc: KubeConfig, method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; json: Obj }> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const opts: RequestOptions & { headers: Record<string, string> } = {
    method, hostname: server.hostname, port: server.port, path, headers: { accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}) },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Obj) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Resource (plural) and scope of kind `kind` in `apiVersion`, from the apiserver's discovery. */
async function resourceOf(kc: KubeConfig, apiVersion: string, kind: string): Promise<{ base: string; plural: string; namespaced: boolean }> {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const { status, json } = await kubeRequest(kc, 'GET', base);
  if (status !== 200) throw new Error(`discovery of ${base}: HTTP ${status} ${JSON.stringify(json)}`);
  const r = (json.resources as Obj[]).find((x) => x.kind === kind && !String(x.name).includes('/'));
  if (!r) throw new Error(`the apiserver serves no ${kind} in ${apiVersion}`);
  return { base, plural: r.name as string, namespaced: r.namespaced as boolean };
}

/** Server-side apply of `o` with dryRun=All and strict field validation; the apiserver's answer. */
async function dryRunApply(kc: KubeConfig, namespace: string, o: Obj): Promise<{ status: number; json: Obj }> {
  const { base, plural, namespaced } = await resourceOf(kc, o.apiVersion as string, o.kind as string);
  const path = `${base}${namespaced ? `/namespaces/${namespace}` : ''}/${plural}/${o.metadata.name}?dryRun=All&fieldManager=az-evac-chart-check&fieldValidation=Strict&force=true`;
  return kubeRequest(kc, 'PATCH', path, JSON.stringify(o), 'application/apply-patch+yaml');
}

describe('Helm chart deploy/helm/az-evac', () => {
  const cp = testControlPlane();
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  kc.setCurrentContext(cp.azs[0]!);
  const namespace = `chart-${randomUUID().slice(0, 8)}`;
  let dir = '';

  beforeAll(async () => {
    const started = Date.now();
    helm = (await run('bash', [join(REPO, 'scripts/helm.sh'), 'path'], { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
    console.log(`helm-chart: helm at ${helm} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    dir = await mkdtemp(join(tmpdir(), 'az-evac-chart-'));
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  }, 3_600_000);

  afterAll(async () => {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lints strictly with default values and with every option set', async () => {
    await helmRun(['lint', '--strict', CHART]);
    await helmRun(['lint', '--strict', CHART, '-f', ALL_OPTIONS]);
  });

  it('refuses a console nobody can sign in to, naming the values to set', async () => {
    const err = await helmRun(['template', 'az-evac', CHART, '--set', 'console.usersSecret.name=']).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/console\.usersSecret\.name .*console\.proxyAuth\.userHeader/);
  });

  it('refuses several console replicas without a shared session secret, and passes that secret to the console', async () => {
    const err = await helmRun(['template', 'az-evac', CHART, '--set', 'console.sessionSecret.name=']).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/console\.sessionSecret\.name .*more than one replica/);
    const deployment = named(await render(namespace), 'Deployment', '-console');
    const env = (deployment.spec.template.spec.containers[0].env as Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>);
    expect(env.find((e) => e.name === 'AZ_EVAC_CONSOLE_SESSION_SECRET')?.valueFrom?.secretKeyRef).toEqual({ name: 'az-evac-console-session', key: 'secret' });
  });

  it('renders worker and console with probes, drain time, PDBs, Secrets and a ConfigMap the worker accepts', async () => {
    const objs = await render(namespace);
    expect(objs.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    const worker = named(objs, 'Deployment', '-worker');
    const console_ = named(objs, 'Deployment', '-console');
    for (const [d, port] of [[worker, 'health'], [console_, 'http']] as const) {
      const c = d.spec.template.spec.containers[0];
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port });
      expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port });
      expect(c.resources.requests).toBeDefined();
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
      const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({ AZ_EVAC_PLATFORM: 'k8s', AZ_EVAC_TIERS: '/etc/az-evac/config/tiers.yaml', AZ_EVAC_PLATFORM_PROFILE: '/etc/az-evac/config/platform.json', AZ_EVAC_KUBECONFIG: '/etc/az-evac/kube/kubeconfig' });
      const pdb = named(objs, 'PodDisruptionBudget', `-${d.metadata.name.split('-').pop()}`);
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
    }
    const wc = worker.spec.template.spec.containers[0];
    expect(wc.command).toEqual(['node', '/app/dist/worker/main.js']);
    const grace = Number((wc.env as Obj[]).find((e) => e.name === 'AZ_EVAC_WORKER_SHUTDOWN_GRACE_SECONDS')!.value);
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    expect(worker.spec.template.spec.volumes.find((v: Obj) => v.name === 'kubeconfig').secret.secretName).toBe('az-evac-kubeconfig');
    expect(console_.spec.template.spec.containers[0].args).toEqual(['console']);

    // The ConfigMap's files pass the worker's own checks.
    const cm = named(objs, 'ConfigMap');
    expect(parseTiersPolicy(cm.data['tiers.yaml'], 'ConfigMap tiers.yaml').tiers).toBeDefined();
    await writeFile(join(dir, 'platform.json'), cm.data['platform.json']);
    expect((await loadPlatformProfile(join(dir, 'platform.json'))).azs.map((a) => a.name)).toEqual(['az-a', 'az-b']);
  });

  it("serves the Temporal SDK's Prometheus metrics from the worker on a named port (off with 0), beside az-evac's own /metrics on the health port", async () => {
    const sdk = async (args: string[]): Promise<{ env?: string; port?: number }> => {
      const c = named(await render(namespace, args), 'Deployment', '-worker').spec.template.spec.containers[0];
      return { env: (c.env as Obj[]).find((e) => e.name === 'AZ_EVAC_TEMPORAL_METRICS_ADDRESS')?.value, port: (c.ports as Obj[]).find((p) => p.name === 'sdk-metrics')?.containerPort };
    };
    await expect(sdk([])).resolves.toEqual({ env: '0.0.0.0:9464', port: 9464 });
    await expect(sdk(['-f', ALL_OPTIONS])).resolves.toEqual({ env: '0.0.0.0:9090', port: 9090 });
    await expect(sdk(['--set', 'worker.temporalMetricsPort=0'])).resolves.toEqual({ env: undefined, port: undefined });
    const notes = await helmRun(['install', 'az-evac', CHART, '--namespace', namespace, '--dry-run=client']);
    expect(notes).toContain('Metrics (Prometheus): az-evac\'s at :8461/metrics, the Temporal SDK\'s at :9464/metrics');
  });

  it('uses only settings of config/settings.ts as AZ_EVAC_* variables (a typo would be ignored by the worker)', async () => {
    const known = new Set<string>(Object.values(SETTINGS).map((s) => s.env));
    const names = envNames([...(await render(namespace)), ...(await render(namespace, ['-f', ALL_OPTIONS]))]);
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });

  it('ships the repository tiers.yaml as its default policy', async () => {
    expect(await readFile(join(CHART, 'files/tiers.yaml'), 'utf8')).toBe(await readFile(join(REPO, 'tiers.yaml'), 'utf8'));
  });

  it('renders the per-AZ RBAC with the rules of deploy/rbac/az-evac-worker.yaml, and nothing else there', async () => {
    const objs = await render(namespace, ['--set', 'azClusterRbac.enabled=true,worker.enabled=false,console.enabled=false']);
    expect(objs.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
    const reference = parseAllDocuments(await readFile(join(REPO, 'deploy/rbac/az-evac-worker.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
    expect(named(objs, 'ClusterRole').rules).toEqual(named(reference, 'ClusterRole').rules);
    expect(named(objs, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'az-evac-worker', namespace }]);
  });

  it('is accepted by the kube-apiserver in a server-side apply dry run (strict fields), and creates nothing', async () => {
    const sets = {
      default: await render(namespace),
      'all options': await render(namespace, ['-f', ALL_OPTIONS]),
    };
    const problems: string[] = [];
    let applied = 0;
    for (const [label, objs] of Object.entries(sets)) {
      for (const o of objs) {
        const { status, json } = await dryRunApply(kc, namespace, o);
        applied++;
        if (status !== 200 && status !== 201) problems.push(`${label}: ${o.kind}/${o.metadata.name}: HTTP ${status} ${json.message ?? JSON.stringify(json)}`);
        else if (json.metadata?.name !== o.metadata.name) problems.push(`${label}: ${o.kind}/${o.metadata.name}: answer names ${json.metadata?.name}`);
      }
    }
    expect(problems).toEqual([]);
    expect(applied).toBeGreaterThan(15);
    // Dry run: nothing exists afterwards.
    const worker = named(sets.default, 'Deployment', '-worker');
    expect((await kubeRequest(kc, 'GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${worker.metadata.name}`)).status).toBe(404);
    expect((await kubeRequest(kc, 'GET', `/api/v1/namespaces/${namespace}/secrets/az-evac-worker-token`)).status).toBe(404);
  });

  it('has its dry run refuse a misspelt field (the check can fail)', async () => {
    const worker = named(await render(namespace), 'Deployment', '-worker');
    worker.spec.template.spec.containers[0].livenesProbe = worker.spec.template.spec.containers[0].livenessProbe;
    const { status, json } = await dryRunApply(kc, namespace, worker);
    // kube-apiserver v1.34 answers an undeclared field in an apply patch with 500 "failed to create typed patch object".
    expect(status, JSON.stringify(json)).toBeGreaterThanOrEqual(400);
    expect(String(json.message)).toMatch(/livenesProbe.*(not declared in schema|unknown field)/);
  });
});

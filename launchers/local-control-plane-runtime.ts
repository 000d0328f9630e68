/**
 * Implementation of launchers/local-control-plane.ts: spawns etcd and kube-apiserver per
 * AZ (binaries from `scripts/kube.sh path`), bootstraps each cluster through the API
 * (namespaces, RBAC manifest, CRDs, Nodes) and records everything in
 * `<stateDir>/control-plane.json` so other processes can stop and restart an AZ.
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { freePort, onProcessExit } from './local-processes.js';
import { bootstrapCluster } from './local-cluster-bootstrap.js';
import type { LocalCluster, LocalControlPlane, LocalControlPlaneOptions, LocalNodeSpec } from './local-control-plane.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const KUBE_SCRIPT = join(REPO, 'scripts/kube.sh');
const STATE_FILE = 'control-plane.json';
/** How long one etcd or apiserver may take to become ready, seconds (apiserver ~10-30 s on a busy 2-core machine). */
const READY_TIMEOUT_S = 180;
/** Graceful stop before SIGKILL, seconds. */
const STOP_TIMEOUT_S = 10;
/** Worker identity: the ServiceAccount of deploy/rbac/az-evac-worker.yaml, presented through a static token. */
const WORKER_USER = 'system:serviceaccount:az-evac:az-evac-worker';
const WORKER_GROUPS = 'system:serviceaccounts,system:serviceaccounts:az-evac';
const DEFAULT_NODES: LocalNodeSpec = { count: 8, cpuCores: 32, memoryMiB: 131072 };

/** What control-plane.json holds for one AZ. */
interface AzState extends LocalCluster {
  etcd: { pid: number; clientPort: number; logFile: string };
  apiserver: { pid: number; port: number; args: string[] };
}

interface ControlPlaneState {
  binDir: string;
  kubeconfigPath: string;
  workerKubeconfigPath: string;
  azs: AzState[];
}

/**
 * Directory holding the cached `kube-apiserver` and `etcd` (runs `scripts/kube.sh path`,
 * which builds them on a cold machine: 10-35 min).
 * @throws Error with the script's output when the build fails
 */
export function kubeBinDir(): string {
  return execFileSync('bash', [KUBE_SCRIPT, 'path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 }).trim();
}

function readState(stateDir: string): ControlPlaneState {
  const file = join(stateDir, STATE_FILE);
  if (!existsSync(file)) throw new Error(`no local control plane in ${stateDir} (${STATE_FILE} missing). Fix: start one with startLocalControlPlane or \`scripts/kube.sh start ${stateDir}\`.`);
  return JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneState;
}

function writeState(stateDir: string, state: ControlPlaneState): void {
  writeFileSync(join(stateDir, STATE_FILE), JSON.stringify(state, null, 2));
}

/** True when `pid` is a live, non-zombie process. */
function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (exited, not yet reaped by a parent that is gone) still answers kill(0).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Stop `pid`: SIGTERM, then SIGKILL after `graceSeconds` (0: SIGKILL at once); resolves when it is gone. */
async function killPid(pid: number, graceSeconds = STOP_TIMEOUT_S): Promise<void> {
  if (!alive(pid)) return;
  try { process.kill(pid, graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL'); } catch { return; }
  const deadline = Date.now() + graceSeconds * 1000;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Spawn `bin args` detached (it outlives this process), output appended to `logFile`; returns the pid. */
function spawnDetached(bin: string, args: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${bin}`);
  return child.pid;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-25).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET `url` (https without verification: a loopback readiness probe before the cert is known); resolves the status code. */
function probe(url: string, token?: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = (url.startsWith('https:') ? request : httpRequest)(url, {
      rejectUnauthorized: false,
      timeout: 2000,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }, (res) => { res.resume(); resolveStatus(res.statusCode ?? 0); });
    req.on('error', () => resolveStatus(0));
    req.on('timeout', () => { req.destroy(); resolveStatus(0); });
    req.end();
  });
}

async function waitReady(what: string, url: string, pid: number, logFile: string, token?: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_S * 1000;
  while ((await probe(url, token)) !== 200) {
    if (!alive(pid)) throw new Error(`${what} exited before it was ready; log tail (${logFile}):\n${logTail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready at ${url} after ${READY_TIMEOUT_S} s; log tail (${logFile}):\n${logTail(logFile)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Spawn `bin` detached and wait until `readyUrl` answers 200; the process is killed when it
 * does not get there.
 * @returns its pid
 */
async function spawnReady(what: string, bin: string, args: string[], logFile: string, readyUrl: string, token?: string): Promise<number> {
  const pid = spawnDetached(bin, args, logFile);
  try {
    await waitReady(what, readyUrl, pid, logFile, token);
  } catch (error) {
    await killPid(pid);
    throw error;
  }
  return pid;
}

function startApiserver(binDir: string, az: AzState): Promise<number> {
  return spawnReady(`kube-apiserver of ${az.az}`, join(binDir, 'kube-apiserver'), az.apiserver.args, az.logFile, `${az.server}/readyz`, az.adminToken);
}

/** `n` free loopback ports, all different (freePort alone may hand out a just-released port twice). */
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function startEtcd(binDir: string, dir: string, clientPort: number, peerPort: number): Promise<AzState['etcd']> {
  const logFile = join(dir, 'etcd.log');
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const pid = await spawnReady('etcd', join(binDir, 'etcd'), [
    '--name', 'etcd', '--data-dir', join(dir, 'etcd-data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `etcd=${peer}`,
    // Test clusters on one machine: durability across an OS crash is not needed, speed is.
    '--unsafe-no-fsync', '--log-level', 'warn',
  ], logFile, `${client}/health`);
  return { pid, clientPort, logFile };
}

/** Writes the static token file and service-account keys; returns the apiserver's argv. */
function apiserverArgs(dir: string, port: number, etcdPort: number, adminToken: string, workerToken: string): string[] {
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(tokens, `${adminToken},admin,admin,"system:masters"\n${workerToken},${WORKER_USER},az-evac-worker,"${WORKER_GROUPS}"\n`, { mode: 0o600 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(dir, 'sa.pub'), publicKey);
  writeFileSync(join(dir, 'sa.key'), privateKey, { mode: 0o600 });
  return [
    '--etcd-servers', `http://127.0.0.1:${etcdPort}`,
    '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(port),
    // Self-signed serving certificate generated by the apiserver into cert-dir on first start.
    '--cert-dir', join(dir, 'certs'),
    '--token-auth-file', tokens,
    '--authorization-mode', 'RBAC',
    '--service-account-issuer', 'https://kubernetes.default.svc',
    '--service-account-key-file', join(dir, 'sa.pub'),
    '--service-account-signing-key-file', join(dir, 'sa.key'),
    '--service-cluster-ip-range', '10.96.0.0/16',
    // No controller-manager runs: the ServiceAccount admission would wait for token controllers.
    '--disable-admission-plugins', 'ServiceAccount',
    // Fewer goroutines and less CPU on a shared 2-core machine; no effect on the API surface.
    '--enable-priority-and-fairness=false', '--profiling=false', '--v=0',
  ];
}

function writeKubeconfig(file: string, clusters: LocalCluster[], tokenOf: (c: LocalCluster) => string, userPrefix: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map((c) => ({ name: c.az, cluster: { server: c.server, 'certificate-authority': c.caFile } })),
    users: clusters.map((c) => ({ name: `${userPrefix}@${c.az}`, user: { token: tokenOf(c) } })),
    contexts: clusters.map((c) => ({ name: c.az, context: { cluster: c.az, user: `${userPrefix}@${c.az}` } })),
    'current-context': clusters[0]!.az,
  };
  writeFileSync(file, toYaml(config), { mode: 0o600 });
}

function handle(stateDir: string): LocalControlPlane {
  const state = (): ControlPlaneState => readState(stateDir);
  const azState = (az: string): AzState => {
    const found = state().azs.find((a) => a.az === az);
    if (!found) throw new Error(`AZ '${az}' is not part of the local control plane in ${stateDir} (it has ${state().azs.map((a) => a.az).join(', ')}).`);
    return found;
  };
  const update = (az: string, pid: number): void => {
    const s = state();
    s.azs.find((a) => a.az === az)!.apiserver.pid = pid;
    writeState(stateDir, s);
  };
  const initial = state();
  return {
    stateDir,
    clusters: initial.azs.map(({ az, server, caFile, adminToken, workerToken, logFile }) => ({ az, server, caFile, adminToken, workerToken, logFile })),
    kubeconfigPath: initial.kubeconfigPath,
    workerKubeconfigPath: initial.workerKubeconfigPath,
    cluster(az) {
      const { server, caFile, adminToken, workerToken, logFile } = azState(az);
      return { az, server, caFile, adminToken, workerToken, logFile };
    },
    isUp: (az) => alive(azState(az).apiserver.pid),
    async stopAz(az) {
      // An AZ that fails does not drain its requests: SIGKILL (etcd keeps the data).
      await killPid(azState(az).apiserver.pid, 0);
    },
    async startAz(az) {
      const a = azState(az);
      if (alive(a.apiserver.pid)) return;
      update(az, await startApiserver(state().binDir, a));
    },
    async stop() {
      const s = state();
      await Promise.all(s.azs.map((a) => killPid(a.apiserver.pid)));
      await Promise.all(s.azs.map((a) => killPid(a.etcd.pid)));
    },
  };
}

/**
 * Attach to a control plane started (by any process) in `stateDir`.
 * @throws Error when `stateDir` holds none
 */
export function openLocalControlPlane(stateDir: string): LocalControlPlane {
  return handle(resolve(stateDir));
}

/** SIGKILL every recorded process of `stateDir` (synchronous: for process 'exit'). */
function killAllNow(stateDir: string): void {
  try {
    for (const a of readState(stateDir).azs) {
      for (const pid of [a.apiserver.pid, a.etcd.pid]) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  } catch { /* no state */ }
}

/**
 * Start one cluster per AZ (etcd + kube-apiserver each, in parallel), bootstrap them
 * (namespaces, RBAC, CRDs Established, Nodes) and write the kubeconfigs. Builds the binaries
 * first on a cold machine (`scripts/kube.sh path`, 10-35 min).
 * @throws Error with the failing process's log tail; everything already started is stopped
 */
export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const azs = options.azs ?? ['az-a', 'az-b'];
  if (azs.length === 0 || new Set(azs).size !== azs.length) throw new Error(`azs must be distinct, non-empty names, got ${JSON.stringify(azs)}`);
  const nodes = options.nodes ?? DEFAULT_NODES;
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  if (existsSync(join(stateDir, STATE_FILE))) {
    const old = readState(stateDir);
    if (old.azs.some((a) => alive(a.apiserver.pid) || alive(a.etcd.pid))) {
      throw new Error(`a local control plane is already running in ${stateDir}. Fix: stop it first (scripts/kube.sh stop ${stateDir}) or use another state dir.`);
    }
  }
  const binDir = kubeBinDir();
  const state: ControlPlaneState = {
    binDir,
    kubeconfigPath: join(stateDir, 'kubeconfig'),
    workerKubeconfigPath: join(stateDir, 'kubeconfig-worker'),
    azs: [],
  };
  if (options.killOnExit ?? true) {
    onProcessExit(() => killAllNow(stateDir));
  }
  const started = handle.bind(null, stateDir);
  writeState(stateDir, state);
  const ports = await distinctFreePorts(3 * azs.length);
  try {
    // allSettled: no AZ may still be starting processes when a failure stops everything.
    const results = await Promise.allSettled(azs.map(async (az, i) => {
      const [clientPort, peerPort, port] = ports.slice(3 * i, 3 * i + 3) as [number, number, number];
      const dir = join(stateDir, az);
      // A fresh cluster: data of an earlier, stopped run in this dir is dropped.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const etcd = await startEtcd(binDir, dir, clientPort, peerPort);
      const adminToken = randomBytes(24).toString('hex');
      const workerToken = randomBytes(24).toString('hex');
      const a: AzState = {
        az,
        server: `https://127.0.0.1:${port}`,
        caFile: join(dir, 'certs', 'apiserver.crt'),
        adminToken,
        workerToken,
        logFile: join(dir, 'kube-apiserver.log'),
        etcd,
        apiserver: { pid: 0, port, args: apiserverArgs(dir, port, etcd.clientPort, adminToken, workerToken) },
      };
      state.azs.push(a);
      writeState(stateDir, state);
      a.apiserver.pid = await startApiserver(binDir, a);
      writeState(stateDir, state);
      await bootstrapCluster(a, { nodes, namespaces: options.namespaces ?? ['flink'] });
    }));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    state.azs.sort((x, y) => azs.indexOf(x.az) - azs.indexOf(y.az));
    writeState(stateDir, state);
    writeKubeconfig(state.kubeconfigPath, state.azs, (c) => c.adminToken, 'admin');
    writeKubeconfig(state.workerKubeconfigPath, state.azs, (c) => c.workerToken, 'az-evac-worker');
  } catch (error) {
    await started().stop();
    throw error;
  }
  return started();
}

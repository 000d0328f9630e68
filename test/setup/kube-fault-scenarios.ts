/**
 * Fault scenarios on the two real apiservers (test/kube/faults.test.ts): a seeded fleet
 * (./kube-platform.ts), the production Worker on the KubePlatform under the worker identity
 * (optionally through fault proxies, ./kube-fault-proxy.ts), az-a's apiserver stopped after a
 * catalog sync, then an emergency evacuation az-a → az-b with a fault injected beside it.
 * Afterwards az-a's apiserver is started (if still down) and the fencing follow-up must
 * finish with nothing pending. Checks, reading both clusters as admin:
 *  1. exactly one outcome per in-scope job (./guarantees.ts outcomeProblems), every P0–P2 job
 *     STABLE / RUNNING in az-b;
 *  2. no job RUNNING in two AZs: a moved job's source FlinkDeployment is spec.job.state suspended;
 *  3. nothing applied twice: each target resource's generation grew by at most one (create = 0 → 1,
 *     cold standby resumed = +1, hot standby promoted = +0) and carries this run's redeploy nonce.
 * Records the figure (./guarantees.ts recordFigure, platform `real apiservers`).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { expect } from 'vitest';
import { EvacuationClient } from '../../client/evacuation-client.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import { fenceWorkflowId, recordsKey, redeployNonceFor, type FencePassResult } from '../../domain/evacuation.js';
import type { EvacuationReport, JobReport } from '../../domain/report.js';
import { jobKey, type FleetJob } from '../../domain/types.js';
import { azApis, listFlinkDeployments } from '../../platform/kube/az-apis.js';
import type { FlinkDeploymentObject } from '../../platform/kube/flink-resource.js';
import { loadKubeConfigs, parseKubeContexts } from '../../platform/kube/kube-configs.js';
import { KubePlatform } from '../../platform/kube/kube-platform.js';
import { FileEvacuationStore } from '../../platform/evacuation-file-store.js';
import type { FaultConfig } from '../../simulator/faults.js';
import { buildWorker } from '../../worker/build.js';
import { reportKey, workflowBundle } from './evacuation-harness.js';
import { reached } from './fault-scenarios.js';
import { outcomeCounts, outcomeProblems, recordFigure, type FaultFigure } from './guarantees.js';
import { testControlPlane } from './kube.js';
import { startKubeTestPlatform, type KubeTestPlatform } from './kube-platform.js';
import { startKubeFaultProxies, type KubeFaultProxies } from './kube-fault-proxy.js';
import { testTemporalAddress } from './temporal.js';

/** The fleet of the kube fault tests: generated with `seed`, `jobs` primaries over both AZs. */
export interface KubeFaultFleet {
  jobs: number;
  seed: number;
  timeScale: number;
}

/** The fleet of test/kube/faults*.test.ts: 40 primaries, 20 in az-a (seed 21: P0–P3, every strategy). */
export const KUBE_FAULT_FLEET: KubeFaultFleet = { jobs: 40, seed: 21, timeScale: 40 };

/** The API faults the proxies inject: 503, 429 with Retry-After 1 s, or a 2 s stall then 504. */
export const KUBE_API_FAULTS = { kinds: ['unavailable', 'throttled', 'hang'], retryAfterSeconds: 1, hangMs: 2000 } satisfies Partial<FaultConfig>;

/** What the fault runs beside the evacuation may use. */
export interface KubeInjectContext {
  p: KubeTestPlatform;
  client: EvacuationClient;
  id: string;
  /** Aborts when the evacuation has ended. */
  signal: AbortSignal;
}

/** What a scenario ran, for scenario-specific assertions. */
export interface KubeRan {
  id: string;
  report: EvacuationReport;
  wallSeconds: number;
  /** When the evacuation's result arrived, epoch ms. */
  endedAtMs: number;
  /** The fencing follow-up's last pass. */
  fence: FencePassResult;
  /** Faults the proxies injected, by kind (proxied scenarios). */
  injected?: KubeFaultProxies['faults']['injected'];
}

const AZS = ['az-a', 'az-b'];
const CRITICAL = new Set(['P0', 'P1', 'P2']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const byKey = (list: FlinkDeploymentObject[]): Map<string, FlinkDeploymentObject> => new Map(list.map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d]));
const jobSpec = (d: FlinkDeploymentObject | undefined): { state?: string; savepointRedeployNonce?: number } => (d?.spec.job ?? {}) as { state?: string; savepointRedeployNonce?: number };

/** Where a job runs in az-b under the strategy it ended with: its standby there, else its own name. */
function targetKey(job: FleetJob, j: JobReport): string {
  const standby = j.strategy !== 'redeploy' && job.standby?.az === 'az-b' ? job.standby : undefined;
  return standby ? `${standby.namespace}/${standby.name}` : reportKey(j);
}

/**
 * Problems with guarantees 1–3 and the P0–P2 outcome on the clusters (empty when all hold).
 * @param before az-b's FlinkDeployments before the evacuation (generations)
 */
function kubeProblems(o: {
  source: Map<string, FleetJob>; report: EvacuationReport; plan: Parameters<typeof outcomeProblems>[0]; nonce: number;
  before: Map<string, FlinkDeploymentObject>; azA: Map<string, FlinkDeploymentObject>; azB: Map<string, FlinkDeploymentObject>;
}): string[] {
  const problems = outcomeProblems(o.plan, o.report);
  for (const j of o.report.jobs) {
    const job = o.source.get(reportKey(j));
    if (!job) continue;
    const where = targetKey(job, j);
    const d = o.azB.get(where);
    if (CRITICAL.has(j.tier) && j.outcome !== 'running') problems.push(`${reportKey(j)} (${j.tier}) ended ${j.outcome}: ${j.reason}`);
    if (j.outcome !== 'running') continue;
    if (d?.status?.lifecycleState !== 'STABLE' || d.status.jobStatus?.state !== 'RUNNING') {
      problems.push(`${reportKey(j)}: ${where} in az-b is ${d ? `${d.status?.lifecycleState}/${d.status?.jobStatus?.state}` : 'absent'}`);
    }
    // 2. The source copy of a moved job is suspended.
    const src = o.azA.get(reportKey(j));
    if (src && jobSpec(src).state !== 'suspended') problems.push(`G2 ${reportKey(j)}: moved to az-b but its az-a copy is spec.job.state ${String(jobSpec(src).state)}`);
    // 3. At most one spec change per target resource, with this run's nonce.
    const grew = (d?.metadata.generation ?? 0) - (o.before.get(where)?.metadata.generation ?? 0);
    if (grew > 1) problems.push(`G3 ${where}: generation grew by ${grew}`);
    if (j.strategy !== 'promote-standby' && jobSpec(d).savepointRedeployNonce !== o.nonce) {
      problems.push(`G3 ${where}: savepointRedeployNonce ${String(jobSpec(d).savepointRedeployNonce)}, not this run's ${o.nonce}`);
    }
  }
  return problems;
}

/**
 * Run one emergency evacuation az-a → az-b of `fleet` on the real apiservers with az-a's
 * apiserver stopped, `o.faults` injected by proxies in front of both apiservers (when given)
 * and `o.inject` running beside it; check guarantees 1–3 (module doc), record the figure and
 * clean up (every apiserver up again, clusters emptied).
 * @throws (vitest expectation) when a guarantee does not hold
 */
export async function runOnKube(
  fleet: KubeFaultFleet,
  figure: Pick<FaultFigure, 'fault' | 'when' | 'baselineSeconds' | 'note'>,
  o: { faults?: Partial<FaultConfig>; inject?: (ctx: KubeInjectContext) => Promise<void> } = {},
): Promise<KubeRan> {
  const cp = testControlPlane();
  const marks: string[] = [];
  let last = Date.now();
  const mark = (what: string): void => { marks.push(`${what} ${((Date.now() - last) / 1000).toFixed(1)}`); last = Date.now(); };
  const stateDir = await mkdtemp(join(tmpdir(), 'az-evac-kube-faults-'));
  const p = await startKubeTestPlatform(fleet);
  mark('seed');
  let proxies: KubeFaultProxies | undefined;
  const ended = new AbortController();
  let injecting: Promise<void> | undefined;
  const temporal = await Connection.connect({ address: testTemporalAddress() });
  try {
    let platform = p.kube;
    if (o.faults) {
      proxies = await startKubeFaultProxies(cp.handle, cp.workerKubeconfigPath, stateDir, fleet.seed, o.faults);
      platform = new KubePlatform(azApis(loadKubeConfigs(proxies.kubeconfigPath, parseKubeContexts('', AZS))), p.fleet.platform, p.objects);
    }
    const settings: Settings = {
      ...loadSettings({}), temporalAddress: testTemporalAddress(), stateDir, timeScale: fleet.timeScale, platform: 'k8s', simulatorUrl: '',
      taskQueue: `kube-faults-${process.pid}-${Date.now()}`,
    };
    const worker = await buildWorker(settings, platform, { workflowBundle: await workflowBundle() });
    const running = worker.run();
    const client = await EvacuationClient.connect(settings);
    const id = `kube-${figure.fault.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 28).replace(/-+$/, '')}-${Date.now() % 1e9}`;
    try {
      mark('worker');
      await client.syncCatalog();
      mark('sync');
      await cp.handle.stopAz('az-a');
      await p.sim.client.setAzDown('az-a', true);
      mark('stop az-a');
      // A sync during the outage carries az-a over and keeps the catalog within P0's RPO.
      await client.syncCatalog();
      mark('sync');
      const before = byKey(await listFlinkDeployments(p.admin.get('az-b')!));
      const t0 = Date.now();
      await client.start({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', requestedBy: 'vitest' }, id);
      injecting = o.inject?.({ p, client, id, signal: ended.signal });
      const result = await client.result(id);
      const wallSeconds = (Date.now() - t0) / 1000;
      mark('evacuation');
      ended.abort();
      await injecting;
      const report = JSON.parse(await readFile(result.reportFile, 'utf8')) as EvacuationReport;
      // az-a comes back: the fencing follow-up suspends what could not be fenced in time.
      await cp.handle.startAz('az-a');
      await p.sim.client.setAzDown('az-a', false);
      mark('start az-a');
      const fence = (await new Client({ connection: temporal }).workflow.getHandle(fenceWorkflowId(recordsKey(report))).result()) as FencePassResult;
      mark('fence');
      const stored = await new FileEvacuationStore(join(stateDir, 'evacuations')).getPlan(recordsKey(report));
      const problems = kubeProblems({
        source: new Map(p.fleet.jobs.filter((j) => j.az === 'az-a').map((j) => [jobKey(j), j])),
        report, plan: stored.plan, nonce: redeployNonceFor(`${id}@${stored.request.triggeredAtMs ?? 0}`), before,
        azA: byKey(await listFlinkDeployments(p.admin.get('az-a')!)), azB: byKey(await listFlinkDeployments(p.admin.get('az-b')!)),
      });
      expect(problems).toEqual([]);
      expect(fence.pending).toEqual([]);
      const outcomes = outcomeCounts(report);
      console.log(`[kube faults] ${figure.fault} (${figure.when}): ${JSON.stringify(outcomes)} in ${wallSeconds.toFixed(1)} s wall${proxies ? `, injected ${JSON.stringify(proxies.faults.injected)}` : ''}; fenced later ${fence.fencedLater.length}`);
      const round = (x: number): number => Math.round(x * 10) / 10;
      await recordFigure({
        ...figure, ...(figure.baselineSeconds !== undefined ? { baselineSeconds: round(figure.baselineSeconds) } : {}),
        platform: 'real apiservers', suite: 'default', outcomes, wallSeconds: round(wallSeconds),
      });
      return { id, report, wallSeconds, endedAtMs: t0 + wallSeconds * 1000, fence, ...(proxies ? { injected: { ...proxies.faults.injected } } : {}) };
    } finally {
      ended.abort();
      await injecting?.catch(() => undefined);
      await client.close();
      worker.shutdown();
      await running.catch(() => undefined);
    }
  } finally {
    await temporal.close();
    for (const az of AZS) await cp.handle.startAz(az);
    await proxies?.close();
    await p.close();
    await rm(stateDir, { recursive: true, force: true });
    mark('cleanup');
    console.log(`[kube faults] ${figure.fault}: phases (s) ${marks.join(', ')}`);
  }
}

/**
 * `rate` of the worker's API calls fail through the fault proxies (KUBE_API_FAULTS): every
 * kind was injected at least once and the evacuation succeeded, besides guarantees 1–3.
 */
export async function kubeApiFailures(fleet: KubeFaultFleet, rate: number, baselineSeconds: number | undefined): Promise<KubeRan> {
  const ran = await runOnKube(fleet, {
    fault: 'Kubernetes API calls failing (503 / 429 + Retry-After / timeout)', when: `${rate * 100} % of the worker's calls`, baselineSeconds,
  }, { faults: { ...KUBE_API_FAULTS, kinds: [...KUBE_API_FAULTS.kinds], apiFailureRate: rate } });
  const injected = ran.injected!;
  expect(injected.unavailable).toBeGreaterThan(0);
  expect(injected.throttled).toBeGreaterThan(0);
  expect(injected.hang).toBeGreaterThan(0);
  expect(ran.report.success).toBe(true);
  return ran;
}

/** Wait until `fraction` of the evacuation's planned jobs have an outcome (see fault-scenarios.ts reached). */
function reachedOnKube(ctx: KubeInjectContext, fraction: number): Promise<unknown> {
  return reached({ client: ctx.client }, ctx.id, fraction, ctx.signal);
}

/** The target AZ's (az-b) apiserver stopped for `downMs` once `fraction` of the jobs are done. */
export function targetApiserverStopped(fraction: number, downMs: number): (ctx: KubeInjectContext) => Promise<void> {
  return async (ctx) => {
    await reachedOnKube(ctx, fraction);
    const cp = testControlPlane();
    await cp.handle.stopAz('az-b');
    await sleep(downMs);
    await cp.handle.startAz('az-b');
  };
}

/**
 * The source AZ (az-a: apiserver and object store) back once `fraction` of the jobs are done.
 * @param seen gets `upAtMs`, when az-a's apiserver was ready again (epoch ms)
 */
export function sourceBack(fraction: number, seen: { upAtMs?: number }): (ctx: KubeInjectContext) => Promise<void> {
  return async (ctx) => {
    await reachedOnKube(ctx, fraction);
    await testControlPlane().handle.startAz('az-a');
    await ctx.p.sim.client.setAzDown('az-a', false);
    seen.upAtMs = Date.now();
  };
}

/**
 * Builds the az-evac Worker from settings and platform adapters. worker/main.ts is the
 * process entry (the one composition root); tests and the benchmark build a Worker through
 * the same function so they run exactly the production wiring.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerInterceptors, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Settings } from '../config/settings.js';
import { describeTemporal, temporalConnectionOptions } from '../config/temporal-options.js';
import { checkSearchAttributes } from '../client/search-attributes.js';
import { UNREACHABLE_FIX } from '../client/temporal-connection.js';
import { loadFlinkDeploymentValidator } from '../domain/crd-validator.js';
import { onPlatformClock, parseTiersPolicy } from '../domain/tiers-policy.js';
import type { AzProfile } from '../domain/types.js';
import { azApis } from '../platform/kube/az-apis.js';
import { loadKubeConfigs, parseKubeContexts } from '../platform/kube/kube-configs.js';
import { KubePlatform } from '../platform/kube/kube-platform.js';
import { loadPlatformProfile } from '../platform/kube/platform-profile.js';
import { PlatformError } from '../platform/errors.js';
import type { CatalogStore, ClusterPort, EngineMetrics, FaultInjectionPort, FleetSource, ObjectStorePort, PlatformApiError, SavepointPort, SnapshotShippingPort } from '../platform/ports.js';
import { countingApiErrors } from '../platform/api-error-counting.js';
import { connectionSettings, parseEndpoints, S3Clients } from '../platform/s3/clients.js';
import { S3ObjectStore } from '../platform/s3/object-store.js';
import { buildStateStores, type StateStores } from '../platform/state-stores.js';
import { SimulatorClient } from '../platform/simulator-client/client.js';
import type { WorkerTracing } from './tracing.js';
import { createShardWatchActivities } from './shard-watch.js';

/** True when this module runs compiled from dist/ (`npm run build`), false under tsx from the source tree. */
const COMPILED = import.meta.url.endsWith('.js');

/** Path of the workflows module the worker bundles (workflows/index.ts; dist/workflows/index.js when compiled). */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${COMPILED ? 'js' : 'ts'}`, import.meta.url));

/**
 * The workflow bundle `npm run build` prebuilds (dist/workflow-bundle.js, scripts/build.mjs).
 * A compiled worker loads it when present instead of bundling WORKFLOWS_PATH at every start;
 * undefined from the source tree, so tsx runs never load a stale bundle.
 */
export const WORKFLOW_BUNDLE_PATH: string | undefined = COMPILED ? fileURLToPath(new URL('../workflow-bundle.js', import.meta.url)) : undefined;

/** The platform a worker drives: the simulator client (which also injects faults; jars and snapshots over S3 when S3 keys are set), or Kubernetes (jars and snapshots over S3). */
export type Platform = ClusterPort & ObjectStorePort & FleetSource & Partial<FaultInjectionPort>;

/**
 * The platform `settings.platform` names: `simulator` (SimulatorClient at
 * AZ_EVAC_SIMULATOR_URL) or `k8s` (KubePlatform over one KubeConfig per AZ, with the S3
 * adapter as its object store: AZ buckets and endpoints from the platform profile file,
 * AZ_EVAC_S3_* per AZ; no simulator). For k8s the setup is checked first, before anything
 * is touched: the FlinkDeployment CRD must be served, and the object store must accept the
 * credentials, in every AZ that answers.
 * @param warn receives one line per AZ that does not answer at start (not fatal: it may be the failed AZ)
 * @throws Error naming the setting and the fix for a missing/unknown setting, a missing
 *   context, a missing CRD or credentials an S3 endpoint refuses
 */
export async function buildPlatform(settings: Settings, warn: (line: string) => void = () => undefined): Promise<Platform> {
  if (settings.platform !== 'simulator' && settings.platform !== 'k8s') {
    throw new Error(`AZ_EVAC_PLATFORM=${JSON.stringify(settings.platform)} is not a platform. Fix: set it to simulator or k8s`);
  }
  if (settings.platform === 'k8s') return buildKubePlatform(settings, warn);
  if (!settings.simulatorUrl) {
    throw new Error('AZ_EVAC_SIMULATOR_URL is not set (the simulated platform). Fix: start the simulator (az-evac simulator) and export its URL, run `az-evac demo` which starts everything, or set AZ_EVAC_PLATFORM=k8s for real clusters');
  }
  return new SimulatorClient(settings.simulatorUrl);
}

/** The k8s platform of buildPlatform (see there). */
async function buildKubePlatform(settings: Settings, warn: (line: string) => void): Promise<KubePlatform> {
  if (!(settings.kubeRequestTimeoutSeconds > 0)) {
    throw new Error(`AZ_EVAC_KUBE_REQUEST_TIMEOUT_SECONDS=${settings.kubeRequestTimeoutSeconds} must be > 0. Fix: unset it (15 s) or set the seconds one Kubernetes API request may take`);
  }
  const profile = await loadPlatformProfile(resolve(settings.platformProfileFile));
  const azs = profile.azs.map((a) => a.name);
  const contexts = parseKubeContexts(settings.kubeContexts, azs);
  const missing = azs.filter((az) => !contexts.has(az));
  if (missing.length > 0) {
    throw new Error(`AZ_EVAC_KUBE_CONTEXTS has no context for ${missing.join(', ')} (AZs of the platform profile ${settings.platformProfileFile}: ${azs.join(', ')}). Fix: add ${missing.map((az) => `${az}=<context>`).join(',')} to AZ_EVAC_KUBE_CONTEXTS (or unset it to use contexts named after the AZs)`);
  }
  const apis = azApis(loadKubeConfigs(settings.kubeconfig, contexts), { requestTimeoutMs: settings.kubeRequestTimeoutSeconds * 1000 });
  const objects = s3ObjectStore(settings, azs, async (az) => {
    const p = profile.azs.find((a) => a.name === az);
    if (!p) throw new PlatformError('not-found', `AZ ${az} is not in the platform profile ${settings.platformProfileFile}. Fix: add it to AZ_EVAC_PLATFORM_PROFILE`, false);
    return p;
  });
  const kube = new KubePlatform(apis, profile, objects);
  const problems = [...(await kube.checkSetup()), ...(await objects.checkAccess(azs))];
  for (const result of problems) {
    if (result.ok) continue;
    if (result.error.retryable) warn(`az-evac worker: ${result.error.message} (continuing: it may be the failed AZ)`);
    else throw new Error(result.error.message);
  }
  return kube;
}

/** Read and validate the tiers file (errors name the file, key path and fix). */
export async function loadTiersFile(file: string) {
  return parseTiersPolicy(await readFile(file, 'utf8'), file);
}

/**
 * The worker's connection to Temporal (config/temporal-options.ts: address, TLS, API key),
 * checked before anything polls: the namespace must exist and have az-evac's search
 * attributes (client/search-attributes.ts).
 * @throws Error naming the setting and the fix when Temporal is unreachable, the namespace
 * is missing, or the search attributes are (fix: `az-evac setup temporal`)
 */
export async function connectWorkerTemporal(settings: Settings): Promise<NativeConnection> {
  const where = describeTemporal(settings);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(temporalConnectionOptions(settings));
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${where}: ${(err as Error).message}. Fix: ${UNREACHABLE_FIX}`, { cause: err });
  }
  try {
    await checkSearchAttributes(connection.operatorService, settings.temporalNamespace, where);
  } catch (err) {
    await connection.close();
    throw err;
  }
  return connection;
}

/**
 * Create (not run) a Worker on `settings.taskQueue`.
 * @param opts.workflowBundle a pre-built bundle (tests bundle once per file); default: bundle workflows/
 * @param opts.state the state store (worker/main.ts checks it first); default: the one settings name (AZ_EVAC_STATE_STORE)
 * @param opts.metrics where activities record az-evac's metrics (worker/main.ts: the /metrics registry); default: none
 * @param opts.interceptors Temporal worker interceptors (activity and workflow modules), e.g. the fault tests' activity faults
 * @param opts.tracing OpenTelemetry tracing (worker/tracing.ts): its interceptors are added and its sink installed;
 *   the workflows are then bundled at start with its workflow interceptor module (a prebuilt bundle lacks it)
 * @throws when the Temporal server is unreachable, its namespace lacks the search attributes
 * (connectWorkerTemporal), or tiers.yaml/CRD cannot be read
 */
export async function buildWorker(settings: Settings, platform: Platform, opts: { workflowBundle?: WorkflowBundleWithSourceMap; identity?: string; state?: StateStores; interceptors?: WorkerInterceptors; metrics?: EngineMetrics; tracing?: WorkerTracing } = {}): Promise<Worker> {
  const validator = await loadFlinkDeploymentValidator();
  const state = opts.state ?? buildStateStores(settings, (line) => process.stderr.write(`${line}\n`));
  const catalogs = state.catalogs;
  const s3 = settings.platform === 'k8s' ? undefined : objectStore(settings, catalogs);
  // With metrics, every failed platform call is counted by adapter (the k8s platform's object calls go to S3).
  const counted = <T extends object>(port: T, name: PlatformApiError['platform']): T => (opts.metrics ? countingApiErrors(port, name, (e) => opts.metrics?.recordPlatformApiError(e)) : port);
  const clusterName = settings.platform === 'k8s' ? 'kubernetes' : 'simulator';
  const activities = createActivities({
    cluster: counted<ClusterPort>(platform, clusterName),
    objects: s3 ? counted(s3, 's3') : counted<ObjectStorePort>(platform, settings.platform === 'k8s' ? 's3' : 'simulator'),
    fleet: counted<FleetSource>(platform, clusterName),
    catalogs,
    evacuations: state.evacuations,
    // A simulated platform runs AZ_EVAC_TIME_SCALE× faster: its clock is applied to the policy
    // here, once, so the engine never scales a duration itself.
    loadTiers: async () => onPlatformClock(await loadTiersFile(resolve(settings.tiersFile)), settings.timeScale),
    validateManifest: validator,
    preloadConcurrency: settings.preloadConcurrency,
    reports: state.reports,
    ...(platform.setAzDown ? { faults: { setAzDown: platform.setAzDown.bind(platform) } } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    // Protection: savepoints through the operator and shipping over S3 on the k8s platform; the
    // simulator's operator and object stores on the simulator (its copies are written through to
    // its S3 servers, when it has them, like any of its objects).
    ...(platform instanceof KubePlatform ? { savepoints: counted<SavepointPort>(platform, 'kubernetes'), shipping: counted<SnapshotShippingPort>(platform, 's3') } : {}),
    ...(platform instanceof SimulatorClient ? { savepoints: counted<SavepointPort>(platform, 'simulator'), shipping: counted<SnapshotShippingPort>(platform, 'simulator') } : {}),
  });
  const connection = await connectWorkerTemporal(settings);
  return Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: settings.taskQueue,
    ...(opts.tracing ? { workflowsPath: WORKFLOWS_PATH } : workflowCode(opts.workflowBundle)),
    // The tier's watch on adopted shards (worker/shard-watch.ts) needs the Worker's Temporal client, not a platform port.
    activities: { ...activities, ...createShardWatchActivities() },
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.tracing ? {
      interceptors: {
        ...opts.interceptors,
        activity: [...(opts.interceptors?.activity ?? []), ...opts.tracing.interceptors.activity],
        workflowModules: [...(opts.interceptors?.workflowModules ?? []), ...opts.tracing.interceptors.workflowModules],
      },
      sinks: opts.tracing.sinks,
    } : opts.interceptors ? { interceptors: opts.interceptors } : {}),
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: settings.maxCachedWorkflows,
    maxHeartbeatThrottleInterval: `${settings.heartbeatSeconds}s`,
    // SIGTERM drains: polling stops, in-flight activities get the grace time, then are cancelled
    // (Temporal retries them elsewhere); past grace + 5 s run() rejects and the process exits 1.
    shutdownGraceTime: `${settings.workerShutdownGraceSeconds}s`,
    shutdownForceTime: `${settings.workerShutdownGraceSeconds + 5}s`,
  });
}

/** The workflow code option: the given bundle, else the prebuilt dist/workflow-bundle.js when present, else bundle WORKFLOWS_PATH now. */
function workflowCode(bundle: WorkflowBundleWithSourceMap | undefined): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (bundle) return { workflowBundle: bundle };
  if (WORKFLOW_BUNDLE_PATH && existsSync(WORKFLOW_BUNDLE_PATH)) return { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } };
  return { workflowsPath: WORKFLOWS_PATH };
}

/**
 * The simulator platform's S3 adapter when S3 keys are set (AZ_EVAC_S3_ACCESS_KEY /
 * _SECRET_KEY), else undefined (the simulator serves snapshots and jars). AZ buckets come
 * from the newest catalog. (The k8s platform always has its own, from the platform profile.)
 * @throws Error naming the variable for bad S3 settings
 */
function objectStore(settings: Settings, catalogs: CatalogStore): ObjectStorePort | undefined {
  if (!settings.s3AccessKey && !settings.s3SecretKey) return undefined;
  return s3ObjectStore(settings, undefined, async (az) => {
    const profile = (await catalogs.latest())?.platform.azs.find((a) => a.name === az);
    if (!profile) throw new PlatformError('not-found', `AZ ${az} is not in the newest catalog; sync the catalog first (az-evac catalog sync)`, false);
    return profile;
  });
}

/**
 * The S3 adapter over settings' AZ_EVAC_S3_* (platform/s3/clients.ts).
 * @param azs the platform's AZ names when known (per-AZ settings naming others are refused)
 * @param resolveAz an AZ's profile (buckets, s3Endpoint)
 * @throws Error naming the variable for bad S3 settings
 */
function s3ObjectStore(settings: Settings, azs: string[] | undefined, resolveAz: (az: string) => Promise<AzProfile>): S3ObjectStore {
  return new S3ObjectStore({
    clients: new S3Clients(connectionSettings(settings, azs)),
    endpoints: parseEndpoints(settings.s3Endpoints),
    resolveAz,
    maxConcurrentRequests: settings.s3MaxConcurrentRequests,
    multipartThresholdBytes: settings.s3MultipartThresholdBytes,
    partSizeBytes: settings.s3PartBytes,
    partConcurrency: settings.s3PartConcurrency,
  });
}

/**
 * Every knob of az-evac in one typed module: defaults, descriptions and the environment
 * variable that overrides each. Shared by the worker, the CLI and the console; it imports
 * none of them.
 *
 * The Temporal connection also follows Temporal's own environment configuration
 * (`@temporalio/envconfig`, https://docs.temporal.io/develop/environment-configuration):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_GRPC_META_*
 * and a profile (TEMPORAL_PROFILE, default `default`) of the TOML file TEMPORAL_CONFIG_FILE
 * (default ~/.config/temporalio/temporal.toml). Precedence of the address and the namespace:
 * AZ_EVAC_TEMPORAL_ADDRESS / AZ_EVAC_TEMPORAL_NAMESPACE, then TEMPORAL_ADDRESS /
 * TEMPORAL_NAMESPACE, then the profile, then the defaults (127.0.0.1:7233, `default`).
 * TLS, API key and gRPC metadata come from Temporal's variables and profile only.
 */
import { existsSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigTLS } from '@temporalio/envconfig';

/** One setting: its environment variable, default and what it does. */
interface SettingSpec<T> {
  env: string;
  default: T;
  description: string;
}

/** The settings table. Units are in the names (Seconds, Bytes, ...). */
export const SETTINGS = {
  temporalAddress: { env: 'AZ_EVAC_TEMPORAL_ADDRESS', default: '127.0.0.1:7233', description: 'Temporal frontend host:port (wins over TEMPORAL_ADDRESS and the Temporal profile).' },
  temporalNamespace: { env: 'AZ_EVAC_TEMPORAL_NAMESPACE', default: 'default', description: 'Temporal namespace the workflows run in (wins over TEMPORAL_NAMESPACE and the Temporal profile).' },
  taskQueue: { env: 'AZ_EVAC_TASK_QUEUE', default: 'az-evac', description: 'Task queue of the az-evac worker.' },
  stateDir: { env: 'AZ_EVAC_STATE', default: '.az-evac', description: 'Local directory: the file state store (AZ_EVAC_STATE_STORE=file: catalog, plans, outcomes, reports), the demo\'s servers and the console audit log.' },
  stateStore: { env: 'AZ_EVAC_STATE_STORE', default: 'file', description: 'Where the catalog, plans, outcomes, fences and reports live: `file` (AZ_EVAC_STATE on this host: demo and tests) or `s3` (replicated to the state bucket of every AZ, AZ_EVAC_STATE_BUCKETS: survives the loss of any one AZ; see docs/state.md).' },
  stateBuckets: { env: 'AZ_EVAC_STATE_BUCKETS', default: '', description: 'S3 state store: bucket per AZ, `az-a=az-evac-state-a,az-b=az-evac-state-b` (endpoints from AZ_EVAC_S3_ENDPOINTS, credentials as for S3). Every record goes to every AZ that answers.' },
  statePrefix: { env: 'AZ_EVAC_STATE_PREFIX', default: 'az-evac/', description: 'S3 state store: key prefix inside each state bucket (one per az-evac deployment sharing the buckets).' },
  stateRequestTimeoutMs: { env: 'AZ_EVAC_STATE_TIMEOUT_MS', default: 5000, description: 'S3 state store: longest wait for one request to one replica, milliseconds (a blackholed AZ is given up after this).' },
  stateReplicaBackoffSeconds: { env: 'AZ_EVAC_STATE_REPLICA_BACKOFF_SECONDS', default: 10, description: 'S3 state store: seconds a replica that failed is skipped before it is tried again (its missed writes are replayed when it answers).' },
  tiersFile: { env: 'AZ_EVAC_TIERS', default: 'tiers.yaml', description: 'Tier policy file (see tiers.yaml for every key).' },
  simulatorUrl: { env: 'AZ_EVAC_SIMULATOR_URL', default: '', description: 'Base URL of a running simulator (simulator platform only).' },
  timeScale: { env: 'AZ_EVAC_TIME_SCALE', default: 1, description: 'Speed-up of a simulated platform, model seconds per wall second (10 = ten times faster); the worker divides every duration of the tier policy by it once, and reports say so. 1 on a real platform.' },
  preloadConcurrency: { env: 'AZ_EVAC_PRELOAD_CONCURRENCY', default: 16, description: 'Jars copied into the target AZ at once during preload.' },
  maxConcurrentActivities: { env: 'AZ_EVAC_MAX_ACTIVITIES', default: 4000, description: 'Activities one worker runs at once (most are waits on start-up; keep above the sum of tier windows).' },
  maxConcurrentWorkflowTasks: { env: 'AZ_EVAC_MAX_WORKFLOW_TASKS', default: 64, description: 'Workflow tasks one worker runs at once.' },
  maxCachedWorkflows: { env: 'AZ_EVAC_MAX_CACHED_WORKFLOWS', default: 6000, description: 'Sticky workflow cache size (open evacuation, tier and shard workflows, and the job workflows of runs started before shards ran their jobs as activities).' },
  consoleHost: { env: 'AZ_EVAC_CONSOLE_HOST', default: '127.0.0.1', description: 'Interface the emergency console listens on (0.0.0.0 for every interface; put TLS in front).' },
  consolePort: { env: 'AZ_EVAC_CONSOLE_PORT', default: 8460, description: 'Port of the emergency console (0 picks a free one).' },
  consoleTokensFile: { env: 'AZ_EVAC_CONSOLE_TOKENS_FILE', default: '', description: 'YAML/JSON file of console users: [{ user, role: viewer|operator, token | tokenSha256 }].' },
  consoleTokens: { env: 'AZ_EVAC_CONSOLE_TOKENS', default: '', description: 'Console users inline, comma-separated user:role:token (prefer the file; tokens are never logged).' },
  consoleProxyUserHeader: { env: 'AZ_EVAC_CONSOLE_PROXY_USER_HEADER', default: '', description: 'Header a trusted auth proxy sets to the signed-in user (e.g. x-forwarded-user); empty: no proxy auth. Only when the console is reachable through that proxy alone.' },
  consoleProxyOperators: { env: 'AZ_EVAC_CONSOLE_PROXY_OPERATORS', default: '', description: 'Comma list of proxy users who are operators; other proxy users are viewers.' },
  temporalUiUrl: { env: 'AZ_EVAC_TEMPORAL_UI_URL', default: '', description: 'Base URL of the Temporal UI for the console\'s links to each workflow (e.g. http://127.0.0.1:8233 for the dev server, https://cloud.temporal.io for Temporal Cloud); empty: no links.' },
  consoleSessionSecret: { env: 'AZ_EVAC_CONSOLE_SESSION_SECRET', default: '', description: 'Secret signing the console\'s session cookies (at least 32 characters; comma-separated to rotate: the first signs, all verify). REQUIRED with more than one console replica, the same on each; empty: a random secret kept in <AZ_EVAC_STATE>/console-session.secret (one replica; sessions survive its restart).' },
  consoleSessionSeconds: { env: 'AZ_EVAC_CONSOLE_SESSION_SECONDS', default: 43200, description: 'Console sessions expire this many seconds after sign-in (at least 60).' },
  consoleAuditLog: { env: 'AZ_EVAC_CONSOLE_AUDIT_LOG', default: '', description: 'Audit log of console actions, JSON lines, appended (default: <AZ_EVAC_STATE>/console-audit.jsonl).' },
  workerHealthHost: { env: 'AZ_EVAC_WORKER_HEALTH_HOST', default: '127.0.0.1', description: 'Interface of the worker\'s health endpoints /healthz and /readyz and of its Prometheus /metrics (0.0.0.0 in a pod, for the kubelet\'s probes and the scraper).' },
  workerHealthPort: { env: 'AZ_EVAC_WORKER_HEALTH_PORT', default: 0, description: 'Port of the worker\'s health endpoints (0 picks a free one; the ready line and stderr name it).' },
  temporalMetricsAddress: { env: 'AZ_EVAC_TEMPORAL_METRICS_ADDRESS', default: '', description: 'host:port where the worker\'s Temporal SDK serves its own Prometheus metrics (workflow and activity task latencies, poll and schedule-to-start figures: https://docs.temporal.io/references/sdk-metrics), e.g. 0.0.0.0:9464; empty: not served. az-evac\'s own metrics are on the health port\'s /metrics.' },
  logLevel: { env: 'AZ_EVAC_LOG_LEVEL', default: 'info', description: 'Level of the JSON-line logs on stdout of the worker (its activities, workflows and the Temporal SDK) and the console: trace, debug, info, warn, error, fatal or silent (case-insensitive).' },
  workerShutdownGraceSeconds: { env: 'AZ_EVAC_WORKER_SHUTDOWN_GRACE_SECONDS', default: 25, description: 'On SIGTERM/SIGINT the worker stops polling and gives in-flight activities this many seconds to finish before cancelling them (Temporal retries them on another worker); keep below the pod\'s terminationGracePeriodSeconds.' },
  platform: { env: 'AZ_EVAC_PLATFORM', default: 'simulator', description: 'Platform the worker drives: `simulator` (AZ_EVAC_SIMULATOR_URL) or `k8s` (AZ_EVAC_KUBECONFIG + AZ_EVAC_KUBE_CONTEXTS, S3 per AZ from AZ_EVAC_PLATFORM_PROFILE and AZ_EVAC_S3_*; no simulator, docs/kubernetes.md).' },
  kubeconfig: { env: 'AZ_EVAC_KUBECONFIG', default: '', description: 'Kubeconfig file with one context per AZ (k8s platform); empty means $KUBECONFIG or ~/.kube/config.' },
  kubeContexts: { env: 'AZ_EVAC_KUBE_CONTEXTS', default: '', description: 'AZ to kubeconfig context, `az-a=ctxA,az-b=ctxB` (k8s platform); empty means one context per AZ named after the AZ.' },
  kubeRequestTimeoutSeconds: { env: 'AZ_EVAC_KUBE_REQUEST_TIMEOUT_SECONDS', default: 15, description: 'Longest wait for one Kubernetes API request (not watches), seconds; an API server that does not answer within it is reported unreachable (retryable).' },
  platformProfileFile: { env: 'AZ_EVAC_PLATFORM_PROFILE', default: 'platform.json', description: 'JSON file with the PlatformProfile (storage layout and, per AZ, zone, registry, S3 endpoint, buckets) of the k8s platform.' },
  catalogSyncIntervalSeconds: { env: 'AZ_EVAC_CATALOG_SYNC_INTERVAL', default: 60, description: 'Seconds between catalog syncs of the Temporal Schedule `az-evac-catalog-sync` (0 = no schedule).' },
  protectionIntervalSeconds: { env: 'AZ_EVAC_PROTECTION_INTERVAL', default: 0, description: 'Seconds between protection passes of the Temporal Schedule `az-evac-protection` (tiers.yaml `protection`; the k8s or the simulator platform; 0 = no schedule; `az-evac protect run` runs one pass now).' },
  heartbeatSeconds: { env: 'AZ_EVAC_HEARTBEAT_SECONDS', default: 120, description: 'Longest gap between heartbeats of a waiting activity, seconds (the SDK also caps it at 80 % of the heartbeat timeout).' },
  s3Endpoints: { env: 'AZ_EVAC_S3_ENDPOINTS', default: '', description: 'S3 endpoint per AZ, `az-a=http://host:port,az-b=...` (overrides the AZ profile\'s s3Endpoint). Simulator platform with no S3 keys: jars and snapshots go through the simulator.' },
  s3AccessKey: { env: 'AZ_EVAC_S3_ACCESS_KEY', default: '', description: 'S3 static access key id, for every AZ (`KEY`) or per AZ (`az-a=KEY1,az-b=KEY2`). Unset (with the secret) on the k8s platform: the AWS SDK default credential chain (AWS_* variables, AWS_PROFILE, web identity for IRSA / Pod Identity).' },
  s3SecretKey: { env: 'AZ_EVAC_S3_SECRET_KEY', default: '', description: 'S3 static secret key, for every AZ or per AZ (`az-a=SECRET1,az-b=SECRET2`), matching AZ_EVAC_S3_ACCESS_KEY.' },
  s3Region: { env: 'AZ_EVAC_S3_REGION', default: 'us-east-1', description: 'S3 signing region, for every AZ (`us-east-1`) or per AZ (`az-a=eu-central-1,az-b=eu-west-1`).' },
  s3Addressing: { env: 'AZ_EVAC_S3_ADDRESSING', default: 'path', description: 'S3 bucket addressing, for every AZ or per AZ (`az-a=path,az-b=virtual`): path (endpoint/bucket/key: versitygw, MinIO, Ceph) or virtual (bucket.endpoint/key: AWS, Aliyun OSS).' },
  s3Checksums: { env: 'AZ_EVAC_S3_CHECKSUMS', default: 'sdk-default', description: 'AWS SDK checksum behaviour: sdk-default (WHEN_SUPPORTED, as in production) or when-required.' },
  s3MaxAttempts: { env: 'AZ_EVAC_S3_MAX_ATTEMPTS', default: 6, description: 'Attempts per S3 request on throttling (503 SlowDown, 429) and transient failures.' },
  s3RetryBaseMs: { env: 'AZ_EVAC_S3_RETRY_BASE_MS', default: 200, description: 'First retry backoff of an S3 request, milliseconds (doubles per attempt, full jitter).' },
  s3RetryMaxMs: { env: 'AZ_EVAC_S3_RETRY_MAX_MS', default: 10000, description: 'Longest S3 retry backoff, milliseconds.' },
  s3MaxConcurrentRequests: { env: 'AZ_EVAC_S3_MAX_REQUESTS', default: 64, description: 'S3 requests in flight at once per worker (snapshot lookups and jar copies share it).' },
  s3MultipartThresholdBytes: { env: 'AZ_EVAC_S3_MULTIPART_THRESHOLD_BYTES', default: 5 * 1024 ** 3, description: 'Objects (preloaded jars, shipped savepoint files) larger than this are copied in parts (multipart UploadPartCopy, or UploadPart when streamed between two object stores); capped at 5 GiB, the most one CopyObject or PutObject takes.' },
  s3PartBytes: { env: 'AZ_EVAC_S3_PART_BYTES', default: 256 * 1024 ** 2, description: 'Part size of a multipart copy, bytes (5 MiB to 5 GiB on AWS S3; raised so no object needs more than 10,000 parts).' },
  s3PartConcurrency: { env: 'AZ_EVAC_S3_PART_CONCURRENCY', default: 4, description: 'Parts of one object copied at once.' },
} as const satisfies Record<string, SettingSpec<string | number>>;

type SettingsTable = typeof SETTINGS;

/**
 * The Temporal connection beyond address and namespace, as Temporal's environment
 * configuration gives it (the api key is a secret: never print this object).
 */
export interface TemporalProfile {
  /** Where the address came from, for messages: `AZ_EVAC_TEMPORAL_ADDRESS`, `TEMPORAL_ADDRESS`, `profile "p" of FILE` or `default`. */
  addressFrom: string;
  /** TEMPORAL_API_KEY or the profile's api_key; turns TLS on unless TLS is disabled explicitly. */
  apiKey?: string;
  /** TEMPORAL_TLS_* or the profile's [tls] table (paths are read when connecting). */
  tls?: ClientConfigTLS;
  /** TEMPORAL_GRPC_META_* or the profile's grpc_meta: headers sent with every call. */
  grpcMeta?: Record<string, string>;
}

/** Resolved settings: every key of SETTINGS with its value's type, and the Temporal profile. */
export type Settings = { -readonly [K in keyof SettingsTable]: SettingsTable[K]['default'] extends number ? number : string } & { temporal: TemporalProfile };

/** Environment variables of Temporal's environment configuration that az-evac reads (for the help text). */
const TEMPORAL_ENV_HELP: [string, string][] = [
  ['TEMPORAL_ADDRESS', 'Temporal frontend host:port (AZ_EVAC_TEMPORAL_ADDRESS wins when both are set).'],
  ['TEMPORAL_NAMESPACE', 'Namespace (AZ_EVAC_TEMPORAL_NAMESPACE wins when both are set).'],
  ['TEMPORAL_API_KEY', 'API key (Temporal Cloud); turns TLS on.'],
  ['TEMPORAL_TLS', 'true/1: TLS with the system roots; false/0: TLS off even with an API key.'],
  ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'CA certificate (PEM) of the frontend; _DATA for the PEM inline.'],
  ['TEMPORAL_TLS_SERVER_NAME', 'Name to verify in the frontend certificate, when not the host of the address.'],
  ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'mTLS client certificate (PEM) with TEMPORAL_TLS_CLIENT_KEY_PATH; _DATA for inline PEM.'],
  ['TEMPORAL_PROFILE', 'Profile of the Temporal config file (default: default).'],
  ['TEMPORAL_CONFIG_FILE', 'Temporal TOML config file (default: ~/.config/temporalio/temporal.toml).'],
];

/** OpenTelemetry's variables the worker's tracing reads (for the help text; docs/operating.md "Logs and traces"). */
const OTEL_ENV_HELP: [string, string][] = [
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTLP/HTTP collector base URL (e.g. http://otel-collector:4318): turns worker tracing on; spans go to <url>/v1/traces.'],
  ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'Full OTLP/HTTP traces URL, instead of the above.'],
  ['OTEL_EXPORTER_OTLP_HEADERS', 'Headers sent with each export, k1=v1,k2=v2 (a collector token).'],
  ['OTEL_SERVICE_NAME', 'service.name of the spans (default: az-evac-worker).'],
  ['OTEL_SDK_DISABLED', 'true: no tracing even with an endpoint set.'],
];

/**
 * Load the Temporal profile (file + TEMPORAL_* variables) through @temporalio/envconfig.
 * @throws Error naming TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE and the fix when the file set
 * explicitly is missing, is not valid TOML, or lacks the profile asked for
 */
function loadTemporalProfile(env: Record<string, string | undefined>): { address?: string; namespace?: string; addressFrom: string; profile: TemporalProfile } {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  const file = vars.TEMPORAL_CONFIG_FILE;
  if (file && !existsSync(file)) {
    throw new Error(`TEMPORAL_CONFIG_FILE=${JSON.stringify(file)} does not exist. Fix: point it at a Temporal TOML config file (https://docs.temporal.io/develop/environment-configuration) or unset it`);
  }
  const where = file ?? '~/.config/temporalio/temporal.toml';
  const name = vars.TEMPORAL_PROFILE || 'default';
  let p;
  try {
    p = loadClientConfigProfile({ overrideEnvVars: vars, ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}) });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!.trim(); // smol-toml adds a multi-line excerpt
    if (/not found/i.test(message) && vars.TEMPORAL_PROFILE) {
      throw new Error(`TEMPORAL_PROFILE=${JSON.stringify(vars.TEMPORAL_PROFILE)}: no [profile.${vars.TEMPORAL_PROFILE}] in ${where}. Fix: add that profile to the file or set TEMPORAL_PROFILE to one it has`, { cause: err });
    }
    throw new Error(`Temporal config file ${where} cannot be read: ${message}. Fix: correct the TOML (https://docs.temporal.io/develop/environment-configuration) or point TEMPORAL_CONFIG_FILE at another file`, { cause: err });
  }
  const addressFrom = vars.TEMPORAL_ADDRESS ? 'TEMPORAL_ADDRESS' : p.address ? `profile "${name}" of ${where}` : 'default';
  return {
    ...(p.address ? { address: p.address } : {}),
    ...(p.namespace ? { namespace: p.namespace } : {}),
    addressFrom,
    profile: {
      addressFrom,
      ...(p.apiKey ? { apiKey: p.apiKey } : {}),
      ...(p.tls ? { tls: p.tls } : {}),
      ...(p.grpcMeta && Object.keys(p.grpcMeta).length ? { grpcMeta: p.grpcMeta } : {}),
    },
  };
}

/**
 * Resolve settings from an environment (default: process.env) over the defaults.
 * @throws Error naming the variable and the value when a numeric setting is not a number ≥ 0
 */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as [keyof SettingsTable, SettingSpec<string | number>][]) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') {
      out[key] = spec.default;
    } else if (typeof spec.default === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) {
        throw new Error(`${spec.env}=${JSON.stringify(raw)} is not a number ≥ 0. Fix: set it to a number (${spec.description}) or unset it for the default ${spec.default}.`);
      }
      out[key] = n;
    } else {
      out[key] = raw;
    }
  }
  const temporal = loadTemporalProfile(env);
  const own = (e: string) => env[e] !== undefined && env[e] !== '';
  if (!own(SETTINGS.temporalAddress.env) && temporal.address) out.temporalAddress = temporal.address;
  if (!own(SETTINGS.temporalNamespace.env) && temporal.namespace) out.temporalNamespace = temporal.namespace;
  out.temporal = { ...temporal.profile, addressFrom: own(SETTINGS.temporalAddress.env) ? SETTINGS.temporalAddress.env : temporal.addressFrom };
  return out as Settings;
}

/** Human help text listing every setting, for `--help` output. */
export function settingsHelp(): string {
  return [
    ...Object.values(SETTINGS).map((s) => `  ${s.env.padEnd(30)} ${s.description} (default: ${JSON.stringify(s.default)})`),
    '',
    'Temporal connection (Temporal\'s environment configuration, docs/temporal.md):',
    ...TEMPORAL_ENV_HELP.map(([env, what]) => `  ${env.padEnd(30)} ${what}`),
    '',
    'Tracing (OpenTelemetry\'s standard variables, worker/tracing.ts; off when unset):',
    ...OTEL_ENV_HELP.map(([env, what]) => `  ${env.padEnd(30)} ${what}`),
  ].join('\n');
}

/**
 * tiers.yaml: the evacuation policy per priority tier (docs/design.md#tiers-capacity-and-lineage). Pure: parses and
 * validates text; reading the file is the caller's job.
 *
 * Three passes, each reporting every problem it finds at once as a ConfigValidationError:
 * YAML syntax (with line and column), the JSON schema below (unknown keys, enums, bounds,
 * required keys), then semantic checks the schema cannot say (admissionOrder is a
 * permutation of P0..P3).
 */
import { Ajv } from 'ajv';
import { DEFAULT_SAVEPOINT_TIMEOUT, TIERS, type NoSnapshotAction, type Strategy, type Tier, type TierPolicy, type TiersPolicy } from './types.js';
import { ajvIssues, throwIfIssues, type ValidationIssue } from './validation-error.js';
import { NO_PROTECTION, type ProtectionPolicy } from './protection.js';
import { parseYamlText } from './yaml-text.js';

/** Seconds between fencing passes when tiers.yaml does not set fenceIntervalSeconds. */
export const DEFAULT_FENCE_INTERVAL_SECONDS = 10;

/** Seconds a start step waits to see its fenced source copy stopped when tiers.yaml does not set fenceObserveSeconds. */
export const DEFAULT_FENCE_OBSERVE_SECONDS = 60;

/** Default policy file name, at the repository (or working directory) root. */
export const DEFAULT_TIERS_FILE = 'tiers.yaml';

/** Every evacuation strategy (see Strategy in types.ts). */
export const STRATEGIES: readonly Strategy[] = ['promote-standby', 'resume-standby', 'redeploy'];

/** Every action when no snapshot within RPO exists (see NoSnapshotAction in types.ts). */
export const NO_SNAPSHOT_ACTIONS: readonly NoSnapshotAction[] = ['fail', 'restore-stateless', 'skip'];

const TIER_POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['strategy', 'rtoSeconds', 'rpoSeconds', 'maxConcurrency', 'onNoSnapshot', 'preemptible', 'startupTimeoutSeconds'],
  properties: {
    strategy: { enum: [...STRATEGIES], description: 'how the tier is evacuated' },
    rtoSeconds: { type: 'number', exclusiveMinimum: 0, description: 'recovery time objective, seconds' },
    rpoSeconds: { type: 'number', exclusiveMinimum: 0, description: 'oldest snapshot allowed, seconds' },
    maxConcurrency: { type: 'integer', minimum: 1, description: 'jobs of the tier in flight at once' },
    onNoSnapshot: { enum: [...NO_SNAPSHOT_ACTIONS], description: 'action when no snapshot within RPO' },
    preemptible: { type: 'boolean', description: 'jobs may be suspended to free capacity' },
    startupTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, description: 'apply → RUNNING limit, seconds' },
  },
} as const;

/**
 * JSON schema (draft-07, for ajv) of tiers.yaml. Each tier's `tier` field is not written in
 * the file: it is the key under `tiers`.
 */
export const TIERS_POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['admissionOrder', 'borrowIdleSlots', 'tiers'],
  properties: {
    admissionOrder: { type: 'array', items: { enum: [...TIERS] }, description: 'tiers in admission order' },
    borrowIdleSlots: { type: 'boolean', description: 'lower tiers may use slots higher tiers leave idle' },
    fenceIntervalSeconds: { type: 'number', exclusiveMinimum: 0, description: 'seconds between passes of the fencing follow-up (default 10)' },
    fenceObserveSeconds: { type: 'number', exclusiveMinimum: 0, description: 'seconds a start step waits to see the fenced source copy stopped (default 60)' },
    heartbeatTimeoutSeconds: {
      type: 'object',
      additionalProperties: false,
      required: ['startStep', 'startupWaitMin'],
      description: 'wall seconds without a heartbeat before a dead worker\'s step is retried elsewhere',
      properties: {
        startStep: { type: 'number', minimum: 3, description: 'start step heartbeat timeout, seconds' },
        startupWaitMin: { type: 'number', minimum: 3, maximum: 180, description: 'least start-up wait heartbeat timeout, seconds' },
      },
    },
    savepointTimeout: {
      type: 'object',
      additionalProperties: false,
      required: ['baseSeconds', 'secondsPerGiB'],
      description: 'bound on a planned move\'s stop-with-savepoint and its replication: baseSeconds + secondsPerGiB × state GiB',
      properties: {
        baseSeconds: { type: 'number', exclusiveMinimum: 0, description: 'seconds whatever the state size' },
        secondsPerGiB: { type: 'number', minimum: 0, description: 'seconds more per GiB of state' },
      },
    },
    protection: {
      type: 'object',
      additionalProperties: false,
      required: ['tiers'],
      description: 'continuous protection: a restorable snapshot in every other AZ within the RPO (domain/protection.ts)',
      properties: {
        tiers: { type: 'array', items: { enum: [...TIERS] }, uniqueItems: true, description: 'tiers that must keep a restorable snapshot in every other AZ within their RPO' },
        refreshAtRpoFraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'act once the newest restorable snapshot elsewhere is older than this fraction of the RPO' },
        savepointsAtOncePerAz: { type: 'integer', minimum: 1, description: 'savepoints in flight at once per AZ' },
        savepointFormat: { enum: ['native', 'canonical'], description: 'binary format of the savepoints protection takes' },
        savepointTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, description: 'longest one savepoint may take, seconds' },
        retry: {
          type: 'object', additionalProperties: false, required: ['attempts', 'initialBackoffSeconds'],
          properties: {
            attempts: { type: 'integer', minimum: 1, description: 'attempts per savepoint' },
            initialBackoffSeconds: { type: 'number', minimum: 0, description: 'first back-off between attempts, seconds (doubling)' },
          },
        },
        retention: {
          type: 'object', additionalProperties: false, required: ['keepPerJob'],
          properties: { keepPerJob: { type: 'integer', minimum: 1, description: 'shipped copies kept per job and target AZ' } },
        },
      },
    },
    tiers: {
      type: 'object',
      additionalProperties: false,
      required: [...TIERS],
      properties: Object.fromEntries(TIERS.map((t) => [t, TIER_POLICY_SCHEMA])),
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, verbose: true }).compile(TIERS_POLICY_SCHEMA);

/**
 * Parses and validates tiers.yaml text.
 *
 * @param text YAML text of the policy
 * @param file the file name used in error messages, e.g. `tiers.yaml`
 * @returns the typed policy, with `tier` filled into each TierPolicy
 * @throws ConfigValidationError listing every problem as `<file>: <key path>: <problem>. Fix: <fix>`
 */
export function parseTiersPolicy(text: string, file: string): TiersPolicy {
  const data = parseYamlText(text, file);
  if (!validate(data)) throwIfIssues(file, ajvIssues(validate.errors ?? []));
  const raw = data as Pick<TiersPolicy, 'admissionOrder' | 'borrowIdleSlots' | 'heartbeatTimeoutSeconds' | 'savepointTimeout'> & { protection?: Partial<ProtectionPolicy> & Pick<ProtectionPolicy, 'tiers'> } & { fenceIntervalSeconds?: number; fenceObserveSeconds?: number; tiers: Record<Tier, Omit<TierPolicy, 'tier'>> };
  throwIfIssues(file, admissionOrderIssues(raw.admissionOrder));
  const tiers = Object.fromEntries(TIERS.map((t) => [t, { tier: t, ...raw.tiers[t] }])) as Record<Tier, TierPolicy>;
  return {
    admissionOrder: [...raw.admissionOrder], borrowIdleSlots: raw.borrowIdleSlots,
    fenceIntervalSeconds: raw.fenceIntervalSeconds ?? DEFAULT_FENCE_INTERVAL_SECONDS,
    fenceObserveSeconds: raw.fenceObserveSeconds ?? DEFAULT_FENCE_OBSERVE_SECONDS, tiers, timeScale: 1,
    ...(raw.heartbeatTimeoutSeconds ? { heartbeatTimeoutSeconds: { startStep: raw.heartbeatTimeoutSeconds.startStep, startupWaitMin: raw.heartbeatTimeoutSeconds.startupWaitMin } } : {}),
    ...(raw.savepointTimeout ? { savepointTimeout: { baseSeconds: raw.savepointTimeout.baseSeconds, secondsPerGiB: raw.savepointTimeout.secondsPerGiB } } : {}),
    ...(raw.protection ? { protection: protectionPolicy(raw.protection) } : {}),
  };
}

/** The protection block with every optional key filled from NO_PROTECTION. */
function protectionPolicy(raw: Partial<ProtectionPolicy> & Pick<ProtectionPolicy, 'tiers'>): ProtectionPolicy {
  return {
    tiers: [...raw.tiers],
    refreshAtRpoFraction: raw.refreshAtRpoFraction ?? NO_PROTECTION.refreshAtRpoFraction,
    savepointsAtOncePerAz: raw.savepointsAtOncePerAz ?? NO_PROTECTION.savepointsAtOncePerAz,
    savepointFormat: raw.savepointFormat ?? NO_PROTECTION.savepointFormat,
    savepointTimeoutSeconds: raw.savepointTimeoutSeconds ?? NO_PROTECTION.savepointTimeoutSeconds,
    retry: { ...(raw.retry ?? NO_PROTECTION.retry) },
    retention: { ...(raw.retention ?? NO_PROTECTION.retention) },
  };
}

/**
 * The policy on a simulated platform's clock: every duration (RTO, RPO, start-up timeout,
 * fence interval and observation wait, savepoint timeout, protection's savepoint timeout and back-off; seconds) divided by `timeScale` and the scale recorded, so the engine runs
 * unchanged against a platform N× faster than real time and reports say which clock they
 * used. The worker's composition root applies it once, where the simulated platform is
 * configured (AZ_EVAC_TIME_SCALE); a real platform keeps the policy as written (scale 1).
 * Heartbeat timeouts are wall seconds of the worker, not platform time: they stay as written.
 * @param timeScale model seconds per wall second, > 0
 * @throws Error naming the value when timeScale is not a number > 0
 */
export function onPlatformClock(policy: TiersPolicy, timeScale: number): TiersPolicy {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`time scale ${timeScale} is not a number > 0. Fix: set AZ_EVAC_TIME_SCALE to a number > 0 (1 on a real platform)`);
  const scale = timeScale / policy.timeScale;
  if (scale === 1) return policy;
  const tiers = Object.fromEntries(TIERS.map((t) => {
    const p = policy.tiers[t];
    return [t, { ...p, rtoSeconds: p.rtoSeconds / scale, rpoSeconds: p.rpoSeconds / scale, startupTimeoutSeconds: p.startupTimeoutSeconds / scale }];
  })) as Record<Tier, TierPolicy>;
  const savepoint = policy.savepointTimeout ?? DEFAULT_SAVEPOINT_TIMEOUT;
  const savepointTimeout = { baseSeconds: savepoint.baseSeconds / scale, secondsPerGiB: savepoint.secondsPerGiB / scale };
  const protection = policy.protection && {
    ...policy.protection,
    savepointTimeoutSeconds: policy.protection.savepointTimeoutSeconds / scale,
    retry: { ...policy.protection.retry, initialBackoffSeconds: policy.protection.retry.initialBackoffSeconds / scale },
  };
  return { ...policy, fenceIntervalSeconds: policy.fenceIntervalSeconds / scale, fenceObserveSeconds: policy.fenceObserveSeconds / scale, tiers, timeScale, savepointTimeout, ...(protection ? { protection } : {}) };
}

/** admissionOrder must list each tier exactly once. */
function admissionOrderIssues(order: readonly Tier[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Map<Tier, number>();
  order.forEach((t, i) => {
    const first = seen.get(t);
    if (first === undefined) seen.set(t, i);
    else
      issues.push({
        path: `admissionOrder[${i}]`,
        message: `${t} is listed twice (also at admissionOrder[${first}])`,
        fix: `list each of ${TIERS.join(', ')} exactly once, e.g. [${TIERS.join(', ')}]`,
      });
  });
  const missing = TIERS.filter((t) => !seen.has(t));
  if (missing.length > 0)
    issues.push({
      path: 'admissionOrder',
      message: `${missing.join(', ')} missing`,
      fix: `add ${missing.join(', ')} so each of ${TIERS.join(', ')} appears exactly once`,
    });
  return issues;
}

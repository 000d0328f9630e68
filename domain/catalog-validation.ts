/**
 * Validation of the fleet catalog (Catalog, docs/design.md#the-fleet-catalog): a JSON schema pass, then
 * semantic checks across entries. Pure: takes a parsed document or JSON text.
 *
 * Readiness gaps (a P0 job without a hot standby, a P1 without a cold one, a target namespace
 * lacking what a job's pods reference, zonal volumes: domain/target-readiness.ts) are not
 * errors here: they depend on the target AZ, and the planner reports them as findings.
 */
import { MAX_JOB_IDS } from './snapshot-owner.js';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { TIERS, jobKey, type Catalog, type FleetJob } from './types.js';
import { ConfigValidationError, ajvIssues, show, throwIfIssues, type ValidationIssue } from './validation-error.js';

/** Longest FlinkDeployment name the operator accepts (docs/design.md#flinkdeployment-resources-and-names). */
export const MAX_JOB_NAME_LENGTH = 45;

/** FlinkDeployment name: DNS-1123 label starting with a letter (docs/design.md#flinkdeployment-resources-and-names). */
export const JOB_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes namespace name: DNS-1123 label, ≤ 63 chars. */
const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAMESPACE_LENGTH = 63;

const nonEmpty = { type: 'string', minLength: 1 } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;
const positive = { type: 'number', exclusiveMinimum: 0 } as const;

const AZ_PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'zone', 'imageRegistry', 's3Endpoint', 'stateBucket', 'artifactBucket'],
  properties: {
    name: nonEmpty,
    zone: nonEmpty,
    imageRegistry: nonEmpty,
    s3Endpoint: { type: 'string', format: 'uri' },
    stateBucket: nonEmpty,
    artifactBucket: nonEmpty,
  },
} as const;

const prefix = {
  type: 'string',
  pattern: '^(?![a-z0-9]+://)[^/]',
  description: 'a key prefix inside the state bucket, without scheme, bucket or leading /, e.g. checkpoints/payments/enricher',
} as const;

/**
 * JSON schema of a FlinkDeployment's shape as az-evac stores and sends it (apiVersion, kind,
 * metadata with name/namespace/labels/annotations only, spec); the spec itself is checked
 * against the operator's CRD elsewhere (domain/crd-validator.ts).
 */
export const FLINK_DEPLOYMENT_SHAPE = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'flink.apache.org/v1beta1' },
    kind: { const: 'FlinkDeployment' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    spec: { type: 'object' },
  },
} as const;

const FLEET_JOB_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'namespace', 'az', 'tier', 'team', 'deployment', 'lineage', 'jars', 'resources', 'stateSizeBytes', 'checkpointPrefix', 'savepointPrefix'],
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string' },
    az: nonEmpty,
    tier: { enum: [...TIERS] },
    team: nonEmpty,
    deployment: FLINK_DEPLOYMENT_SHAPE,
    standby: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'az', 'namespace', 'name'],
      properties: { kind: { enum: ['hot', 'cold'] }, az: nonEmpty, namespace: { type: 'string' }, name: { type: 'string' } },
    },
    lineage: {
      type: 'object',
      additionalProperties: false,
      required: ['consumes', 'produces'],
      properties: { consumes: strings, produces: strings },
    },
    jars: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'digest', 'sizeBytes'],
        properties: {
          key: nonEmpty,
          digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$', description: 'sha256:<64 lowercase hex digits>, the jar content digest' },
          sizeBytes: { type: 'integer', minimum: 0 },
        },
      },
    },
    resources: {
      type: 'object',
      additionalProperties: false,
      required: ['cores', 'memoryMiB'],
      properties: { cores: positive, memoryMiB: positive },
    },
    stateSizeBytes: { type: 'integer', minimum: 0 },
    stateSizeNominal: { type: 'boolean' },
    checkpointPrefix: prefix,
    savepointPrefix: prefix,
    jobIds: {
      type: 'array',
      maxItems: MAX_JOB_IDS,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[0-9a-f]{32}$', description: "a Flink JobID (32 lowercase hex digits, status.jobStatus.jobId)" },
    },
  },
} as const;

/** JSON schema (draft-07, for ajv) of the fleet catalog; see Catalog in types.ts. */
export const CATALOG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'takenAt', 'platform', 'jobs'],
  properties: {
    version: { type: 'integer', minimum: 0 },
    takenAt: { type: 'string', format: 'date-time' },
    platform: {
      type: 'object',
      additionalProperties: false,
      required: ['layout', 'azs'],
      properties: {
        layout: { enum: ['symmetric', 'per-az-buckets'] },
        azs: { type: 'array', items: AZ_PROFILE_SCHEMA },
        notReplicated: {
          type: 'array',
          description: 'directed AZ pairs whose object stores do not replicate the state bucket',
          items: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } },
        },
      },
    },
    jobs: { type: 'array', items: FLEET_JOB_SCHEMA },
  },
} as const;

const ajv = new Ajv({ allErrors: true, verbose: true });
addFormatsPlugin.default(ajv, ['date-time', 'uri']);
const validate = ajv.compile(CATALOG_SCHEMA);

/**
 * Validates a parsed catalog document.
 *
 * @param doc the parsed document (e.g. from JSON.parse)
 * @param file the file or source name used in error messages
 * @returns `doc`, typed as Catalog
 * @throws ConfigValidationError listing every problem as `<file>: <key path>: <problem>. Fix: <fix>`:
 *   first schema problems; when there are none, semantic ones (names, duplicates, AZs)
 */
export function validateCatalog(doc: unknown, file: string): Catalog {
  if (!validate(doc)) throwIfIssues(file, ajvIssues(validate.errors ?? []));
  const catalog = doc as Catalog;
  throwIfIssues(file, semanticIssues(catalog));
  return catalog;
}

/**
 * Parses JSON text, then validates it as a catalog (validateCatalog).
 * @throws ConfigValidationError for a JSON syntax error or any catalog problem
 */
export function validateCatalogJson(text: string, file: string): Catalog {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigValidationError(file, [
      { path: '(document)', message: `JSON syntax error: ${(err as Error).message}`, fix: 'correct the JSON at that position' },
    ]);
  }
  return validateCatalog(doc, file);
}

function semanticIssues(catalog: Catalog): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const azs = catalog.platform.azs.map((a) => a.name);
  if (azs.length < 2)
    issues.push({
      path: 'platform.azs',
      message: `has ${azs.length} AZ(s); evacuation needs a source and a target`,
      fix: 'list at least 2 AZs under platform.azs',
    });
  azs.forEach((name, i) => {
    const first = azs.indexOf(name);
    if (first !== i)
      issues.push({ path: `platform.azs[${i}].name`, message: `AZ '${name}' is also platform.azs[${first}]`, fix: 'give every AZ a distinct name' });
  });
  const azList = azs.join(', ');
  (catalog.platform.notReplicated ?? []).forEach((pair, i) => {
    for (const end of ['from', 'to'] as const)
      if (!azs.includes(pair[end]))
        issues.push({ path: `platform.notReplicated[${i}].${end}`, message: `'${pair[end]}' is not an AZ of platform.azs`, fix: `use one of: ${azList}` });
    if (pair.from === pair.to)
      issues.push({ path: `platform.notReplicated[${i}]`, message: `from and to are both '${pair.from}'`, fix: 'name two different AZs: the pair whose state buckets do not replicate' });
  });
  const seen = new Map<string, number>();
  catalog.jobs.forEach((job, i) => {
    const at = `jobs[${i}]`;
    issues.push(...nameIssues(`${at}.name`, job.name, JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, 'a lowercase letter'));
    issues.push(...nameIssues(`${at}.namespace`, job.namespace, NAMESPACE_PATTERN, MAX_NAMESPACE_LENGTH, 'a lowercase letter or digit'));
    issues.push(...deploymentIssues(at, job));
    const key = `${job.az}/${jobKey(job)}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else
      issues.push({
        path: at,
        message: `duplicate job ${jobKey(job)} in AZ ${job.az}: jobs[${first}] and jobs[${i}]`,
        fix: `remove one of jobs[${first}] and jobs[${i}], or rename one`,
      });
    if (!azs.includes(job.az))
      issues.push({ path: `${at}.az`, message: `${show(job.az)} is not an AZ of platform.azs`, fix: `use one of: ${azList}` });
    const standby = job.standby;
    if (standby) {
      if (!azs.includes(standby.az))
        issues.push({ path: `${at}.standby.az`, message: `${show(standby.az)} is not an AZ of platform.azs`, fix: `use one of: ${azList} other than ${job.az}` });
      else if (standby.az === job.az)
        issues.push({
          path: `${at}.standby.az`,
          message: `standby of ${jobKey(job)} is in the job's own AZ ${job.az} and would be lost with it`,
          fix: `place the standby in another AZ: ${azs.filter((a) => a !== job.az).join(', ')}`,
        });
      issues.push(...nameIssues(`${at}.standby.name`, standby.name, JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, 'a lowercase letter'));
    }
  });
  return issues;
}

/** Pattern and length of a Kubernetes resource name. */
function nameIssues(path: string, value: string, pattern: RegExp, max: number, first: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!pattern.test(value))
    issues.push({
      path,
      message: `${show(value)} is not a valid name (${pattern.source})`,
      fix: `use lowercase letters, digits and '-', starting with ${first} and ending with a letter or digit, e.g. 'payments-enricher'`,
    });
  if (value.length > max)
    issues.push({ path, message: `${show(value)} is ${value.length} chars, longer than ${max}`, fix: `shorten it to at most ${max} chars` });
  return issues;
}

/** The embedded FlinkDeployment must name the same resource as the job. */
function deploymentIssues(at: string, job: FleetJob): ValidationIssue[] {
  const meta = job.deployment.metadata;
  const issues: ValidationIssue[] = [];
  if (meta.name !== job.name)
    issues.push({ path: `${at}.deployment.metadata.name`, message: `${show(meta.name)} differs from ${at}.name ${show(job.name)}`, fix: `set it to ${show(job.name)}` });
  if (meta.namespace !== undefined && meta.namespace !== job.namespace)
    issues.push({
      path: `${at}.deployment.metadata.namespace`,
      message: `${show(meta.namespace)} differs from ${at}.namespace ${show(job.namespace)}`,
      fix: `set it to ${show(job.namespace)} or remove it`,
    });
  return issues;
}

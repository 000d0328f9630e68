import { describe, expect, it } from 'vitest';
import { validateCatalog, validateCatalogJson } from '../../domain/catalog-validation.js';
import type { AzProfile, Catalog, FleetJob, Tier } from '../../domain/types.js';
import { ConfigValidationError } from '../../domain/validation-error.js';

const FILE = 'catalog-v7.json';

function az(name: string): AzProfile {
  return {
    name,
    zone: `us-east-1${name.slice(-1)}`,
    imageRegistry: `registry.${name}.example.internal`,
    s3Endpoint: `https://s3.${name}.example.internal`,
    stateBucket: 'flink-state',
    artifactBucket: 'flink-jars',
  };
}

function job(name: string, tier: Tier, jobAz: string, standby?: FleetJob['standby']): FleetJob {
  return {
    name,
    namespace: 'payments',
    az: jobAz,
    tier,
    team: 'payments',
    deployment: {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkDeployment',
      metadata: { name, namespace: 'payments' },
      spec: { image: 'flink:1.20', flinkVersion: 'v1_20' },
    },
    ...(standby ? { standby } : {}),
    lineage: { consumes: ['orders'], produces: [`${name}-out`] },
    jars: [{ key: `jars/${name}-1.0.0.jar`, digest: `sha256:${'ab'.repeat(32)}`, sizeBytes: 52_428_800 }],
    resources: { cores: 4, memoryMiB: 8192 },
    stateSizeBytes: 1_073_741_824,
    checkpointPrefix: `checkpoints/payments/${name}`,
    savepointPrefix: `savepoints/payments/${name}`,
  };
}

/** A valid catalog: 2 AZs, 3 jobs (P0 hot standby, P1 cold standby, P2). Fresh per call. */
function fixture(): Catalog {
  return {
    version: 7,
    takenAt: '2026-01-31T12:00:00Z',
    platform: { layout: 'symmetric', azs: [az('az-a'), az('az-b')] },
    jobs: [
      job('enricher', 'P0', 'az-a', { kind: 'hot', az: 'az-b', namespace: 'payments', name: 'enricher' }),
      job('fraud-scorer', 'P1', 'az-a', { kind: 'cold', az: 'az-b', namespace: 'payments', name: 'fraud-scorer' }),
      job('ledger-sink', 'P2', 'az-b'),
    ],
  };
}

function rejection(doc: unknown): ConfigValidationError {
  try {
    validateCatalog(doc, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected validateCatalog to throw');
}

describe('validateCatalog', () => {
  it('accepts the valid fixture and returns it typed', () => {
    const doc = fixture();
    expect(validateCatalog(doc, FILE)).toBe(doc);
  });

  it('does not treat readiness gaps (P0 without hot standby) as errors', () => {
    const doc = fixture();
    delete doc.jobs[0]!.standby;
    expect(validateCatalog(doc, FILE).jobs).toHaveLength(3);
  });

  it('accepts the same namespace/name in two different AZs', () => {
    const doc = fixture();
    doc.jobs.push(job('enricher', 'P2', 'az-b'));
    expect(() => validateCatalog(doc, FILE)).not.toThrow();
  });

  const bad: Array<{ name: string; mutate: (c: Catalog) => void; path: string; problem: RegExp; fix: RegExp }> = [
    {
      name: 'job name with uppercase and underscore',
      mutate: (c) => { c.jobs[2]!.name = 'Ledger_Sink'; c.jobs[2]!.deployment.metadata.name = 'Ledger_Sink'; },
      path: 'jobs[2].name',
      problem: /'Ledger_Sink' is not a valid name/,
      fix: /lowercase letters, digits and '-'/,
    },
    {
      name: 'job name of 46 chars',
      mutate: (c) => { const n = `a${'b'.repeat(45)}`; c.jobs[1]!.name = n; c.jobs[1]!.deployment.metadata.name = n; },
      path: 'jobs[1].name',
      problem: /is 46 chars, longer than 45/,
      fix: /shorten it to at most 45 chars/,
    },
    {
      name: 'duplicate job in one AZ',
      mutate: (c) => { c.jobs.push(job('fraud-scorer', 'P3', 'az-a')); },
      path: 'jobs[3]',
      problem: /duplicate job payments\/fraud-scorer in AZ az-a: jobs\[1\] and jobs\[3\]/,
      fix: /remove one of jobs\[1\] and jobs\[3\], or rename one/,
    },
    {
      name: 'job in an unknown AZ',
      mutate: (c) => { c.jobs[2]!.az = 'az-z'; },
      path: 'jobs[2].az',
      problem: /'az-z' is not an AZ of platform\.azs/,
      fix: /use one of: az-a, az-b/,
    },
    {
      name: 'standby in the job\'s own AZ',
      mutate: (c) => { c.jobs[0]!.standby!.az = 'az-a'; },
      path: 'jobs[0].standby.az',
      problem: /standby of payments\/enricher is in the job's own AZ az-a/,
      fix: /place the standby in another AZ: az-b/,
    },
    {
      name: 'bad jar digest',
      mutate: (c) => { c.jobs[1]!.jars[0]!.digest = 'md5:abc123'; },
      path: 'jobs[1].jars[0].digest',
      problem: /'md5:abc123' does not match/,
      fix: /sha256:<64 lowercase hex digits>/,
    },
    {
      name: 'one-AZ platform',
      mutate: (c) => { c.platform.azs.pop(); },
      path: 'platform.azs',
      problem: /has 1 AZ\(s\)/,
      fix: /list at least 2 AZs under platform\.azs/,
    },
    {
      name: 'unknown key (typo) in resources',
      mutate: (c) => { const r = c.jobs[0]!.resources as unknown as Record<string, unknown>; r.memoryMib = r.memoryMiB; delete r.memoryMiB; },
      path: 'jobs[0].resources.memoryMib',
      problem: /unknown key 'memoryMib'/,
      fix: /rename 'memoryMib' to 'memoryMiB'/,
    },
    {
      name: 'zero cores',
      mutate: (c) => { c.jobs[2]!.resources.cores = 0; },
      path: 'jobs[2].resources.cores',
      problem: /must be > 0, got 0/,
      fix: /set jobs\[2\]\.resources\.cores to a number > 0/,
    },
    {
      name: 'negative jar size',
      mutate: (c) => { c.jobs[0]!.jars[0]!.sizeBytes = -1; },
      path: 'jobs[0].jars[0].sizeBytes',
      problem: /must be ≥ 0, got -1/,
      fix: /an integer ≥ 0/,
    },
    {
      name: 'unknown storage layout',
      mutate: (c) => { (c.platform as { layout: string }).layout = 'mirrored'; },
      path: 'platform.layout',
      problem: /'mirrored' is not an allowed value/,
      fix: /use one of: symmetric, per-az-buckets/,
    },
    {
      name: 'deployment named differently from the job',
      mutate: (c) => { c.jobs[2]!.deployment.metadata.name = 'ledger-sink-v2'; },
      path: 'jobs[2].deployment.metadata.name',
      problem: /'ledger-sink-v2' differs from jobs\[2\]\.name 'ledger-sink'/,
      fix: /set it to 'ledger-sink'/,
    },
    {
      name: 'missing tier',
      mutate: (c) => { delete (c.jobs[1] as Partial<FleetJob>).tier; },
      path: 'jobs[1].tier',
      problem: /required key is missing/,
      fix: /add 'tier' under jobs\[1\]/,
    },
    {
      name: 'takenAt not a date-time',
      mutate: (c) => { c.takenAt = 'yesterday'; },
      path: 'takenAt',
      problem: /'yesterday' is not a valid date-time/,
      fix: /ISO-8601/,
    },
  ];

  it.each(bad)('rejects: $name', ({ mutate, path, problem, fix }) => {
    const doc = fixture();
    expect(() => validateCatalog(doc, FILE)).not.toThrow();
    mutate(doc);
    const err = rejection(doc);
    expect(err.file).toBe(FILE);
    const issue = err.issues.find((i) => i.path === path);
    expect(issue, `issues: ${err.message}`).toBeDefined();
    expect(issue!.message).toMatch(problem);
    expect(issue!.fix).toMatch(fix);
    expect(err.message.split('\n')).toContain(`${FILE}: ${path}: ${issue!.message}. Fix: ${issue!.fix}`);
  });
});

describe('validateCatalogJson', () => {
  it('parses and validates JSON text', () => {
    expect(validateCatalogJson(JSON.stringify(fixture()), FILE).jobs.map((j) => j.name)).toEqual(['enricher', 'fraud-scorer', 'ledger-sink']);
  });

  it('reports a JSON syntax error with the file name', () => {
    const text = JSON.stringify(fixture()).replace('"version":7', '"version":7,,');
    expect(() => validateCatalogJson(text, FILE)).toThrow(/^catalog-v7\.json: \(document\): JSON syntax error: .+\. Fix: correct the JSON/);
  });
});

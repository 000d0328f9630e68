import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCrdValidator, loadFlinkDeploymentValidator, type CrdValidator } from '../../domain/crd-validator.js';
import { VENDOR_EXAMPLES, manifestsOfKind, put } from './fixtures/manifests.js';

const CRDS = new URL('../../vendor/flink-operator/crds/', import.meta.url);
const examples = (kind: string) => manifestsOfKind(VENDOR_EXAMPLES, kind);
const basic = (): Record<string, unknown> => structuredClone(examples('FlinkDeployment').find((e) => e.file === 'basic.yaml')!.doc);

function errorsOf(result: ReturnType<CrdValidator>): string[] {
  return result.ok ? [] : result.errors;
}

describe('FlinkDeployment CRD validator', () => {
  let validate: CrdValidator;
  beforeAll(async () => {
    validate = await loadFlinkDeploymentValidator();
  }, 60_000);

  it('is compiled once and cached', async () => {
    expect(await loadFlinkDeploymentValidator()).toBe(validate);
  });

  it('accepts every FlinkDeployment of the operator examples (strict unknown-field checking included)', () => {
    const all = examples('FlinkDeployment');
    expect(all.length).toBeGreaterThan(10);
    for (const { file, doc } of all) expect([file, validate(doc)]).toEqual([file, { ok: true }]);
  });

  it('rejects an upgradeMode outside the enum, naming the path and the allowed values', () => {
    const m = basic();
    put(m, 'spec.job.upgradeMode', 'savepiont');
    const errors = errorsOf(validate(m));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^spec\.job\.upgradeMode: .*savepiont/);
    expect(errors[0]).toContain('last-state, savepoint, stateless');
  });

  it('rejects parallelism given as an object', () => {
    const m = basic();
    put(m, 'spec.job.parallelism', { value: 2 });
    expect(errorsOf(validate(m))).toEqual([expect.stringMatching(/^spec\.job\.parallelism: must be an integer/)]);
  });

  it('limits metadata.name to 45 characters of a DNS label', () => {
    const m = basic();
    put(m, 'metadata.name', `a${'b'.repeat(44)}`);
    expect(validate(m)).toEqual({ ok: true });
    put(m, 'metadata.name', `a${'b'.repeat(45)}`);
    expect(errorsOf(validate(m))).toEqual([expect.stringMatching(/^metadata\.name: .*45 characters/)]);
    for (const bad of ['Basic', '1basic', 'basic-', 'basic_example', '']) {
      put(m, 'metadata.name', bad);
      expect(validate(m).ok, bad).toBe(false);
    }
  });

  it('rejects unknown fields (the schema has no additionalProperties: the API server prunes them, or rejects them under Strict field validation)', () => {
    const m = basic();
    put(m, 'spec.replicas', 3);
    put(m, 'spec.job.initialSavepointpath', 's3://b/sp');
    const errors = errorsOf(validate(m));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^spec\.replicas: unknown key/),
        expect.stringMatching(/^spec\.job\.initialSavepointpath: unknown key .*initialSavepointPath/),
      ]),
    );
  });

  it('keeps flinkConfiguration open (x-kubernetes-preserve-unknown-fields): nested maps and numbers pass', () => {
    const m = basic();
    put(m, 'spec.flinkConfiguration', { state: { 'savepoints.dir': 's3://b/sp' }, 'taskmanager.numberOfTaskSlots': 2 });
    expect(validate(m)).toEqual({ ok: true });
  });

  it('treats x-kubernetes-int-or-string as integer or string, reported as one error', () => {
    const m = basic();
    put(m, 'spec.podTemplate', { spec: { containers: [{ name: 'flink-main-container', resources: { limits: { cpu: '500m', memory: 2048 } } }] } });
    expect(validate(m)).toEqual({ ok: true });
    put(m, 'spec.podTemplate.spec.containers.0.resources.limits.cpu', 0.5);
    expect(errorsOf(validate(m))).toEqual([
      expect.stringMatching(/^spec\.podTemplate\.spec\.containers\[0\]\.resources\.limits\.cpu: must be an integer or string, got 0\.5/),
    ]);
  });

  it('checks apiVersion, kind, metadata and label values', () => {
    const m = basic();
    put(m, 'apiVersion', 'flink.apache.org/v1');
    put(m, 'kind', 'FlinkSessionJob');
    put(m, 'metadata.labels', { ok: 'az-b', bad: 'has spaces' });
    const errors = errorsOf(validate(m));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^apiVersion: must be 'flink\.apache\.org\/v1beta1'/),
        expect.stringMatching(/^kind: must be 'FlinkDeployment'/),
        expect.stringMatching(/^metadata\.labels\.bad: /),
      ]),
    );
    expect(errors).toHaveLength(3);
    expect(validate({ apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', spec: {} }).ok).toBe(false);
    expect(validate('not a manifest').ok).toBe(false);
  });

  it('validates thousands of manifests cheaply', () => {
    const m = basic();
    const start = performance.now();
    for (let i = 0; i < 2000; i++) validate(m);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});

describe('createCrdValidator', () => {
  it('works for another CRD (FlinkSessionJob) and its examples', () => {
    const validate = createCrdValidator(readFileSync(new URL('flinksessionjobs.flink.apache.org-v1.yml', CRDS), 'utf8'));
    const jobs = examples('FlinkSessionJob');
    expect(jobs.length).toBeGreaterThan(0);
    for (const { doc } of jobs) expect(validate(doc)).toEqual({ ok: true });
    const bad = structuredClone(jobs[0]!.doc);
    put(bad, 'spec.job.upgradeMode', 'last_state');
    expect(validate(bad).ok).toBe(false);
  });

  it('refuses text that is not a CRD, and a version the CRD lacks', () => {
    expect(() => createCrdValidator('kind: ConfigMap\n')).toThrow(/not a CustomResourceDefinition/);
    const crd = readFileSync(new URL('flinksessionjobs.flink.apache.org-v1.yml', CRDS), 'utf8');
    expect(() => createCrdValidator(crd, 'v9')).toThrow(/no version v9.*versions: v1beta1/);
  });
});

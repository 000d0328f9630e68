/**
 * Bad input, tried as a new user would (fast-check): random and mutated tiers.yaml
 * documents, catalogs, drill runbooks and evacuation requests never crash the process with
 * anything but a validation error, never get as far as a plan, and always name the
 * offending key or value.
 * Plus the named cases: duplicate job names across namespaces and AZs, names over 45
 * characters, unknown AZs, source equal to target, an empty fleet, a fleet of one job,
 * tiers with zero concurrency, cyclic lineage, a standby pointing at a missing resource.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { validateCatalog } from '../../domain/catalog-validation.js';
import { planEvacuation } from '../../domain/planner.js';
import { parseRunbook } from '../../domain/runbook.js';
import { parseTiersPolicy } from '../../domain/tiers-policy.js';
import { ConfigValidationError, joinPath } from '../../domain/validation-error.js';
import { TIERS, type Catalog } from '../../domain/types.js';
import { catalog, coldJob, hotJob, job, tiersPolicy } from './fixtures/fleet.js';

const TIERS_YAML = readFileSync(new URL('../../tiers.yaml', import.meta.url), 'utf8');
const RUNS = { numRuns: 300, seed: 42 };

type Path = Array<string | number>;

/** Every key path of a JSON-like value (objects and arrays), parents before children. */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

function getAt(doc: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], doc);
}

/** A mutation that always makes a document invalid at `path`, for schemas with closed objects and typed leaves. */
type Mutation = 'wrong-type' | 'delete' | 'unknown-key';

/** Apply `mutation` at `path` of a deep copy of `doc`. @returns the copy and the dotted path an error must name */
function mutate(doc: unknown, path: Path, mutation: Mutation): { doc: unknown; named: string } {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path.at(-1)!;
  const value = parent[key];
  if (mutation === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
    return { doc: copy, named: joinPath(Array.isArray(parent) ? path.slice(0, -1) : path) };
  }
  if (mutation === 'unknown-key' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    (value as Record<string, unknown>).surpriseKey = 1;
    return { doc: copy, named: joinPath([...path, 'surpriseKey']) };
  }
  parent[key] = typeof value === 'string' ? 12345 : typeof value === 'number' || typeof value === 'boolean' ? 'not-a-number-or-bool' : 'a string';
  return { doc: copy, named: joinPath(path) };
}

/** Run `fn`; it must throw ConfigValidationError (the one validation error), never anything else. @returns its message */
function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as Error).message;
  }
  throw new Error('accepted invalid input');
}

describe('tiers.yaml as a new user writes it', () => {
  const valid = parse(TIERS_YAML) as Record<string, unknown>;
  const leaves = paths(valid).filter((p) => p[0] !== 'admissionOrder' || p.length === 1);

  it('random text never crashes: a typed policy or a ConfigValidationError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        parseTiersPolicy(text, 'tiers.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        expect((err as Error).message).toMatch(/^tiers\.yaml: .+\. Fix: /);
      }
    }), RUNS);
  });

  it('a mutated key (wrong type, deleted, unknown key added) is named in the error with a fix', () => {
    // fenceIntervalSeconds (default 10), fenceObserveSeconds (default 60),
    // heartbeatTimeoutSeconds (defaults 60 / 30) and savepointTimeout (120 s + 60 s/GiB) are
    // optional: deleting one is a valid policy, not a mutation to refuse. So are the protection
    // block and every key of it but `tiers`, and any tier listed in protection.tiers.
    const optional = (path: Path, mutation: Mutation): boolean => mutation === 'delete' && (
      ['fenceIntervalSeconds', 'fenceObserveSeconds', 'heartbeatTimeoutSeconds', 'savepointTimeout', 'protection'].includes(path.join('.')) ||
      (path[0] === 'protection' && path.length === 2 && path[1] !== 'tiers') || (path[0] === 'protection' && path[1] === 'tiers' && path.length === 3));
    fc.assert(fc.property(fc.constantFrom(...leaves), fc.constantFrom<Mutation>('wrong-type', 'delete', 'unknown-key'), (path, mutation) => {
      fc.pre(!optional(path, mutation));
      const { doc, named } = mutate(valid, path, mutation);
      const message = validationMessage(() => parseTiersPolicy(stringify(doc), 'tiers.yaml'));
      expect(message).toContain(named);
      expect(message).toContain('Fix:');
    }), RUNS);
  });

  it.each(TIERS)('zero concurrency for %s is refused, naming its maxConcurrency key', (tier) => {
    const doc = structuredClone(valid) as { tiers: Record<string, { maxConcurrency: number }> };
    doc.tiers[tier]!.maxConcurrency = 0;
    expect(validationMessage(() => parseTiersPolicy(stringify(doc), 'tiers.yaml'))).toContain(`tiers.${tier}.maxConcurrency: must be ≥ 1, got 0`);
  });
});

describe('the catalog as a new user (or a broken sync) writes it', () => {
  const valid: Catalog = catalog([hotJob('payments-enricher'), coldJob('fraud-scorer'), job('clicks-sessionizer', { consumes: ['clicks'] }), job('clicks-ingest', { tier: 'P3', produces: ['clicks'] })]);
  const mutable = paths(valid).filter((p) => !p.includes('spec') && !(p.includes('labels') || p.includes('annotations')));

  it('a mutated key (wrong type, deleted, unknown key added) is named in the error', () => {
    fc.assert(fc.property(fc.constantFrom(...mutable), fc.constantFrom<Mutation>('wrong-type', 'delete', 'unknown-key'), (path, mutation) => {
      const { doc, named } = mutate(valid, path, mutation);
      // Deleting an array element or an optional key can leave a valid catalog: then nothing to name.
      try {
        validateCatalog(doc, 'catalog.json');
        expect(mutation).toBe('delete');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        const message = (err as Error).message;
        // A wrong type can also break cross-checks on the parent (e.g. a standby's name): the key or its parent is named.
        expect([named, joinPath(path.slice(0, -1))].some((n) => message.includes(`catalog.json: ${n}`))).toBe(true);
      }
    }), RUNS);
  });

  it('random JSON values never crash validation', () => {
    fc.assert(fc.property(fc.jsonValue(), (doc) => {
      expect(validationMessage(() => validateCatalog(doc, 'catalog.json'))).toMatch(/^catalog\.json: /);
    }), { numRuns: 200, seed: 7 });
  });

  it('names over 45 characters are refused, naming the key and the length', () => {
    const long = `a${'b'.repeat(45)}`;
    const message = validationMessage(() => validateCatalog(catalog([job(long)]), 'catalog.json'));
    expect(message).toContain('jobs[0].name');
    expect(message).toContain('46 chars, longer than 45');
  });

  it('the same job twice in one AZ is refused, naming both entries', () => {
    const message = validationMessage(() => validateCatalog(catalog([job('etl'), job('etl')]), 'catalog.json'));
    expect(message).toContain('duplicate job streaming/etl in AZ az-a: jobs[0] and jobs[1]');
  });

  it('duplicate job names across namespaces are distinct jobs: both planned, each once', () => {
    const c = validateCatalog(catalog([job('etl', { namespace: 'team-a' }), job('etl', { namespace: 'team-b' })]), 'catalog.json');
    const plan = planEvacuation({ catalog: c, tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 100, memoryMiB: 100_000 }, nowEpochSeconds: 0 });
    expect(plan.admitted.map((p) => p.key).sort()).toEqual(['team-a/etl', 'team-b/etl']);
  });

  it('a job whose name is taken by another primary in the target AZ is not admitted, naming the clash', () => {
    const c = validateCatalog(catalog([job('etl'), job('etl', { az: 'az-b' })]), 'catalog.json');
    const plan = planEvacuation({ catalog: c, tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 100, memoryMiB: 100_000 }, nowEpochSeconds: 0 });
    expect(plan.admitted).toEqual([]);
    expect(plan.notAdmitted[0]?.reason).toMatch(/streaming\/etl.*already runs in az-b/);
  });

  it('an unknown AZ on a job or standby is refused, listing the known ones', () => {
    const message = validationMessage(() => validateCatalog(catalog([job('etl', { az: 'az-q' }), hotJob('pay', {}, 'az-z')]), 'catalog.json'));
    expect(message).toContain("jobs[0].az: 'az-q' is not an AZ of platform.azs. Fix: use one of: az-a, az-b");
    expect(message).toContain("jobs[1].standby.az: 'az-z' is not an AZ of platform.azs");
  });
});

describe('a drill runbook as a new user writes it', () => {
  const files = ['full-az-drill.sim.yaml', 'p3-canary.yaml'].map((f) => readFileSync(new URL(`../../runbooks/${f}`, import.meta.url), 'utf8'));
  const valid = files.map((text) => parse(text) as Record<string, unknown>);
  const leaves = valid.flatMap((doc, i) => paths(doc).map((p) => [i, p] as const));
  /** YAML-ish text: fragments of real runbooks and YAML syntax (anchors, aliases, tags, merges, flow collections) shuffled. */
  const yamlish = fc.array(fc.oneof(
    fc.constantFrom(...files.flatMap((t) => t.split('\n'))),
    fc.constantFrom('&a [*a]', '*a', '<<: *a', '!!set {a, b}', '!!binary aGk=', '!!timestamp 2026-01-01', '!!str', '? complex', '- [', '{', '}', ': :', '---', '...', '%YAML 1.2', '"\\u', 'steps: &s [*s]', 'name: &n x\nsourceAz: *n'),
    fc.string({ maxLength: 30 }),
  ), { maxLength: 25 }).map((lines) => lines.join('\n'));

  it('random and YAML-ish text never crashes: a runbook or a ConfigValidationError in the file:key format', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), yamlish), (text) => {
      try {
        parseRunbook(text, 'drill.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        expect((err as Error).message).toMatch(/^drill\.yaml: .+\. Fix: /s);
      }
    }), { numRuns: 1000, seed: 11 });
  });

  it('random YAML values never crash: a ConfigValidationError naming a key of the runbook', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
      expect(validationMessage(() => parseRunbook(stringify(doc), 'drill.yaml'))).toMatch(/^drill\.yaml: [^\n]+?: .+\. Fix: /s);
    }), { numRuns: 300, seed: 12 });
  });

  it('a mutated key (wrong type, deleted, unknown key added) is named in the error with a fix', () => {
    fc.assert(fc.property(fc.constantFrom(...leaves), fc.constantFrom<Mutation>('wrong-type', 'delete', 'unknown-key'), ([i, path], mutation) => {
      const { doc, named } = mutate(valid[i], path, mutation);
      // Deleting an optional key or a step the rules do not require leaves a valid runbook: then nothing to name.
      try {
        parseRunbook(stringify(doc), 'drill.yaml');
        expect(mutation).toBe('delete');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        const message = (err as Error).message;
        expect(message).toContain('Fix:');
        // A step that got a second key is reported on the step, naming both keys.
        expect([named, joinPath(path.slice(0, -1))].some((n) => message.includes(`drill.yaml: ${n}`)), message).toBe(true);
        if (named.endsWith('surpriseKey')) expect(message).toContain('surpriseKey');
      }
    }), RUNS);
  });

  // Found by the fuzzing above: these crashed the YAML loader shared with tiers.yaml (TypeError, ReferenceError).
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `n${i}: &n${i} [${Array(10).fill(i ? `*n${i - 1}` : '*a').join(', ')}]`)].join('\n');
  it.each([['an empty file', '', 'drill.yaml: (root): must be an object'], ['an alias before its anchor', 'name: *x\nsourceAz: &x az-a', 'drill.yaml: (document): YAML alias error'],
    ['an alias bomb', bomb, 'drill.yaml: (document): YAML alias error'], ['an alias inside its own anchor', 'steps: &s [*s]', 'drill.yaml: (document): a YAML alias']])('%s is a validation error, not a crash', (_what, text, expected) => {
    expect(validationMessage(() => parseRunbook(text, 'drill.yaml'))).toContain(expected);
    expect(validationMessage(() => parseTiersPolicy(text, 'drill.yaml'))).toMatch(/^drill\.yaml: /);
  });

  it('a drill evacuating an AZ into itself, or a fault taking down another AZ, is refused naming the key', () => {
    const doc = structuredClone(valid[0]) as { targetAz: string; steps: Array<Record<string, unknown>> };
    doc.targetAz = 'az-a';
    doc.steps[2] = { fault: { simulator: { azDown: 'az-q' } } };
    const message = validationMessage(() => parseRunbook(stringify(doc), 'drill.yaml'));
    expect(message).toContain("drill.yaml: targetAz: is the same AZ as sourceAz ('az-a')");
    expect(message).toContain("drill.yaml: steps[2].fault.simulator.azDown: takes 'az-q' down");
  });
});

describe('an evacuation request as a new user sends it', () => {
  const c = catalog([hotJob('pay'), job('etl'), job('lake-writer', { az: 'az-b' })]);
  const plan = (over: Partial<Parameters<typeof planEvacuation>[0]>) => planEvacuation({
    catalog: c, tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 100, memoryMiB: 100_000 }, nowEpochSeconds: 0, ...over,
  });

  it('random AZ names: an unknown one or source = target is refused naming it; a valid pair plans', () => {
    fc.assert(fc.property(fc.constantFrom('az-a', 'az-b', 'az-c', '', 'AZ-A'), fc.constantFrom('az-a', 'az-b', 'az-x', ' '), (sourceAz, targetAz) => {
      const valid = ['az-a', 'az-b'].includes(sourceAz) && ['az-a', 'az-b'].includes(targetAz) && sourceAz !== targetAz;
      if (valid) return void expect(plan({ sourceAz, targetAz }).sourceAz).toBe(sourceAz);
      expect(() => plan({ sourceAz, targetAz })).toThrow(sourceAz === targetAz ? `sourceAz and targetAz are both '${sourceAz}'` : /is not an AZ of the catalog \(known AZs: az-a, az-b\)/);
    }), RUNS);
  });

  it('an empty fleet plans nothing and says so; a fleet of one job plans that job', () => {
    expect(() => planEvacuation({ catalog: catalog([]), tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 1, memoryMiB: 1 }, nowEpochSeconds: 0 }))
      .toThrow(/nothing to evacuate: catalog v1 has no job in az-a/);
    const one = planEvacuation({ catalog: catalog([job('solo')]), tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 10, memoryMiB: 10_000 }, nowEpochSeconds: 0 });
    expect(one.admitted.map((p) => p.key)).toEqual(['streaming/solo']);
  });

  it('cyclic lineage plans every job exactly once', () => {
    const cyc = catalog([job('a', { consumes: ['t3'], produces: ['t1'] }), job('b', { consumes: ['t1'], produces: ['t2'] }), job('c', { tier: 'P0', consumes: ['t2'], produces: ['t3'] })]);
    const p = planEvacuation({ catalog: cyc, tiers: tiersPolicy(), sourceAz: 'az-a', targetAz: 'az-b', targetFree: { cores: 100, memoryMiB: 100_000 }, nowEpochSeconds: 0 });
    expect([...p.admitted.map((x) => x.key), ...p.notAdmitted.map((x) => x.key)].sort()).toEqual(['streaming/a', 'streaming/b', 'streaming/c']);
  });

  it('a standby pointing at a missing resource is reported naming it, and the job is redeployed instead', () => {
    const p = plan({ existingInTarget: new Set() });
    const finding = p.findings.find((f) => f.job === 'streaming/pay');
    expect(finding?.code).toBe('standby-missing');
    expect(finding?.message).toContain('streaming/pay');
    expect(p.admitted.find((x) => x.key === 'streaming/pay')?.strategy).toBe('redeploy');
  });

  it('a scope naming an unknown tier, team or job is refused, naming it', () => {
    fc.assert(fc.property(fc.constantFrom('tiers', 'teams', 'jobs'), fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !['P0', 'P1', 'P2', 'P3', 'data', 'etl', 'pay'].includes(s.trim())), (field, value) => {
      expect(() => plan({ scope: { [field]: [value] } })).toThrow(new RegExp(`scope\\.${field}\\[0\\]`));
    }), { numRuns: 100, seed: 3 });
  });
});

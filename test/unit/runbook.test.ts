/**
 * Runbook validation: the example runbooks parse; mutated documents are rejected with
 * `<file>: <key path>: <problem>. Fix: <fix>` naming the key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRunbook, stepKind } from '../../domain/runbook.js';
import { configRejection } from './fixtures/config-error.js';

const FILE = 'runbooks/p3-canary.yaml';
const CANARY = readFileSync(new URL(`../../${FILE}`, import.meta.url), 'utf8');
const FULL = readFileSync(new URL('../../runbooks/full-az-drill.sim.yaml', import.meta.url), 'utf8');

const rejection = (text: string) => configRejection(() => parseRunbook(text, FILE));

function mutate(base: string, from: string | RegExp, to: string): string {
  const text = base.replace(from, to);
  expect(text, `mutation ${String(from)} must apply`).not.toBe(base);
  return text;
}

describe('parseRunbook', () => {
  it('parses both example runbooks', () => {
    const canary = parseRunbook(CANARY, FILE);
    expect(canary.steps.map(stepKind)).toEqual(['readiness', 'evacuate', 'verify', 'failback', 'report']);
    expect(canary.steps[1]).toEqual({ evacuate: { mode: 'drill', tiers: ['P3'], teams: ['payments'] } });
    const full = parseRunbook(FULL, 'runbooks/full-az-drill.sim.yaml');
    expect(full.steps.map(stepKind)).toEqual(['readiness', 'approval', 'fault', 'evacuate', 'verify', 'failback', 'report']);
    expect(full.steps[2]).toEqual({ fault: { simulator: { azDown: 'az-a' } } });
  });

  it.each([
    ['a misspelt step kind', ['- verify:', '- verfy:'], 'steps[2].verfy', /unknown key 'verfy'.*Fix: rename 'verfy' to 'verify'/],
    ['an unknown tier', ['tiers: [P3]', 'tiers: [P4]'], 'steps[1].evacuate.tiers[0]', /'P4' is not an allowed value.*use one of: P0, P1, P2, P3/],
    ['a bad mode', ['mode: drill', 'mode: rehearsal'], 'steps[1].evacuate.mode', /use one of: drill, emergency/],
    ['a negative threshold', ['maxNotAdmitted: 0', 'maxNotAdmitted: -1'], 'steps[0].readiness.maxNotAdmitted', /must be ≥ 0, got -1/],
    ['a missing targetAz', [/targetAz: az-b\n/, ''], 'targetAz', /required key is missing.*Fix: add 'targetAz'/],
    ['a name with capitals', ['name: p3-canary', 'name: P3 Canary'], 'name', /does not match.*Fix: use lower-case letters/],
    ['a string RTO', ['rtoSeconds: { P3: 900 }', 'rtoSeconds: { P3: soon }'], 'steps[2].verify.rtoSeconds.P3', /must be a number, got 'soon'/],
  ] as const)('rejects %s, naming the key', (_what, [from, to], path, message) => {
    const err = rejection(mutate(CANARY, from, to));
    const issue = err.issues.find((i) => i.path === path);
    expect(issue, err.message).toBeDefined();
    expect(err.message).toMatch(new RegExp(`^${FILE}: ${path.replace(/[.[\]]/g, '\\$&')}: `, 'm'));
    expect(err.message).toMatch(message);
  });

  it('rejects a step with two kinds', () => {
    const err = rejection(mutate(CANARY, '  - failback: {}', '  - failback: {}\n    report: {}'));
    expect(err.message).toMatch(/steps\[3\]: a step has exactly one key naming its kind, got failback, report\. Fix: write the step as/);
  });

  it('rejects drill mode after an azDown fault, a fault on the wrong AZ, no failback and verify before evacuate', () => {
    expect(rejection(mutate(FULL, 'mode: emergency', 'mode: drill')).message)
      .toMatch(/steps\[3\]\.evacuate\.mode: is 'drill', but steps\[2\] takes az-a down first.*Fix: set mode: emergency/);
    expect(rejection(mutate(FULL, 'azDown: az-a', 'azDown: az-b')).message).toMatch(/steps\[2\]\.fault\.simulator\.azDown: takes 'az-b' down, not the drilled source AZ 'az-a'\. Fix: set it to az-a/);
    expect(rejection(mutate(CANARY, '  - failback: {}\n', '')).message).toMatch(/steps: no failback step\. Fix: add '- failback: \{\}'/);
    const early = mutate(CANARY, / {2}- evacuate:\n([\s\S]*?) {2}- verify:\n([\s\S]*?) {2}- failback/, '  - verify:\n$2  - evacuate:\n$1  - failback');
    expect(rejection(early).message).toMatch(/steps\[1\]: 'verify' comes before the evacuate step \(steps\[2\]\)\. Fix: move it after steps\[2\]/);
    expect(rejection(mutate(CANARY, 'targetAz: az-b', 'targetAz: az-a')).message).toMatch(/targetAz: is the same AZ as sourceAz/);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(rejection('name: x\nsteps: [\n').message).toMatch(/^runbooks\/p3-canary\.yaml: line \d+, column \d+: YAML syntax error/);
  });
});

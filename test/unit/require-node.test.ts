import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE, nodeVersionProblem } from '../../config/require-node.js';

describe('nodeVersionProblem', () => {
  it('accepts the floor and newer versions, refuses older ones naming the version and the fix', () => {
    expect(nodeVersionProblem('22.19.0', [22, 19])).toBeUndefined();
    expect(nodeVersionProblem('24.19.0', [22, 19])).toBeUndefined();
    expect(nodeVersionProblem('23.0.0', [22, 19])).toBeUndefined();
    const old = nodeVersionProblem('20.20.2', [22, 19]);
    expect(old).toMatch(/needs Node >= 22\.19, this is Node 20\.20\.2/);
    expect(old).toContain('./npmw');
    expect(nodeVersionProblem('22.18.0', [22, 19])).toMatch(/this is Node 22\.18\.0/);
  });

  it('uses the floor package.json declares (engines.node, which scripts/node.sh reads too)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE.join('.')}`);
  });
});

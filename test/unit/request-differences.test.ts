import { describe, expect, it } from 'vitest';
import { recordsKey, requestDifferences, requestShape } from '../../domain/evacuation.js';

const base = { sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency' as const };

describe('requestDifferences (second press vs the running evacuation)', () => {
  it('finds nothing when only who pressed or when differ', () => {
    const a = requestShape({ ...base, requestedBy: 'ann', triggeredAtMs: 1 });
    const b = requestShape({ ...base, requestedBy: 'bob', triggeredAtMs: 2, preload: true, scope: { tiers: [] } });
    expect(requestDifferences(a, b)).toEqual([]);
  });

  it('compares scope lists as sets, absent meaning all', () => {
    const a = requestShape({ ...base, scope: { tiers: ['P1', 'P0'], teams: ['x'] } });
    expect(requestDifferences(a, requestShape({ ...base, scope: { tiers: ['P0', 'P1', 'P0'], teams: ['x'] } }))).toEqual([]);
    expect(requestDifferences(a, requestShape(base))).toEqual(['scope.tiers: running P0, P1, yours all', 'scope.teams: running x, yours all']);
  });

  it('names mode, forced stale catalog, catalog version and preload', () => {
    const a = requestShape(base);
    const b = requestShape({ ...base, mode: 'drill', forceStaleCatalog: true, catalogVersion: 7, preload: false });
    expect(requestDifferences(a, b)).toEqual([
      'mode: running emergency, yours drill',
      'forceStaleCatalog: running not forced, yours forced',
      'catalogVersion: running newest, yours v7',
      'preload: running on, yours off',
    ]);
  });
});

describe('recordsKey', () => {
  it('keys a run by id and run id, and an old run by its id alone', () => {
    expect(recordsKey({ evacuationId: 'e', runId: 'r' })).toBe('e@r');
    expect(recordsKey({ evacuationId: 'e' })).toBe('e');
  });
});

import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../platform/errors.js';
import { ObjectStore, type ListResult } from '../../simulator/object-store.js';

function store(keys: string[]): ObjectStore {
  const s = new ObjectStore();
  s.createBucket('b');
  keys.forEach((k, i) => s.put('b', k, { sizeBytes: i, lastModifiedEpochSeconds: 1000 + i }));
  return s;
}

const KEYS = ['a/x/1', 'a/x/2', 'a/y/1', 'a-z', 'a/z', 'b/1', 'top'];

describe('object store listing (ListObjectsV2 semantics)', () => {
  it('lists every key under a prefix in lexicographic order', () => {
    const r = store(KEYS).list('b', { prefix: 'a' });
    expect(r.contents.map((o) => o.key)).toEqual([...KEYS].filter((k) => k.startsWith('a')).sort());
    expect(r.isTruncated).toBe(false);
  });

  it('rolls keys up into common prefixes with the / delimiter', () => {
    const r = store(KEYS).list('b', { prefix: 'a/', delimiter: '/' });
    expect(r.commonPrefixes).toEqual(['a/x/', 'a/y/']);
    expect(r.contents.map((o) => o.key)).toEqual(['a/z']);
    const root = store(KEYS).list('b', { delimiter: '/' });
    expect(root.commonPrefixes).toEqual(['a/', 'b/']);
    expect(root.contents.map((o) => o.key)).toEqual(['a-z', 'top']);
  });

  it('paginates with maxKeys and continuation tokens without losing or repeating keys', () => {
    const keys = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(2, '0')}/f`).concat(['p/x', 'q']);
    const s = store(keys);
    for (const delimiter of [undefined, '/']) {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page: ListResult = s.list('b', { prefix: 'p/', delimiter, maxKeys: 4, continuationToken: token });
        seen.push(...page.contents.map((o) => o.key), ...page.commonPrefixes);
        expect(page.contents.length + page.commonPrefixes.length).toBeLessThanOrEqual(4);
        token = page.nextContinuationToken;
        pages++;
      } while (token !== undefined);
      expect(seen).toHaveLength(26);
      expect(new Set(seen).size).toBe(26);
      expect(pages).toBe(7);
    }
  });

  it('deletes objects and prunes empty directories', () => {
    const s = store(KEYS);
    expect(s.delete('b', 'a/y/1')).toBe(true);
    expect(s.delete('b', 'a/y/1')).toBe(false);
    expect(s.list('b', { prefix: 'a/', delimiter: '/' }).commonPrefixes).toEqual(['a/x/']);
    expect(s.objectCount()).toBe(KEYS.length - 1);
  });

  it('rejects a missing bucket, an unsupported delimiter and a bad token with the value named', () => {
    const s = store(KEYS);
    expect(() => s.list('nope')).toThrow(/bucket nope/);
    expect(() => s.put('nope', 'k', { sizeBytes: 1, lastModifiedEpochSeconds: 0 })).toThrow(PlatformError);
    expect(() => s.list('b', { delimiter: ',' })).toThrow(/delimiter ","/);
    expect(() => s.list('b', { continuationToken: '???' })).toThrow(/continuationToken/);
    expect(() => s.list('b', { maxKeys: 0 })).toThrow(/maxKeys 0/);
  });
});

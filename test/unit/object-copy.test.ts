import { describe, expect, it } from 'vitest';
import { copiesInParts, partRanges, S3_LIMITS } from '../../platform/s3/object-copy.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('S3 copy sizing (platform/s3/object-copy.ts)', () => {
  it('copies in parts above the threshold, and always above the 5 GiB single-copy limit whatever the threshold', () => {
    expect(copiesInParts(5 * GiB, { multipartThresholdBytes: 5 * GiB })).toBe(false);
    expect(copiesInParts(5 * GiB + 1, { multipartThresholdBytes: 5 * GiB })).toBe(true);
    expect(copiesInParts(5 * GiB + 1, { multipartThresholdBytes: 50 * GiB })).toBe(true);
    expect(copiesInParts(6 * MiB, { multipartThresholdBytes: 5 * MiB })).toBe(true);
  });

  it('cuts ranges of the part size, the last one shorter, covering every byte once', () => {
    expect(partRanges(10, 4)).toEqual([[0, 3], [4, 7], [8, 9]]);
    expect(partRanges(8, 4)).toEqual([[0, 3], [4, 7]]);
  });

  it('raises the part size so that no object needs more than 10,000 parts', () => {
    const size = 4 * 1024 * GiB; // 4 TiB at 256 MiB parts would be 16,384 parts
    const ranges = partRanges(size, 256 * MiB);
    expect(ranges.length).toBeLessThanOrEqual(S3_LIMITS.maxParts);
    expect(ranges.at(-1)![1]).toBe(size - 1);
    expect(ranges[0]![1] + 1).toBe(Math.ceil(size / S3_LIMITS.maxParts));
    expect(partRanges(6 * GiB, 256 * MiB)).toHaveLength(24);
  });

  it('refuses an object above S3\'s 5 TiB limit and a part size below 1, naming them', () => {
    expect(() => partRanges(S3_LIMITS.maxObjectBytes + 1, 256 * MiB)).toThrow(/above S3's 5497558138880-byte \(5 TiB\) limit/);
    expect(() => partRanges(10, 0)).toThrow(/part size 0 bytes is not ≥ 1; set AZ_EVAC_S3_PART_BYTES/);
  });
});

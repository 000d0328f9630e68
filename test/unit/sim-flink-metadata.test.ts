/**
 * The simulator's `_metadata` writer (simulator/flink-metadata.ts) round-trips through the
 * engine's reader of Flink's format (domain/flink-metadata.ts), and the CheckpointProperties
 * bytes it appends are the ones real Flink 1.20.3 wrote in the committed fixtures.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readFlinkMetadata } from '../../domain/flink-metadata.js';
import {
  CANONICAL_SAVEPOINT_PROPERTIES_HEX,
  CHECKPOINT_PROPERTIES_HEX,
  writeFlinkMetadata,
} from '../../simulator/flink-metadata.js';

const fixture = resolve(fileURLToPath(import.meta.url), '../../fixtures/flink/1.20.3');
const info = JSON.parse(readFileSync(join(fixture, 'fixture.json'), 'utf8')) as {
  jobId: string; canonicalSavepoint: string; retainedCheckpoints: number[];
};
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const opId = '0123456789abcdef0123456789abcdef';

describe('simulator _metadata writer', () => {
  it("appends the CheckpointProperties bytes of real Flink 1.20.3's checkpoint and canonical savepoint", () => {
    const chk = readFileSync(join(fixture, 'checkpoints', info.jobId, `chk-${info.retainedCheckpoints[0]!}`, '_metadata'));
    const sp = readFileSync(join(fixture, 'savepoints', info.canonicalSavepoint, '_metadata'));
    expect(hexOf(chk).endsWith(CHECKPOINT_PROPERTIES_HEX)).toBe(true);
    expect(hexOf(sp).endsWith(CANONICAL_SAVEPOINT_PROPERTIES_HEX)).toBe(true);
  });

  it('a checkpoint round-trips: id, incremental handle, shared absolute and private relative files', () => {
    const bytes = writeFlinkMetadata({
      kind: 'checkpoint',
      checkpointId: 17,
      operatorId: opId,
      files: [
        { ref: 'a1b2', sizeBytes: 50 },
        { ref: 's3://state/chk/job1/shared/u1', sizeBytes: 900, shared: true },
        { ref: 's3://state/chk/job1/shared/u2', sizeBytes: 950, shared: true },
        { ref: 's3://state/chk/job1/shared/m1', sizeBytes: 70 },
      ],
    });
    const meta = readFlinkMetadata(bytes, { snapshotDir: 's3://state/chk/job1/chk-17' });
    expect(meta).toMatchObject({ version: 4, checkpointId: 17, properties: { type: 'checkpoint', sharingFilesStrategy: 'FORWARD_BACKWARD' } });
    expect(meta.operators).toEqual([expect.objectContaining({ operatorId: opId, parallelism: 1, maxParallelism: 128 })]);
    expect(meta.operators[0]!.subtasks[0]!.managedKeyedState).toMatchObject({ kind: 'incremental', checkpointId: 17 });
    expect(meta.files).toEqual([
      { path: 's3://state/chk/job1/chk-17/a1b2', size: 50, scope: 'exclusive', relative: true },
      { path: 's3://state/chk/job1/shared/u1', size: 900, scope: 'shared', relative: false },
      { path: 's3://state/chk/job1/shared/u2', size: 950, scope: 'shared', relative: false },
      { path: 's3://state/chk/job1/shared/m1', size: 70, scope: 'exclusive', relative: false },
    ]);
  });

  it('a savepoint round-trips as a canonical savepoint with one subtask per file, all relative', () => {
    const bytes = writeFlinkMetadata({
      kind: 'savepoint',
      checkpointId: 3,
      operatorId: opId,
      files: [{ ref: 'f1', sizeBytes: 10 }, { ref: 'f2', sizeBytes: 20 }, { ref: 'f3', sizeBytes: 30 }],
    });
    const dir = 's3://state/sp/savepoint-0a1b2c-0123456789ab';
    const meta = readFlinkMetadata(bytes, { snapshotDir: dir });
    expect(meta.properties).toMatchObject({ type: 'savepoint', savepointFormat: 'CANONICAL' });
    const subtasks = meta.operators[0]!.subtasks;
    expect(subtasks.map((s) => s.managedKeyedState)).toEqual([
      expect.objectContaining({ kind: 'key-groups', savepoint: true, firstKeyGroup: 0, numKeyGroups: 43 }),
      expect.objectContaining({ firstKeyGroup: 43, numKeyGroups: 43 }),
      expect.objectContaining({ firstKeyGroup: 86, numKeyGroups: 42 }),
    ]);
    expect(meta.files.map((f) => [f.path, f.size, f.relative])).toEqual([[`${dir}/f1`, 10, true], [`${dir}/f2`, 20, true], [`${dir}/f3`, 30, true]]);
  });

  it('writes ids and sizes above 2^32 and non-ASCII names beyond its first buffer exactly (DataOutputStream big-endian, writeUTF)', () => {
    const big = 5 * 2 ** 40 + 12_345; // 5 TiB and change: needs both 32-bit halves
    const name = `é${'x'.repeat(3000)}`; // 3,002 UTF-8 bytes: past the writer's initial 2 KiB
    const bytes = writeFlinkMetadata({ kind: 'checkpoint', checkpointId: 2 ** 33 + 7, operatorId: opId, files: [{ ref: name, sizeBytes: big }, { ref: 's3://state/shared/u', sizeBytes: big + 1, shared: true }] });
    const meta = readFlinkMetadata(bytes, { snapshotDir: 's3://state/chk' });
    expect(meta.checkpointId).toBe(2 ** 33 + 7);
    expect(meta.files).toEqual([
      { path: `s3://state/chk/${name}`, size: big, scope: 'exclusive', relative: true },
      { path: 's3://state/shared/u', size: big + 1, scope: 'shared', relative: false },
    ]);
    // writeUTF: a 2-byte big-endian length, then UTF-8 ('é' is 0xc3 0xa9).
    const at = Buffer.from(bytes).indexOf(Buffer.from(name, 'utf8'));
    expect([bytes[at - 2], bytes[at - 1], bytes[at], bytes[at + 1]]).toEqual([3002 >> 8, 3002 & 0xff, 0xc3, 0xa9]);
  });

  it('refuses what Flink would not write, naming the value', () => {
    expect(() => writeFlinkMetadata({ kind: 'savepoint', checkpointId: 1, operatorId: opId, files: [{ ref: 's3://b/x', sizeBytes: 1 }] })).toThrow(/s3:\/\/b\/x must be relative/);
    expect(() => writeFlinkMetadata({ kind: 'checkpoint', checkpointId: 1, operatorId: 'xyz', files: [{ ref: 'a', sizeBytes: 1 }] })).toThrow(/"xyz"/);
    expect(() => writeFlinkMetadata({ kind: 'checkpoint', checkpointId: 1, operatorId: opId, files: [{ ref: 's3://b/s', sizeBytes: 1, shared: true }] })).toThrow(/private/);
    expect(() => writeFlinkMetadata({ kind: 'checkpoint', checkpointId: 1, operatorId: opId, files: [] })).toThrow(/at least one file/);
  });
});

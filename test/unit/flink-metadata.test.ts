/**
 * The `_metadata` reader against snapshots made by real Flink (scripts/flink-fixtures.sh):
 * the committed ones under test/fixtures/flink/<version>/ and, when AZ_EVAC_FLINK_FIXTURES_DIR
 * names the output directory of a fresh run of the script, those too (Flink's output is not
 * byte-stable: what is read is compared, never bytes). Plus refusals on hand-made bytes.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  assertRelocatable,
  FLINK_METADATA_MAGIC,
  FlinkMetadataError,
  readFlinkMetadata,
  type FlinkSnapshotMetadata,
  type KeyedHandle,
} from '../../domain/flink-metadata.js';
import { readSnapshotFiles } from '../../domain/snapshot-layout.js';
import { allFixtures, committedFixtures, freshFixtures, freshFixturesRoot, type Fixture } from './fixtures/flink.js';

const committed = committedFixtures;
const freshRoot = freshFixturesRoot;
const fresh = freshFixtures;
const all = allFixtures;

/** The format version each Flink line writes (Checkpoints.storeCheckpointMetadata of that release). */
function expectedFormat(flinkVersion: string): number | undefined {
  if (/^1\.(19|20)\./.test(flinkVersion)) return 4;
  if (/^2\.0\./.test(flinkVersion)) return 5;
  if (/^2\.1\./.test(flinkVersion)) return 6;
  return undefined;
}

/** A path as the fixture directory has it: `file:` URIs under `writtenUnder` are mapped into `fx.dir`. */
function local(fx: Fixture, path: string): string {
  if (!path.startsWith('file:')) return path;
  const abs = fileURLToPath(new URL(path));
  const under = fileURLToPath(new URL(fx.info.writtenUnder)).replace(/\/+$/, '');
  expect(abs.startsWith(`${under}/`), `${path} is not under ${fx.info.writtenUnder}`).toBe(true);
  return join(fx.dir, abs.slice(under.length));
}

function read(fx: Fixture, snapshotDir: string): FlinkSnapshotMetadata {
  return readFlinkMetadata(readFileSync(join(snapshotDir, '_metadata')), { snapshotDir });
}

function keyedHandles(meta: FlinkSnapshotMetadata): KeyedHandle[] {
  return meta.operators.flatMap((o) => o.subtasks.flatMap((s) => (s.managedKeyedState ? [s.managedKeyedState] : [])));
}

function expectAllFilesPresent(fx: Fixture, meta: FlinkSnapshotMetadata): void {
  expect(meta.files.length).toBeGreaterThan(0);
  for (const f of meta.files) {
    const p = local(fx, f.path);
    expect(existsSync(p), `${f.path} (${p}) is missing`).toBe(true);
    expect(statSync(p).size, `${f.path} size`).toBe(f.size);
  }
}

describe('committed real-Flink fixtures', () => {
  it('cover Flink 1.19, 1.20, 2.0 and 2.1', () => {
    const versions = committed.map((f) => f.info.flinkVersion);
    expect(versions.some((v) => v.startsWith('1.19.'))).toBe(true);
    expect(versions.some((v) => v.startsWith('1.20.'))).toBe(true);
    expect(versions.some((v) => v.startsWith('2.0.'))).toBe(true);
    expect(versions.some((v) => v.startsWith('2.1.'))).toBe(true);
  });

  it.runIf(freshRoot !== undefined)('the fresh output named by AZ_EVAC_FLINK_FIXTURES_DIR holds fixtures', () => {
    expect(fresh.length, `no <version>/fixture.json under ${freshRoot}`).toBeGreaterThan(0);
  });
});

describe.each(all)('Flink _metadata of $label', (fx) => {
  const jobDir = join(fx.dir, 'checkpoints', fx.info.jobId);
  const format = expectedFormat(fx.info.flinkVersion);

  it.each(fx.info.retainedCheckpoints)('incremental checkpoint chk-%i: id, properties, shared files, every file present', (n) => {
    const dir = join(jobDir, `chk-${n}`);
    const meta = read(fx, dir);
    if (format !== undefined) expect(meta.version).toBe(format);
    expect(meta.checkpointId).toBe(n);
    expect(meta.properties).toMatchObject({ type: 'checkpoint', sharingFilesStrategy: 'FORWARD_BACKWARD' });
    expect(meta.operators).toHaveLength(3);
    const keyed = keyedHandles(meta);
    expect(keyed.map((k) => k.kind)).toEqual(['incremental']);
    const shared = meta.files.filter((f) => f.scope === 'shared');
    expect(shared.length).toBeGreaterThan(0);
    for (const f of shared) {
      expect(f.relative).toBe(false);
      expect(f.path).toMatch(new RegExp(`/checkpoints/${fx.info.jobId}/shared/[0-9a-f-]{36}$`));
    }
    expectAllFilesPresent(fx, meta);
    // The checkpoint's own files are relative (resolved against where it was read), shared/ ones absolute.
    expect(meta.files.filter((f) => f.scope === 'exclusive' && f.relative).length).toBeGreaterThan(0);
    // Files of the job only: the checkpoint's own directory and the job's shared/ directory.
    const base = fx.info.writtenUnder.replace(/^file:\/\//, 'file:').replace(/\/+$/, '');
    const prefixes = [dir, `${base}/checkpoints/${fx.info.jobId}/shared`];
    expect(() => assertRelocatable(meta, { prefixes, where: dir })).not.toThrow();
    expect(() => assertRelocatable(meta, { prefixes: [dir, `${base}/checkpoints/${'0'.repeat(32)}/shared`], where: dir })).toThrow(
      expect.objectContaining({ code: 'not-relocatable' }),
    );
  });

  it('canonical savepoint: savepoint properties, key-group handle, only relative exclusive files', () => {
    const dir = join(fx.dir, 'savepoints', fx.info.canonicalSavepoint);
    const meta = read(fx, dir);
    if (format !== undefined) expect(meta.version).toBe(format);
    expect(meta.properties).toMatchObject({ type: 'savepoint', savepointFormat: 'CANONICAL', postCheckpointAction: 'NONE' });
    expect(keyedHandles(meta)).toEqual([expect.objectContaining({ kind: 'key-groups', savepoint: true })]);
    expect(meta.files.every((f) => f.relative && f.scope === 'exclusive')).toBe(true);
    expectAllFilesPresent(fx, meta);
    expect(() => assertRelocatable(meta, { prefixes: [dir], where: dir })).not.toThrow();
  });

  it('native savepoint: NATIVE, incremental handle whose shared files live in the savepoint directory', () => {
    const dir = join(fx.dir, 'savepoints', fx.info.nativeSavepoint);
    const meta = read(fx, dir);
    expect(meta.properties).toMatchObject({ type: 'savepoint', savepointFormat: 'NATIVE' });
    expect(keyedHandles(meta).map((k) => k.kind)).toEqual(['incremental']);
    expect(meta.files.some((f) => f.scope === 'shared')).toBe(true);
    expect(meta.files.every((f) => f.relative && f.path.startsWith(`${dir}/`))).toBe(true);
    expectAllFilesPresent(fx, meta);
  });

  it('savepoints relocate: relative handles resolve against wherever the directory is read from', () => {
    const name = fx.info.nativeSavepoint;
    const bytes = readFileSync(join(fx.dir, 'savepoints', name, '_metadata'));
    const copy = `s3://az-b-snapshots/savepoints/${name}`;
    const meta = readFlinkMetadata(bytes, { snapshotDir: copy });
    expect(meta.files.every((f) => f.path.startsWith(`${copy}/`))).toBe(true);
    expect(() => assertRelocatable(meta, { prefixes: [copy], where: copy })).not.toThrow();
  });

  it.runIf(format !== undefined && format >= 5)('format 5+: operators carry the uids the job set', () => {
    const meta = read(fx, join(jobDir, `chk-${fx.info.retainedCheckpoints.at(-1)!}`));
    expect(meta.operators.map((o) => o.uid).sort()).toEqual(['count-per-key', 'discard', 'numbers']);
  });

  it('inline byte handles are not reported as files', () => {
    const meta = read(fx, join(jobDir, `chk-${fx.info.retainedCheckpoints.at(-1)!}`));
    const keyed = keyedHandles(meta)[0]!;
    if (keyed.kind !== 'incremental') throw new Error('expected an incremental handle');
    const inline = [...keyed.shared, ...keyed.private].filter((h) => h.handle?.kind === 'bytes');
    expect(inline.length).toBeGreaterThan(0); // CURRENT and MANIFEST are below the 100-byte inline threshold
    const paths = new Set(meta.files.map((f) => f.path));
    for (const h of inline) expect(paths.has((h.handle as { name: string }).name)).toBe(false);
  });

  it('a truncated _metadata is corrupt, not a smaller snapshot', () => {
    const bytes = readFileSync(join(fx.dir, 'savepoints', fx.info.canonicalSavepoint, '_metadata'));
    for (const cut of [10, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect(() => readFlinkMetadata(bytes.subarray(0, cut), { snapshotDir: '/sp' }), `cut at ${cut}`).toThrow(
        expect.objectContaining({ code: 'corrupt', retryable: false }),
      );
    }
  });
});

/** Big-endian writer for hand-made metadata in the refusal tests. */
function bytesOf(parts: [('i8' | 'i32' | 'i64' | 'utf'), number | string][]): Uint8Array {
  const chunks: number[] = [];
  for (const [t, v] of parts) {
    const b = new DataView(new ArrayBuffer(8));
    if (t === 'i8') chunks.push(Number(v) & 0xff);
    else if (t === 'i32') {
      b.setInt32(0, Number(v));
      chunks.push(...new Uint8Array(b.buffer, 0, 4));
    } else if (t === 'i64') {
      b.setBigInt64(0, BigInt(v));
      chunks.push(...new Uint8Array(b.buffer, 0, 8));
    } else {
      const s = Buffer.from(String(v), 'utf8');
      chunks.push(s.length >> 8, s.length & 0xff, ...s);
    }
  }
  return Uint8Array.from(chunks);
}

/** A v3 `_metadata` with one operator whose one subtask has keyed state `keyed`. */
function v3With(keyed: [('i8' | 'i32' | 'i64' | 'utf'), number | string][]): Uint8Array {
  return bytesOf([
    ['i32', FLINK_METADATA_MAGIC], ['i32', 3], ['i64', 42], ['i32', 0], ['i32', 1],
    ['i64', 1], ['i64', 2], ['i32', 1], ['i32', 128], ['i8', 0], ['i32', 1],
    ['i32', 0], ['i32', 0], ['i32', 0], ...keyed, ['i8', 0], ['i32', 0], ['i32', 0],
  ]);
}

describe('readFlinkMetadata refusals', () => {
  it('reads a minimal hand-made v3 file (no properties) with a relative savepoint handle', () => {
    const meta = readFlinkMetadata(
      v3With([['i8', 7], ['i32', 0], ['i32', 1], ['i64', 0], ['i8', 6], ['utf', 'abc'], ['i64', 10]]),
      { snapshotDir: 's3://b/sp/savepoint-aaaaaa-bbbbbbbbbbbb/' },
    );
    expect(meta).toMatchObject({ version: 3, checkpointId: 42 });
    expect(meta.properties).toBeUndefined();
    expect(meta.operators[0]!.operatorId).toBe('00000000000000010000000000000002');
    expect(meta.files).toEqual([{ path: 's3://b/sp/savepoint-aaaaaa-bbbbbbbbbbbb/abc', size: 10, scope: 'exclusive', relative: true }]);
  });

  it('refuses a file that is not Flink metadata', () => {
    expect(() => readFlinkMetadata(new TextEncoder().encode('{"files":[]}'), { snapshotDir: 's3://b/chk-1' })).toThrow(
      expect.objectContaining({ code: 'not-metadata', message: expect.stringContaining('s3://b/chk-1/_metadata') }),
    );
  });

  it.each([1, 2, 7, 99])('refuses format version %i non-retryably, naming it', (version) => {
    const bytes = v3With([['i8', 0]]);
    new DataView(bytes.buffer).setInt32(4, version);
    let caught: unknown;
    try {
      readFlinkMetadata(bytes, { snapshotDir: 's3://b/chk-1' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FlinkMetadataError);
    expect(caught).toMatchObject({ code: 'unsupported-version', retryable: false });
    expect((caught as Error).message).toContain(`format version ${version} is not supported`);
  });

  it('refuses an unknown keyed state handle type, naming it', () => {
    expect(() => readFlinkMetadata(v3With([['i8', 99]]), { snapshotDir: 's3://b/chk-1' })).toThrow(
      expect.objectContaining({ code: 'unknown-handle', message: expect.stringMatching(/unknown keyed state handle type 99 at offset \d+/) }),
    );
  });

  it('refuses an unknown stream handle type inside a known keyed handle', () => {
    const bytes = v3With([['i8', 12], ['i32', 0], ['i32', 1], ['i64', 0], ['i8', 42]]);
    expect(() => readFlinkMetadata(bytes, { snapshotDir: 's3://b/chk-1' })).toThrow(/unknown stream state handle type 42/);
  });

  it('refuses trailing bytes', () => {
    const ok = v3With([['i8', 0]]);
    const longer = Uint8Array.from([...ok, 0]);
    expect(() => readFlinkMetadata(longer, { snapshotDir: 's3://b/chk-1' })).toThrow(/1 unexpected trailing bytes/);
  });
});

describe('assertRelocatable', () => {
  const files = (...paths: string[]) => ({ files: paths.map((path) => ({ path, size: 1, scope: 'exclusive' as const, relative: false })) });
  const prefixes = ['s3://b/checkpoints/job1/chk-3', 's3://b/checkpoints/job1/shared'];

  it('accepts files under the job prefixes only (a prefix is a directory, not a string prefix)', () => {
    expect(() => assertRelocatable(files('s3://b/checkpoints/job1/chk-3/x', 's3://b/checkpoints/job1/shared/y'), { prefixes, where: 'w' })).not.toThrow();
    expect(() => assertRelocatable(files('s3://b/checkpoints/job1/chk-30/x'), { prefixes, where: 'w' })).toThrow(/not relocatable/);
  });

  it('refuses entropy-injected paths (outside the prefixes) naming the first and the count', () => {
    const entropy = files('s3://b/a9Xk/checkpoints/job1/chk-3/x', 's3://b/Q2rT/checkpoints/job1/shared/y', 's3://b/checkpoints/job1/shared/z');
    expect(() => assertRelocatable(entropy, { prefixes, where: 's3://b/checkpoints/job1/chk-3' })).toThrow(
      expect.objectContaining({
        code: 'not-relocatable',
        message: expect.stringMatching(/references s3:\/\/b\/a9Xk\/checkpoints\/job1\/chk-3\/x \(2 of 3 files like it\).*s3\.entropy\.key/),
      }),
    );
  });

  it('refuses a path still holding the entropy key placeholder', () => {
    const withKey = files('s3://b/checkpoints/job1/shared/_entropy_/y');
    expect(() => assertRelocatable(withKey, { prefixes, entropyKey: '_entropy_', where: 'w' })).toThrow(/contains the entropy key "_entropy_"/);
  });
});

describe('readSnapshotFiles (what the S3 lookup reads)', () => {
  const fx = committed.find((f) => f.info.flinkVersion.startsWith('2.1.'))!;

  it("lists a real savepoint's files as s3:// URIs in the directory it was read from", () => {
    const dirKey = `savepoints/payments/enricher/${fx.info.nativeSavepoint}`;
    const bytes = readFileSync(join(fx.dir, 'savepoints', fx.info.nativeSavepoint, '_metadata'));
    const { files } = readSnapshotFiles(bytes, { bucket: 'az-b-state', dirKey });
    expect(files.length).toBeGreaterThan(2);
    expect(files.every((f) => f.startsWith(`s3://az-b-state/${dirKey}/`))).toBe(true);
  });

  it("gives a real savepoint's state size as the bytes of the files it references on disk (what the RTO estimate restores)", () => {
    const dir = join(fx.dir, 'savepoints', fx.info.nativeSavepoint);
    const dirKey = `savepoints/payments/enricher/${fx.info.nativeSavepoint}`;
    const { files, stateBytes } = readSnapshotFiles(readFileSync(join(dir, '_metadata')), { bucket: 'az-b-state', dirKey });
    const onDisk = files.reduce((n, f) => n + statSync(join(dir, f.slice(`s3://az-b-state/${dirKey}/`.length))).size, 0);
    expect(stateBytes).toBeGreaterThan(0);
    expect(stateBytes).toBe(onDisk);
  });

  it("refuses a real checkpoint whose shared files lie outside the job's directories (here file: paths)", () => {
    const n = fx.info.retainedCheckpoints.at(-1)!;
    const bytes = readFileSync(join(fx.dir, 'checkpoints', fx.info.jobId, `chk-${n}`, '_metadata'));
    expect(() => readSnapshotFiles(bytes, { bucket: 'b', dirKey: `checkpoints/x/${fx.info.jobId}/chk-${n}` })).toThrow(
      expect.objectContaining({ code: 'not-relocatable', message: expect.stringContaining('references file:/') }),
    );
  });

  it('refuses bytes that are not Flink metadata (a JSON stand-in), non-retryable, naming the file', () => {
    expect(() => readSnapshotFiles(new TextEncoder().encode('{"files":["d1"]}'), { bucket: 'b', dirKey: 'sp/savepoint-aaaaaa-bbbbbbbbbbbb' })).toThrow(
      expect.objectContaining({ code: 'not-metadata', retryable: false, message: expect.stringContaining('s3://b/sp/savepoint-aaaaaa-bbbbbbbbbbbb/_metadata') }),
    );
  });
});

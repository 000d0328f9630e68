/**
 * In-memory S3-like object store of one AZ: buckets → keys → object metadata (and a
 * small body for `_metadata` files). Keys are indexed by directory (split on `/`) so a put,
 * get or delete is one Map lookup and a prefix listing costs the size of the answer, not of
 * the bucket (5,000 jobs × snapshots × 2 AZs).
 *
 * Listing follows ListObjectsV2 semantics (the S3 adapter implements the same port over
 * real S3): keys in lexicographic order, optional `/` delimiter rolling keys up into
 * common prefixes, `maxKeys` counting keys and common prefixes together, and an opaque
 * continuation token. Only `/` is supported as a delimiter.
 */
import { PlatformError } from '../platform/errors.js';

/** One stored object. `body` only for small objects (`_metadata`: Flink's binary format, see flink-metadata.ts). */
export interface StoredObject {
  sizeBytes: number;
  /** `sha256:<64 hex>` when known (jars). */
  digest?: string;
  lastModifiedEpochSeconds: number;
  body?: string | Uint8Array;
  /** S3 user metadata (x-amz-meta-…), e.g. a shipped `_metadata`'s source and completion time (simulator/protection.ts). */
  userMetadata?: Record<string, string>;
}

/** A listed object (no body). */
export interface ListedObject {
  key: string;
  sizeBytes: number;
  digest?: string;
  lastModifiedEpochSeconds: number;
}

/** ListObjectsV2-like request. */
export interface ListRequest {
  prefix?: string;
  /** Only `/` (or none). */
  delimiter?: string;
  /** 1..1000, default 1000. */
  maxKeys?: number;
  /** Token from a previous truncated answer. */
  continuationToken?: string;
  /** List keys strictly after this key (ignored when a continuation token is given). */
  startAfter?: string;
}

/** ListObjectsV2-like answer. */
export interface ListResult {
  contents: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

/** A directory: its files by name and the names of its subdirectories. */
interface Dir {
  files: Map<string, StoredObject>;
  dirs: Set<string>;
}

/** Directories by path (`''` root, `a/`, `a/b/`): one Map lookup per put/get/delete. */
interface Bucket {
  dirs: Map<string, Dir>;
  count: number;
}

type Entry = { sortKey: string; file?: StoredObject; path: string; isDir: boolean };

const newDir = (): Dir => ({ files: new Map(), dirs: new Set() });

/** `a/b/c` → [`a/b/`, `c`]. */
function splitKey(key: string): [string, string] {
  const i = key.lastIndexOf('/');
  return [key.slice(0, i + 1), key.slice(i + 1)];
}

/** Children of `dir` (full paths under `base`) whose names start with `partial`, sorted like S3. */
function children(dir: Dir, base: string, partial: string): Entry[] {
  const out: Entry[] = [];
  for (const [name, file] of dir.files) if (name.startsWith(partial)) out.push({ sortKey: base + name, file, path: base + name, isDir: false });
  for (const name of dir.dirs) if (name.startsWith(partial)) out.push({ sortKey: `${base}${name}/`, path: `${base}${name}/`, isDir: true });
  return out.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
}

/**
 * Told of every change of one AZ's ObjectStore, after it is made — e.g. to write it
 * through to a real S3 server (s3-mirror.ts). Must not throw.
 */
export interface ObjectStoreObserver {
  created(bucket: string): void;
  put(bucket: string, key: string, obj: StoredObject): void;
  deleted(bucket: string, key: string): void;
}

/** The object store of one AZ. */
export class ObjectStore {
  private readonly buckets = new Map<string, Bucket>();

  /** @param observer told of every bucket creation, put and delete (not of `silent` puts) */
  constructor(private readonly observer?: ObjectStoreObserver) {}

  /** Create a bucket (no-op when it exists). */
  createBucket(name: string): void {
    if (this.buckets.has(name)) return;
    this.buckets.set(name, { dirs: new Map([['', newDir()]]), count: 0 });
    this.observer?.created(name);
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** Objects stored in every bucket. */
  objectCount(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.count;
    return n;
  }

  /**
   * Write (or overwrite) an object. `silent`: do not tell the observer (the object is
   * already where the observer would write it, e.g. read back from S3).
   * @throws PlatformError('not-found') when the bucket does not exist.
   */
  put(bucket: string, key: string, obj: StoredObject, opts: { silent?: boolean } = {}): void {
    const b = this.bucket(bucket);
    const [dirPath, name] = splitKey(key);
    const dir = b.dirs.get(dirPath) ?? this.makeDir(b, dirPath);
    if (!dir.files.has(name)) b.count++;
    dir.files.set(name, obj);
    if (!opts.silent) this.observer?.put(bucket, key, obj);
  }

  /** The object, or undefined when it or its bucket is absent. */
  get(bucket: string, key: string): StoredObject | undefined {
    const [dirPath, name] = splitKey(key);
    return this.buckets.get(bucket)?.dirs.get(dirPath)?.files.get(name);
  }

  /** Delete an object; empty directories are pruned. @returns whether it existed. */
  delete(bucket: string, key: string): boolean {
    const b = this.buckets.get(bucket);
    let [dirPath, name] = splitKey(key);
    let dir = b?.dirs.get(dirPath);
    if (!b || !dir?.files.delete(name)) return false;
    b.count--;
    this.observer?.deleted(bucket, key);
    while (dirPath !== '' && dir.files.size === 0 && dir.dirs.size === 0) {
      b.dirs.delete(dirPath);
      [dirPath, name] = splitKey(dirPath.slice(0, -1));
      dir = b.dirs.get(dirPath)!;
      dir.dirs.delete(name);
    }
    return true;
  }

  /**
   * List keys like ListObjectsV2.
   * @throws PlatformError('not-found') for a missing bucket, ('invalid') for a delimiter
   *   other than `/`, a maxKeys outside 1..1000 or a malformed continuation token.
   */
  list(bucket: string, req: ListRequest = {}): ListResult {
    const b = this.bucket(bucket);
    const prefix = req.prefix ?? '';
    const maxKeys = req.maxKeys ?? 1000;
    if (req.delimiter !== undefined && req.delimiter !== '/') {
      throw new PlatformError('invalid', `list ${bucket}: delimiter ${JSON.stringify(req.delimiter)} is not supported; use "/" or none`, false);
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) {
      throw new PlatformError('invalid', `list ${bucket}: maxKeys ${maxKeys} must be an integer in 1..1000`, false);
    }
    const after = req.continuationToken !== undefined ? decodeToken(req.continuationToken) : (req.startAfter ?? '');
    const [base, partial] = splitKey(prefix);
    const result: ListResult = { contents: [], commonPrefixes: [], isTruncated: false };
    const start = b.dirs.get(base);
    if (!start) return result;
    let emitted = 0;
    let last = '';
    const emit = (e: Entry): boolean => {
      if (emitted === maxKeys) {
        result.isTruncated = true;
        result.nextContinuationToken = encodeToken(last);
        return false;
      }
      if (e.isDir) result.commonPrefixes.push(e.path);
      else result.contents.push({ key: e.path, sizeBytes: e.file!.sizeBytes, digest: e.file!.digest, lastModifiedEpochSeconds: e.file!.lastModifiedEpochSeconds });
      emitted++;
      last = e.path;
      return true;
    };
    const visit = (dir: Dir, dirBase: string, part: string): boolean => {
      for (const e of children(dir, dirBase, part)) {
        if (!e.isDir || req.delimiter === '/') {
          if (e.path > after && !emit(e)) return false;
        } else if (!(after >= e.path && !after.startsWith(e.path))) {
          if (!visit(b.dirs.get(e.path)!, e.path, '')) return false;
        }
      }
      return true;
    };
    visit(start, base, partial);
    return result;
  }

  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw new PlatformError('not-found', `bucket ${name} does not exist in this AZ's object store`, false);
    return b;
  }

  /** Create directory `path` (ending in `/`) and any missing parents. */
  private makeDir(b: Bucket, path: string): Dir {
    const [parentPath, name] = splitKey(path.slice(0, -1));
    const parent = b.dirs.get(parentPath) ?? this.makeDir(b, parentPath);
    parent.dirs.add(name);
    const dir = newDir();
    b.dirs.set(path, dir);
    return dir;
  }
}

function encodeToken(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw new PlatformError('invalid', `continuationToken ${JSON.stringify(token)} is malformed; pass nextContinuationToken from the previous answer`, false);
}

/**
 * Atomic JSON file helpers for the file-backed stores: write to a temp file, then rename,
 * so a crash never leaves a half-written file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PlatformError } from './errors.js';

/** Write `value` as JSON to `file` atomically, creating parent directories. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeTextAtomic(file, JSON.stringify(value));
}

/** Write `text` (UTF-8) to `file` atomically, creating parent directories. */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/**
 * Read and parse a JSON file.
 * @throws PlatformError('not-found') when the file does not exist (message names `what` and the file)
 */
export async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PlatformError('not-found', `${what} not found at ${file}`, false);
    }
    throw err;
  }
  return JSON.parse(text) as T;
}

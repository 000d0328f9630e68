/**
 * ReportStore on a directory (the demo and tests): `<dir>/<name>`, written atomically. A
 * report's reference is its absolute path, so people can open it on the worker's host.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { PlatformError } from './errors.js';
import { writeTextAtomic } from './json-files.js';
import type { ReportStore } from './ports.js';

export class FileReportStore implements ReportStore {
  /** @param dir directory of the reports (created on first put) */
  constructor(private readonly dir: string) {}

  refOf(name: string): string {
    return resolve(this.dir, encodeURIComponent(name));
  }

  async put(name: string, body: string): Promise<string> {
    const file = this.refOf(name);
    await writeTextAtomic(file, body);
    return file;
  }

  async read(ref: string): Promise<string> {
    const file = isAbsolute(ref) ? ref : join(resolve(this.dir), ref);
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PlatformError('not-found', `report ${ref} not found (file store ${resolve(this.dir)})`, false);
      throw err;
    }
  }
}

/**
 * CatalogStore on a directory: `<dir>/catalog-<version>.json` plus `latest.json` naming
 * the newest version. In production the directory is replicated to every AZ (or the
 * store is an object-store bucket per AZ); here it is the local state directory.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog } from '../domain/types.js';
import type { CatalogStore } from './ports.js';
import { readJson, writeJsonAtomic } from './json-files.js';

export class FileCatalogStore implements CatalogStore {
  private readonly cache = new Map<number, Catalog>();

  /** @param dir directory holding the catalog files (created on first put) */
  constructor(private readonly dir: string) {}

  async put(catalog: Catalog): Promise<void> {
    await writeJsonAtomic(join(this.dir, `catalog-${catalog.version}.json`), catalog);
    await writeJsonAtomic(join(this.dir, 'latest.json'), { version: catalog.version });
    this.cache.set(catalog.version, catalog);
  }

  async latest(): Promise<Catalog | null> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return null;
    }
    if (!names.includes('latest.json')) return null;
    const { version } = await readJson<{ version: number }>(join(this.dir, 'latest.json'), 'catalog pointer');
    return this.get(version);
  }

  async get(version: number): Promise<Catalog> {
    const hit = this.cache.get(version);
    if (hit) return hit;
    const catalog = await readJson<Catalog>(join(this.dir, `catalog-${version}.json`), `catalog version ${version}`);
    this.cache.set(version, catalog);
    return catalog;
  }
}

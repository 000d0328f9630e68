#!/usr/bin/env node
/**
 * Refresh test/setup/file-durations.json, the expected test time per file (ms) that
 * test/setup/lane-sequencer.ts orders files by when vitest's results cache has none (a fresh
 * clone, CI). Reads vitest's results cache of the last run (node_modules/.vite/vitest/<hash>/results.json,
 * or the file given) and keeps the table's entries for files that run did not cover.
 * Run it after a full `npm test` on the 2-core machine, and commit the table.
 * Usage: node scripts/test-durations.mjs [results.json]
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const table = join(root, 'test/setup/file-durations.json');
const cacheDir = join(root, 'node_modules/.vite/vitest');
const source = process.argv[2] ?? (existsSync(cacheDir) ? readdirSync(cacheDir).map((d) => join(cacheDir, d, 'results.json')).find(existsSync) : undefined);
if (!source) {
  console.error(`no vitest results cache under ${cacheDir}. Fix: run npm test first, or pass a results.json`);
  process.exit(2);
}
const results = JSON.parse(readFileSync(source, 'utf8'));
const durations = existsSync(table) ? JSON.parse(readFileSync(table, 'utf8')) : {};
let updated = 0;
for (const project of Object.values(results.projects ?? {})) {
  for (const [file, r] of Object.entries(project.files ?? {})) {
    if (r.failed || !(r.duration > 0)) continue;
    durations[file] = Math.round(r.duration);
    updated += 1;
  }
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(table, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`${table}: ${updated} file(s) updated from ${source}, ${Object.keys(sorted).length} in all`);

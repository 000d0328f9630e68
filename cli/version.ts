/**
 * `az-evac --version`: this package's version, the Temporal TypeScript SDK's and Node's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The az-evac package.json above this module: `../package.json` from cli/ in the source tree,
 * `../../package.json` from dist/cli/ in the compiled build and the image.
 * @throws Error when no package.json named az-evac is found up to the file system root
 */
function ownPackage(): { version: string } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'az-evac') return pkg;
    } catch {
      // no package.json here: one level up
    }
    if (dirname(dir) === dir) throw new Error(`no az-evac package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

/** e.g. `0.1.0 (Temporal TypeScript SDK 1.24.0, Node v24.19.0)`. */
export function versionText(): string {
  const sdk = (createRequire(import.meta.url)('@temporalio/client/package.json') as { version: string }).version;
  return `${ownPackage().version} (Temporal TypeScript SDK ${sdk}, Node ${process.version})`;
}

/**
 * Refuses to go on under a Node older than MIN_NODE (package.json's `engines.node` floor),
 * naming the version found and the fix, instead of letting a dependency fail later with an
 * unrelated error (under Node 20, undici 8 inside @kubernetes/client-node 2 dies on import
 * with "Cannot read properties of undefined (reading 'bind')").
 *
 * Import it for its effect, FIRST among a program's imports (ES modules evaluate their
 * imports in order, so this runs before the others load): cli/main.ts and vitest.config.ts.
 * On a Node that is too old it prints the reason on stderr and exits with status 1.
 * `./npmw` (scripts/node.sh) puts a new enough Node first on PATH.
 * The floor is a constant, not read from package.json, because the compiled CLI (dist/) has
 * no package.json beside it; test/unit/require-node.test.ts keeps the two equal.
 */

/**
 * Lowest supported Node, [major, minor]: package.json's engines.node is `>=${MIN_NODE.join('.')}`.
 * The highest floor among the runtime dependencies: undici 8 (inside @kubernetes/client-node 2)
 * declares node >=22.19.0; commander 15 >=22.12.0; vega-lite 6.5 and cookie 2 >=22.
 */
export const MIN_NODE: readonly [number, number] = [22, 19];

/** The problem with running under `version` (e.g. "20.20.2"), or undefined when it is supported. */
export function nodeVersionProblem(version: string, min: readonly [number, number] = MIN_NODE): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [wantMajor, wantMinor] = min;
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) return undefined;
  return (
    `az-evac needs Node >= ${wantMajor}.${wantMinor}, this is Node ${version} (${process.execPath}). ` +
    `Fix: run through ./npmw (e.g. ./npmw test, ./npmw run az-evac -- demo, ./npmw exec -- vitest run FILE), ` +
    `which installs Node 24 into ~/.cache/az-evac once, or put a Node >= ${wantMajor}.${wantMinor} first on PATH.`
  );
}

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}

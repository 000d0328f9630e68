// ESLint flat config. TypeScript gets typescript-eslint's recommended rules plus the
// type-aware no-floating-promises (an un-awaited activity call or server-side apply is a bug).
// workflows/** additionally gets the Temporal workflow sandbox rules (docs/design.md#workflow-determinism).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

export default defineConfig([
  globalIgnores(['node_modules/', 'dist/', 'vendor/', '.az-evac/', 'coverage/', 'out/', '.cache/']),

  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'module',
      // Plain JS here runs on Node: allow the globals of the Node that runs ESLint
      // (the `globals` package is not a dependency).
      globals: Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly'])),
    },
  },

  {
    // The console page's scripts run in the browser.
    files: ['console/public/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'location', 'EventSource', 'Node', 'HTMLElement'].map((name) => [name, 'readonly'])),
    },
  },

  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // A leading underscore marks a parameter a signature requires but the body does not use
      // (e.g. Update validators, port implementations).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  {
    // Production code (ports, adapters, engine, clients, console, worker) never depends on the
    // lab: the simulator is one more platform behind the ports (platform/simulator-client talks
    // to it over HTTP only) and the dev-server launchers are for the demo, tests and benchmarks.
    files: ['domain/**/*.ts', 'platform/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts', 'worker/**/*.ts', 'client/**/*.ts', 'console/**/*.ts', 'config/**/*.ts'],
    ignores: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/simulator', '**/simulator/**', '**/launchers', '**/launchers/**'],
              message: 'Production code does not import the lab (simulator/, launchers/): go through platform/ ports.',
            },
          ],
        },
      ],
    },
  },

  {
    // Workflow code runs in Temporal's deterministic sandbox and is replayed from history:
    // it may import domain/ and @temporalio/workflow, and activities only as types
    // (`proxyActivities<typeof activities>()`).
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflows run in a sandbox without Node built-ins: do I/O in an activity.',
            })),
            ...['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'].map(
              (name) => ({
                name,
                message: 'Workflow code may import only @temporalio/workflow (and @temporalio/common) from the SDK.',
              }),
            ),
          ],
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflows run in a sandbox without Node built-ins: do I/O in an activity.',
            },
            {
              group: ['@kubernetes/*', '@aws-sdk/*', '@smithy/*'],
              message: 'Cloud clients do I/O: call them from an activity via platform/ ports.',
            },
            {
              group: ['**/activities', '**/activities/**', '**/platform', '**/platform/**'],
              allowTypeImports: true,
              message:
                "Import activities/platform as types only (`import type ...`) and call activities through proxyActivities.",
            },
            {
              group: ['**/worker', '**/worker/**', '**/cli', '**/cli/**'],
              message: 'Nothing imports worker/ or cli/ (docs/design.md#shape-of-the-code: arrows point down).',
            },
            {
              group: ['**/simulator', '**/simulator/**', '**/launchers', '**/launchers/**'],
              message: 'Production code does not import the lab (simulator/, launchers/): go through platform/ ports.',
            },
          ],
        },
      ],
      // Math.random would differ on replay. Date and Date.now() are safe: the sandbox replaces
      // them with the deterministic workflow-task time, so they are not forbidden here.
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Not replay-safe: use uuid4() from @temporalio/workflow, or pass randomness in.',
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'setTimeout',
          message: 'Use sleep() from @temporalio/workflow: a durable, cancellable timer in history.',
        },
        {
          name: 'setInterval',
          message: 'Use a loop with sleep() from @temporalio/workflow.',
        },
        {
          name: 'process',
          message: 'The environment is not replay-safe: pass settings in the workflow input.',
        },
      ],
    },
  },
]);

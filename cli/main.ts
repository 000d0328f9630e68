/**
 * Entry of the az-evac command (bin/az-evac.mjs imports it): runs cli/program.ts over this
 * process's terminal and environment and exits with its code (cli/exit-codes.ts).
 */
import '../config/require-node.js'; // first: a clear error on a Node older than package.json's engines
import { createInterface } from 'node:readline/promises';
import { runCli } from './program.js';

// A reader that stops early (`az-evac list | head`) closes the pipe: stop quietly instead of an unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  ask: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
});

/**
 * `az-evac protect status` and `az-evac protect run`: continuous protection for the on-call
 * engineer (docs/protection.md). `status` assesses every job of the newest catalog against
 * tiers.yaml `protection` without acting (the protectionStatus workflow: per tier the RPO an
 * evacuation would pay now, the unprotected jobs with why, what a pass would do, the last pass);
 * `run` runs one protection pass now (protectFleet, the workflow of the `az-evac-protection`
 * schedule) with its progress on stderr, then its summary. Exit codes as the rest of the CLI
 * (cli/exit-codes.ts): 0 done; 1 a pass that ran with failures (a savepoint or copy that failed
 * after its retries); 2 bad input (no catalog yet, a bad setting); 3 Temporal unreachable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import type { EvacuationClient } from '../client/evacuation-client.js';
import type { Settings } from '../config/settings.js';
import { printJson, type CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { passSummaryText, progressText, protectionStatusText } from './protect-text.js';

/** Seconds between progress reads of a running pass. */
const PROGRESS_EVERY_MS = 2000;

/** A workflow that failed because no catalog was synced yet is bad input: say what to run. */
function noCatalogIsBadInput(err: unknown): never {
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    if ((e as { type?: string }).type === 'NoCatalog') throw new InvalidArgumentError('no catalog yet: protection needs one. Fix: run `az-evac catalog sync` first (or wait for the catalog sync schedule)');
    e = (e as { cause?: unknown }).cause;
  }
  throw err;
}

/** Add `protect status` and `protect run` to `program`. */
export function addProtectCommands(program: Command, ctx: CliContext, withClient: <T>(fn: (c: EvacuationClient, s: Settings) => Promise<T>) => Promise<T>): void {
  const { io } = ctx;
  const protect = program.command('protect')
    .description('continuous protection: is every job of a protected tier restorable in the other AZ within its RPO, right now? (tiers.yaml `protection`)')
    .addHelpText('after', `
Protection keeps, for every job of the tiers tiers.yaml \`protection.tiers\` lists, a restorable
snapshot in every other AZ no older than the tier's rpoSeconds: it takes savepoints through the
operator when the other AZ's newest is past the refresh point (refreshAtRpoFraction of the RPO),
ships them where the platform profile says the AZ pair does not replicate, and expires old copies.
The worker runs a pass every AZ_EVAC_PROTECTION_INTERVAL seconds (0: never); these commands look
and act now. Both need a synced catalog (az-evac catalog sync) and a running worker.

  az-evac protect status           per tier the RPO an evacuation would pay now; unprotected jobs and why
  az-evac protect status --json    the same as one JSON document (counts, tiers, unprotected, due, lastPass)
  az-evac protect run              one pass now: progress on stderr, then what it took, shipped and what failed

Exit codes: 0 done (status: whatever it shows); 1 the pass ran and some savepoint or copy failed
after its retries (those jobs are listed with the operator's or the store's reason); 2 bad input
(no catalog yet, a bad setting); 3 Temporal unreachable. Details: docs/protection.md.`);

  protect.command('status')
    .description('assess every job without acting: per tier the RPO now against the target, unprotected jobs with why, what a pass would do now, the last pass')
    .option('--json', 'print one JSON document on stdout')
    .action(async (o: { json?: boolean }) => {
      const status = await withClient((c) => c.protectionStatus()).catch(noCatalogIsBadInput);
      if (o.json) printJson(io, status);
      else io.out(`${protectionStatusText(status)}\n`);
    });

  protect.command('run')
    .description('run one protection pass now (take due savepoints, ship them where the AZ pair does not replicate, expire old copies); exit 1 when something failed')
    .option('--json', 'print the pass\'s result as one JSON document on stdout (progress on stderr)')
    .action(async (o: { json?: boolean }) => {
      const result = await withClient(async (c) => {
        const pass = await c.startProtectionPass();
        io.err(`protect: pass ${pass.workflowId} started\n`);
        const done = pass.result();
        let last = '';
        let finished = false;
        void done.then(() => { finished = true; }, () => { finished = true; });
        while (!finished) {
          const line = await pass.progress().then(progressText, () => '');
          if (line !== '' && line !== last) io.err(`${line}\n`);
          last = line || last;
          await Promise.race([sleep(PROGRESS_EVERY_MS), done.catch(() => undefined)]);
        }
        return done;
      }).catch((err: unknown) => {
        if (err instanceof WorkflowFailedError) noCatalogIsBadInput(err);
        throw err;
      });
      if (o.json) printJson(io, result);
      else io.out(`${passSummaryText(result)}\n`);
      if (result.failures.length > 0) ctx.setExit(EXIT.failed);
    });
}

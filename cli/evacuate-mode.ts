/**
 * How `az-evac evacuate` settles its mode before anything starts: there is no default mode, and
 * an emergency (which fences the source AZ's copies) needs a confirmation: the operator types
 * the source AZ's name on a terminal, or a script passes `--yes`. Pure: the terminal is the
 * caller's (cli/program.ts asks the question this module words).
 */
import { InvalidArgumentError } from 'commander';
import { EVACUATION_MODES, type EvacuationMode } from '../domain/evacuation.js';

/** The modes `--mode` accepts: the domain's list. */
export const MODE_CHOICES: EvacuationMode[] = [...EVACUATION_MODES];

/** The mode whose start needs a typed confirmation or `--yes`: it fences the source AZ's copies without stopping them first. */
export const CONFIRMED_MODE: EvacuationMode = 'emergency';

/** What each mode does, for `--mode` help (domain/evacuation.ts EvacuationMode says it at length). */
const MODE_MEANING: Record<EvacuationMode, string> = {
  emergency: 'the source AZ is gone: jobs restore from their newest replicated snapshots and the source copies are fenced',
  planned: 'the source AZ answers: each job is stopped with a savepoint there and restored from it',
  drill: 'a rehearsal that failback undoes: the source AZ answers, each job is stopped with a savepoint there and restored from it, as in planned',
};

/** `--mode` help: every mode with its meaning. */
export function modeHelp(): string {
  return MODE_CHOICES.map((m) => `${m}: ${MODE_MEANING[m]}`).join('; ');
}

/** What evacuate does about its mode. */
export type ModeDecision =
  /** Start in this mode now. */
  | { kind: 'start'; mode: EvacuationMode }
  /** Ask the operator to type `expected` (the source AZ) to start in `mode`; `question` is the prompt. */
  | { kind: 'confirm'; mode: EvacuationMode; expected: string; question: string };

/**
 * Decide from the options and whether a terminal can answer.
 * @param o.mode `--mode`, absent when not given
 * @param o.yes `--yes`: the confirmation is given
 * @param o.dryRun `--dry-run`: nothing is started, so nothing to confirm (an absent mode plans as emergency)
 * @param o.interactive stdin and stderr are a terminal (a question can be asked and answered)
 * @throws InvalidArgumentError (exit 2) naming the fix when there is no mode and nobody to ask, when
 * `--yes` comes without `--mode`, or when an emergency is neither confirmed nor can be asked
 */
export function decideMode(o: { mode?: EvacuationMode; yes?: boolean; dryRun?: boolean; interactive: boolean; from: string }): ModeDecision {
  const choices = MODE_CHOICES.join(' | ');
  if (o.dryRun) return { kind: 'start', mode: o.mode ?? CONFIRMED_MODE };
  if (o.mode === undefined && o.yes) {
    throw new InvalidArgumentError(`--yes without --mode: evacuate has no default mode. Fix: pass --mode (${choices}), e.g. --mode ${CONFIRMED_MODE} --yes`);
  }
  if (o.mode !== undefined && (o.mode !== CONFIRMED_MODE || o.yes)) return { kind: 'start', mode: o.mode };
  if (!o.interactive) {
    throw new InvalidArgumentError(o.mode === undefined
      ? `evacuate needs --mode (${choices}): it has no default, and there is no terminal to confirm an emergency on. Fix: pass --mode drill for a rehearsal, --mode planned to move out of a healthy AZ, or --mode ${CONFIRMED_MODE} --yes to evacuate ${o.from} now`
      : `--mode ${CONFIRMED_MODE} without a terminal to confirm on. Fix: add --yes to confirm the emergency evacuation of ${o.from}`);
  }
  const why = o.mode === undefined ? 'No --mode given. ' : '';
  return {
    kind: 'confirm', mode: CONFIRMED_MODE, expected: o.from,
    question: `${why}This starts an EMERGENCY evacuation of ${o.from} (${MODE_MEANING[CONFIRMED_MODE]}). For a rehearsal or a move out of a healthy AZ press Ctrl-C and pass --mode drill or --mode planned. Type the source AZ name (${o.from}) to confirm: `,
  };
}

/**
 * Check the typed answer to a confirm decision.
 * @returns the mode to start in
 * @throws InvalidArgumentError (exit 2: nothing was started) naming what was typed and what was expected
 */
export function confirmMode(decision: Extract<ModeDecision, { kind: 'confirm' }>, typed: string): EvacuationMode {
  if (typed.trim() === decision.expected) return decision.mode;
  throw new InvalidArgumentError(`confirmation typed ${JSON.stringify(typed.trim())}, not the source AZ ${JSON.stringify(decision.expected)}: nothing was started. Fix: run again and type ${decision.expected}, or pass --mode drill for a rehearsal`);
}

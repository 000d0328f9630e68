/**
 * What every az-evac command gets from its runner (cli/program.ts runCli): the terminal, the
 * environment its settings come from, and where it records its exit code. Tests build one in
 * process; cli/main.ts builds it from the real process.
 */
import { InvalidArgumentError } from 'commander';
import { messageOf } from '../domain/error-message.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { temporalConnectionOptions } from '../config/temporal-options.js';

/** The terminal: stdout for results (one JSON document with --json), stderr for progress and human text. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Environment the settings are read from (process.env in production). */
  env: Record<string, string | undefined>;
  /** Whether a question can be asked and answered (stdin and stderr are a terminal). */
  interactive: boolean;
  /** Ask on stderr, read one line from stdin. */
  ask(question: string): Promise<string>;
}

/** A command's view of its runner. */
export interface CliContext {
  io: CliIo;
  /** Record the exit code of a command that finished without throwing: EXIT.failed for a run that did not succeed; a child process's own code for `worker` and `simulator`. */
  setExit(code: number): void;
  /**
   * The settings, validated (numbers, Temporal profile and TLS files) before anything connects.
   * @throws InvalidArgumentError (exit 2) with the setting's message naming the variable and the fix
   */
  settings(): Settings;
}

/** settings() of a context over `env`: loadSettings plus the Temporal connection options, a bad value being bad input. */
export function validatedSettings(env: Record<string, string | undefined>): Settings {
  try {
    const settings = loadSettings(env);
    temporalConnectionOptions(settings);
    return settings;
  } catch (err) {
    throw new InvalidArgumentError(`bad setting: ${messageOf(err)}`);
  }
}

/** Print `value` on stdout as the one JSON document of a --json command. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

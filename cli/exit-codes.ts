/**
 * The az-evac command's exit codes, the one place they are defined, and the mapping from an
 * error to its code. Scripts and runbooks branch on them; `az-evac --help` and
 * docs/operating.md print EXIT_CODES_HELP.
 */
import { CommanderError, InvalidArgumentError } from 'commander';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { AzBusyError } from '../client/az-holds.js';
import { EvacuationRequestConflict } from '../client/evacuation-client.js';
import { SearchAttributeTypeMismatch } from '../client/search-attributes.js';
import { TemporalUnreachableError } from '../client/temporal-connection.js';
import { PlatformError } from '../platform/errors.js';

/** Exit codes by meaning. */
export const EXIT = {
  /** The command did what it was asked; an evacuation, drill or failback succeeded. */
  ok: 0,
  /** An evacuation, drill or failback ran and did not succeed: a P0–P2 job not RUNNING, a failed check, a failed job, an abort; or its workflow failed. A protection pass (`protect run`) in which a savepoint or copy failed after its retries. */
  failed: 1,
  /** Bad input, nothing done: usage, a bad option value or setting (a namespace that does not exist, credentials refused), a bad runbook, an unknown id, a confirmation not given, a control the run refuses in its state, a press that differs from the running evacuation, a start whose AZ another evacuation or drill holds. */
  badInput: 2,
  /** Could not reach Temporal (or the state store the reports are read from): nothing was started or changed by this command. */
  unreachable: 3,
  /** An unexpected error (a bug or an unclassified failure); the message says what. */
  unexpected: 4,
  /** Detached with Ctrl-C; the evacuation or drill goes on. */
  detached: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit-code table for `--help` and docs/operating.md. */
export const EXIT_CODES_HELP = [
  `  ${EXIT.ok}    ok; the evacuation, drill or failback succeeded`,
  `  ${EXIT.failed}    it ran and did not succeed (a P0–P2 job not RUNNING, a failed job or check, aborted, workflow failed; a protection pass with failures)`,
  `  ${EXIT.badInput}    bad input, nothing done (usage, option value, setting or namespace, runbook, unknown id, no confirmation, control refused, AZ in use)`,
  `  ${EXIT.unreachable}    could not reach Temporal or the state store`,
  `  ${EXIT.unexpected}    unexpected error (a bug; the message says what)`,
  `  ${EXIT.detached}  detached with Ctrl-C (the evacuation or drill goes on)`,
].join('\n');

/** gRPC status codes that mean "the server did not answer" (UNAVAILABLE 14, DEADLINE_EXCEEDED 4). */
const GRPC_UNREACHABLE = new Set([14, 4]);
/**
 * gRPC status codes of a request Temporal answered and refused for what it named: INVALID_ARGUMENT 3,
 * NOT_FOUND 5 (a namespace or workflow that does not exist), PERMISSION_DENIED 7, UNAUTHENTICATED 16
 * (credentials: TEMPORAL_API_KEY, mTLS). The settings or the id are to fix.
 */
const GRPC_BAD_INPUT = new Set([3, 5, 7, 16]);
/** Node socket error codes of a server that does not answer (S3 state store, simulator). */
const SOCKET_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
/** PlatformError codes of a platform that does not answer. */
const PLATFORM_UNREACHABLE = new Set(['unavailable', 'timeout', 'az-down']);

/** The error and its causes, outermost first (at most 8). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/**
 * The exit code for an error that ended a command (EXIT). Classified by the first error of the
 * chain (err, err.cause, …) that says what happened:
 *  - bad input: commander usage errors, InvalidArgumentError (option values, settings, runbooks,
 *    confirmations), EvacuationRequestConflict, AzBusyError, an unknown workflow id, an Update its
 *    validator rejected, a search attribute of another type, a request Temporal refused
 *    (gRPC INVALID_ARGUMENT, NOT_FOUND: e.g. no such namespace, PERMISSION_DENIED, UNAUTHENTICATED);
 *  - unreachable: TemporalUnreachableError, gRPC UNAVAILABLE / DEADLINE_EXCEEDED, a socket
 *    error of a server that does not answer, a PlatformError unavailable / timeout / az-down;
 *  - failed: the workflow failed (WorkflowFailedError);
 *  - anything else: unexpected.
 */
export function exitCodeFor(err: unknown): ExitCode {
  for (const e of chain(err)) {
    if (e instanceof CommanderError && !(e instanceof InvalidArgumentError)) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    if (e instanceof InvalidArgumentError || e instanceof EvacuationRequestConflict || e instanceof AzBusyError || e instanceof WorkflowNotFoundError || e instanceof WorkflowUpdateFailedError || e instanceof SearchAttributeTypeMismatch) return EXIT.badInput;
    if (e instanceof TemporalUnreachableError) return EXIT.unreachable;
    if (e instanceof PlatformError) return PLATFORM_UNREACHABLE.has(e.code) ? EXIT.unreachable : EXIT.unexpected;
    if (e instanceof WorkflowFailedError) return EXIT.failed;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && GRPC_UNREACHABLE.has(code)) return EXIT.unreachable;
    if (typeof code === 'number' && GRPC_BAD_INPUT.has(code)) return EXIT.badInput;
    if (typeof code === 'string' && SOCKET_UNREACHABLE.has(code)) return EXIT.unreachable;
  }
  return EXIT.unexpected;
}

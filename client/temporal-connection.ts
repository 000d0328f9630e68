/**
 * A Temporal Client from settings (address, namespace, TLS, API key: config/temporal-options.ts),
 * with an error that names the address and the fix when the server does not answer. Shared by
 * the client facades.
 */
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import { describeTemporal, temporalConnectionOptions } from '../config/temporal-options.js';

/** The fix printed with a Temporal that does not answer. */
export const UNREACHABLE_FIX = 'start it (npm run temporal -- start) or set AZ_EVAC_TEMPORAL_ADDRESS / TEMPORAL_ADDRESS, and TEMPORAL_TLS_* / TEMPORAL_API_KEY for a TLS frontend (docs/temporal.md)';

/**
 * Temporal did not answer a connect (refused, timed out, TLS handshake failed). Its own class so
 * callers tell it from bad input and failed runs (the CLI exits 3 on it: cli/exit-codes.ts).
 */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
}

/**
 * A Connection to Temporal (5 s connect timeout).
 * @throws TemporalUnreachableError naming the address, namespace, TLS and the fix when the server
 * is unreachable or the TLS handshake fails; errors of temporalConnectionOptions for bad TLS settings
 */
export async function connectTemporalConnection(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'temporal'>): Promise<Connection> {
  const options = temporalConnectionOptions(settings);
  try {
    return await Connection.connect({ ...options, connectTimeout: '5s' });
  } catch (err) {
    throw new TemporalUnreachableError(`cannot reach Temporal at ${describeTemporal(settings)}: ${(err as Error).message}. Fix: ${UNREACHABLE_FIX}`);
  }
}

/**
 * Connect to Temporal (5 s connect timeout).
 * @throws TemporalUnreachableError naming the address and the fix when the server is unreachable
 */
export async function connectTemporal(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'temporal'>): Promise<Client> {
  const connection = await connectTemporalConnection(settings);
  return new Client({ connection, namespace: settings.temporalNamespace });
}

/**
 * Run an Update against workflow `id`; a rejection by the workflow's validator throws an
 * Error `<what> of <id> rejected: <validator's message>` (the SDK's says only "Workflow Update failed").
 * An id of the other kind of workflow (a drill's id given to pause, an evacuation's to approve)
 * says so, instead of the SDK's "No registered handler for update".
 */
export async function runUpdate<T>(id: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError) || !err.cause) throw err;
    const reason = /No registered handler for update/i.test(err.cause.message)
      ? `${id} takes no ${what} (evacuations take pause, resume and abort; drills take approve, reject and abort: check the id)`
      : err.cause.message;
    throw new Error(`${what} of ${id} rejected: ${reason}`, { cause: err });
  }
}

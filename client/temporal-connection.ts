/**
 * A Temporal Client from settings, with an error that names the address and the fix when
 * the server does not answer. Shared by the client facades.
 */
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Settings } from '../config/settings.js';

/**
 * Connect to Temporal (5 s connect timeout).
 * @throws Error naming the address and the fix when the server is unreachable
 */
export async function connectTemporal(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace'>): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.temporalAddress, connectTimeout: '5s' });
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${settings.temporalAddress}: ${(err as Error).message}. Fix: start it (npm run temporal -- start) or set AZ_EVAC_TEMPORAL_ADDRESS`);
  }
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

/**
 * The check a CLI or console start makes before it starts anything: is one of the AZs it
 * would touch held by another running evacuation or drill (domain/az-hold.ts)? It reads each
 * hold workflow by its fixed id (a describe, not a visibility query, so it sees a hold the
 * instant it exists) and its holder from the memo. The workflow takes the hold itself too
 * (workflows/az-hold.ts): this check only turns the refusal into an answer before the start,
 * for a person at a terminal or a console; a Temporal Schedule's start has no such check and
 * is refused by the workflow. A hold whose holder has closed counts as free: it is closing.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { azBusyMessage, azHoldWorkflowId, azsToHold, mayOverrideHold, type AzHolder } from '../domain/az-hold.js';

/** A start refused because an AZ it touches is held by another evacuation or drill. */
export class AzBusyError extends Error {
  override readonly name = 'AzBusyError';
  /**
   * @param az the held AZ
   * @param holder who holds it (undefined when its memo did not say)
   */
  constructor(readonly az: string, readonly holder: AzHolder | undefined, message: string) {
    super(message);
  }
}

/**
 * Refuse a start whose AZs another evacuation or drill of the same deployment (task queue) holds.
 * @param taskQueue the deployment's task queue (the holds are per deployment)
 * @param mine what is to start; `workflowId` is its id (a run holding under that id is the
 *   same evacuation being joined, not another one)
 * @param override the person asked to run beside a holder (honoured for an emergency only)
 * @throws AzBusyError naming the holder and the fix
 * @throws the client's errors (unreachable server) from the describe
 */
export async function assertAzsFree(client: Client, taskQueue: string, mine: Pick<AzHolder, 'workflowId' | 'kind' | 'mode' | 'sourceAz' | 'targetAz'>, override = false): Promise<void> {
  if (override && mayOverrideHold(mine.mode)) return;
  for (const az of azsToHold(mine)) {
    const holdId = azHoldWorkflowId(taskQueue, az);
    const described = await describeOpen(client, holdId);
    if (!described) continue;
    const holder = described.memo?.holder as AzHolder | undefined;
    if (holder?.workflowId === mine.workflowId) continue;
    // A holder that has closed has let go (or the server is terminating its hold): free.
    if (holder && !(await describeOpen(client, holder.workflowId))) continue;
    throw new AzBusyError(az, holder, azBusyMessage(mine, az, holder, holdId));
  }
}

/** Workflow `workflowId`'s newest run when it is open; undefined when it has closed or never ran. */
async function describeOpen(client: Client, workflowId: string) {
  const d = await client.workflow.getHandle(workflowId).describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  return d?.status.name === 'RUNNING' ? d : undefined;
}

/**
 * The thin Temporal client facade the CLI (and later the console) use to start, watch and
 * control evacuations. It knows workflow names, ids and message definitions, nothing of
 * the platform.
 */
import { Client, Connection, WorkflowIdConflictPolicy, WorkflowNotFoundError } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import {
  evacuationIdFor,
  type EvacuationInput,
  type EvacuationProgress,
  type EvacuationRequest,
  type EvacuationResult,
  type CatalogSyncResult,
  type PlanSummary,
} from '../domain/evacuation.js';
import type { syncCatalogWorkflow } from '../workflows/catalog-sync.js';
import type { planPreview } from '../workflows/plan-preview.js';
import { abortUpdate, pauseUpdate, progressQuery, resumeUpdate } from '../workflows/messages.js';
import type { evacuateAz } from '../workflows/evacuate-az.js';

/** Result of a start: the id, and whether an evacuation with that id was already running. */
export interface StartResult {
  evacuationId: string;
  joined: boolean;
}

export class EvacuationClient {
  private constructor(private readonly client: Client, private readonly taskQueue: string) {}

  /**
   * Connect to Temporal.
   * @throws Error naming the address and the fix when the server is unreachable
   */
  static async connect(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'taskQueue'>): Promise<EvacuationClient> {
    let connection: Connection;
    try {
      connection = await Connection.connect({ address: settings.temporalAddress, connectTimeout: '5s' });
    } catch (err) {
      throw new Error(`cannot reach Temporal at ${settings.temporalAddress}: ${(err as Error).message}. Fix: start it (npm run temporal -- start) or set AZ_EVAC_TEMPORAL_ADDRESS`);
    }
    return new EvacuationClient(new Client({ connection, namespace: settings.temporalNamespace }), settings.taskQueue);
  }

  /**
   * Start an evacuation, or join the one already running for the same source, target and
   * mode (deterministic workflow id + USE_EXISTING conflict policy): two presses of the
   * button start one evacuation.
   */
  async start(req: EvacuationRequest, evacuationId = evacuationIdFor(req)): Promise<StartResult> {
    const input: EvacuationInput = { triggeredAtMs: Date.now(), ...req, evacuationId };
    const wasRunning = await this.isRunning(evacuationId);
    await this.client.workflow.start<typeof evacuateAz>('evacuateAz', {
      workflowId: evacuationId,
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    return { evacuationId, joined: wasRunning };
  }

  /** Sync the fleet catalog now (runs the catalog sync workflow and waits for it). */
  async syncCatalog(): Promise<CatalogSyncResult> {
    return this.client.workflow.execute<typeof syncCatalogWorkflow>('syncCatalogWorkflow', {
      workflowId: `az-evac-catalog-sync-${Date.now()}`,
      taskQueue: this.taskQueue,
    });
  }

  /** Plan an evacuation without acting; the full plan is stored under `planId` in the state dir. */
  async planPreview(req: EvacuationRequest, planId: string): Promise<PlanSummary> {
    return this.client.workflow.execute<typeof planPreview>('planPreview', {
      workflowId: planId,
      taskQueue: this.taskQueue,
      args: [{ ...req, evacuationId: planId }],
    });
  }

  /** Live progress (the workflow's progress query). */
  async progress(evacuationId: string): Promise<EvacuationProgress> {
    return this.client.workflow.getHandle(evacuationId).query(progressQuery);
  }

  /** Wait for the evacuation's result. */
  async result(evacuationId: string): Promise<EvacuationResult> {
    return this.client.workflow.getHandle<typeof evacuateAz>(evacuationId).result();
  }

  /** Pause dispatching (jobs in flight finish). Rejected with the validator's reason when not possible. */
  async pause(evacuationId: string, by: string, reason?: string): Promise<EvacuationProgress> {
    return this.client.workflow.getHandle(evacuationId).executeUpdate(pauseUpdate, { args: [{ by, reason }] });
  }

  /** Resume a paused evacuation. */
  async resume(evacuationId: string, by: string): Promise<EvacuationProgress> {
    return this.client.workflow.getHandle(evacuationId).executeUpdate(resumeUpdate, { args: [{ by }] });
  }

  /** Abort: nothing new starts, jobs in flight finish, the rest are recorded as skipped. */
  async abort(evacuationId: string, by: string, reason: string): Promise<EvacuationProgress> {
    return this.client.workflow.getHandle(evacuationId).executeUpdate(abortUpdate, { args: [{ by, reason }] });
  }

  /** Whether the newest workflow with this id is running. */
  async isRunning(evacuationId: string): Promise<boolean> {
    try {
      return (await this.client.workflow.getHandle(evacuationId).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Close the connection. */
  async close(): Promise<void> {
    await this.client.connection.close();
  }
}

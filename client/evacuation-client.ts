/**
 * The thin Temporal client facade the CLI (and later the console) use to start, watch and
 * control evacuations. It knows workflow names, ids and message definitions, nothing of
 * the platform.
 */
import { randomUUID } from 'node:crypto';
import { Client, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowIdConflictPolicy, type WorkflowHandle } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import { assertAzsFree } from './az-holds.js';
import { startSearchAttributes } from './search-attributes.js';
import { connectTemporal, runUpdate } from './temporal-connection.js';
import {
  evacuationIdFor,
  failbackWorkflowId,
  requestDifferences,
  requestShape,
  tierWorkflowId,
  type RequestShape,
  type EvacuationInput,
  type EvacuationProgress,
  type EvacuationRequest,
  type EvacuationResult,
  type CatalogSyncResult,
  type PlanSummary,
} from '../domain/evacuation.js';
import type { syncCatalogWorkflow } from '../workflows/catalog-sync.js';
import type { ProtectionPassResult, ProtectionStatus } from '../workflows/protect.js';
import { ensureProtectionSchedule, protectionStatusNow, protectNow, startProtectionPass, type StartedProtectionPass } from './protection-schedule.js';
import type { planPreview } from '../workflows/plan-preview.js';
import { abortUpdate, pauseUpdate, progressQuery, resumeUpdate, tierCountsQuery } from '../workflows/messages.js';
import type { evacuateAz } from '../workflows/evacuate-az.js';
import type { FailbackInput, FailbackResult, failbackDrill } from '../workflows/failback.js';
import { settledResult } from '../workflows/outcome-failure.js';
import { searchAttributesOf } from '../workflows/search-attributes.js';
import { CATALOG_SYNC_SUMMARY, evacuationDetails, evacuationSummary, failbackSummary, planSummary } from '../domain/run-summary.js';

/** Search attributes and summary of a catalog sync run, started on demand or by its schedule. */
const catalogSyncVisibility = () => ({ typedSearchAttributes: searchAttributesOf({ kind: 'catalog-sync' }), staticSummary: CATALOG_SYNC_SUMMARY });

/** One evacuation as listed by visibility (newest first). */
export interface EvacuationListItem {
  evacuationId: string;
  /** Temporal's run id of this execution (one evacuation id may have several runs). */
  runId: string;
  /** Temporal execution status, e.g. RUNNING, COMPLETED, FAILED, TERMINATED. */
  status: string;
  startedAt: string;
  closedAt?: string;
}

/** Result of a start: the id, the run, and whether an evacuation with that id was already running (and asked for the same). */
export interface StartResult {
  evacuationId: string;
  /** The run started or joined (its first run id: the identity of its stored records). */
  runId: string;
  joined: boolean;
}

/**
 * A second press asked for something else than the evacuation running under the same id
 * (scope, mode, forced stale catalog, catalog version, preload): it was not joined.
 */
export class EvacuationRequestConflict extends Error {
  override readonly name = 'EvacuationRequestConflict';
  /**
   * @param evacuationId the running evacuation's id
   * @param running what it was started with
   * @param differences one line per differing part (domain/evacuation.ts requestDifferences)
   */
  constructor(readonly evacuationId: string, readonly runId: string, readonly running: RequestShape, readonly differences: string[]) {
    super(`evacuation ${evacuationId} is already running with a different request (${differences.join('; ')}); yours was not started and not joined. Fix: watch the running one (az-evac status ${evacuationId}), or abort it (az-evac abort ${evacuationId} --reason "…") and press again once it has ended, or start yours under another id (--id)`);
  }
}

/** Id of the Temporal Schedule that keeps the fleet catalog fresh. */
export const CATALOG_SYNC_SCHEDULE_ID = 'az-evac-catalog-sync';

export class EvacuationClient {
  private constructor(private readonly client: Client, private readonly taskQueue: string) {}

  /**
   * Connect to Temporal.
   * @throws Error naming the address and the fix when the server is unreachable
   */
  static async connect(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'temporal' | 'taskQueue'>): Promise<EvacuationClient> {
    return new EvacuationClient(await connectTemporal(settings), settings.taskQueue);
  }

  /**
   * Start an evacuation, or join the one already running for the same source, target and
   * mode (deterministic workflow id + USE_EXISTING conflict policy): two presses of the
   * button start one evacuation. A press that asks for something else than the running
   * evacuation (requestDifferences: scope, mode, forceStaleCatalog, catalog version,
   * preload) is not joined.
   * @throws EvacuationRequestConflict naming what runs and how it differs
   * @throws AzBusyError when another evacuation or drill holds the source or target AZ and
   *   `req.overrideRunning` (emergency only) does not say to run beside it
   */
  async start(req: EvacuationRequest, evacuationId = evacuationIdFor(req)): Promise<StartResult> {
    await assertAzsFree(this.client, this.taskQueue, { workflowId: evacuationId, kind: 'evacuation', mode: req.mode, sourceAz: req.sourceAz, targetAz: req.targetAz }, req.overrideRunning);
    const input: EvacuationInput = { triggeredAtMs: Date.now(), ...req, evacuationId, taskQueue: this.taskQueue };
    // The memo is set only by the start that creates the run: whoever finds another token
    // joined (a check before the start would race with a concurrent press). It also keeps
    // what the run was asked for, which a later press is compared with.
    const startToken = randomUUID();
    const handle = await this.client.workflow.start<typeof evacuateAz>('evacuateAz', {
      workflowId: evacuationId,
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      memo: { startToken, request: requestShape(req) },
      typedSearchAttributes: startSearchAttributes({ kind: 'evacuation', run: evacuationId, mode: req.mode, sourceAz: req.sourceAz, targetAz: req.targetAz }),
      staticSummary: evacuationSummary(req),
      staticDetails: evacuationDetails(req),
    });
    const { memo, runId, raw } = await handle.describe();
    const started = { evacuationId, runId: raw.workflowExecutionInfo?.firstRunId || runId };
    if (memo?.startToken === startToken) return { ...started, joined: false };
    // A run started by a drill (a child workflow) has no request in its memo: joined as before.
    const running = memo?.request as RequestShape | undefined;
    const differences = running ? requestDifferences(running, requestShape(req)) : [];
    if (differences.length > 0) throw new EvacuationRequestConflict(evacuationId, started.runId, running!, differences);
    return { ...started, joined: true };
  }

  /**
   * The newest `limit` evacuations (running and closed) on this client's task queue (one
   * az-evac deployment), newest first. Visibility is eventually consistent: a start shows up
   * within about a second.
   */
  async list(limit = 20): Promise<EvacuationListItem[]> {
    const out: EvacuationListItem[] = [];
    const query = `WorkflowType = 'evacuateAz' AND TaskQueue = '${this.taskQueue.replace(/'/g, "''")}'`;
    for await (const wf of this.client.workflow.list({ query, pageSize: limit })) {
      out.push({
        evacuationId: wf.workflowId, runId: wf.runId, status: wf.status.name, startedAt: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Sync the fleet catalog now (runs the catalog sync workflow and waits for it). */
  async syncCatalog(): Promise<CatalogSyncResult> {
    return this.client.workflow.execute<typeof syncCatalogWorkflow>('syncCatalogWorkflow', {
      workflowId: `az-evac-catalog-sync-${Date.now()}`,
      taskQueue: this.taskQueue,
      ...catalogSyncVisibility(),
    });
  }

  /**
   * Create or update (idempotent) the Temporal Schedule that runs the catalog sync workflow
   * every `intervalSeconds`, so an emergency in which an AZ's API server is gone still has a
   * catalog younger than the interval. Overlapping runs are skipped; a missed run (worker
   * down) is caught up once. `intervalSeconds` 0 deletes the schedule.
   * @returns the schedule id
   */
  async ensureCatalogSyncSchedule(intervalSeconds: number): Promise<string> {
    const handle = this.client.schedule.getHandle(CATALOG_SYNC_SCHEDULE_ID);
    if (intervalSeconds === 0) {
      await handle.delete().catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
      return CATALOG_SYNC_SCHEDULE_ID;
    }
    const spec = { intervals: [{ every: `${intervalSeconds}s` }] };
    const action = { type: 'startWorkflow' as const, workflowType: 'syncCatalogWorkflow', taskQueue: this.taskQueue, workflowId: 'az-evac-catalog-sync', ...catalogSyncVisibility() };
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${Math.max(60, intervalSeconds * 2)}s` };
    try {
      await this.client.schedule.create({ scheduleId: CATALOG_SYNC_SCHEDULE_ID, spec, action, policies });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await handle.update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
    }
    return CATALOG_SYNC_SCHEDULE_ID;
  }

  /** Create, update or (0) delete the protection schedule (client/protection-schedule.ts). @returns the schedule id */
  ensureProtectionSchedule(intervalSeconds: number): Promise<string> {
    return ensureProtectionSchedule(this.client, this.taskQueue, intervalSeconds);
  }

  /** Run one protection pass now (workflows/protect.ts) and wait for what it did. */
  protectNow(): Promise<ProtectionPassResult> {
    return protectNow(this.client, this.taskQueue);
  }

  /** Start one protection pass now, without waiting (its progress and result through the handle). */
  startProtectionPass(): Promise<StartedProtectionPass> {
    return startProtectionPass(this.client, this.taskQueue);
  }

  /** Assess every job against the protection policy without acting, with the last pass's record. */
  protectionStatus(): Promise<ProtectionStatus> {
    return protectionStatusNow(this.client, this.taskQueue);
  }

  /** Plan an evacuation without acting; the full plan is stored under `planId` in the state dir. */
  async planPreview(req: EvacuationRequest, planId: string): Promise<PlanSummary> {
    return this.client.workflow.execute<typeof planPreview>('planPreview', {
      workflowId: planId,
      taskQueue: this.taskQueue,
      args: [{ ...req, evacuationId: planId }],
      typedSearchAttributes: searchAttributesOf({ kind: 'plan', run: planId, mode: req.mode, sourceAz: req.sourceAz, targetAz: req.targetAz }),
      staticSummary: planSummary(req),
    });
  }

  /**
   * Fail back an evacuation and wait for it (workflows/failback.ts): undo a drill, or move a
   * real evacuation's jobs back once its source AZ is healthy. One failback per evacuation at
   * a time (a second call joins the first).
   * @throws WorkflowFailedError whose cause names why when it is refused (`SourceUnhealthy`, `EvacuationRunning`, `NotFound`)
   */
  async failback(input: FailbackInput): Promise<FailbackResult> {
    return this.client.workflow.execute<typeof failbackDrill>('failbackDrill', {
      workflowId: failbackWorkflowId(input.drillId),
      taskQueue: this.taskQueue,
      args: [{ ...input, taskQueue: this.taskQueue }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: searchAttributesOf({ kind: 'failback', run: input.drillId }),
      staticSummary: failbackSummary(input.drillId),
    });
  }

  /**
   * Live progress: the evacuation's progress query, with each running tier's live counters
   * read from the tier itself (its tierCountsQuery): a tier tells the evacuation only that it
   * has dispatched everything and its result, so the evacuation's history stays bounded
   * (workflows/tier.ts). A tier that cannot be queried (just closed, not yet started) keeps the
   * evacuation's numbers.
   */
  async progress(evacuationId: string): Promise<EvacuationProgress> {
    const progress = await this.client.workflow.getHandle(evacuationId).query(progressQuery);
    await Promise.all(progress.tiers.filter((t) => t.state === 'running').map(async (t) => {
      const live = await this.client.workflow.getHandle(tierWorkflowId(evacuationId, t.tier)).query(tierCountsQuery).catch(() => undefined);
      if (live) Object.assign(t, { running: live.running, succeeded: live.succeeded, failed: live.failed, skipped: live.skipped });
    }));
    return progress;
  }

  /**
   * The result of an evacuation that has ended, or undefined while it runs. A failed or aborted
   * evacuation closes as Failed with its result inside (workflows/outcome-failure.ts): read from there.
   * @throws WorkflowNotFoundError for an unknown id; WorkflowFailedError when its workflow failed otherwise (terminated, an engine fault)
   */
  async finishedResult(evacuationId: string): Promise<EvacuationResult | undefined> {
    const handle = this.client.workflow.getHandle<typeof evacuateAz>(evacuationId);
    const { status } = await handle.describe();
    return status.name === 'RUNNING' ? undefined : settledResult(handle.result());
  }

  /** The Temporal client underneath (for reads the facade does not wrap, such as client/run-list.ts). */
  get temporal(): Client {
    return this.client;
  }

  /**
   * Wait for the evacuation's result (of run `runId` when given, else of its latest run), succeeded or not
   * (a failed or aborted one closes as Failed with its result inside).
   * @throws WorkflowFailedError when its workflow failed otherwise (terminated, cancelled, an engine fault)
   */
  async result(evacuationId: string, runId?: string): Promise<EvacuationResult> {
    return settledResult(this.client.workflow.getHandle<typeof evacuateAz>(evacuationId, runId).result());
  }

  /** Pause dispatching (jobs in flight finish). Rejected with the validator's reason when not possible. */
  async pause(evacuationId: string, by: string, reason?: string): Promise<EvacuationProgress> {
    return this.update(evacuationId, 'pause', (h) => h.executeUpdate(pauseUpdate, { args: [{ by, reason }] }));
  }

  /** Resume a paused evacuation. Rejected with the validator's reason when not paused. */
  async resume(evacuationId: string, by: string): Promise<EvacuationProgress> {
    return this.update(evacuationId, 'resume', (h) => h.executeUpdate(resumeUpdate, { args: [{ by }] }));
  }

  /** Abort: nothing new starts, jobs in flight finish, the rest are recorded as skipped. Rejected without a reason. */
  async abort(evacuationId: string, by: string, reason: string): Promise<EvacuationProgress> {
    return this.update(evacuationId, 'abort', (h) => h.executeUpdate(abortUpdate, { args: [{ by, reason }] }));
  }

  /** Run an Update; a rejection throws an Error whose message is the validator's (the SDK's says only "Workflow Update failed"). */
  private async update<T>(evacuationId: string, what: string, fn: (h: WorkflowHandle) => Promise<T>): Promise<T> {
    return runUpdate(evacuationId, what, () => fn(this.client.workflow.getHandle(evacuationId)));
  }

  /**
   * Resolve when the Temporal frontend answers a GetSystemInfo within `timeoutMs` (the console's
   * readiness check).
   * @throws the connection's error (unreachable, deadline exceeded) otherwise
   */
  async checkTemporal(timeoutMs: number): Promise<void> {
    await this.client.connection.withDeadline(Date.now() + timeoutMs, () => this.client.workflowService.getSystemInfo({}));
  }

  /** Close the connection. */
  async close(): Promise<void> {
    await this.client.connection.close();
  }
}

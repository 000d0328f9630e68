/**
 * The Temporal client facade for drills: start a drill from a runbook, read its recorded
 * steps, approve / reject its gate, abort it, list drills. Used by the CLI and the console.
 */
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import { drillEvacuationId, type DrillDecision, type DrillInput, type DrillResult, type DrillStatus } from '../domain/drill.js';
import { stepKind, type Runbook } from '../domain/runbook.js';
import { drillDetails, drillSummary } from '../domain/run-summary.js';
import { drillAbortUpdate, drillDecisionUpdate, drillStatusQuery } from '../workflows/drill-messages.js';
import type { drill } from '../workflows/drill.js';
import { settledResult } from '../workflows/outcome-failure.js';
import { assertAzsFree } from './az-holds.js';
import { searchAttributesOf } from '../workflows/search-attributes.js';
import { startSearchAttributes } from './search-attributes.js';
import { connectTemporal, runUpdate } from './temporal-connection.js';

/** One drill as listed (newest first). */
export interface DrillListItem {
  drillId: string;
  /** Temporal execution status: RUNNING, COMPLETED, FAILED, TERMINATED, … */
  status: string;
  startedAt: string;
  closedAt?: string;
  /** Final phase and verdict of a completed drill. */
  phase?: DrillStatus['phase'];
  passed?: boolean;
  /** The schedule that started it, if any. */
  scheduleId?: string;
}

/** Drill id of a manual run: `drill-<runbook>-<UTC yyyymmddThhmmss>`. */
export function drillIdFor(runbook: Pick<Runbook, 'name'>, atMs: number): string {
  return `drill-${runbook.name}-${new Date(atMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * Search attributes, static summary and details of a drill run (`drill nightly: az-a → az-b,
 * 6 step(s)`), for its start and for a rehearsal schedule's action.
 * @param drillId the run's id when known (a schedule names its runs when it starts them; the drill workflow then upserts AzEvacRun itself)
 */
export function drillVisibility(input: DrillInput, drillId?: string) {
  const { runbook } = input;
  return {
    typedSearchAttributes: drillId
      ? startSearchAttributes({ kind: 'drill', run: drillEvacuationId(drillId), mode: 'drill', sourceAz: runbook.sourceAz, targetAz: runbook.targetAz })
      : searchAttributesOf({ kind: 'drill', mode: 'drill', sourceAz: runbook.sourceAz, targetAz: runbook.targetAz }),
    staticSummary: drillSummary(runbook),
    staticDetails: drillDetails({ runbookFile: input.runbookFile, requestedBy: input.requestedBy, stepKinds: runbook.steps.map(stepKind) }),
  };
}

export class DrillClient {
  constructor(readonly client: Client, private readonly taskQueue: string) {}

  /** Connect with the settings' address, namespace and task queue. @throws Error naming the address and fix when unreachable */
  static async connect(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'temporal' | 'taskQueue'>): Promise<DrillClient> {
    return new DrillClient(await connectTemporal(settings), settings.taskQueue);
  }

  /** Input of a drill run for `runbook` read from `file`. */
  static input(runbook: Runbook, file: string, opts: { requestedBy: string }): DrillInput {
    return { runbook, runbookFile: file, requestedBy: opts.requestedBy };
  }

  /**
   * Start a drill. @returns its id
   * @throws WorkflowExecutionAlreadyStartedError when a drill with that id exists
   * @throws AzBusyError when another evacuation or drill holds the runbook's source or target AZ
   */
  async start(input: DrillInput, drillId = drillIdFor(input.runbook, Date.now())): Promise<string> {
    await assertAzsFree(this.client, this.taskQueue, { workflowId: drillId, kind: 'drill', mode: 'drill', sourceAz: input.runbook.sourceAz, targetAz: input.runbook.targetAz });
    await this.client.workflow.start<typeof drill>('drill', {
      workflowId: drillId, taskQueue: this.taskQueue, args: [{ ...input, taskQueue: this.taskQueue }], workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      ...drillVisibility(input, drillId),
    });
    return drillId;
  }

  /** Recorded steps, open gate and cleanup of a drill (running or finished). */
  async status(drillId: string): Promise<DrillStatus> {
    return this.client.workflow.getHandle(drillId).query(drillStatusQuery);
  }

  /** Wait for the drill's result, passed or not (a drill that did not pass closes as Failed with its result inside). */
  async result(drillId: string): Promise<DrillResult> {
    return settledResult(this.client.workflow.getHandle<typeof drill>(drillId).result());
  }

  /** Approve or reject the open gate. @throws Error with the validator's reason (no open gate, no `by`) */
  async decide(drillId: string, decision: DrillDecision): Promise<DrillStatus> {
    return this.whileOpen(drillId, decision.decision, () => runUpdate(drillId, decision.decision, () => this.client.workflow.getHandle(drillId).executeUpdate(drillDecisionUpdate, { args: [decision] })));
  }

  /** Abort: no further step starts, then cleanup (fault teardown, failback). @throws Error without a reason or when finished */
  async abort(drillId: string, by: string, reason: string): Promise<DrillStatus> {
    return this.whileOpen(drillId, 'abort', () => runUpdate(drillId, 'abort', () => this.client.workflow.getHandle(drillId).executeUpdate(drillAbortUpdate, { args: [{ by, reason }] })));
  }

  /**
   * Run an Update of an open drill; one that has finished answers like a validator's
   * rejection (`<what> of <id> rejected: drill <id> has finished (<phase>)`) instead of the
   * server's "not found". An unknown id, or the id of a closed workflow that is not a drill
   * (an evacuation's), still throws WorkflowNotFoundError.
   */
  private async whileOpen<T>(drillId: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      const closed = await this.client.workflow.getHandle(drillId).describe().catch(() => undefined);
      if (closed?.type !== 'drill') throw err;
      const phase = closed.status.name === 'COMPLETED' || closed.status.name === 'FAILED' ? (await this.status(drillId)).phase : closed.status.name;
      throw new Error(`${what} of ${drillId} rejected: drill ${drillId} has finished (${phase})${what === 'abort' ? '' : '; no open approval gate'}`, { cause: err });
    }
  }

  /**
   * The newest `limit` drills on this client's task queue (one az-evac deployment), newest
   * first, with their verdicts: a completed drill's result is read, a running drill is
   * queried for its phase. The reads run concurrently, each bounded by `answerWithinMs`: a
   * running drill whose worker is gone has no phase (status RUNNING says enough) instead of
   * holding up the whole list.
   */
  async list(limit = 20, answerWithinMs = 3_000): Promise<DrillListItem[]> {
    const found: Array<{ workflowId: string; runId: string; status: string; item: DrillListItem }> = [];
    const query = `WorkflowType = 'drill' AND TaskQueue = '${this.taskQueue.replace(/'/g, "''")}'`;
    for await (const wf of this.client.workflow.list({ query, pageSize: limit })) {
      const scheduledBy = wf.searchAttributes?.TemporalScheduledById;
      found.push({
        workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name,
        item: {
          drillId: wf.workflowId, status: wf.status.name, startedAt: wf.startTime.toISOString(),
          ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
          ...(Array.isArray(scheduledBy) && scheduledBy.length ? { scheduleId: String(scheduledBy[0]) } : {}),
        },
      });
      if (found.length >= limit) break;
    }
    return Promise.all(found.map(async (f) => {
      const verdict = await this.client.connection.withDeadline(Date.now() + answerWithinMs, () => this.verdict(f.workflowId, f.runId, f.status)).catch(() => ({}));
      return { ...f.item, ...verdict };
    }));
  }

  /**
   * Phase and verdict of one run: the result when completed or failed (a drill that did not pass
   * closes as Failed with its result inside), the live status when running.
   */
  async verdict(workflowId: string, runId: string | undefined, status: string): Promise<Pick<DrillListItem, 'phase' | 'passed'>> {
    const handle = this.client.workflow.getHandle<typeof drill>(workflowId, runId);
    if (status === 'COMPLETED' || status === 'FAILED') {
      const r = await settledResult(handle.result()).catch(() => undefined);
      return r ? { phase: r.phase, passed: r.passed } : { passed: false };
    }
    if (status === 'RUNNING') return { phase: (await handle.query(drillStatusQuery)).phase };
    return { passed: false };
  }

  /** Close the connection. */
  async close(): Promise<void> {
    await this.client.connection.close();
  }
}

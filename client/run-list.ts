/**
 * Evacuations and drills of one az-evac deployment (its task queue), running and recent,
 * newest first, from Temporal visibility: `az-evac list`. Kind, mode and AZs come from the
 * custom search attributes (client/search-attributes.ts: set at start by the clients and
 * upserted by the workflows); the outcome of a completed run from its result, the phase of a
 * running one from its query, each read bounded so a run whose worker is gone does not hold
 * up the list. Visibility is eventually consistent: a start shows up within about a second.
 */
import type { Client } from '@temporalio/client';
import type { EvacuationPhase, EvacuationResult } from '../domain/evacuation.js';
import type { DrillPhase } from '../domain/drill.js';
import { progressQuery } from '../workflows/messages.js';
import type { evacuateAz } from '../workflows/evacuate-az.js';
import { settledResult } from '../workflows/outcome-failure.js';
import { DrillClient } from './drill-client.js';
import { SEARCH_ATTRIBUTE_KEYS } from './search-attributes.js';

/** Kinds of run the list holds, with their workflow types. */
const WORKFLOW_TYPES = { evacuation: 'evacuateAz', drill: 'drill' } as const;
export type RunKind = keyof typeof WORKFLOW_TYPES;

/**
 * `--status` filters: Temporal execution statuses (ExecutionStatus in a visibility query), plus
 * `closed` for any status but running. A failed or aborted evacuation and a drill that did not
 * pass close `failed` (workflows/outcome-failure.ts); runs recorded before that closed `completed`.
 */
export const RUN_STATUS_FILTERS = {
  running: "ExecutionStatus = 'Running'",
  closed: "ExecutionStatus != 'Running'",
  completed: "ExecutionStatus = 'Completed'",
  failed: "ExecutionStatus = 'Failed'",
  terminated: "ExecutionStatus = 'Terminated'",
  canceled: "ExecutionStatus = 'Canceled'",
  'timed-out': "ExecutionStatus = 'TimedOut'",
} as const;
export type RunStatusFilter = keyof typeof RUN_STATUS_FILTERS;

/**
 * How a run ended: `succeeded` (evacuation: every admitted P0–P2 job RUNNING) or `passed`
 * (drill); `failed`, `aborted`, `rejected` (drill gate) from the run's own result; or the
 * Temporal status of a run that did not complete (`terminated`, `canceled`, `timed-out`,
 * `failed`: the workflow failed). Absent while running, or when the result could not be read.
 */
export type RunOutcome = 'succeeded' | 'passed' | 'failed' | 'aborted' | 'rejected' | 'terminated' | 'canceled' | 'timed-out';

/** One evacuation or drill as listed. Times are ISO-8601 UTC. */
export interface RunListItem {
  kind: RunKind;
  id: string;
  /** Mode (drill, emergency, …), source and target AZ; absent on runs started before the attributes were set at start and not yet picked up by a worker. */
  mode?: string;
  sourceAz?: string;
  targetAz?: string;
  /** Temporal execution status: RUNNING, COMPLETED, FAILED, TERMINATED, CANCELED, TIMED_OUT. */
  status: string;
  startedAt: string;
  closedAt?: string;
  /** The run's own phase: an evacuation's (planning … done, aborted) or a drill's (running … passed). */
  phase?: EvacuationPhase | DrillPhase;
  outcome?: RunOutcome;
  /** The drill that started this evacuation (its parent workflow). */
  parentId?: string;
}

/** What a run's own result or query said: its phase and verdict. */
export interface RunVerdict {
  phase?: EvacuationPhase | DrillPhase;
  /** Evacuation: EvacuationResult.success; drill: DrillResult.passed. */
  passed?: boolean;
}

/**
 * The outcome of a run from its Temporal status and its verdict. Pure.
 * @param status Temporal execution status name (RUNNING, COMPLETED, …)
 */
export function runOutcome(kind: RunKind, status: string, verdict: RunVerdict): RunOutcome | undefined {
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return undefined;
  // A run whose outcome is a failure closes FAILED with its result inside (its verdict).
  if (status !== 'COMPLETED' && status !== 'FAILED') return status.toLowerCase().replace('_', '-') as RunOutcome;
  if (verdict.passed === undefined) return status === 'FAILED' ? 'failed' : undefined;
  if (verdict.passed) return kind === 'drill' ? 'passed' : 'succeeded';
  if (verdict.phase === 'aborted' || verdict.phase === 'rejected') return verdict.phase;
  return 'failed';
}

/** Options of listRuns. */
export interface ListRunsOptions {
  /** At most this many runs (newest first). */
  limit: number;
  status?: RunStatusFilter;
  /** Default both. */
  kinds?: RunKind[];
  /** Bound of each result read or query, milliseconds (default 3000). */
  answerWithinMs?: number;
}

/** Visibility query for the options (task queue quoted). */
export function runListQuery(taskQueue: string, o: Pick<ListRunsOptions, 'status' | 'kinds'>): string {
  const types = (o.kinds ?? (Object.keys(WORKFLOW_TYPES) as RunKind[])).map((k) => `WorkflowType = '${WORKFLOW_TYPES[k]}'`);
  return [`(${types.join(' OR ')})`, `TaskQueue = '${taskQueue.replace(/'/g, "''")}'`, ...(o.status ? [RUN_STATUS_FILTERS[o.status]] : [])].join(' AND ');
}

/**
 * The newest `limit` evacuations and drills on `taskQueue`, newest first.
 * @throws the client's errors (unreachable server, bad query)
 */
export async function listRuns(client: Client, taskQueue: string, o: ListRunsOptions): Promise<RunListItem[]> {
  const found: Array<{ runId: string; item: RunListItem }> = [];
  const k = SEARCH_ATTRIBUTE_KEYS;
  for await (const wf of client.workflow.list({ query: runListQuery(taskQueue, o), pageSize: o.limit })) {
    const sa = wf.typedSearchAttributes;
    const kind: RunKind = wf.type === WORKFLOW_TYPES.drill ? 'drill' : 'evacuation';
    found.push({
      runId: wf.runId,
      item: {
        kind, id: wf.workflowId,
        ...definedOnly({ mode: sa.get(k.mode), sourceAz: sa.get(k.sourceAz), targetAz: sa.get(k.targetAz) }),
        status: wf.status.name, startedAt: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
        ...(wf.parentExecution?.workflowId ? { parentId: wf.parentExecution.workflowId } : {}),
      },
    });
    if (found.length >= o.limit) break;
  }
  const drills = new DrillClient(client, taskQueue);
  return Promise.all(found.map(async ({ runId, item }) => {
    const read = (): Promise<RunVerdict> => (item.kind === 'drill' ? drills.verdict(item.id, runId, item.status) : evacuationVerdict(client, item.id, runId, item.status));
    const verdict = await client.connection.withDeadline(Date.now() + (o.answerWithinMs ?? 3_000), read).catch((): RunVerdict => ({}));
    const outcome = runOutcome(item.kind, item.status, verdict);
    return { ...item, ...(verdict.phase ? { phase: verdict.phase } : {}), ...(outcome ? { outcome } : {}) };
  }));
}

/** Phase and success of one evacuation run: its result when completed or failed (with its result inside), its progress query when running. */
async function evacuationVerdict(client: Client, id: string, runId: string, status: string): Promise<RunVerdict> {
  const handle = client.workflow.getHandle<typeof evacuateAz>(id, runId);
  if (status === 'COMPLETED' || status === 'FAILED') {
    const r: EvacuationResult | undefined = await settledResult(handle.result()).catch(() => undefined);
    return r ? { phase: r.phase, passed: r.success } : {};
  }
  if (status === 'RUNNING') return { phase: (await handle.query(progressQuery)).phase };
  return {};
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * What a benchmark run cost Temporal in histories: every workflow execution the run started
 * (every run of a workflow that continued as new counts as its own execution), its events,
 * its workflow tasks, and the largest history, totalled and per kind (AzEvacKind: evacuation,
 * tier, shard, job, fencing, ...). Read from the server: the executions from visibility
 * (`client.workflow.list`), the events from each execution's history (`fetchHistory`).
 */
import pLimit from 'p-limit';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes.js';

/** Events and workflow tasks of a set of executions. */
export interface HistoryTotals {
  workflows: number;
  /** History events, all executions together. */
  events: number;
  /** Workflow tasks a worker ran (WorkflowTaskStarted events). */
  workflowTasks: number;
}

/** HistoryTotals of a run, per kind, and its largest history. */
export interface HistoryStats extends HistoryTotals {
  byKind: Record<string, HistoryTotals>;
  /** The execution with the most events. */
  largest: { workflowId: string; runId: string; kind: string; events: number } | null;
}

// @temporalio/proto is CommonJS: its namespace is the default export under Node's ESM loader.
const { temporal } = proto;
const WORKFLOW_TASK_STARTED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED;

/** One execution's events and workflow tasks. Pure. */
export function countHistory(events: ReadonlyArray<{ eventType?: proto.temporal.api.enums.v1.EventType | null }>): { events: number; workflowTasks: number } {
  return { events: events.length, workflowTasks: events.filter((e) => e.eventType === WORKFLOW_TASK_STARTED).length };
}

/** Add one execution to `stats` (mutates). Pure. */
export function addExecution(stats: HistoryStats, e: { workflowId: string; runId: string; kind: string; events: number; workflowTasks: number }): void {
  const kind = (stats.byKind[e.kind] ??= { workflows: 0, events: 0, workflowTasks: 0 });
  for (const t of [stats, kind]) {
    t.workflows += 1;
    t.events += e.events;
    t.workflowTasks += e.workflowTasks;
  }
  if (!stats.largest || e.events > stats.largest.events) stats.largest = { workflowId: e.workflowId, runId: e.runId, kind: e.kind, events: e.events };
}

/**
 * Histories of the executions that visibility `query` lists (e.g. `TaskQueue = 'q' AND
 * StartTime >= '2026-...'`), `concurrency` histories fetched at a time.
 * @throws the client's error when a list or a history fetch fails
 */
export async function historyStats(client: Client, query: string, concurrency = 8): Promise<HistoryStats> {
  const executions: WorkflowExecutionInfo[] = [];
  for await (const e of client.workflow.list({ query })) executions.push(e);
  const limit = pLimit(concurrency);
  const counted = await Promise.all(executions.map((e) => limit(async () => ({
    workflowId: e.workflowId, runId: e.runId,
    kind: e.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.kind) ?? e.type,
    ...countHistory((await client.workflow.getHandle(e.workflowId, e.runId).fetchHistory()).events ?? []),
  }))));
  const stats: HistoryStats = { workflows: 0, events: 0, workflowTasks: 0, byKind: {}, largest: null };
  for (const c of counted) addExecution(stats, c);
  return stats;
}

/**
 * Wait until visibility lists as many executions for `query` twice in a row, `intervalMs`
 * apart (visibility records are written after the history, asynchronously), at most
 * `timeoutMs`. @returns the count it settled on
 * @throws Error naming the query when the count still moved after `timeoutMs`
 */
export async function settledCount(client: Client, query: string, intervalMs = 1000, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const { count } = await client.workflow.count(query);
    if (count === last) return count;
    if (Date.now() > deadline) throw new Error(`visibility count for ${query} still changing after ${timeoutMs / 1000} s (last ${last}, now ${count})`);
    last = count;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

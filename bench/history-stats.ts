/**
 * What a benchmark run cost Temporal in histories: every workflow execution the run started
 * (every run of a workflow that continued as new counts as its own execution), its events,
 * its bytes, its workflow tasks and how long a worker took over each, and the largest history,
 * totalled and per kind (AzEvacKind: evacuation, tier, shard, job, fencing, ...). Read from
 * the server: the executions from visibility (`client.workflow.list`), the events from each
 * execution's history, paged (GetWorkflowExecutionHistory, HISTORY_PAGE events a page, so no
 * page of a history with large payloads crosses gRPC's 4 MiB message limit: the 5,000-job
 * bench of 2026-12-06 died on one).
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
  /** Encoded size of the events (protobuf bytes), all executions together. */
  bytes?: number;
  /** Workflow task time (WorkflowTaskStarted → Completed / Failed / TimedOut, ms): median, 95th percentile and longest. */
  taskMs?: { p50: number; p95: number; max: number };
  /** Workflow tasks that timed out (WorkflowTaskTimedOut) or failed (WorkflowTaskFailed). */
  taskTimeouts?: number;
  taskFailures?: number;
  /** Encoded bytes per event type (e.g. ACTIVITY_TASK_SCHEDULED), largest first. */
  bytesByEvent?: Record<string, number>;
}

/** HistoryTotals of a run, per kind, and its largest history. */
export interface HistoryStats extends HistoryTotals {
  byKind: Record<string, HistoryTotals>;
  /** The execution with the most events. */
  largest: { workflowId: string; runId: string; kind: string; events: number; bytes?: number } | null;
  /** The execution with the most bytes. */
  heaviest?: { workflowId: string; runId: string; kind: string; events: number; bytes: number } | null;
}

/** One execution as counted: events, bytes, its workflow tasks' times. */
export interface ExecutionCount {
  events: number;
  workflowTasks: number;
  bytes?: number;
  /** Each workflow task's time, ms (started → completed, failed or timed out). */
  taskMs?: number[];
  taskTimeouts?: number;
  taskFailures?: number;
  /** Encoded bytes per event type. */
  bytesByEvent?: Record<string, number>;
}

// @temporalio/proto is CommonJS: its namespace is the default export under Node's ESM loader.
const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;
type Event = { eventType?: proto.temporal.api.enums.v1.EventType | null; eventTime?: { seconds?: unknown; nanos?: number | null } | null };

/** Events per history page read (a page of the largest shard histories stays far below 4 MiB). */
export const HISTORY_PAGE = 100;

const ms = (t: Event['eventTime']): number | undefined => (t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : undefined);

/**
 * One execution's events, workflow tasks and workflow task times. Pure.
 * @param sizes encoded size of each event (same order), bytes; absent: bytes not counted
 */
export function countHistory(events: ReadonlyArray<Event>, sizes?: readonly number[]): ExecutionCount {
  const taskMs: number[] = [];
  let startedAt: number | undefined;
  let taskTimeouts = 0;
  let taskFailures = 0;
  let workflowTasks = 0;
  const bytesByEvent: Record<string, number> = {};
  events.forEach((e, i) => {
    const size = sizes?.[i];
    if (size !== undefined) {
      const type = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
      bytesByEvent[type] = (bytesByEvent[type] ?? 0) + size;
    }
  });
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
      workflowTasks += 1;
      startedAt = ms(e.eventTime);
      continue;
    }
    const end = e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED || e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED || e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT;
    if (!end) continue;
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) taskTimeouts += 1;
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) taskFailures += 1;
    const at = ms(e.eventTime);
    if (startedAt !== undefined && at !== undefined) taskMs.push(at - startedAt);
    startedAt = undefined;
  }
  return {
    events: events.length, workflowTasks,
    ...(sizes ? { bytes: sizes.reduce((a, b) => a + b, 0), bytesByEvent } : {}),
    taskMs, taskTimeouts, taskFailures,
  };
}

/** The p-th percentile (0–100) of `xs` by nearest rank; 0 for none. Pure. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Workflow task times of the executions added so far, per HistoryTotals object (kept apart from the JSON). */
const taskTimes = new WeakMap<HistoryTotals, number[]>();

/** Add one execution to `stats` (mutates). Pure. */
export function addExecution(stats: HistoryStats, e: { workflowId: string; runId: string; kind: string } & ExecutionCount): void {
  const kind = (stats.byKind[e.kind] ??= { workflows: 0, events: 0, workflowTasks: 0 });
  for (const t of [stats, kind]) {
    t.workflows += 1;
    t.events += e.events;
    t.workflowTasks += e.workflowTasks;
    if (e.bytes !== undefined) t.bytes = (t.bytes ?? 0) + e.bytes;
    if (e.taskTimeouts) t.taskTimeouts = (t.taskTimeouts ?? 0) + e.taskTimeouts;
    if (e.taskFailures) t.taskFailures = (t.taskFailures ?? 0) + e.taskFailures;
    if (e.bytesByEvent) {
      const by = { ...t.bytesByEvent };
      for (const [type, n] of Object.entries(e.bytesByEvent)) by[type] = (by[type] ?? 0) + n;
      t.bytesByEvent = Object.fromEntries(Object.entries(by).sort((a, b) => b[1] - a[1]));
    }
    if (e.taskMs && e.taskMs.length > 0) {
      const all = taskTimes.get(t) ?? [];
      all.push(...e.taskMs);
      taskTimes.set(t, all);
      t.taskMs = { p50: percentile(all, 50), p95: percentile(all, 95), max: Math.max(t.taskMs?.max ?? 0, ...e.taskMs) };
    }
  }
  if (!stats.largest || e.events > stats.largest.events) stats.largest = { workflowId: e.workflowId, runId: e.runId, kind: e.kind, events: e.events, ...(e.bytes !== undefined ? { bytes: e.bytes } : {}) };
  if (e.bytes !== undefined && (!stats.heaviest || e.bytes > stats.heaviest.bytes)) stats.heaviest = { workflowId: e.workflowId, runId: e.runId, kind: e.kind, events: e.events, bytes: e.bytes };
}

/** Whether a gRPC call failed because its answer crossed the client's largest message (RESOURCE_EXHAUSTED). */
function tooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 8;
}

/**
 * Every event of one execution with its encoded size, read a page of HISTORY_PAGE events at a
 * time (fewer for a history whose page crosses gRPC's 4 MiB limit).
 * @throws the client's error when a page read fails
 */
export async function readHistory(client: Client, workflowId: string, runId: string): Promise<{ events: proto.temporal.api.history.v1.IHistoryEvent[]; sizes: number[] }> {
  const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
  const sizes: number[] = [];
  let nextPageToken: Uint8Array | undefined;
  let pageSize = HISTORY_PAGE;
  for (;;) {
    let page: proto.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
    try {
      page = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace, execution: { workflowId, runId }, maximumPageSize: pageSize,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
    } catch (err) {
      // A page of large events can still cross gRPC's 4 MiB (the 20,000-job fencing follow-up's
      // passes): read it again in smaller pages, down to one event a page.
      if (pageSize > 1 && tooLarge(err)) {
        pageSize = Math.max(1, Math.floor(pageSize / 4));
        continue;
      }
      throw err;
    }
    for (const e of page.history?.events ?? []) {
      events.push(e);
      sizes.push(temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
    }
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    if (!nextPageToken) break;
  }
  return { events, sizes };
}

/**
 * Histories of the executions that visibility `query` lists (e.g. `TaskQueue = 'q' AND
 * StartTime >= '2026-...'`), `concurrency` histories fetched at a time.
 * @throws the client's error when a list or a history read fails
 */
export async function historyStats(client: Client, query: string, concurrency = 8): Promise<HistoryStats> {
  const executions: WorkflowExecutionInfo[] = [];
  for await (const e of client.workflow.list({ query })) executions.push(e);
  const limit = pLimit(concurrency);
  const counted = await Promise.all(executions.map((e) => limit(async () => {
    const { events, sizes } = await readHistory(client, e.workflowId, e.runId);
    return { workflowId: e.workflowId, runId: e.runId, kind: e.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.kind) ?? e.type, ...countHistory(events, sizes) };
  })));
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

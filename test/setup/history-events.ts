/**
 * Readings of Temporal workflow histories for the workflow tests: child workflows started
 * and closed, signals received. Works whatever the fan-out below a tier workflow looks like
 * (job children directly, or intermediate workflows such as shards) and across
 * continue-as-new: every run of every non-job descendant is read.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { firstArg } from './evacuation-harness.js';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;

/** A child workflow the parent initiated or saw close, a signal it received, or an activity it scheduled. `atMs`: server event time. */
export type HistoryMark =
  | { kind: 'child-initiated'; eventId: number; atMs: number; workflowId: string }
  | { kind: 'child-closed'; eventId: number; atMs: number; workflowId: string }
  | { kind: 'signal'; eventId: number; atMs: number; name: string; input: unknown }
  | { kind: 'activity-scheduled'; eventId: number; atMs: number; name: string };

function closedChild(e: Event): string | undefined {
  const a = e.childWorkflowExecutionCompletedEventAttributes ?? e.childWorkflowExecutionFailedEventAttributes
    ?? e.childWorkflowExecutionCanceledEventAttributes ?? e.childWorkflowExecutionTimedOutEventAttributes
    ?? e.childWorkflowExecutionTerminatedEventAttributes;
  if (a) return a.workflowExecution?.workflowId ?? undefined;
  return e.startChildWorkflowExecutionFailedEventAttributes?.workflowId ?? undefined;
}

const timeMs = (e: Event): number => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** Child starts, child closes, signals and activities scheduled of one history, in event order. */
export function historyMarks(history: History): HistoryMark[] {
  const marks: HistoryMark[] = [];
  for (const e of history.events ?? []) {
    const eventId = Number(e.eventId);
    const atMs = timeMs(e);
    const started = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (started?.workflowId) marks.push({ kind: 'child-initiated', eventId, atMs, workflowId: started.workflowId });
    const closed = closedChild(e);
    if (closed) marks.push({ kind: 'child-closed', eventId, atMs, workflowId: closed });
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName) marks.push({ kind: 'signal', eventId, atMs, name: signal.signalName, input: signal.input ? firstArg(signal.input) : undefined });
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (activity) marks.push({ kind: 'activity-scheduled', eventId, atMs, name: activity });
  }
  return marks;
}

/** Runs of `workflowId` (continue-as-new chains), oldest first: run id, start time, history length (from visibility: final once a run has closed). */
export async function runsOf(client: Client, workflowId: string): Promise<Array<{ runId: string; startMs: number; events: number }>> {
  const runs: Array<{ runId: string; startMs: number; events: number }> = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: w.runId, startMs: w.startTime.getTime(), events: w.historyLength });
  return runs.sort((a, b) => a.startMs - b.startMs);
}

/** Histories of every run of `workflowId` (continue-as-new chains), oldest first. */
export async function historiesOfAllRuns(client: Client, workflowId: string): Promise<History[]> {
  const runs: Array<{ runId: string; startMs: number }> = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: w.runId, startMs: w.startTime.getTime() });
  runs.sort((a, b) => a.startMs - b.startMs);
  return Promise.all(runs.map((r) => client.workflow.getHandle(workflowId, r.runId).fetchHistory()));
}

/**
 * Job-workflow children (ids for which `isJob` holds) started and closed below `rootId`:
 * the root's runs and, recursively, the runs of its non-job descendants. Marks are merged
 * by server time; at equal times a close counts before a start, so in-flight counts taken
 * from them never exceed the true ones.
 */
export async function jobChildMarks(client: Client, rootId: string, isJob: (workflowId: string) => boolean): Promise<HistoryMark[]> {
  const marks: HistoryMark[] = [];
  const pending = [rootId];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const history of await historiesOfAllRuns(client, id)) {
      for (const m of historyMarks(history)) {
        if (m.kind === 'signal' || m.kind === 'activity-scheduled') continue;
        if (isJob(m.workflowId)) marks.push(m);
        else if (m.kind === 'child-initiated') pending.push(m.workflowId);
      }
    }
  }
  return marks.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? 0 : a.kind === 'child-closed' ? -1 : 1));
}

/** Most children in flight at once (initiated and not yet closed) over `marks`, and the totals. */
export function maxChildrenInFlight(marks: HistoryMark[]): { max: number; initiated: number; closed: number } {
  let inFlight = 0;
  let max = 0;
  let initiated = 0;
  let closed = 0;
  for (const m of marks) {
    if (m.kind === 'child-initiated') { inFlight++; initiated++; }
    if (m.kind === 'child-closed') { inFlight--; closed++; }
    max = Math.max(max, inFlight);
  }
  return { max, initiated, closed };
}

/**
 * Readings of Temporal workflow histories for the workflow tests: child workflows started
 * and closed, signals received, and the jobs a tier's shards dispatched and settled through
 * their batched job activities (workflows/shard-jobs.ts), across continue-as-new: every run
 * of every shard is read.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../../client/search-attributes.js';
import type { BurstResult, JobOutcome, StartBurst, StartupWatch } from '../../domain/evacuation.js';
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

/** A job named in a shard's start burst (dispatched), or whose outcome came back (settled). `atMs`: server event time. */
export interface JobMark {
  kind: 'dispatched' | 'settled';
  atMs: number;
  key: string;
}

/** The shard workflow ids a tier workflow started, over all its runs. */
async function shardsOf(client: Client, tierId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const history of await historiesOfAllRuns(client, tierId)) {
    for (const m of historyMarks(history)) if (m.kind === 'child-initiated') ids.add(m.workflowId);
  }
  return [...ids];
}

/**
 * Jobs dispatched and settled by the shards of tier workflow `tierId`, read from the shards'
 * histories: a job is dispatched when a `startJobs` activity naming it is scheduled, and
 * settled when a `startJobs` or `awaitJobsRunning` result carries its final outcome, or when
 * such an activity of it failed, timed out or was cancelled. Sorted by server time; at equal
 * times a settle counts before a dispatch, so in-flight counts taken from them never exceed
 * the true ones.
 */
export async function jobMarks(client: Client, tierId: string): Promise<JobMark[]> {
  const marks: JobMark[] = [];
  for (const shard of await shardsOf(client, tierId)) {
    for (const history of await historiesOfAllRuns(client, shard)) {
      const scheduled = new Map<number, string[]>();
      for (const e of history.events ?? []) {
        const atMs = timeMs(e);
        const s = e.activityTaskScheduledEventAttributes;
        const type = s?.activityType?.name;
        if (s && type === 'startJobs') {
          const keys = firstArg<StartBurst>(s.input).jobs.map((j) => j.key);
          scheduled.set(Number(e.eventId), keys);
          for (const key of keys) marks.push({ kind: 'dispatched', atMs, key });
        }
        if (s && type === 'awaitJobsRunning') scheduled.set(Number(e.eventId), firstArg<StartupWatch>(s.input).jobs.map((j) => j.outcome.key));
        const completed = e.activityTaskCompletedEventAttributes;
        const keys = scheduled.get(Number(completed?.scheduledEventId ?? -1));
        if (completed && keys) {
          const results = firstArg<Array<BurstResult | JobOutcome>>(completed.result);
          for (const r of results) {
            const done = 'done' in r ? r.done : 'starting' in r ? undefined : r;
            if (done) marks.push({ kind: 'settled', atMs, key: done.key });
          }
        }
        const ended = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
        const lost = scheduled.get(Number(ended?.scheduledEventId ?? -1));
        if (ended && lost) for (const key of lost) marks.push({ kind: 'settled', atMs, key });
      }
    }
  }
  return marks.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? 0 : a.kind === 'settled' ? -1 : 1));
}

/** Most jobs in flight at once (dispatched and not yet settled) over `marks`, and the totals. */
export function maxJobsInFlight(marks: JobMark[]): { max: number; dispatched: number; settled: number } {
  let inFlight = 0;
  let max = 0;
  let dispatched = 0;
  let settled = 0;
  for (const m of marks) {
    if (m.kind === 'dispatched') { inFlight++; dispatched++; }
    if (m.kind === 'settled') { inFlight--; settled++; }
    max = Math.max(max, inFlight);
  }
  return { max, dispatched, settled };
}

/**
 * History events of every workflow run tagged with evacuation `run` (AzEvacRun: the
 * evacuation, its tiers, shards, fencing follow-up and any job workflows), summed per kind
 * (AzEvacKind), over all runs of each.
 */
export async function historyEventsOfRun(client: Client, run: string): Promise<Record<string, number>> {
  const perKind: Record<string, number> = {};
  for await (const w of client.workflow.list({ query: `AzEvacRun = '${run}'` })) {
    const kind = w.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.kind) ?? '?';
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    perKind[kind] = (perKind[kind] ?? 0) + (history.events?.length ?? 0);
  }
  return perKind;
}

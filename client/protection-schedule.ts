/**
 * The protection pass (workflows/protect.ts) on a Temporal Schedule, and on demand. Like the
 * catalog sync's schedule: overlapping runs are skipped (a pass still taking savepoints is
 * never doubled), a run missed while the worker was down is caught up once.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { protectFleet, ProtectionPassResult, ProtectionProgress, ProtectionStatus, protectionStatus } from '../workflows/protect.js';
import { searchAttributesOf } from '../workflows/search-attributes.js';

/** Id of the protection schedule. */
export const PROTECTION_SCHEDULE_ID = 'az-evac-protection';

/** Static summary of protection runs in the Temporal UI. */
const PROTECTION_SUMMARY = 'protection: keep a restorable snapshot of every protected job in every other AZ within its RPO';

const visibility = () => ({ typedSearchAttributes: searchAttributesOf({ kind: 'protection' }), staticSummary: PROTECTION_SUMMARY });

/**
 * Create or update (idempotent) the schedule running a protection pass every `intervalSeconds`;
 * 0 deletes it.
 * @returns the schedule id
 */
export async function ensureProtectionSchedule(client: Client, taskQueue: string, intervalSeconds: number): Promise<string> {
  const handle = client.schedule.getHandle(PROTECTION_SCHEDULE_ID);
  if (intervalSeconds === 0) {
    await handle.delete().catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
    return PROTECTION_SCHEDULE_ID;
  }
  const spec = { intervals: [{ every: `${intervalSeconds}s` }] };
  const action = { type: 'startWorkflow' as const, workflowType: 'protectFleet', taskQueue, workflowId: PROTECTION_SCHEDULE_ID, ...visibility() };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${Math.max(60, intervalSeconds * 2)}s` };
  try {
    await client.schedule.create({ scheduleId: PROTECTION_SCHEDULE_ID, spec, action, policies });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
  }
  return PROTECTION_SCHEDULE_ID;
}

/** Run one protection pass now and wait for what it did. */
export function protectNow(client: Client, taskQueue: string): Promise<ProtectionPassResult> {
  return client.workflow.execute<typeof protectFleet>('protectFleet', { workflowId: `${PROTECTION_SCHEDULE_ID}-${Date.now()}`, taskQueue, ...visibility() });
}

/** A protection pass started by `startProtectionPass`: its workflow id, its progress (a query) and its result. */
export interface StartedProtectionPass {
  workflowId: string;
  progress(): Promise<ProtectionProgress>;
  result(): Promise<ProtectionPassResult>;
}

/** Start one protection pass now (`az-evac protect run`), without waiting. */
export async function startProtectionPass(client: Client, taskQueue: string): Promise<StartedProtectionPass> {
  const handle = await client.workflow.start<typeof protectFleet>('protectFleet', { workflowId: `${PROTECTION_SCHEDULE_ID}-${Date.now()}`, taskQueue, ...visibility() });
  return {
    workflowId: handle.workflowId,
    progress: () => handle.query<ProtectionProgress>('protectionProgress'),
    result: () => handle.result(),
  };
}

/** Assess every job against the protection policy without acting (`az-evac protect status`). */
export function protectionStatusNow(client: Client, taskQueue: string): Promise<ProtectionStatus> {
  return client.workflow.execute<typeof protectionStatus>('protectionStatus', { workflowId: `${PROTECTION_SCHEDULE_ID}-status-${Date.now()}`, taskQueue, ...visibility() });
}

/**
 * Scheduled DR rehearsals over Temporal Schedules: a runbook's drill on a cron spec, with
 * the overlap policy SKIP (a rehearsal due while the previous one still runs is skipped, so
 * two runs of one schedule never run at once; drills of different schedules on the same AZ are
 * kept apart by the AZ holds, domain/az-hold.ts), optional pause windows (ScheduleSpec `skip` calendars), and the
 * history of past runs with their pass/fail verdicts (the schedule's recent actions and each
 * drill workflow's result).
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { DrillInput } from '../domain/drill.js';
import { pauseWindowCalendars, type PauseWindow } from '../domain/pause-window.js';
import { drillVisibility, type DrillClient, type DrillListItem } from './drill-client.js';

/** A rehearsal schedule as listed. */
export interface RehearsalSchedule {
  scheduleId: string;
  runbook: string;
  cron: string[];
  paused: boolean;
  note?: string;
  pauseWindows: string[];
  nextRuns: string[];
  /** Runs skipped because the previous one still ran. */
  skippedOverlaps: number;
  /** Past and running drills, newest first, with verdicts. */
  runs: Array<Pick<DrillListItem, 'drillId' | 'status' | 'phase' | 'passed'> & { scheduledAt: string }>;
}

/** Options of a new rehearsal schedule. */
export interface CreateRehearsal {
  scheduleId: string;
  input: DrillInput;
  /** Cron expressions (UTC), e.g. `0 3 * * TUE`. */
  cron: string[];
  pauseWindows: PauseWindow[];
  /** Create paused, with this note. */
  pausedNote?: string;
}

/** Memo key holding the pause windows' text (for `list`). */
const WINDOWS_MEMO = 'pauseWindows';

export class RehearsalSchedules {
  constructor(private readonly client: Client, private readonly taskQueue: string, private readonly drills: DrillClient) {}

  /**
   * Create a schedule. Each run is a `drill` workflow with id `<scheduleId>-<scheduled time>`.
   * @throws ScheduleAlreadyRunning when the id is taken; Error from the server for a bad cron spec
   */
  async create(o: CreateRehearsal): Promise<void> {
    await this.client.schedule.create({
      scheduleId: o.scheduleId,
      spec: { cronExpressions: o.cron, skip: o.pauseWindows.flatMap(pauseWindowCalendars) },
      action: { type: 'startWorkflow', workflowType: 'drill', args: [{ ...o.input, taskQueue: this.taskQueue }], taskQueue: this.taskQueue, workflowId: o.scheduleId, ...drillVisibility(o.input) },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      state: { paused: o.pausedNote !== undefined, ...(o.pausedNote !== undefined ? { note: o.pausedNote } : {}) },
      memo: { runbook: o.input.runbook.name, cron: o.cron, [WINDOWS_MEMO]: o.pauseWindows.map((w) => w.text) },
    });
  }

  /**
   * Every rehearsal schedule (those whose action is a drill) with its history. The server lists
   * schedules from its visibility store, which can still show one for a while after it was
   * deleted; such a schedule (describe answers not found) is left out, not an error.
   */
  async list(): Promise<RehearsalSchedule[]> {
    const out: RehearsalSchedule[] = [];
    for await (const s of this.client.schedule.list()) {
      if (s.action?.workflowType !== 'drill') continue;
      try {
        out.push(await this.describe(s.scheduleId));
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
    }
    return out;
  }

  /** One schedule with its history. @throws ScheduleNotFoundError */
  async describe(scheduleId: string): Promise<RehearsalSchedule> {
    const d = await this.client.schedule.getHandle(scheduleId).describe();
    const running = new Set(d.info.runningActions.map((a) => a.workflow.workflowId));
    const runs = await Promise.all([...d.info.recentActions].reverse().map(async (a) => {
      const { workflowId, firstExecutionRunId } = a.action.workflow;
      const desc = await this.client.workflow.getHandle(workflowId, firstExecutionRunId).describe();
      const status = running.has(workflowId) ? 'RUNNING' : desc.status.name;
      return { drillId: workflowId, status, scheduledAt: a.scheduledAt.toISOString(), ...(await this.drills.verdict(workflowId, firstExecutionRunId, status)) };
    }));
    const memo = d.memo ?? {};
    return {
      scheduleId, runbook: String(memo.runbook ?? '?'), cron: (memo.cron as string[] | undefined) ?? [],
      paused: d.state.paused, ...(d.state.note ? { note: d.state.note } : {}),
      pauseWindows: (memo[WINDOWS_MEMO] as string[] | undefined) ?? [],
      nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
      skippedOverlaps: d.info.numActionsSkippedOverlap, runs,
    };
  }

  /** Pause with a note (shown by list). */
  async pause(scheduleId: string, note: string): Promise<void> {
    await this.client.schedule.getHandle(scheduleId).pause(note);
  }

  /** Unpause with a note. */
  async unpause(scheduleId: string, note: string): Promise<void> {
    await this.client.schedule.getHandle(scheduleId).unpause(note);
  }

  /** Run now, under the schedule's overlap policy (SKIP: nothing starts while a run is in flight). */
  async trigger(scheduleId: string): Promise<void> {
    await this.client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
  }

  /** Delete the schedule (running drills go on). */
  async delete(scheduleId: string): Promise<void> {
    await this.client.schedule.getHandle(scheduleId).delete();
  }
}

export { ScheduleNotFoundError };

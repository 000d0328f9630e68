/**
 * The activity logger: the Temporal activity context logger (`log` of @temporalio/activity),
 * which adds the activity's own fields (activityType, attempt, workflowId, workflowType,
 * taskQueue), with the evacuation's fields added to every line: `evacuationId`, and for a
 * job's steps `job` (namespace/name) and `tier`. The worker routes it into az-evac's JSON-line
 * stream (worker/temporal-logging.ts). Call only inside an activity.
 */
import { log } from '@temporalio/activity';

/** The fields every line of one activity carries. */
export interface ActivityLogFields {
  /** The evacuation's id (as `az-evac status` takes it; not its records key). */
  evacuationId?: string;
  /** The job's key, namespace/name. */
  job?: string;
  tier?: string;
}

/** A logger whose lines carry fixed fields; `meta` adds more to one line. */
export interface ActivityLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** The current activity's logger with `fields` on every line. */
export function activityLog(fields: ActivityLogFields): ActivityLogger {
  return {
    debug: (message, meta) => log.debug(message, { ...fields, ...meta }),
    info: (message, meta) => log.info(message, { ...fields, ...meta }),
    warn: (message, meta) => log.warn(message, { ...fields, ...meta }),
    error: (message, meta) => log.error(message, { ...fields, ...meta }),
  };
}

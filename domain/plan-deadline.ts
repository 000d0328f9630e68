/**
 * How long planning at the trigger keeps trying through API trouble, and how its platform
 * reads back off (workflows/evacuate-az.ts, activities/plan.ts).
 *
 * An emergency evacuation cannot act before its plan: a minute of 503s, 429s or stalled
 * requests of the target AZ's API server must delay it, not end it. So the evacuation's
 * planning activity is retried without an attempt limit until its deadline (Temporal's
 * schedule-to-close timeout: the deadline counts from the first attempt's scheduling, which
 * is right after the trigger), and inside an attempt each platform read of planning
 * (capacity, standbys, jars, the target namespaces' readiness) retries transient errors with
 * back-off until shortly before that deadline (PLANNING_READ_BACKOFF). Bad input still fails
 * at once: a missing namespace is a finding of the plan (404 is an answer), a 403 or a 422 is
 * a non-retryable failure naming its fix, and so are an unknown AZ, a stale catalog or a bad
 * tiers.yaml.
 *
 * Pure: no I/O, no clock (callers pass the times).
 */

/**
 * Default planning deadline of an evacuation, seconds from the trigger: 5 minutes. Long enough
 * for an API server that answers one request in three, or restarts, to let the plan through;
 * short enough that an API server which stays unusable ends the evacuation with its error
 * while a person still watches (a P0 RTO is minutes). Overridden per request by
 * `planningDeadlineSeconds` (PlanningDeadlineOption).
 */
export const DEFAULT_PLANNING_DEADLINE_SECONDS = 300;

/** Shortest and longest planning deadline a request may ask for, seconds. */
export const PLANNING_DEADLINE_LIMITS = { minSeconds: 30, maxSeconds: 3_600 } as const;

/**
 * Back-off of one platform read of planning between two failed tries (p-retry options,
 * milliseconds): 0.5 s doubling to 5 s, each delay randomized ×1–2 so that the 32 reads in
 * flight do not retry in step. Each try itself is one platformCall, which already retries a
 * 503/429/timeout a few times in place (platform/transient-retry.ts, about 4 s).
 */
export const PLANNING_READ_BACKOFF = { minTimeout: 500, maxTimeout: 5_000, factor: 2, randomize: true } as const;

/**
 * How long before the planning deadline the reads stop retrying, milliseconds: the attempt
 * then fails with the read's own error (non-retryable, naming the deadline) instead of being
 * cut off by Temporal's timeout, whose failure would not say what was failing.
 */
export const PLANNING_DEADLINE_MARGIN_MS = 10_000;

/**
 * How long the reads of an attempt retry when the attempt has no schedule-to-close deadline
 * (a plan preview, a drill's readiness plan, an evacuation recorded before planning had a
 * deadline), milliseconds from the attempt's start: 0, each read is tried once (platformCall
 * still retries a 503/429/timeout a few times in place) and the activity's retry policy decides
 * what comes next. A preview answers a person or the console's fleet view, which previews every
 * direction, a down AZ's included: it must say "AZ down" in seconds, not after a minute of
 * retries that also hold a worker's activity slot.
 */
export const READS_RETRY_WITHOUT_DEADLINE_MS = 0;

/** The per-request override of the planning deadline (a field of the evacuateAz request). */
export interface PlanningDeadlineOption {
  /**
   * Seconds from the trigger that planning keeps trying through transient API errors before
   * the evacuation fails with the last error; PLANNING_DEADLINE_LIMITS.minSeconds..maxSeconds.
   * Absent: DEFAULT_PLANNING_DEADLINE_SECONDS.
   */
  planningDeadlineSeconds?: number;
}

/**
 * The planning deadline of a request, seconds.
 * @throws Error naming the value, the allowed range and the fix when it is not a whole number
 *   of seconds within PLANNING_DEADLINE_LIMITS
 */
export function planningDeadlineSeconds(request: PlanningDeadlineOption): number {
  const s = request.planningDeadlineSeconds;
  if (s === undefined) return DEFAULT_PLANNING_DEADLINE_SECONDS;
  const { minSeconds, maxSeconds } = PLANNING_DEADLINE_LIMITS;
  if (!Number.isInteger(s) || s < minSeconds || s > maxSeconds) {
    throw new Error(`planningDeadlineSeconds is ${String(s)}; it must be a whole number of seconds from ${minSeconds} to ${maxSeconds}. Fix: leave it out (${DEFAULT_PLANNING_DEADLINE_SECONDS} s) or pass one in that range`);
  }
  return s;
}

/** What an activity attempt knows of its schedule (a subset of Temporal's activity Info), epoch ms and ms. */
export interface AttemptSchedule {
  /** When the activity's first attempt was scheduled, epoch ms (0 or less: unknown). */
  scheduledTimestampMs: number;
  /** Its schedule-to-close timeout, ms (0 or absent: none). */
  scheduleToCloseTimeoutMs?: number | undefined;
}

/** Until when the platform reads of an attempt retry, and whether that is the planning deadline itself. */
export interface ReadsDeadline {
  /** Epoch ms after which a read that still fails transiently is not retried in the attempt. */
  untilMs: number;
  /**
   * true when `untilMs` is (just before) the activity's own deadline: a read still failing then
   * fails the activity for good (non-retryable, naming the deadline); false when the attempt
   * has no deadline, so the activity's retry policy decides what comes next.
   */
  final: boolean;
}

/**
 * Until when the platform reads of the attempt that started at `attemptStartMs` (epoch ms)
 * retry transient errors: PLANNING_DEADLINE_MARGIN_MS (at most a tenth of the deadline, so a
 * short one still leaves the reads most of it) before the activity's schedule-to-close
 * deadline when it has one, else READS_RETRY_WITHOUT_DEADLINE_MS after the attempt's start.
 */
export function planningReadsDeadline(schedule: AttemptSchedule, attemptStartMs: number): ReadsDeadline {
  const total = schedule.scheduleToCloseTimeoutMs ?? 0;
  if (total > 0 && schedule.scheduledTimestampMs > 0) {
    return { untilMs: schedule.scheduledTimestampMs + total - Math.min(PLANNING_DEADLINE_MARGIN_MS, total / 10), final: true };
  }
  return { untilMs: attemptStartMs + READS_RETRY_WITHOUT_DEADLINE_MS, final: false };
}

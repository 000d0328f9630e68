/**
 * The one definition of a tier's RTO achieved, used by the report (domain/report.ts) and the
 * console (console/routes/evacuations.ts). Pure.
 *
 * A tier's RTO is trigger → the LAST of its jobs RUNNING in the target AZ (each job's
 * JobOutcome.endedAtMs when its outcome is `running`), in seconds on the report's clock
 * (wall seconds; targets are already divided by the time scale). Jobs that failed or were
 * skipped never ran and do not count: the verdict reports them. Not the tier's end: a tier
 * workflow closes after its last job's workflow has recorded everything, which can be
 * seconds after that job was RUNNING.
 */

/** A tier's RTO achieved against its target. */
export interface TierRto {
  /** Trigger → last job RUNNING, seconds rounded to 0.01 (null when no job of the tier ran). */
  seconds: number | null;
  targetSeconds: number;
  /** `seconds` within the target (true when no job ran: nothing was late; failures are reported apart). */
  met: boolean;
}

/**
 * Seconds from the trigger to `atMs`, rounded to 0.01 s (the report's resolution).
 * @param triggerAtMs,atMs epoch ms
 */
export function secondsSinceTrigger(triggerAtMs: number, atMs: number): number {
  return Math.round((atMs - triggerAtMs) / 10) / 100;
}

/**
 * A tier's RTO from its jobs' times to RUNNING.
 * @param runningSeconds seconds since the trigger at which each RUNNING job of the tier was RUNNING
 * @param targetSeconds the tier's RTO target on the same clock
 */
export function tierRto(runningSeconds: readonly number[], targetSeconds: number): TierRto {
  const seconds = runningSeconds.length ? Math.max(...runningSeconds) : null;
  return { seconds, targetSeconds, met: seconds === null || seconds <= targetSeconds };
}

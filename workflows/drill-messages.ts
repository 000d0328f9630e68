/**
 * Queries and updates of the drill workflow. The CLI and console reach a running drill only
 * through these definitions (via the Temporal client).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DrillDecision, DrillStatus } from '../domain/drill.js';

/** Every step's outcome so far, the open approval gate and the cleanup actions. */
export const drillStatusQuery = defineQuery<DrillStatus>('drillStatus');

/**
 * Approve or reject the open approval gate. Rejected (by the validator) when no gate is open
 * or without a `by`. A rejection stops the drill; cleanup still runs.
 */
export const drillDecisionUpdate = defineUpdate<DrillStatus, [DrillDecision]>('drillDecision');

/**
 * Abort the drill: no further step starts; a running evacuation is aborted (jobs in flight
 * finish); then cleanup runs (fault teardown, failback). Rejected without a reason or when
 * the drill has already finished or is cleaning up.
 */
export const drillAbortUpdate = defineUpdate<DrillStatus, [{ by: string; reason: string }]>('drillAbort');

/**
 * Signals, queries and updates of the evacuation workflows. The CLI and console reach a
 * running evacuation only through these definitions (via the Temporal client).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EvacuationProgress, TierCounts } from '../domain/evacuation.js';
import type { Tier } from '../domain/types.js';

/** Live progress of an evacuation (per tier: planned, running, done, failed, skipped; elapsed vs RTO). */
export const progressQuery = defineQuery<EvacuationProgress>('progress');

/** Stop dispatching new jobs; jobs already in flight finish. Rejected when already paused or finished. */
export const pauseUpdate = defineUpdate<EvacuationProgress, [{ by: string; reason?: string }]>('pause');

/** Resume dispatching after a pause. Rejected when not paused. */
export const resumeUpdate = defineUpdate<EvacuationProgress, [{ by: string }]>('resume');

/**
 * Abort: dispatch nothing more; jobs in flight finish (nothing is left half done); jobs not
 * started are recorded as skipped with the reason. Rejected without a reason or when finished.
 */
export const abortUpdate = defineUpdate<EvacuationProgress, [{ by: string; reason: string }]>('abort');

/**
 * Abort as a Signal, for parent workflows (a drill), which cannot send Updates: same effect
 * as abortUpdate; ignored when the evacuation has finished or is already aborted.
 */
export const abortSignal = defineSignal<[{ by: string; reason: string }]>('abortSignal');

/** Tier → evacuation: counters changed. */
export const tierProgressSignal = defineSignal<[{ tier: Tier; counts: TierCounts; done: boolean }]>('tierProgress');

/** Tier → evacuation: every job of the tier has been dispatched (its idle slots may be borrowed). */
export const tierDispatchedSignal = defineSignal<[{ tier: Tier }]>('tierDispatched');

/** Shard → tier: counters changed; `dispatched` once every job of the shard has been dispatched. */
export const shardProgressSignal = defineSignal<[{ shard: number; counts: TierCounts; dispatched: boolean; done: boolean }]>('shardProgress');

/** Evacuation → tier → shard: control propagated to running tier and shard workflows. */
export const tierControlSignal = defineSignal<[ControlMessage]>('tierControl');

/** A pause, resume or abort passed down from the evacuation (who, and for abort why). */
export interface ControlMessage {
  action: 'pause' | 'resume' | 'abort';
  by: string;
  reason?: string;
}

/** Tier counters of a tier workflow (for debugging a single tier). */
export const tierCountsQuery = defineQuery<TierCounts & { cursor: number; paused: boolean; aborted: boolean }>('tierCounts');

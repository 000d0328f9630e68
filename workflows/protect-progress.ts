/** The progress query of a protection pass and of its shards (workflows/protect.ts, workflows/protect-shard.ts). */
import { defineQuery } from '@temporalio/workflow';

/**
 * How far a running pass or shard is. A pass in shards: `tasks` = the catalog's jobs, `done` =
 * jobs of the shards finished, and the figures of those shards (they grow as shards finish). A
 * shard, and a pass recorded before shards: its tasks (savepoints to take, copies to ship) and
 * those done, and the figures so far.
 */
export interface ProtectionProgress {
  phase: 'assessing' | 'protecting' | 'expiring' | 'done';
  tasks: number;
  done: number;
  savepoints: number;
  shipped: number;
  shippedBytes: number;
  failures: number;
}

/** Query of a running protectFleet (finished shards) or protectShard (its own tasks): its ProtectionProgress. */
export const protectionProgressQuery = defineQuery<ProtectionProgress>('protectionProgress');

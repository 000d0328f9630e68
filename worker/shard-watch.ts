/**
 * The tier workflow's watch on the shards it adopted from an earlier run (workflows/tier.ts):
 * an activity that asks the Temporal server which of a list of workflow ids have no open run
 * (DescribeWorkflowExecution by workflow id: its newest run), through the Worker's own client
 * (`Context.current().client`). Reading a workflow's status writes nothing to its history;
 * the signal the watch sent before (every 30 s to every adopted shard) added an event and a
 * workflow task to each shard each time, which kept shards that could not replay fast enough
 * from ever finishing at 20,000 jobs (docs/benchmarks.md).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import type { ShardWatchActivities } from '../workflows/tier.js';

/** Describe calls in flight at once (one watch reads at most a tier's shards, a few hundred). */
const DESCRIBES_AT_ONCE = 8;

/** Activities of the tier's shard watch, registered by worker/build.ts beside createActivities'. */
export function createShardWatchActivities(): ShardWatchActivities {
  return {
    /**
     * Of `workflowIds`, those whose newest run is not RUNNING (completed, failed, cancelled,
     * terminated, timed out) or that the server does not know.
     * @throws the client's error for anything else (the activity is retried)
     */
    async closedWorkflows(workflowIds: string[]): Promise<string[]> {
      const { client } = Context.current();
      const limit = pLimit(DESCRIBES_AT_ONCE);
      const open = await Promise.all(workflowIds.map((workflowId) => limit(async () => {
        try {
          return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        }
      })));
      return workflowIds.filter((_, i) => !open[i]);
    },
  };
}

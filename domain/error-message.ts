/**
 * The message of an error and of its causes, joined by `: ` (a failed workflow's cause
 * holds the activity's reason: "Workflow execution failed: Activity task failed: capacity
 * of az-a: AZ az-a is down"). For the CLI, the console and the workflows (a failed child workflow's reason is its deepest cause).
 */
export function messageOf(err: unknown, depth = 5): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < depth; e = e.cause) parts.push(e.message);
  return parts.length ? parts.join(': ') : String(err);
}

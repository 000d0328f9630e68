/**
 * Server writes of a benchmark run, read from the Temporal dev server's Prometheus endpoint
 * (`temporal server start-dev --metrics-port`, scripts/temporal.sh).
 *
 * What the dev server exposes (read off its /metrics, Temporal CLI 1.9.1 / server 1.x): every
 * persistence call as the histogram `persistence_latency{operation=...,service_name=...}` and
 * every visibility-store call as `visibility_persistence_latency{operation=...}`; a histogram's
 * `_count` sample is the number of calls. (`persistence_requests` is exported too but reads 0
 * on this server: counted from the latency histograms instead.) Operations named Get*, List*,
 * Read*, Count*, Scan*, Watch*, Assert*, Describe* are reads; every other one changes the
 * store (CreateWorkflowExecution, UpdateWorkflowExecution, AppendHistoryNodes, CreateTasks,
 * CompleteTasksLessThan, UpdateShard, RecordWorkflowExecutionStarted, ...), i.e. is a write to
 * SQLite. Source: Temporal server `common/persistence` metric client (operation scopes).
 *
 * The samples are read with a line pattern rather than a Prometheus text parser:
 * parse-prometheus-text-format 1.1.1 (tried) drops the labels of the dev server's histograms, and
 * only two fixed sample names are read.
 */

/** Calls per persistence operation; visibility-store operations are prefixed `visibility:`. */
export type OperationCounts = Record<string, number>;

/** Writes of a run: total, the workflow-state part, and every operation's count. */
export interface ServerWrites {
  /** Every write operation (execution, history, task queue, shard, visibility), calls. */
  writes: number;
  /** CreateWorkflowExecution + UpdateWorkflowExecution + ConflictResolveWorkflowExecution + SetWorkflowExecution: one SQLite transaction each on a workflow's mutable state. */
  executionWrites: number;
  /** Calls per operation, reads and writes, most first. */
  byOperation: OperationCounts;
}

const SAMPLE = /^(persistence_latency_count|visibility_persistence_latency_count)\{([^}]*)\} ([0-9.e+]+)$/;
const OPERATION = /(?:^|,)operation="([^"]*)"/;
const READ = /^(Get|List|Read|Count|Scan|Watch|Assert|Describe)/;
const EXECUTION_WRITES = new Set(['CreateWorkflowExecution', 'UpdateWorkflowExecution', 'ConflictResolveWorkflowExecution', 'SetWorkflowExecution']);

/**
 * Calls per operation in one /metrics text (summed over namespaces and services).
 * Pure. @returns counts since the server started
 */
export function persistenceOperations(metricsText: string): OperationCounts {
  const counts: OperationCounts = {};
  for (const line of metricsText.split('\n')) {
    const m = SAMPLE.exec(line);
    const op = m && OPERATION.exec(m[2]!)?.[1];
    if (!m || !op) continue;
    const name = m[1] === 'visibility_persistence_latency_count' ? `visibility:${op}` : op;
    counts[name] = (counts[name] ?? 0) + Number(m[3]);
  }
  return counts;
}

/** True when `operation` (as in OperationCounts) changes the store. */
export function isWrite(operation: string): boolean {
  return !READ.test(operation.replace(/^visibility:/, ''));
}

/** Writes between two readings of persistenceOperations (`after` − `before`). Pure. */
export function serverWrites(before: OperationCounts, after: OperationCounts): ServerWrites {
  const byOperation: OperationCounts = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) byOperation[op] = d;
  }
  const sorted = Object.fromEntries(Object.entries(byOperation).sort((a, b) => b[1] - a[1]));
  const writes = Object.entries(sorted).filter(([op]) => isWrite(op)).reduce((n, [, d]) => n + d, 0);
  const executionWrites = Object.entries(sorted).filter(([op]) => EXECUTION_WRITES.has(op)).reduce((n, [, d]) => n + d, 0);
  return { writes, executionWrites, byOperation: sorted };
}

/**
 * Read the dev server's /metrics at `url` (startTemporalDevServer with `metrics: true`).
 * @throws Error naming the URL and the HTTP status when it does not answer 200
 */
export async function scrapeOperations(url: string): Promise<OperationCounts> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Temporal dev server metrics at ${url} answered HTTP ${res.status}; start it with metrics: true (scripts/temporal.sh --metrics-port)`);
  return persistenceOperations(await res.text());
}

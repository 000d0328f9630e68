import { describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { isWrite, persistenceOperations, serverWrites } from '../../bench/server-metrics.js';
import { addExecution, countHistory, type HistoryStats } from '../../bench/history-stats.js';

const EventType = temporal.api.enums.v1.EventType;

// Lines as the Temporal dev server (CLI 1.9.1) prints them on /metrics, trimmed to a few.
const metrics = (update: number, create: number, tasks: number): string => `# HELP persistence_latency persistence_latency histogram
# TYPE persistence_latency histogram
persistence_latency_bucket{namespace="default",operation="UpdateWorkflowExecution",service_name="history",le="0.001"} 1
persistence_latency_sum{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 0.5
persistence_latency_count{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} ${update}
persistence_latency_count{namespace="default",operation="CreateWorkflowExecution",service_name="history"} ${create}
persistence_latency_count{namespace="default",operation="GetWorkflowExecution",service_name="history"} 40
persistence_latency_count{namespace="default",operation="CreateTasks",service_name="matching"} ${tasks}
persistence_latency_count{namespace="system",operation="CreateTasks",service_name="matching"} 1
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 0
visibility_persistence_latency_count{operation="RecordWorkflowExecutionStarted",service_name="history",visibility_index_name="x",visibility_plugin_name="sqlite"} ${create}
visibility_persistence_latency_count{operation="ListWorkflowExecutions",service_name="frontend",visibility_index_name="x",visibility_plugin_name="sqlite"} 3
`;

describe('server writes from the dev server metrics', () => {
  it('counts calls per operation from the latency histograms, summed over namespaces, visibility apart', () => {
    expect(persistenceOperations(metrics(10, 2, 5))).toEqual({
      UpdateWorkflowExecution: 10, CreateWorkflowExecution: 2, GetWorkflowExecution: 40, CreateTasks: 6,
      'visibility:RecordWorkflowExecutionStarted': 2, 'visibility:ListWorkflowExecutions': 3,
    });
  });

  it('tells reads from writes by operation name', () => {
    expect(['GetWorkflowExecution', 'ListNamespaces', 'AssertShardOwnership', 'visibility:ListWorkflowExecutions'].filter(isWrite)).toEqual([]);
    expect(['UpdateWorkflowExecution', 'AppendHistoryNodes', 'CompleteTasksLessThan', 'visibility:RecordWorkflowExecutionClosed'].every(isWrite)).toBe(true);
  });

  it('counts only the writes between two readings, execution writes apart', () => {
    const w = serverWrites(persistenceOperations(metrics(10, 2, 5)), persistenceOperations(metrics(110, 12, 25)));
    // 100 updates + 10 creates + 20 task writes + 10 visibility records; reads unchanged.
    expect(w.writes).toBe(140);
    expect(w.executionWrites).toBe(110);
    expect(Object.keys(w.byOperation)).toEqual(['UpdateWorkflowExecution', 'CreateTasks', 'CreateWorkflowExecution', 'visibility:RecordWorkflowExecutionStarted']);
  });
});

describe('history totals', () => {
  it('counts events and workflow tasks of one history', () => {
    const h = [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED].map((eventType) => ({ eventType }));
    expect(countHistory(h)).toMatchObject({ events: 6, workflowTasks: 2, taskTimeouts: 0, taskFailures: 0 });
  });

  it('times each workflow task from its start to its completion, timeout or failure, and sums the bytes', () => {
    const at = (s: number) => ({ seconds: s, nanos: 500_000_000 });
    const h = [
      { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(10) },
      { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, eventTime: at(11) },
      { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(20) },
      { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, eventTime: at(30) },
      { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(31) },
      { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, eventTime: at(33) },
    ];
    expect(countHistory(h, [10, 20, 30, 40, 50, 60])).toEqual({
      events: 6, workflowTasks: 3, bytes: 210, taskMs: [1000, 10_000, 2000], taskTimeouts: 1, taskFailures: 1,
      bytesByEvent: { WORKFLOW_TASK_STARTED: 90, WORKFLOW_TASK_COMPLETED: 20, WORKFLOW_TASK_TIMED_OUT: 40, WORKFLOW_TASK_FAILED: 60 },
    });
  });

  it('adds executions per kind and keeps the largest', () => {
    const stats: HistoryStats = { workflows: 0, events: 0, workflowTasks: 0, byKind: {}, largest: null };
    addExecution(stats, { workflowId: 's1', runId: 'r1', kind: 'shard', events: 300, workflowTasks: 40 });
    addExecution(stats, { workflowId: 'e', runId: 'r2', kind: 'evacuation', events: 50, workflowTasks: 10 });
    addExecution(stats, { workflowId: 's2', runId: 'r3', kind: 'shard', events: 310, workflowTasks: 41 });
    expect(stats).toMatchObject({ workflows: 3, events: 660, workflowTasks: 91, largest: { workflowId: 's2', kind: 'shard', events: 310 } });
    expect(stats.byKind).toEqual({ shard: { workflows: 2, events: 610, workflowTasks: 81 }, evacuation: { workflows: 1, events: 50, workflowTasks: 10 } });
  });

  it('keeps task time percentiles, timeouts and bytes per kind, and the heaviest history', () => {
    const stats: HistoryStats = { workflows: 0, events: 0, workflowTasks: 0, byKind: {}, largest: null };
    addExecution(stats, { workflowId: 's1', runId: 'r1', kind: 'shard', events: 300, workflowTasks: 3, bytes: 9000, taskMs: [10, 20, 30_000], taskTimeouts: 1 });
    addExecution(stats, { workflowId: 't', runId: 'r2', kind: 'tier', events: 400, workflowTasks: 1, bytes: 5000, taskMs: [5] });
    expect(stats.byKind.shard).toMatchObject({ bytes: 9000, taskTimeouts: 1, taskMs: { p50: 20, p95: 30_000, max: 30_000 } });
    expect(stats).toMatchObject({ bytes: 14_000, taskMs: { p50: 10, max: 30_000 }, largest: { workflowId: 't' }, heaviest: { workflowId: 's1', bytes: 9000 } });
  });
});

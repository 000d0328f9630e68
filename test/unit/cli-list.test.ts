/**
 * `az-evac list` without a server: the outcome of a run from its Temporal status and verdict,
 * the visibility query, and the text view (client/run-list.ts, cli/list-text.ts).
 */
import { describe, expect, it } from 'vitest';
import { runListQuery, runOutcome, type RunListItem } from '../../client/run-list.js';
import { runListText } from '../../cli/list-text.js';

describe('runOutcome', () => {
  it.each([
    ['evacuation', 'RUNNING', { phase: 'evacuating' }, undefined],
    ['evacuation', 'COMPLETED', { phase: 'done', passed: true }, 'succeeded'],
    ['evacuation', 'COMPLETED', { phase: 'done', passed: false }, 'failed'],
    ['evacuation', 'COMPLETED', { phase: 'aborted', passed: false }, 'aborted'],
    ['evacuation', 'COMPLETED', {}, undefined],
    ['evacuation', 'TERMINATED', {}, 'terminated'],
    ['evacuation', 'TIMED_OUT', {}, 'timed-out'],
    ['evacuation', 'FAILED', {}, 'failed'],
    ['evacuation', 'FAILED', { phase: 'failed', passed: false }, 'failed'],
    ['evacuation', 'FAILED', { phase: 'aborted', passed: false }, 'aborted'],
    ['drill', 'FAILED', { phase: 'rejected', passed: false }, 'rejected'],
    ['drill', 'COMPLETED', { phase: 'passed', passed: true }, 'passed'],
    ['drill', 'COMPLETED', { phase: 'rejected', passed: false }, 'rejected'],
    ['drill', 'COMPLETED', { phase: 'failed', passed: false }, 'failed'],
    ['drill', 'CANCELED', { passed: false }, 'canceled'],
  ] as const)('%s %s %j → %s', (kind, status, verdict, outcome) => {
    expect(runOutcome(kind, status, verdict)).toBe(outcome);
  });
});

describe('runListQuery', () => {
  it('lists both kinds on the task queue (quoted), with the status filter', () => {
    expect(runListQuery("q'1", {})).toBe("(WorkflowType = 'evacuateAz' OR WorkflowType = 'drill') AND TaskQueue = 'q''1'");
    expect(runListQuery('az-evac', { status: 'running', kinds: ['drill'] })).toBe("(WorkflowType = 'drill') AND TaskQueue = 'az-evac' AND ExecutionStatus = 'Running'");
    expect(runListQuery('az-evac', { status: 'closed' })).toContain("ExecutionStatus != 'Running'");
  });
});

describe('runListText', () => {
  it('one aligned line per run with mode, AZs, status and outcome (or phase while running)', () => {
    const runs: RunListItem[] = [
      { kind: 'drill', id: 'drill-canary-1', mode: 'drill', sourceAz: 'az-a', targetAz: 'az-b', status: 'RUNNING', startedAt: '2026-12-06T06:00:01.123Z', phase: 'awaiting-approval' },
      { kind: 'evacuation', id: 'az-evac-emergency-az-a-to-az-b', mode: 'emergency', sourceAz: 'az-a', targetAz: 'az-b', status: 'COMPLETED', startedAt: '2026-12-06T05:00:00.000Z', closedAt: '2026-12-06T05:04:00.000Z', phase: 'done', outcome: 'failed' },
    ];
    const lines = runListText(runs).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^STARTED \(UTC\) +KIND +ID +MODE +FROM → TO +STATUS +OUTCOME +CLOSED \(UTC\)$/);
    expect(lines[1]).toMatch(/^2026-12-06T06:00:01Z +drill +drill-canary-1 +drill +az-a → az-b +RUNNING +\(awaiting-approval\) +-$/);
    expect(lines[2]).toMatch(/^2026-12-06T05:00:00Z +evacuation +az-evac-emergency-az-a-to-az-b +emergency +az-a → az-b +COMPLETED +failed +2026-12-06T05:04:00Z$/);
    expect(lines[1]!.indexOf('RUNNING')).toBe(lines[2]!.indexOf('COMPLETED'));
    expect(runListText([])).toMatch(/^no evacuations or drills/);
  });
});

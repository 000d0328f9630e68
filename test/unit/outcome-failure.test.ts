/**
 * Failures close as failures (workflows/outcome-failure.ts, domain/outcome-message.ts): the
 * message of a failed evacuation, job and drill, and the result read back from inside the
 * failure the way the client (WorkflowFailedError) and a parent workflow (ChildWorkflowFailure)
 * receive it. No server: the failures are built as the SDK decodes them.
 */
import { ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { countText, drillFailureMessage, evacuationFailureMessage, jobFailureMessage } from '../../domain/outcome-message.js';
import { outcomeFailure, resultInFailure, settledResult } from '../../workflows/outcome-failure.js';

const tier = (t: 'P0' | 'P1' | 'P2' | 'P3', jobs: number, failed: number, skipped: number, rto: number | null, target: number) => ({
  tier: t, jobs, succeeded: jobs - failed - skipped, failed, skipped, rtoSeconds: rto, rtoTargetSeconds: target, rtoMet: rto !== null && rto <= target,
});

describe('failure messages', () => {
  it('an evacuation: failed of admitted, skipped, RUNNING, each RTO missed, tier workflow failures; thousands separated', () => {
    const m = evacuationFailureMessage({
      sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency',
      tiers: [tier('P0', 100, 0, 0, 2.6, 3), tier('P1', 400, 12, 0, 45.04, 30), tier('P2', 500, 0, 3, 10, 60), tier('P3', 0, 0, 0, null, 120)],
      tierFailures: { P2: 'plan store refused' },
    });
    expect(m).toBe('emergency evacuation az-a → az-b failed: 12 of 1,000 jobs failed, 3 skipped, 985 RUNNING; P1 RTO missed (45 s, target 30 s); tier P2 workflow failed: plan store refused');
  });

  it('an aborted evacuation says who aborted and why; a tier with jobs but none RUNNING misses its RTO', () => {
    const m = evacuationFailureMessage({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill', tiers: [tier('P1', 2, 0, 2, null, 30)], abortedBy: 'alice: source AZ recovered' });
    expect(m).toBe('drill evacuation az-a → az-b aborted by alice: source AZ recovered: 0 of 2 jobs failed, 2 skipped, 0 RUNNING; P1 RTO missed (no job RUNNING, target 30 s)');
  });

  it('a job and a drill', () => {
    expect(jobFailureMessage({ tier: 'P1', key: 'ns/orders', strategy: 'redeploy', reason: 'startup failed after retries: StartupTimeout' }))
      .toBe('P1 job ns/orders (redeploy) failed: startup failed after retries: StartupTimeout');
    expect(drillFailureMessage({
      runbook: 'nightly', phase: 'failed',
      steps: [{ index: 0, kind: 'readiness', state: 'passed' }, { index: 1, kind: 'evacuate', state: 'failed', summary: 'done: 1 RUNNING, 1 failed' }, { index: 2, kind: 'verify', state: 'not-run' }],
      cleanup: [{ kind: 'failback', state: 'failed', summary: 'source AZ down' }],
    })).toBe('drill nightly failed at step 2 (evacuate): done: 1 RUNNING, 1 failed; cleanup failback failed: source AZ down');
    expect(countText(1234567)).toBe('1,234,567');
  });
});

describe('the result inside an outcome failure', () => {
  const result = { evacuationId: 'e', phase: 'failed', success: false };
  const failure = outcomeFailure('EvacuationFailed', 'm', result);

  it('is a non-retryable ApplicationFailure of its type whose detail is the result', () => {
    expect(failure).toMatchObject({ type: 'EvacuationFailed', message: 'm', nonRetryable: true, details: [result] });
  });

  it('is read through a client WorkflowFailedError and a parent workflow ChildWorkflowFailure', async () => {
    expect(resultInFailure(new WorkflowFailedError('Workflow execution failed', failure, RetryState.NON_RETRYABLE_FAILURE))).toEqual(result);
    expect(resultInFailure(new ChildWorkflowFailure('default', { workflowId: 'w', runId: 'r' }, 'evacuateAz', RetryState.NON_RETRYABLE_FAILURE, failure))).toEqual(result);
    await expect(settledResult(Promise.reject(new WorkflowFailedError('x', failure, RetryState.NON_RETRYABLE_FAILURE)))).resolves.toEqual(result);
    await expect(settledResult(Promise.resolve(1))).resolves.toBe(1);
  });

  it('any other failure is thrown on: an engine fault, a terminated run', async () => {
    const other = new WorkflowFailedError('Workflow execution failed', ApplicationFailure.nonRetryable('boom', 'ProgressSignalFailed', result), RetryState.NON_RETRYABLE_FAILURE);
    expect(resultInFailure(other)).toBeUndefined();
    await expect(settledResult(Promise.reject(other))).rejects.toBe(other);
  });
});

import { describe, expect, it } from 'vitest';
import { ACTION_ANNOTATIONS, applyMark, failbackMark, fenceMark, preemptMark, stopVerdict, type StopEvidence } from '../../domain/fence.js';

/** The status the Flink Kubernetes Operator (release-1.15.0) leaves after a completed suspend at generation 4. */
const suspended: StopEvidence = {
  generation: 4, specState: 'suspended', observedGeneration: 4, lifecycleState: 'SUSPENDED', jobState: 'FINISHED', jobManagerDeploymentStatus: 'MISSING',
};

describe('stopVerdict: a copy told to suspend counts stopped only when the status shows it', () => {
  it('absent resource: stopped', () => {
    expect(stopVerdict(null, 4)).toEqual({ stopped: true, seen: 'FlinkDeployment absent' });
  });

  it('JobManager Deployment gone after the operator recorded the suspend: stopped, and says what was seen', () => {
    const v = stopVerdict(suspended, 4);
    expect(v.stopped).toBe(true);
    expect(v.seen).toContain('jobManagerDeploymentStatus MISSING');
    expect(v.seen).toContain('observedGeneration 4');
  });

  it.each(['SUSPENDED', 'FINISHED', 'CANCELED'])('job %s with the suspended spec recorded: stopped', (jobState) => {
    expect(stopVerdict({ ...suspended, jobState, jobManagerDeploymentStatus: 'READY' }, 4).stopped).toBe(true);
  });

  it('the patch was accepted but the operator has not acted (observedGeneration behind): not stopped, even if the job reads FINISHED', () => {
    const v = stopVerdict({ ...suspended, observedGeneration: 3, lifecycleState: 'STABLE', jobState: 'RUNNING', jobManagerDeploymentStatus: 'READY' }, 4);
    expect(v).toEqual({ stopped: false, seen: 'the operator has not acted on the suspend: status.observedGeneration 3 < generation 4' });
    expect(stopVerdict({ ...suspended, observedGeneration: undefined }, 4).stopped).toBe(false);
    // A stale terminal state from before the suspend proves nothing either.
    expect(stopVerdict({ ...suspended, observedGeneration: 3 }, 4).stopped).toBe(false);
  });

  it('an asynchronous cancel still in progress (UPGRADING, CANCELLING) is not stopped', () => {
    const v = stopVerdict({ ...suspended, lifecycleState: 'UPGRADING', jobState: 'CANCELLING', jobManagerDeploymentStatus: 'READY' }, 4);
    expect(v.stopped).toBe(false);
    expect(v.seen).toContain('lifecycleState UPGRADING');
  });

  it('SUSPENDED lifecycle with a job still RUNNING and its JobManager READY is not stopped', () => {
    expect(stopVerdict({ ...suspended, jobState: 'RUNNING', jobManagerDeploymentStatus: 'READY' }, 4)).toEqual({
      stopped: false, seen: 'lifecycleState SUSPENDED but job RUNNING, JobManager READY, observedGeneration 4',
    });
  });

  it('a spec set back to running is not stopped, whatever the status says', () => {
    expect(stopVerdict({ ...suspended, specState: 'running' }, 4).stopped).toBe(false);
  });

  it('a resource that never ran (CREATED, suspended spec observed): stopped', () => {
    expect(stopVerdict({ generation: 1, specState: 'suspended', observedGeneration: 1, lifecycleState: 'CREATED' }, 1).stopped).toBe(true);
  });

  it('a newer generation observed than the suspend produced still counts (idempotent re-suspend)', () => {
    expect(stopVerdict({ ...suspended, generation: 5, observedGeneration: 5 }, 4).stopped).toBe(true);
  });
});

describe('fence and preemption marks', () => {
  const run = { evacuationId: 'evac-7', runId: 'r1', mode: 'drill', sourceAz: 'az-a', targetAz: 'az-b', requestedBy: 'alice' };
  const at = Date.UTC(2026, 11, 6, 6, 30);

  it('a fence names the run, when, why, and the trigger in annotations and Event', () => {
    const m = fenceMark(run, at);
    expect(m.annotations[ACTION_ANNOTATIONS.fencedBy]).toBe('evac-7@r1');
    expect(m.annotations[ACTION_ANNOTATIONS.fencedAt]).toBe('2026-12-06T06:30:00.000Z');
    expect(m.annotations[ACTION_ANNOTATIONS.reason]).toContain('drill evacuation evac-7@r1 of az-a into az-b, triggered by alice');
    expect(m.event.reason).toBe('AzEvacFenced');
    expect(m.event.message).toContain('evac-7@r1');
    expect(m.event.message).toContain('alice');
  });

  it('an applied copy names the run, when, the trigger and what it restores from', () => {
    const m = applyMark({ ...run, mode: 'emergency' }, at, { strategy: 'redeploy', snapshotPath: 's3://b/savepoints/sp-1' });
    expect(m.annotations[ACTION_ANNOTATIONS.appliedBy]).toBe('evac-7@r1');
    expect(m.annotations[ACTION_ANNOTATIONS.appliedAt]).toBe('2026-12-06T06:30:00.000Z');
    expect(m.annotations[ACTION_ANNOTATIONS.reason]).toBe('applied by the emergency evacuation evac-7@r1 of az-a into az-b, triggered by alice: redeployed from s3://b/savepoints/sp-1');
    expect(m.event).toEqual({ reason: 'AzEvacApplied', message: expect.stringContaining('triggered by alice: redeployed from s3://b/savepoints/sp-1') });
    expect(applyMark(run, at, { strategy: 'promote-standby' }).event.message).toContain('hot standby promoted to active');
    expect(applyMark(run, at, { strategy: 'resume-standby' }).event.message).toContain('cold standby resumed stateless (no snapshot)');
    expect(applyMark(run, at, { strategy: 'redeploy', suspended: true }).event.message).toContain('deployed suspended');
  });

  it('a failed-back source copy names the evacuation, who asked for the failback and the savepoint', () => {
    const m = failbackMark({ ...run, mode: 'emergency' }, at, { requestedBy: 'bob', restoredFrom: 's3://a/savepoints/sp-2' });
    expect(m.annotations[ACTION_ANNOTATIONS.failedBackBy]).toBe('evac-7@r1');
    expect(m.annotations[ACTION_ANNOTATIONS.failedBackAt]).toBe('2026-12-06T06:30:00.000Z');
    expect(m.annotations[ACTION_ANNOTATIONS.reason]).toContain('emergency evacuation evac-7@r1 of az-a into az-b, triggered by alice');
    expect(m.annotations[ACTION_ANNOTATIONS.reason]).toContain('failback triggered by bob: restored here from s3://a/savepoints/sp-2, its job moves back from az-b');
    expect(m.event.reason).toBe('AzEvacFailedBack');
    expect(failbackMark(run, at, {}).event.message).toContain('failback triggered by an unnamed caller: restored here,');
  });

  it('a preemption names the job the capacity is for', () => {
    const m = preemptMark({ ...run, runId: undefined, requestedBy: undefined }, at, 'ns/b', 8);
    expect(m.annotations[ACTION_ANNOTATIONS.preemptedBy]).toBe('evac-7');
    expect(m.annotations[ACTION_ANNOTATIONS.preemptedAt]).toBe('2026-12-06T06:30:00.000Z');
    expect(m.annotations[ACTION_ANNOTATIONS.reason]).toContain('free 8 cores for ns/b');
    expect(m.event).toEqual({ reason: 'AzEvacPreempted', message: expect.stringContaining('triggered by an unnamed caller') });
  });
});

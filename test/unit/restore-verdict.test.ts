/**
 * "Restored means restored" (domain/restore-verdict.ts): the pure verdict, and the simulated
 * operator producing the evidence it reads (RUNNING before the restore ends, the first
 * checkpoint after it, restore failures that loop RESTARTING ↔ RUNNING). In-process, no servers.
 */
import { describe, expect, it } from 'vitest';
import { RESTORE_LOOP_RESTARTS, restoreVerdict, type CheckpointStats, type OperatorView } from '../../domain/restore-verdict.js';
import { fleetJob, manifest, simWith } from './fixtures/sim-platform.js';

const RUNNING: OperatorView = { lifecycleState: 'STABLE', jobState: 'RUNNING', jobId: 'f'.repeat(32), observedGeneration: 3 };
const SAVEPOINT = 's3://flink-state/savepoints/ns/job-a/savepoint-0a1b2c-0123456789ab';
/** Restored savepoint 57 once, no checkpoint since. */
const RESTORED: CheckpointStats = { enabled: true, restoredCount: 1, restored: { id: 57, restoredAtMs: 1_000, path: SAVEPOINT } };

describe('restoreVerdict', () => {
  const verdict = (over: Partial<Parameters<typeof restoreVerdict>[0]>) => restoreVerdict({ status: RUNNING, minGeneration: 3, restoring: true, ...over });

  it('waits while the resource is absent or the operator has not acted on the new generation', () => {
    expect(verdict({ status: null })).toEqual({ waitingFor: 'the FlinkDeployment to exist', needsCheckpoints: false });
    expect(verdict({ minGeneration: 4, checkpoints: { ...RESTORED, completed: { id: 58, completedAtMs: 2_000 } } })).toMatchObject({
      waitingFor: expect.stringContaining('generation ≥ 4'), needsCheckpoints: false,
    });
  });

  it("fails with the operator's status.error when the resource or the job is FAILED", () => {
    expect(verdict({ status: { ...RUNNING, lifecycleState: 'FAILED', error: 'spec.image is missing' } })).toEqual({ done: 'failed', reason: 'FAILED: spec.image is missing' });
    expect(verdict({ status: { ...RUNNING, jobState: 'FAILED' } })).toMatchObject({ done: 'failed', reason: expect.stringContaining('operator gave no status.error') });
  });

  it('counts a job that restores nothing running as soon as the operator reports it RUNNING', () => {
    expect(verdict({ restoring: false })).toEqual({ done: 'running', evidence: { kind: 'nothing-restored' } });
    expect(verdict({ restoring: false, status: { ...RUNNING, lifecycleState: 'DEPLOYED' } }).done).toBe('running');
    expect(verdict({ restoring: false, status: { ...RUNNING, jobState: 'RECONCILING' } }).done).toBeUndefined();
  });

  it('does not count a restoring job reported RUNNING until a checkpoint completed after its restore', () => {
    expect(verdict({})).toEqual({ waitingFor: "the job's checkpoint statistics", needsCheckpoints: true });
    expect(verdict({ checkpoints: RESTORED })).toMatchObject({ waitingFor: expect.stringContaining(`the first checkpoint after restoring ${SAVEPOINT}`), needsCheckpoints: true });
    // A completed checkpoint older than the restore (the restored one itself) does not count.
    expect(verdict({ checkpoints: { ...RESTORED, completed: { id: 57, completedAtMs: 900 } } }).done).toBeUndefined();
    const running = verdict({ checkpoints: { ...RESTORED, completed: { id: 58, completedAtMs: 61_000, path: 's3://b/chk-58' } } });
    expect(running).toEqual({ done: 'running', evidence: { kind: 'checkpoint-after-restore', restoredId: 57, restoredPath: SAVEPOINT, checkpointId: 58, checkpointAtMs: 61_000 } });
  });

  it('does not count it while the operator reports RESTARTING, and asks for checkpoints to count the restarts', () => {
    expect(verdict({ status: { ...RUNNING, jobState: 'RESTARTING' } })).toEqual({ waitingFor: expect.stringContaining('jobStatus RESTARTING'), needsCheckpoints: true });
  });

  it(`fails a restore loop after ${RESTORE_LOOP_RESTARTS} restarts without a checkpoint, with the JobManager's exception, RUNNING or RESTARTING`, () => {
    const looping: CheckpointStats = { ...RESTORED, restoredCount: 1 + RESTORE_LOOP_RESTARTS };
    const failure = 'java.io.FileNotFoundException: s3://flink-state/checkpoints/ns/job-a/shared/abc';
    for (const jobState of ['RUNNING', 'RESTARTING']) {
      expect(verdict({ status: { ...RUNNING, jobState }, checkpoints: looping, lastFailure: failure })).toEqual({
        done: 'failed',
        reason: `restore loop: the job restarted ${RESTORE_LOOP_RESTARTS} times restoring ${SAVEPOINT} without completing a checkpoint; last failure: ${failure}`,
      });
    }
    // One restart is not yet a loop; a restart that recovered and checkpointed is not one at all.
    expect(verdict({ checkpoints: { ...RESTORED, restoredCount: RESTORE_LOOP_RESTARTS } }).done).toBeUndefined();
    expect(verdict({ checkpoints: { ...looping, restored: { id: 60, restoredAtMs: 5_000 }, completed: { id: 61, completedAtMs: 9_000 } } }).done).toBe('running');
  });

  it('counts a restoring job without checkpointing running, saying the restore is not verified', () => {
    const v = verdict({ checkpoints: { enabled: false, restoredCount: 0 } });
    expect(v).toMatchObject({ done: 'running', evidence: { kind: 'not-verified' } });
  });
});

describe('simulated operator: RUNNING before the restore ends, restore loops', () => {
  /** A job in az-a with 50 GiB of state (a 100 model s restore at 500 MiB/s), and its newest savepoint. */
  function setup() {
    const env = simWith([fleetJob('az-a', 'job-a', 50 * 1024 ** 3)]);
    const savepoint = env.sim.listSnapshots('az-b', env.fleet.jobs[0]!).find((s) => s.kind === 'savepoint' && s.hasMetadata && s.referencedFilesPresent)!.path;
    return { ...env, savepoint };
  }
  const wait = (sim: ReturnType<typeof simWith>['sim']) => sim.waitForRunning('az-b', 'ns', 'job-b', 1, 0, true);

  it('reports RUNNING while the tasks restore; the job counts running only after the first checkpoint after the restore', async () => {
    const { sim, advance, savepoint } = setup();
    sim.apply('az-b', manifest('az-b', 'job-b', { initialSavepointPath: savepoint }));
    let seconds = 0;
    while (sim.getDeployment('az-b', 'ns', 'job-b')!.jobState !== 'RUNNING' && seconds++ < 600) advance(1);
    const runningAtMs = seconds * 1000;
    const early = await wait(sim);
    expect(early.status).toMatchObject({ lifecycleState: 'STABLE', jobState: 'RUNNING' });
    expect(early.done).toBeUndefined();
    expect(early.waitingFor).toContain(`the first checkpoint after restoring ${savepoint}`);

    const startup = sim.listDeployments('az-b').find((d) => d.manifest.metadata.name === 'job-b')!.status.jobStatus!.startup!;
    expect(startup.phases.stateRestore).toBeGreaterThan(90);
    let verdict = early;
    while (!verdict.done && seconds++ < 900) {
      advance(1);
      verdict = await wait(sim);
    }
    expect(verdict).toMatchObject({ done: 'running', evidence: { kind: 'checkpoint-after-restore', restoredPath: savepoint } });
    const evidence = verdict.evidence as { checkpointAtMs: number };
    // Not before the restore ended: RUNNING + the modelled restore time.
    expect(evidence.checkpointAtMs).toBeGreaterThanOrEqual(runningAtMs + startup.phases.stateRestore * 1000);
  });

  it('loops RESTARTING ↔ RUNNING when a file the snapshot references is missing, and the wait fails with the exception', async () => {
    const { sim, advance, savepoint } = setup();
    // Delete the savepoint's data file in az-b's replica only: _metadata is there, a file it references is not.
    const store = sim.stores.store('az-b');
    const dir = savepoint.replace('s3://flink-state/', '');
    const file = store.list('flink-state', { prefix: `${dir}/` }).contents.map((o) => o.key).find((k) => !k.endsWith('/_metadata'))!;
    store.delete('flink-state', file);
    sim.apply('az-b', manifest('az-b', 'job-b', { initialSavepointPath: savepoint }));
    const states = new Set<string>();
    let verdict = await wait(sim);
    for (let s = 0; s < 1200 && !verdict.done; s++) {
      advance(1);
      states.add(sim.getDeployment('az-b', 'ns', 'job-b')!.jobState ?? 'none');
      verdict = await wait(sim);
    }
    expect(states).toEqual(new Set(['RECONCILING', 'CREATED', 'RUNNING', 'RESTARTING']));
    expect(verdict).toMatchObject({ done: 'failed', reason: expect.stringMatching(/^restore loop: the job restarted 2 times .* last failure: java\.io\.FileNotFoundException: .*references files missing from az-b's object store/) });
    // The operator's status.error stays unset (the real operator sets it only when the job is FAILED).
    expect(verdict.status?.error).toBeUndefined();
  });

  it('loops the same way under the failRestore fault', async () => {
    const { sim, advance, savepoint } = setup();
    sim.faults.set({ failRestore: ['ns/job-b'] });
    sim.apply('az-b', manifest('az-b', 'job-b', { initialSavepointPath: savepoint }));
    let verdict = await wait(sim);
    for (let s = 0; s < 1200 && !verdict.done; s++) {
      advance(1);
      verdict = await wait(sim);
    }
    expect(verdict).toMatchObject({ done: 'failed', reason: expect.stringContaining('injected failRestore fault') });
  });
});

import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../platform/errors.js';
import { stopVerdict } from '../../domain/fence.js';
import { fleetJob, JAR, manifest, simWith } from './fixtures/sim-platform.js';
import { DEFAULT_MODEL, savepointSeconds } from '../../simulator/latency-model.js';

const JOB = fleetJob('az-a', 'job-a');
type Sim = ReturnType<typeof simWith>['sim'];

function full(sim: Sim, az: string, name: string) {
  return sim.listDeployments(az).find((d) => d.manifest.metadata.name === name)!;
}

function newestComplete(sim: Sim, az: string, kind: 'checkpoint' | 'savepoint'): string {
  return sim.listSnapshots(az, JOB).find((s) => s.kind === kind && s.hasMetadata && s.referencedFilesPresent)!.path;
}

describe('simulated Flink operator', () => {
  it('creates a suspended first deploy as CREATED without pods', () => {
    const { sim, advance } = simWith([JOB]);
    const free = sim.capacity('az-b');
    expect(sim.apply('az-b', manifest('az-b', 'cold', { state: 'suspended' }))).toEqual({ created: true, generation: 1, uid: 'az-b/ns/cold' });
    advance(600);
    const s = sim.getDeployment('az-b', 'ns', 'cold')!;
    expect(s.lifecycleState).toBe('CREATED');
    expect(s.jobState).toBeUndefined();
    expect(sim.capacity('az-b')).toEqual(free);
  });

  it('deploys running → DEPLOYED, then STABLE/RUNNING with a new jobId after the modelled start-up', () => {
    const { sim, advance } = simWith([JOB]);
    sim.apply('az-b', manifest('az-b', 'job-b'));
    expect(sim.getDeployment('az-b', 'ns', 'job-b')).toMatchObject({ lifecycleState: 'DEPLOYED', jobState: 'RECONCILING', observedGeneration: 1 });
    expect(sim.capacity('az-b').cores).toBe(100 - 5);
    let seconds = 0;
    while (sim.getDeployment('az-b', 'ns', 'job-b')!.jobState !== 'RUNNING' && seconds++ < 600) advance(1);
    const startup = full(sim, 'az-b', 'job-b').status.jobStatus!.startup!;
    // RUNNING shows at the step after the modelled start-up, whose phases add up to it.
    expect(seconds - startup.total).toBeGreaterThanOrEqual(0);
    expect(seconds - startup.total).toBeLessThan(1);
    expect(Object.values(startup.phases).reduce((a, b) => a + b, 0)).toBeCloseTo(startup.total, 6);
    for (const phase of ['reconcile', 'imagePull', 'jobManager', 'jarFetch', 'taskManagers', 'jobInit'] as const) expect(startup.phases[phase], phase).toBeGreaterThan(0);
    // The operator sees RUNNING at a progress check: a whole number of intervals after its reconcile.
    const sinceReconcile = startup.total - startup.phases.capacity - startup.phases.reconcile;
    expect(sinceReconcile / DEFAULT_MODEL.progressCheckIntervalSeconds).toBeCloseTo(Math.round(sinceReconcile / DEFAULT_MODEL.progressCheckIntervalSeconds), 6);
    const s = sim.getDeployment('az-b', 'ns', 'job-b')!;
    expect(s).toMatchObject({ lifecycleState: 'STABLE', jobState: 'RUNNING' });
    expect(s.jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.jobId).not.toBe(sim.getDeployment('az-a', 'ns', 'job-a')!.jobId);
  });

  it('bumps metadata.generation only when the spec changes', () => {
    const { sim } = simWith([JOB]);
    const m = manifest('az-b', 'job-b');
    sim.apply('az-b', m);
    const reordered = { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, extra: 'x' } }, spec: Object.fromEntries(Object.entries(m.spec).reverse()) };
    expect(sim.apply('az-b', reordered)).toMatchObject({ created: false, generation: 1 });
    expect(sim.label('az-b', 'ns', 'job-b', { 'az-evac.io/role': 'active' }).generation).toBe(1);
    expect(sim.getDeployment('az-b', 'ns', 'job-b')!.labels).toMatchObject({ extra: 'x', 'az-evac.io/role': 'active' });
    expect(sim.apply('az-b', manifest('az-b', 'job-b', { parallelism: 6 })).generation).toBe(2);
    expect(sim.cluster('az-b').counter('ns/job-b')).toMatchObject({ created: 1, specChanges: 2 });
  });

  it('redeploys once from initialSavepointPath when the nonce changes; an unchanged nonce does not re-read the path', () => {
    const { sim, advance } = simWith([JOB]);
    const savepoint = newestComplete(sim, 'az-a', 'savepoint');
    const checkpoint = newestComplete(sim, 'az-a', 'checkpoint');
    const before = sim.getDeployment('az-a', 'ns', 'job-a')!;
    const patched = sim.restore('az-a', 'ns', 'job-a', { initialSavepointPath: savepoint, savepointRedeployNonce: 1 });
    expect(patched.generation).toBe(before.generation + 1);
    expect(patched.lifecycleState).toBe('UPGRADING');
    advance(600);
    const after = full(sim, 'az-a', 'job-a').status;
    expect(after.lifecycleState).toBe('STABLE');
    expect(after.jobStatus).toMatchObject({ state: 'RUNNING', restoredFrom: savepoint, restoreSource: 'initialSavepointPath' });
    expect(after.jobStatus!.jobId).not.toBe(before.jobId);
    expect(sim.restore('az-a', 'ns', 'job-a', { initialSavepointPath: savepoint, savepointRedeployNonce: 1 }).generation).toBe(patched.generation);
    expect(sim.cluster('az-a').counter('ns/job-a').redeploys).toBe(1);

    // initialSavepointPath alone is no spec change for the operator's diff (JobSpec
    // @SpecDiff(IGNORE), release-1.15.0 L74-75): observed, the job runs on as it was.
    const changed = sim.restore('az-a', 'ns', 'job-a', { initialSavepointPath: checkpoint, savepointRedeployNonce: 1 });
    advance(600);
    const same = full(sim, 'az-a', 'job-a').status;
    expect(same.observedGeneration).toBe(changed.generation);
    expect(same.jobStatus).toMatchObject({ state: 'RUNNING', restoredFrom: savepoint, jobId: after.jobStatus!.jobId });
    expect(sim.cluster('az-a').counter('ns/job-a')).toMatchObject({ redeploys: 1, deploys: 1 });
  });

  // Flink Kubernetes Operator release-1.15.0 (79d730ba), DefaultValidator.validateSpecChange
  // L484-531: once the resource was deployed (not isBeforeFirstDeployment), a changed
  // savepointRedeployNonce with an empty initialSavepointPath is rejected.
  it('rejects a nonce change without initialSavepointPath on a resource that ran, like the real validator', () => {
    const { sim, advance } = simWith([JOB]);
    const before = sim.getDeployment('az-a', 'ns', 'job-a')!;
    const m = manifest('az-a', 'job-a', { savepointRedeployNonce: 7 });
    delete (m.spec.job as Record<string, unknown>).initialSavepointPath;
    sim.apply('az-a', m);
    advance(600);
    const after = sim.getDeployment('az-a', 'ns', 'job-a')!;
    expect(after.error).toBe('InitialSavepointPath must not be empty for savepoint redeployment');
    expect(after.observedGeneration).toBe(before.generation);
    expect(after).toMatchObject({ jobState: 'RUNNING', jobId: before.jobId });
    // A first deploy with a nonce and no path is accepted (validateSpecChange L488-490).
    sim.apply('az-b', manifest('az-b', 'fresh', { savepointRedeployNonce: 7 }));
    expect(sim.getDeployment('az-b', 'ns', 'fresh')!.error).toBeUndefined();
  });

  // release-1.15.0 AbstractJobReconciler.reconcileSpecChange L191-207 and restoreJob L402-425:
  // a suspended job resumed with upgradeMode stateless starts from empty state.
  it('resumes a suspended resource stateless through restore() without a path, removing an old path and keeping the nonce', () => {
    const { sim, advance } = simWith([JOB]);
    const savepoint = newestComplete(sim, 'az-a', 'savepoint');
    sim.restore('az-a', 'ns', 'job-a', { initialSavepointPath: savepoint, savepointRedeployNonce: 1 });
    advance(600);
    sim.suspend('az-a', 'ns', 'job-a');
    advance(600);
    const resumed = sim.restore('az-a', 'ns', 'job-a', { savepointRedeployNonce: 2 });
    advance(600);
    const r = full(sim, 'az-a', 'job-a');
    expect(resumed.error).toBeUndefined();
    expect(r.manifest.spec.job).toMatchObject({ state: 'running', upgradeMode: 'stateless', savepointRedeployNonce: 1 });
    expect(r.manifest.spec.job).not.toHaveProperty('initialSavepointPath');
    expect(r.status.jobStatus).toMatchObject({ state: 'RUNNING', restoreSource: 'none' });
  });

  // release-1.15.0 AbstractFlinkResourceReconciler L109-124, L237-248: a first deploy ignores upgradeMode.
  it('deploys a never-run last-state job from initialSavepointPath or empty state (upgradeMode ignored on a first deploy)', () => {
    const { sim, advance } = simWith([JOB]);
    sim.apply('az-b', manifest('az-b', 'last-state', { upgradeMode: 'last-state' }));
    advance(600);
    expect(sim.getDeployment('az-b', 'ns', 'last-state')).toMatchObject({ lifecycleState: 'STABLE', jobState: 'RUNNING' });
  });

  it('lets stale HA ConfigMaps silently win over initialSavepointPath on a first deploy, unless deleted', () => {
    const { sim, advance } = simWith([JOB]);
    const old = sim.listSnapshots('az-b', JOB).filter((s) => s.kind === 'savepoint').at(-1)!.path;
    const wanted = newestComplete(sim, 'az-b', 'checkpoint');
    expect(old).not.toBe(wanted);
    sim.putHaConfigMaps('az-b', 'ns', 'job-a', old);
    sim.apply('az-b', manifest('az-b', 'job-a', { initialSavepointPath: wanted }));
    advance(600);
    expect(full(sim, 'az-b', 'job-a').status.jobStatus).toMatchObject({ state: 'RUNNING', restoredFrom: old, restoreSource: 'ha-metadata' });

    const fresh = simWith([JOB]).sim;
    fresh.putHaConfigMaps('az-b', 'ns', 'job-a', old);
    expect(fresh.deleteHaConfigMaps('az-b', 'ns', 'job-a')).toBe(2);
    expect(fresh.deleteHaConfigMaps('az-b', 'ns', 'job-a')).toBe(0);
    fresh.apply('az-b', manifest('az-b', 'job-a', { initialSavepointPath: wanted }));
    expect(full(fresh, 'az-b', 'job-a').status.jobStatus).toMatchObject({ restoredFrom: wanted, restoreSource: 'initialSavepointPath' });
    expect(fresh.cluster('az-b').counter('ns/job-a').haConfigMapDeletes).toBe(1);
  });

  it('fails unusable specs with status.error naming the problem', () => {
    const { sim } = simWith([JOB]);
    const cases: Array<[string, ReturnType<typeof manifest>, RegExp]> = [
      ['missing-path', manifest('az-b', 'missing-path', { initialSavepointPath: 's3://flink-state/savepoints/ns/job-a/savepoint-000000-000000000000' }), /does not exist in az-b/],
      ['no-jar', manifest('az-b', 'no-jar', { jarURI: 's3://flink-artifacts/jars/nope.jar' }), /neither the jar cache/],
      ['no-jar-uri', manifest('az-b', 'no-jar-uri', { jarURI: undefined }), /jarURI is missing/],
    ];
    const foreign = manifest('az-b', 'foreign');
    foreign.spec.image = 'registry.az-a.example.internal/flink:1.20';
    cases.push(['foreign', foreign, /not from az-b's registry/]);
    for (const [name, m, error] of cases) {
      sim.apply('az-b', m);
      const s = sim.getDeployment('az-b', 'ns', name)!;
      expect(s.lifecycleState, name).toBe('FAILED');
      expect(s.error, name).toMatch(error);
    }
    const chk = newestComplete(sim, 'az-b', 'checkpoint');
    sim.stores.store('az-b').delete('flink-state', `${chk.replace('s3://flink-state/', '')}/_metadata`);
    sim.apply('az-b', manifest('az-b', 'incomplete', { initialSavepointPath: chk }));
    expect(sim.getDeployment('az-b', 'ns', 'incomplete')!.error).toMatch(/no _metadata/);
  });

  // release-1.15.0: AbstractJobReconciler.getJobUpgrade (L218) takes the desired spec's upgrade
  // mode, AbstractFlinkService.savepointJobOrError (L446-496) stops with a savepoint,
  // setUpgradeSavepointPath (L437-469) reports it; a SavepointError leaves the job running.
  it('stops a running job with a savepoint, reporting the path in upgradeSavepointPath, observed at the stop\'s generation', () => {
    const { sim, advance } = simWith([JOB]);
    const before = sim.getDeployment('az-a', 'ns', 'job-a')!;
    const stopping = sim.stopWithSavepoint('az-a', 'ns', 'job-a')!;
    expect(stopping.generation).toBe(before.generation + 1);
    advance(Math.ceil(savepointSeconds(DEFAULT_MODEL, JOB.stateSizeBytes)));
    const stopped = sim.getDeployment('az-a', 'ns', 'job-a')!;
    expect(stopped).toMatchObject({ lifecycleState: 'SUSPENDED', jobState: 'SUSPENDED', observedGeneration: stopping.generation });
    expect(stopped.upgradeSavepointPath).toMatch(/^s3:\/\/flink-state\/savepoints\/ns\/job-a\/savepoint-/);
    expect(sim.listSnapshots('az-a', JOB).find((s) => s.path === stopped.upgradeSavepointPath)).toMatchObject({ kind: 'savepoint', hasMetadata: true });
    expect(stopVerdict(stopped, stopping.generation)).toMatchObject({ stopped: true });
  });

  it('stop-with-savepoint takes the model\'s time for the state: the job runs on, unobserved, until the savepoint is written', () => {
    const small = fleetJob('az-a', 'small', 2 * 1024 ** 3);
    const big = fleetJob('az-a', 'big', 40 * 1024 ** 3);
    const { sim, advance } = simWith([small, big]);
    const took = (name: string): number => {
      const gen = sim.stopWithSavepoint('az-a', 'ns', name)!.generation;
      let seconds = 0;
      while (!stopVerdict(sim.getDeployment('az-a', 'ns', name)!, gen).stopped && seconds++ < 600) {
        expect(sim.getDeployment('az-a', 'ns', name)).toMatchObject({ jobState: 'RUNNING', observedGeneration: gen - 1 });
        advance(1);
      }
      return seconds;
    };
    const smallSeconds = took('small');
    const bigSeconds = took('big');
    expect(smallSeconds).toBe(Math.ceil(savepointSeconds(DEFAULT_MODEL, small.stateSizeBytes)));
    expect(bigSeconds).toBe(Math.ceil(savepointSeconds(DEFAULT_MODEL, big.stateSizeBytes)));
    expect(bigSeconds).toBeGreaterThan(smallSeconds + 60);
  });

  it('leaves the job RUNNING with a SavepointError when its stop-with-savepoint fails; undoStop is observed without a redeploy', () => {
    const { sim, advance } = simWith([JOB]);
    sim.faults.set({ failSavepoint: ['ns/job-a'] });
    const before = sim.getDeployment('az-a', 'ns', 'job-a')!;
    sim.stopWithSavepoint('az-a', 'ns', 'job-a');
    advance(60);
    const failed = sim.getDeployment('az-a', 'ns', 'job-a')!;
    expect(failed).toMatchObject({ lifecycleState: 'STABLE', jobState: 'RUNNING', jobId: before.jobId, observedGeneration: before.generation, specState: 'suspended' });
    expect(failed.error).toMatch(/SavepointError.*injected failSavepoint fault.*keeps running/);
    const undone = sim.undoStop('az-a', 'ns', 'job-a', 'savepoint');
    advance(600);
    expect(sim.getDeployment('az-a', 'ns', 'job-a')).toMatchObject({ specState: 'running', jobState: 'RUNNING', jobId: before.jobId, observedGeneration: undone.generation, error: undefined });
    expect(sim.cluster('az-a').counter('ns/job-a').deploys).toBe(0);
  });

  it('keeps pods Pending until capacity frees; suspend frees it', () => {
    const { sim, advance } = simWith([JOB], { cores: 12 });
    sim.apply('az-b', manifest('az-b', 'one'));
    sim.apply('az-b', manifest('az-b', 'two'));
    sim.apply('az-b', manifest('az-b', 'three'));
    advance(600);
    expect(sim.getDeployment('az-b', 'ns', 'three')).toMatchObject({ lifecycleState: 'DEPLOYED', jobState: 'RECONCILING' });
    expect(full(sim, 'az-b', 'three').status.jobStatus!.podsPending).toBe(true);
    expect(sim.capacity('az-b').cores).toBe(2);
    sim.suspend('az-b', 'ns', 'one');
    advance(60);
    expect(sim.getDeployment('az-b', 'ns', 'one')!.lifecycleState).toBe('SUSPENDED');
    expect(sim.suspend('az-b', 'ns', 'absent')).toBeNull();
    advance(600);
    expect(sim.getDeployment('az-b', 'ns', 'three')!.jobState).toBe('RUNNING');
  });

  it('ignoreSuspend fault: the suspend is accepted (annotations too) but not acted on, so stopVerdict says not stopped; lifting the fault lets the operator act', () => {
    const { sim, advance } = simWith([JOB]);
    sim.setFaults({ ignoreSuspend: ['ns/job-a'] });
    const patched = sim.suspend('az-a', 'ns', 'job-a', { 'az-evac.io/fenced-by': 'evac-1@r' })!;
    expect(patched.specState).toBe('suspended');
    advance(600);
    const running = sim.getDeployment('az-a', 'ns', 'job-a')!;
    expect(running).toMatchObject({ jobState: 'RUNNING', lifecycleState: 'STABLE' });
    expect(stopVerdict(running, patched.generation)).toMatchObject({ stopped: false, seen: expect.stringContaining('has not acted') });
    expect(full(sim, 'az-a', 'job-a').manifest.metadata.annotations).toMatchObject({ 'az-evac.io/fenced-by': 'evac-1@r' });
    sim.setFaults({ ignoreSuspend: [] });
    advance(60);
    const stopped = sim.getDeployment('az-a', 'ns', 'job-a')!;
    expect(stopVerdict(stopped, patched.generation)).toMatchObject({ stopped: true, seen: expect.stringContaining('job SUSPENDED, lifecycleState SUSPENDED') });
  });

  it('keeps recorded Events per AZ, one per id', () => {
    const { sim } = simWith([JOB]);
    const event = { namespace: 'ns', name: 'job-a', type: 'Normal' as const, reason: 'AzEvacFenced', message: 'm', id: 'evac-1@r/fenced/ns/job-a' };
    sim.recordEvent('az-a', event);
    sim.recordEvent('az-a', { ...event, message: 'retried' });
    expect(sim.listEvents('az-a')).toEqual([{ ...event, message: 'retried' }]);
    expect(sim.listEvents('az-b')).toEqual([]);
  });

  it('counts jar fetches from the repository vs the cache; preloading copies into the cache', async () => {
    const { sim, advance } = simWith([JOB]);
    sim.apply('az-b', manifest('az-b', 'job-b'));
    expect(sim.cluster('az-b').counter('ns/job-b')).toMatchObject({ jarDownloadsRepository: 1, jarDownloadsCache: 0 });
    expect(sim.hasArtifact('az-b', JAR, 'cache')).toBe(false);
    expect(sim.hasArtifact('az-b', JAR, 'repository')).toBe(true);
    const copy = sim.preloadArtifact('az-b', JAR);
    advance(30);
    await expect(copy).resolves.toEqual({ copiedBytes: JAR.sizeBytes });
    await expect(sim.preloadArtifact('az-b', JAR)).resolves.toEqual({ copiedBytes: 0 });
    expect(() => sim.preloadArtifact('az-b', { ...JAR, key: 'jars/none.jar' })).toThrow(/not in az-b's repository/);
    sim.apply('az-b', manifest('az-b', 'job-c'));
    expect(sim.cluster('az-b').counter('ns/job-c')).toMatchObject({ jarDownloadsRepository: 0, jarDownloadsCache: 1 });
    const slow = full(sim, 'az-b', 'job-b').status.jobStatus!.startup!.phases.jarFetch;
    const fast = full(sim, 'az-b', 'job-c').status.jobStatus!.startup!.phases.jarFetch;
    expect(fast).toBeLessThan(slow);
  });

  it('answers az-down for a down AZ and honours failApply / neverRunning faults', () => {
    const { sim, advance } = simWith([JOB]);
    sim.setAzDown('az-a', true);
    const err = (() => {
      try {
        sim.getDeployment('az-a', 'ns', 'job-a');
      } catch (e) {
        return e as PlatformError;
      }
    })();
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'az-down', retryable: true });
    expect(sim.readFleet()).toMatchObject({ unreachableAzs: ['az-a'], jobs: [] });
    sim.faults.set({ failApply: ['ns/bad'], neverRunning: ['ns/stuck'] });
    expect(() => sim.apply('az-b', manifest('az-b', 'bad'))).toThrow(/failApply/);
    sim.apply('az-b', manifest('az-b', 'stuck'));
    advance(1200);
    expect(sim.getDeployment('az-b', 'ns', 'stuck')!.jobState).not.toBe('RUNNING');
  });
});

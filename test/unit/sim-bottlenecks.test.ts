import { describe, expect, it } from 'vitest';
import { ModelClock, Scheduler } from '../../simulator/scheduler.js';
import { ServerQueue } from '../../simulator/server-queue.js';
import { SharedBandwidth } from '../../simulator/shared-bandwidth.js';
import { DEFAULT_MODEL, NULL_MODEL } from '../../simulator/latency-model.js';
import { fleetJob, manifest, simWith } from './fixtures/sim-platform.js';

const MiB = 1024 * 1024;

/** A scheduler on a manual clock at time scale 1, advanced in 0.1 s steps. */
function clocked() {
  let wallMs = 0;
  const scheduler = new Scheduler(new ModelClock(1, () => wallMs, 0));
  const advance = (seconds: number): void => {
    for (let i = 0; i < seconds * 10; i++) {
      wallMs += 100;
      scheduler.runDue();
    }
  };
  return { scheduler, advance, now: () => scheduler.clock.now() };
}

describe('shared bandwidth', () => {
  it('N concurrent transfers share the total: each takes N times as long as alone', () => {
    const { scheduler, advance } = clocked();
    const store = new SharedBandwidth(scheduler, 'az-b', 1000 * MiB);
    const took: number[] = [];
    for (let i = 0; i < 4; i++) store.transfer(1000 * MiB, 500 * MiB, (s) => took.push(s));
    expect(store.running()).toBe(4);
    advance(3.9);
    expect(took).toEqual([]);
    advance(0.2);
    expect(took).toHaveLength(4);
    for (const s of took) expect(s).toBeCloseTo(4, 0);
    store.transfer(1000 * MiB, 500 * MiB, (s) => took.push(s));
    advance(2.1);
    expect(took[4]).toBeCloseTo(2, 0); // alone: its own cap, 500 MiB/s
  });

  it('shares max-min fairly: a transfer capped low leaves the rest to the others, and ends free the bandwidth', () => {
    const { scheduler, advance } = clocked();
    const store = new SharedBandwidth(scheduler, 'az-b', 300 * MiB);
    const done: Record<string, number> = {};
    store.transfer(50 * MiB, 50 * MiB, (s) => (done.slow = s)); // 50 MiB/s: 1 s
    store.transfer(500 * MiB, 1000 * MiB, (s) => (done.a = s)); // 125 MiB/s for 1 s, then 150 MiB/s
    store.transfer(500 * MiB, 1000 * MiB, (s) => (done.b = s));
    advance(5);
    expect(done.slow).toBeCloseTo(1, 0);
    // 125 MiB in the first second, then 375 MiB at 150 MiB/s: 3.5 s in all.
    expect(done.a).toBeCloseTo(3.5, 0);
    expect(done.b).toBeCloseTo(3.5, 0);
  });

  it('rejects a bandwidth that is not > 0, naming it', () => {
    const { scheduler } = clocked();
    expect(() => new SharedBandwidth(scheduler, 'az-b', 0)).toThrow(/shared bandwidth of az-b is 0 bytes\/s; it must be > 0/);
  });
});

describe('server queue', () => {
  it('serves at most `servers` requests at once, the rest in arrival order', () => {
    const { scheduler, advance } = clocked();
    const q = new ServerQueue(scheduler, 'az-b', 2);
    const order: string[] = [];
    const waited: Record<string, number> = {};
    for (const id of ['a', 'b', 'c', 'd', 'e']) q.submit(10, (w) => { order.push(id); waited[id] = w; });
    expect(q.inService()).toBe(2);
    expect(q.queued()).toBe(3);
    advance(10.1);
    expect(order).toEqual(['a', 'b']);
    expect(q.inService()).toBe(2);
    advance(20);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(waited.e).toBeCloseTo(20, 0);
  });
});

describe('simulated platform bottlenecks', () => {
  it('reconcile parallelism caps concurrent deploy reconciles per AZ', () => {
    const { sim } = simWith([fleetJob('az-a', 'job-a')], { cores: 100_000 });
    const n = DEFAULT_MODEL.reconcileParallelism + 20;
    for (let i = 0; i < n; i++) sim.apply('az-b', manifest('az-b', `job-${i}`));
    const reconcile = sim.bottlenecks.of('az-b').reconcile;
    expect(reconcile.inService()).toBe(DEFAULT_MODEL.reconcileParallelism);
    expect(reconcile.queued()).toBe(20);
  });

  it('N concurrent restores share the AZ object store: each restore takes longer than alone', () => {
    const MiBs = 1024 * 1024;
    // Fixed phase times: every job reaches RUNNING, and starts restoring, at the same second.
    const model = { ...DEFAULT_MODEL, objectStoreReadBytesPerSecond: 1000 * MiBs, jobManagerSeconds: { min: 15, max: 15 }, taskManagerBaseSeconds: { min: 5, max: 5 }, jobInitSeconds: { min: 60, max: 60 } };
    const restores = (jobs: number): number[] => {
      const names = Array.from({ length: jobs }, (_, i) => `job-${i}`);
      const { sim, advance } = simWith(names.map((name) => fleetJob('az-a', name, 20 * 1024 ** 3)), { cores: 10_000, model });
      for (const name of names) {
        const savepoint = sim.listSnapshots('az-b', fleetJob('az-a', name)).find((s) => s.kind === 'savepoint' && s.hasMetadata)!.path;
        sim.apply('az-b', manifest('az-b', name, { initialSavepointPath: savepoint }));
      }
      advance(1200);
      return names.map((name) => sim.listDeployments('az-b').find((d) => d.manifest.metadata.name === name)!.status.jobStatus!.startup!.phases.stateRestore);
    };
    const [alone] = restores(1);
    // 20 GiB at 500 MiB/s alone: 40.96 s; four at once share 1000 MiB/s: 250 MiB/s each, twice as long.
    expect(alone).toBeCloseTo((20 * 1024) / 500, 0);
    for (const s of restores(4)) {
      expect(s).toBeGreaterThan(alone! * 2 - 1);
      expect(s).toBeLessThan(alone! * 2 + 1);
    }
  });

  it('null model: a job is RUNNING in the same call that applied it', () => {
    const { sim } = simWith([fleetJob('az-a', 'job-a')], { model: NULL_MODEL });
    const savepoint = sim.listSnapshots('az-b', fleetJob('az-a', 'job-a')).find((s) => s.kind === 'savepoint' && s.hasMetadata)!.path;
    sim.apply('az-b', manifest('az-b', 'job-b', { initialSavepointPath: savepoint }));
    expect(sim.getDeployment('az-b', 'ns', 'job-b')).toMatchObject({ lifecycleState: 'STABLE', jobState: 'RUNNING' });
  });
});

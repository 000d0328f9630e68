import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planEvacuation, summarizePlan, type PlanInput } from '../../domain/planner.js';
import { TIERS, jobKey, type FleetJob, type Plan, type Tier } from '../../domain/types.js';
import { bigFleet, catalog, coldJob, hotJob, jar, job, tiersPolicy } from './fixtures/fleet.js';

const plenty = { cores: 10_000, memoryMiB: 10_000_000 };

function plan(jobs: FleetJob[], overrides: Partial<PlanInput> = {}): Plan {
  return planEvacuation({
    catalog: catalog(jobs),
    tiers: tiersPolicy(),
    sourceAz: 'az-a',
    targetAz: 'az-b',
    targetFree: plenty,
    nowEpochSeconds: 1_800_000_000,
    ...overrides,
  });
}

const admittedNames = (p: Plan): string[] => p.admitted.map((j) => j.name);
const codes = (p: Plan, name: string): string[] => p.findings.filter((f) => f.job === `streaming/${name}`).map((f) => f.code);

describe('planEvacuation: order and lineage', () => {
  it('admits source-AZ jobs in admissionOrder, by name within a tier, and leaves other AZs alone', () => {
    const jobs = [
      job('p3-a', { tier: 'P3' }),
      job('p2-b', { tier: 'P2' }),
      job('p2-a', { tier: 'P2' }),
      coldJob('p1-a'),
      hotJob('p0-a'),
      job('already-in-b', { az: 'az-b', tier: 'P0' }),
    ];
    expect(admittedNames(plan(jobs))).toEqual(['p0-a', 'p1-a', 'p2-a', 'p2-b', 'p3-a']);
    const reversed = plan(jobs, { tiers: tiersPolicy({ admissionOrder: ['P3', 'P2', 'P1', 'P0'] }) });
    expect(admittedNames(reversed)).toEqual(['p3-a', 'p2-a', 'p2-b', 'p1-a', 'p0-a']);
  });

  it('admits a P3 producer feeding a P0 consumer as P0, before the consumer, redeployed (no standby)', () => {
    const producer = job('aaa-clicks', { tier: 'P3', produces: ['clicks'] });
    const mid = job('zzz-sessionize', { tier: 'P2', consumes: ['clicks'], produces: ['sessions'] });
    const consumer = hotJob('fraud', { consumes: ['sessions'] });
    const p = plan([consumer, mid, producer, job('other-p2')]);
    expect(admittedNames(p)).toEqual(['aaa-clicks', 'zzz-sessionize', 'fraud', 'other-p2']);
    expect(p.admitted[0]).toMatchObject({ tier: 'P0', catalogTier: 'P3', liftedFor: 'streaming/fraud', strategy: 'redeploy' });
    expect(p.admitted[1]).toMatchObject({ tier: 'P0', catalogTier: 'P2', liftedFor: 'streaming/fraud' });
    expect(p.admitted[2]!.liftedFor).toBeUndefined();
  });

  it('plans cyclic lineage: every job of the cycle at the cycle’s highest tier', () => {
    const x = job('x', { tier: 'P3', consumes: ['ty'], produces: ['tx'] });
    const y = coldJob('y', { consumes: ['tx'], produces: ['ty'] });
    const p = plan([x, y, job('p2')]);
    expect(p.admitted.map((j) => [j.name, j.tier])).toEqual([['x', 'P1'], ['y', 'P1'], ['p2', 'P2']]);
  });

  it('lifts only in-scope jobs: an out-of-scope producer gives lineage-unresolved, not a lift', () => {
    const producer = job('ingest', { tier: 'P3', team: 'ingest', produces: ['orders'] });
    const consumer = hotJob('billing', { team: 'payments', consumes: ['orders'] });
    const p = plan([producer, consumer], { scope: { teams: ['payments'] } });
    expect(admittedNames(p)).toEqual(['billing']);
    const finding = p.findings.find((f) => f.code === 'lineage-unresolved');
    expect(finding).toMatchObject({ job: 'streaming/billing', blocking: false });
    expect(finding!.message).toContain('"orders"');
    // A producer already running in the target AZ resolves the topic.
    const inTarget = plan([{ ...producer, az: 'az-b' }, consumer]);
    expect(inTarget.findings.filter((f) => f.code === 'lineage-unresolved')).toEqual([]);
  });
});

describe('planEvacuation: capacity and preemption', () => {
  const victims = [
    job('v-small', { az: 'az-b', tier: 'P3', resources: { cores: 2, memoryMiB: 4096 } }),
    job('v-mid', { az: 'az-b', tier: 'P3', resources: { cores: 4, memoryMiB: 8192 } }),
    job('v-big', { az: 'az-b', tier: 'P3', resources: { cores: 8, memoryMiB: 16384 } }),
  ];
  const needs = (cores: number): FleetJob => job('needy', { tier: 'P2', resources: { cores, memoryMiB: cores * 2048 } });

  it('preempts nothing when the target has room', () => {
    const p = plan([needs(6), ...victims], { targetFree: { cores: 6, memoryMiB: 12288 } });
    expect(p.preemptions).toEqual([]);
    expect(p.capacityAfter).toEqual({ cores: 0, memoryMiB: 0 });
  });

  it('preempts the smallest single P3 job that covers a small shortfall', () => {
    const p = plan([needs(5), ...victims], { targetFree: { cores: 2, memoryMiB: 4096 } });
    expect(p.preemptions.map((v) => v.name)).toEqual(['v-mid']);
    expect(p.preemptions[0]).toMatchObject({ forJob: 'streaming/needy', cores: 4, memoryMiB: 8192 });
    expect(p.capacityAfter).toEqual({ cores: 1, memoryMiB: 2048 });
  });

  it('covers a large shortfall with few jobs: largest first, then the smallest sufficient', () => {
    const p = plan([needs(10), ...victims], { targetFree: { cores: 0, memoryMiB: 0 } });
    expect(p.preemptions.map((v) => v.name)).toEqual(['v-big', 'v-small']);
    expect(admittedNames(p)).toEqual(['needy']);
  });

  it('never preempts on behalf of a P3 job', () => {
    const p3 = job('low', { tier: 'P3', resources: { cores: 4, memoryMiB: 8192 } });
    const p = plan([p3, ...victims], { targetFree: { cores: 0, memoryMiB: 0 } });
    expect(p.preemptions).toEqual([]);
    expect(p.notAdmitted).toEqual([{ key: 'streaming/low', tier: 'P3', reason: expect.stringContaining('P3 jobs never preempt') }]);
  });

  it('never preempts a target-AZ P3 job that lineage lifted (it feeds a higher tier)', () => {
    const feeder = job('v-feeder', { az: 'az-b', tier: 'P3', produces: ['prices'], resources: { cores: 8, memoryMiB: 16384 } });
    const reader = job('quotes', { az: 'az-b', tier: 'P1', consumes: ['prices'] });
    const p = plan([needs(8), feeder, reader, victims[0]!], { targetFree: { cores: 0, memoryMiB: 0 } });
    expect(p.preemptions).toEqual([]);
    expect(p.notAdmitted.map((n) => n.key)).toEqual(['streaming/needy']);
  });

  it('does not preempt when P3 policy is not preemptible', () => {
    const p = plan([needs(2), ...victims], {
      targetFree: { cores: 0, memoryMiB: 0 },
      tiers: tiersPolicy({ tiers: { P3: { preemptible: false } } }),
    });
    expect(p.preemptions).toEqual([]);
    expect(p.notAdmitted).toHaveLength(1);
  });

  it('reports a job that does not fit even after preemption, with numbers and a finding, and preempts nothing for it', () => {
    const p = plan([needs(40)], { targetFree: { cores: 3, memoryMiB: 100_000 } });
    expect(p.preemptions).toEqual([]);
    expect(p.notAdmitted).toEqual([
      { key: 'streaming/needy', tier: 'P2', reason: 'does not fit: needs 40 cores / 81920 MiB, 3 cores / 100000 MiB free after preempting 0 P3 jobs' },
    ]);
    expect(p.findings).toContainEqual(expect.objectContaining({ job: 'streaming/needy', code: 'does-not-fit', blocking: true }));
    // A smaller job behind it still gets the room.
    const q = plan([needs(40), job('small', { tier: 'P3', resources: { cores: 1, memoryMiB: 1 } })], { targetFree: { cores: 3, memoryMiB: 100_000 } });
    expect(admittedNames(q)).toEqual(['small']);
  });

  it('a P3 job that does not fit is an informational finding, a P2 job a blocking one', () => {
    const p = plan([needs(40), job('spare', { tier: 'P3', resources: { cores: 40, memoryMiB: 1 } })], { targetFree: { cores: 3, memoryMiB: 100_000 } });
    expect(p.findings.filter((f) => f.code === 'does-not-fit').map((f) => [f.job, f.blocking])).toEqual([['streaming/needy', true], ['streaming/spare', false]]);
  });

  it('charges no capacity for promoting a hot standby, but full capacity for a cold standby', () => {
    const p = plan([hotJob('hot', { resources: { cores: 50, memoryMiB: 1 } }), coldJob('cold', { resources: { cores: 3, memoryMiB: 10 } })], {
      targetFree: { cores: 3, memoryMiB: 10 },
    });
    expect(p.admitted.map((j) => [j.name, j.strategy, j.cores])).toEqual([
      ['hot', 'promote-standby', 0],
      ['cold', 'resume-standby', 3],
    ]);
    expect(p.capacityAfter).toEqual({ cores: 0, memoryMiB: 0 });
  });
});

describe('planEvacuation: readiness findings', () => {
  it('falls back to redeploy without a standby (no-standby) and charges capacity for it', () => {
    const p = plan([job('p0-bare', { tier: 'P0' }), job('p1-bare', { tier: 'P1' })]);
    expect(p.admitted.map((j) => [j.name, j.strategy, j.cores])).toEqual([
      ['p0-bare', 'redeploy', 2],
      ['p1-bare', 'redeploy', 2],
    ]);
    const f = p.findings.find((x) => x.job === 'streaming/p0-bare')!;
    expect(f).toMatchObject({ code: 'no-standby', blocking: false });
    expect(f.message).toMatch(/falling back to redeploy/);
    expect(codes(p, 'p1-bare')).toEqual(['no-standby']);
  });

  it('treats a standby in the wrong AZ as none', () => {
    const p = plan([hotJob('elsewhere', {}, 'az-c')], { catalog: catalog([hotJob('elsewhere', {}, 'az-c')], { azs: ['az-a', 'az-b', 'az-c'] }) });
    expect(p.admitted[0]!.strategy).toBe('redeploy');
    expect(codes(p, 'elsewhere')).toEqual(['no-standby']);
  });

  it('reports standby-missing when the target lacks the catalog’s standby, and falls back', () => {
    const p = plan([hotJob('found'), coldJob('lost')], { existingInTarget: new Set(['streaming/found']) });
    expect(p.admitted.map((j) => [j.name, j.strategy])).toEqual([
      ['found', 'promote-standby'],
      ['lost', 'redeploy'],
    ]);
    expect(codes(p, 'lost')).toEqual(['standby-missing']);
    expect(codes(p, 'found')).toEqual([]);
  });

  it('does not admit a job whose jars are missing in the target (jars-missing, blocking); a hot standby needs none', () => {
    const ok = job('ok');
    const broken = job('broken', { jars: [jar('broken'), jar('shared-lib')] });
    const hot = hotJob('hot', { jars: [jar('nowhere')] });
    const p = plan([ok, broken, hot], { jarsInTarget: new Set([ok.jars[0]!.digest, jar('shared-lib').digest]) });
    expect(admittedNames(p)).toEqual(['hot', 'ok']);
    expect(p.notAdmitted).toEqual([{ key: 'streaming/broken', tier: 'P2', reason: expect.stringContaining('jars/broken.jar') }]);
    expect(p.findings.find((f) => f.code === 'jars-missing')).toMatchObject({ job: 'streaming/broken', blocking: true });
    expect(p.jars.map((j) => j.digest).sort()).toEqual([jar('nowhere').digest, ok.jars[0]!.digest].sort());
  });

  it('does not admit a job whose rendered manifest is invalid (manifest-invalid, blocking)', () => {
    const p = plan([job('good'), job('bad')], {
      validateManifest: (j) => (j.name === 'bad' ? ['spec.job.parallelism must be ≥ 1'] : []),
    });
    expect(admittedNames(p)).toEqual(['good']);
    expect(p.notAdmitted[0]!.reason).toContain('spec.job.parallelism');
    expect(codes(p, 'bad')).toEqual(['manifest-invalid']);
  });

  it('lists distinct jars by digest over admitted jobs', () => {
    const lib = jar('common');
    const p = plan([job('a', { jars: [lib, lib] }), job('b', { jars: [lib, jar('b')] })]);
    expect(p.jars.map((j) => j.key)).toEqual(['jars/common.jar', 'jars/b.jar']);
    expect(p.admitted[0]!.jarDigests).toEqual([lib.digest]);
  });
});

describe('planEvacuation: bad input', () => {
  it('rejects unknown AZs, listing the known ones', () => {
    expect(() => plan([], { sourceAz: 'az-x' })).toThrow(/sourceAz 'az-x'.*known AZs: az-a, az-b/);
    expect(() => plan([], { targetAz: 'az-y' })).toThrow(/targetAz 'az-y'.*known AZs: az-a, az-b/);
  });

  it('rejects source equal to target', () => {
    expect(() => plan([], { targetAz: 'az-a' })).toThrow(/both 'az-a'/);
  });

  it('rejects a scope naming an unknown tier, team or job', () => {
    const jobs = [job('a', { team: 'risk' }), job('b', { az: 'az-b' })];
    expect(() => plan(jobs, { scope: { tiers: ['P7' as Tier] } })).toThrow(/scope.tiers\[0\].*'P7'/);
    expect(() => plan(jobs, { scope: { teams: ['rsik'] } })).toThrow(/scope.teams\[0\].*'rsik'.*risk/);
    expect(() => plan(jobs, { scope: { jobs: ['a', 'nope'] } })).toThrow(/scope.jobs\[1\].*'nope'/);
    expect(() => plan(jobs, { scope: { jobs: ['streaming/b'] } })).toThrow(/runs in az-b/);
    expect(admittedNames(plan(jobs, { scope: { jobs: ['streaming/a'], teams: ['risk'], tiers: ['P2'] } }))).toEqual(['a']);
  });
});

describe('planEvacuation: invariants', () => {
  const arbJob = (i: number) =>
    fc.record({
      az: fc.constantFrom('az-a', 'az-a', 'az-b'),
      tier: fc.constantFrom(...TIERS),
      standby: fc.constantFrom('none', 'hot', 'cold'),
      cores: fc.integer({ min: 0, max: 16 }),
      memoryMiB: fc.integer({ min: 0, max: 32768 }),
      consumes: fc.subarray(['t0', 't1', 't2', 't3', 't4']),
      produces: fc.subarray(['t0', 't1', 't2', 't3', 't4']),
      jarOk: fc.boolean(),
    }).map(({ standby, cores, memoryMiB, jarOk, ...rest }) => {
      const base = job(`j-${i}`, { ...rest, resources: { cores, memoryMiB }, jars: [jar(jarOk ? 'ok' : `missing-${i}`)] });
      return standby === 'none' ? base : { ...base, standby: { kind: standby, az: 'az-b', namespace: base.namespace, name: base.name } };
    });
  const arbFleet = fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbJob(i))));

  it('puts every in-scope job in exactly one of admitted / notAdmitted, and conserves capacity', () => {
    fc.assert(
      fc.property(arbFleet, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 131072 }), (jobs, cores, memoryMiB) => {
        // A source AZ without any job is refused (bad-input.property.test.ts).
        fc.pre(jobs.some((j) => j.az === 'az-a'));
        const p = plan(jobs, { targetFree: { cores, memoryMiB }, jarsInTarget: new Set([jar('ok').digest]) });
        const inScope = jobs.filter((j) => j.az === 'az-a').map(jobKey).sort();
        const placed = [...p.admitted.map((j) => j.key), ...p.notAdmitted.map((j) => j.key)].sort();
        expect(placed).toEqual(inScope);
        const preempted = p.preemptions.reduce((s, v) => s + v.cores, 0);
        const charged = p.admitted.reduce((s, j) => s + j.cores, 0);
        expect(p.capacityAfter.cores).toBe(cores + preempted - charged);
        expect(p.capacityAfter.cores).toBeGreaterThanOrEqual(0);
        expect(p.capacityAfter.memoryMiB).toBeGreaterThanOrEqual(0);
        const admittedTiers = p.admitted.map((j) => TIERS.indexOf(j.tier));
        expect(admittedTiers).toEqual([...admittedTiers].sort((a, b) => a - b));
        expect(new Set(p.preemptions.map((v) => v.key)).size).toBe(p.preemptions.length);
        for (const v of p.preemptions) expect(p.admitted.find((j) => j.key === v.forJob)!.tier).not.toBe('P3');
      }),
      { numRuns: 200 },
    );
  });
});

describe('planEvacuation: scale and summary', () => {
  it('plans a 5,000-job fleet and summarizes it per tier', () => {
    const jobs = bigFleet(7200);
    const p = plan(jobs, { targetFree: { cores: 4000, memoryMiB: 8_000_000 } });
    const inScope = jobs.filter((j) => j.az === 'az-a').length;
    expect(inScope).toBeGreaterThanOrEqual(5000);
    expect(p.admitted.length + p.notAdmitted.length).toBe(inScope);
    const rows = summarizePlan(p);
    expect(rows.map((r) => r.tier)).toEqual([...TIERS]);
    expect(rows.reduce((s, r) => s + r.admitted, 0)).toBe(p.admitted.length);
    expect(rows.reduce((s, r) => s + r.notAdmitted, 0)).toBe(p.notAdmitted.length);
    expect(rows.reduce((s, r) => s + r.preempted, 0)).toBe(p.preemptions.length);
    expect(rows.reduce((s, r) => s + r.cores, 0)).toBe(p.admitted.reduce((s, j) => s + j.cores, 0));
  });
});

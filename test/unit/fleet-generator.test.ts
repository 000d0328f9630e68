import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { planEvacuation } from '../../domain/planner.js';
import { DEFAULT_TIERS_FILE, parseTiersPolicy } from '../../domain/tiers-policy.js';
import { TIERS, jobKey, type Capacity, type FleetJob, type FlinkDeploymentManifest, type Plan, type Tier } from '../../domain/types.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { FLEET_ANNOTATIONS, FLEET_LABELS } from '../../domain/fleet-contract.js';
import { manifestResources } from '../../domain/flink-spec.js';
import { generateFleet, type GeneratedFleet } from '../../simulator/fleet-generator.js';
import { P3_FEEDS_CRITICAL_SHARE } from '../../simulator/fleet-lineage.js';

const templates = loadExampleTemplates();
const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const CRD_VALIDATOR = new URL('../../domain/crd-validator.ts', import.meta.url);

let big: GeneratedFleet;
let bigJson: string;
let bigCpuMillis: number;
beforeAll(() => {
  generateFleet({ jobs: 200, seed: 99, templates }); // warm the JIT before timing
  const start = process.cpuUsage(); // CPU time, not wall time: other test files share the machine
  big = generateFleet({ jobs: 5000, seed: 42, templates });
  const used = process.cpuUsage(start);
  bigCpuMillis = (used.user + used.system) / 1000;
  bigJson = JSON.stringify(big);
});

/** Cores and MiB read straight off the manifest fields, independently of the generator. */
function requested(m: FlinkDeploymentManifest): Capacity {
  const spec = m.spec as { jobManager: Pod; taskManager: Pod; job: { parallelism: number }; flinkConfiguration: Record<string, string> };
  const slots = Number(spec.flinkConfiguration['taskmanager.numberOfTaskSlots']);
  const tms = spec.taskManager.replicas ?? Math.ceil(spec.job.parallelism / slots);
  const mib = (p: Pod) => Number(/^(\d+)m$/.exec(p.resource.memory)![1]);
  return { cores: spec.jobManager.resource.cpu + tms * spec.taskManager.resource.cpu, memoryMiB: mib(spec.jobManager) + tms * mib(spec.taskManager) };
}
type Pod = { resource: { cpu: number; memory: string }; replicas?: number };

const sum = (jobs: FleetJob[]): Capacity => ({
  cores: jobs.reduce((s, j) => s + j.resources.cores, 0),
  memoryMiB: jobs.reduce((s, j) => s + j.resources.memoryMiB, 0),
});
/** Topic → the (single) fleet job producing it. */
const producersOf = (fleet: GeneratedFleet) => new Map(fleet.jobs.flatMap((j) => j.lineage.produces.map((t) => [t, j] as const)));
const conf = (m: FlinkDeploymentManifest) => m.spec.flinkConfiguration as Record<string, string>;

describe('loadExampleTemplates', () => {
  it('returns the operator examples that are application-mode FlinkDeployments, as fresh copies', () => {
    expect(templates.length).toBeGreaterThanOrEqual(10);
    for (const t of templates) {
      expect(t.kind).toBe('FlinkDeployment');
      expect(t.spec.job).toBeTypeOf('object');
    }
    expect(templates.map((t) => t.metadata.name)).toContain('basic-example');
    expect(templates.map((t) => t.metadata.name)).not.toContain('basic-session-deployment-example');
    templates[0]!.metadata.name = 'mutated';
    expect(loadExampleTemplates()[0]!.metadata.name).not.toBe('mutated');
  });
});

describe('generateFleet', () => {
  it('is deterministic: same seed gives byte-identical output, another seed a different fleet', () => {
    const a = generateFleet({ jobs: 400, seed: 7, templates });
    const b = generateFleet({ jobs: 400, seed: 7, templates });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = generateFleet({ jobs: 400, seed: 8, templates });
    expect(c.jobs.map((j) => j.name)).not.toEqual(a.jobs.map((j) => j.name));
  });

  it('mixes tiers ≈ 5/10/60/25 % over 2,000 jobs and spreads each tier over both AZs', () => {
    const { jobs } = generateFleet({ jobs: 2000, seed: 3, templates });
    const share = (t: Tier) => jobs.filter((j) => j.tier === t).length / jobs.length;
    expect(Math.abs(share('P0') - 0.05)).toBeLessThan(0.01);
    expect(Math.abs(share('P1') - 0.1)).toBeLessThan(0.015);
    expect(Math.abs(share('P2') - 0.6)).toBeLessThan(0.03);
    expect(Math.abs(share('P3') - 0.25)).toBeLessThan(0.02);
    for (const t of ['P0', 'P1', 'P2', 'P3'] as const) {
      const inA = jobs.filter((j) => j.tier === t && j.az === 'az-a').length / jobs.filter((j) => j.tier === t).length;
      expect(inA).toBeGreaterThan(0.4);
      expect(inA).toBeLessThan(0.6);
    }
  });

  it('sizes 5,000 jobs at ≥ 60 cores each on average, skewed, ≈ 4096 MiB per core', () => {
    const total = sum(big.jobs);
    expect(total.cores / big.jobs.length).toBeGreaterThanOrEqual(60);
    expect(big.jobs.filter((j) => j.resources.cores <= 36).length / big.jobs.length).toBeGreaterThan(0.5);
    expect(big.jobs.filter((j) => j.resources.cores >= 200).length).toBeGreaterThan(100);
    expect(Math.max(...big.jobs.map((j) => j.resources.cores))).toBeLessThanOrEqual(810);
    expect(total.memoryMiB / total.cores).toBeCloseTo(4096, -1);
  });

  it('draws state sizes in 100 MB–500 GB, larger for P0/P1', () => {
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(big.jobs.filter((j) => j.stateSizeBytes < 100e6 || j.stateSizeBytes > 500e9)).toEqual([]);
    const critical = median(big.jobs.filter((j) => j.tier === 'P0' || j.tier === 'P1').map((j) => j.stateSizeBytes));
    const rest = median(big.jobs.filter((j) => j.tier === 'P2' || j.tier === 'P3').map((j) => j.stateSizeBytes));
    expect(critical).toBeGreaterThan(3 * rest);
  });

  it('caps state at maxStateBytes: larger draws clamped to it, the rest of the fleet unchanged', () => {
    const full = generateFleet({ jobs: 1000, seed: 7, templates });
    const capped = generateFleet({ jobs: 1000, seed: 7, templates, maxStateBytes: 50e9 });
    expect(full.jobs.filter((j) => j.stateSizeBytes > 50e9).length).toBeGreaterThan(10);
    expect(capped.jobs.map((j) => j.stateSizeBytes)).toEqual(full.jobs.map((j) => Math.min(50e9, j.stateSizeBytes)));
    expect(capped.jobs.map((j) => ({ ...j, stateSizeBytes: 0 }))).toEqual(full.jobs.map((j) => ({ ...j, stateSizeBytes: 0 })));
  });

  it('declares checkpointIntervalSeconds in every spec (the simulator\'s S3 floor, for the demo), the rest of the fleet unchanged; 60 s by default', () => {
    const interval = (j: FleetJob): string | undefined => (j.deployment.spec as { flinkConfiguration: Record<string, string> }).flinkConfiguration['execution.checkpointing.interval'];
    const plain = generateFleet({ jobs: 300, seed: 5, templates });
    const floored = generateFleet({ jobs: 300, seed: 5, templates, checkpointIntervalSeconds: 120 });
    expect(new Set(plain.jobs.map(interval))).toEqual(new Set(['60 s']));
    expect(new Set(floored.jobs.map(interval))).toEqual(new Set(['120 s']));
    expect(new Set(floored.standbys.map((s) => (s.manifest.spec as { flinkConfiguration: Record<string, string> }).flinkConfiguration['execution.checkpointing.interval']))).toEqual(new Set(['120 s']));
    expect(JSON.stringify(floored).replaceAll('"120 s"', '"60 s"')).toBe(JSON.stringify(plain));
    expect(() => generateFleet({ jobs: 3, seed: 5, templates, checkpointIntervalSeconds: 0.5 })).toThrow(/opts\.checkpointIntervalSeconds must be an integer ≥ 1, got 0\.5/);
  });

  it('names jobs validly (≤ 45 chars, DNS label), uniquely per namespace, in flink-<team>', () => {
    const bad = big.jobs.filter(
      (j) =>
        j.name.length > 45 ||
        !NAME.test(j.name) ||
        !j.name.startsWith(`${j.team}-`) ||
        j.namespace !== `flink-${j.team}` ||
        j.deployment.metadata.name !== j.name ||
        j.deployment.metadata.namespace !== j.namespace,
    );
    expect(bad.map(jobKey)).toEqual([]);
    expect(new Set(big.jobs.map(jobKey)).size).toBe(big.jobs.length);
    expect(new Set(big.jobs.map((j) => j.team)).size).toBeGreaterThanOrEqual(15);
  });

  it('requests in FleetJob.resources exactly what the manifests request (primaries and standbys)', () => {
    const byKey = new Map(big.jobs.map((j) => [jobKey(j), j]));
    const same = (a: Capacity, b: Capacity) => a.cores === b.cores && a.memoryMiB === b.memoryMiB;
    expect(big.jobs.filter((j) => !same(requested(j.deployment), j.resources)).map(jobKey)).toEqual([]);
    expect(big.jobs.filter((j) => !same(manifestResources(j.deployment), j.resources)).map(jobKey)).toEqual([]);
    expect(big.standbys.filter((s) => !same(requested(s.manifest), byKey.get(s.forJob)!.resources)).map((s) => s.forJob)).toEqual([]);
  });

  it('gives every P0 a running hot standby and every P1 a suspended cold one in the other AZ, except ≈ 1 %', () => {
    const standbys = new Map(big.standbys.map((s) => [s.forJob, s]));
    for (const [tier, kind, state] of [['P0', 'hot', 'running'], ['P1', 'cold', 'suspended']] as const) {
      const members = big.jobs.filter((j) => j.tier === tier);
      const missing = members.filter((j) => !j.standby);
      expect(missing.length).toBeGreaterThan(0);
      expect(missing.length).toBeLessThanOrEqual(Math.ceil(0.02 * members.length));
      for (const j of members.filter((m) => m.standby)) {
        const ref = j.standby!;
        expect(ref).toEqual({ kind, az: j.az === 'az-a' ? 'az-b' : 'az-a', namespace: j.namespace, name: j.name });
        const s = standbys.get(jobKey(j))!;
        expect(s).toMatchObject({ az: ref.az, kind });
        const m = s.manifest;
        const profile = big.platform.azs.find((a) => a.name === ref.az)!;
        expect(m.metadata).toMatchObject({ name: j.name, namespace: j.namespace });
        expect(m.metadata.labels?.[FLEET_LABELS.role]).toBe('standby');
        expect(m.metadata.annotations?.[FLEET_ANNOTATIONS.standbyFor]).toBe(jobKey(j));
        expect(m.spec.job?.state).toBe(state);
        expect(m.spec.image?.startsWith(`${profile.imageRegistry}/`)).toBe(true);
        expect(conf(m)['s3.endpoint']).toBe(profile.s3Endpoint);
        expect(JSON.stringify(m.spec.podTemplate)).toContain(`"values":["${profile.zone}"]`);
      }
    }
    expect(big.standbys.every((s) => big.jobs.some((j) => jobKey(j) === s.forJob && j.standby?.az === s.az))).toBe(true);
    expect(big.jobs.filter((j) => j.tier === 'P2' || j.tier === 'P3').every((j) => !j.standby)).toBe(true);
  });

  it('renders each primary for its own AZ: registry, endpoint, buckets, zone, snapshot dirs, jars, labels', () => {
    for (const j of big.jobs.slice(0, 500)) {
      const az = big.platform.azs.find((a) => a.name === j.az)!;
      const m = j.deployment;
      expect(m.spec.image?.startsWith(`${az.imageRegistry}/`)).toBe(true);
      expect(conf(m)).toMatchObject({
        's3.endpoint': az.s3Endpoint,
        'execution.checkpointing.dir': `s3://${az.stateBucket}/checkpoints/${j.namespace}/${j.name}`,
        'execution.checkpointing.savepoint-dir': `s3://${az.stateBucket}/savepoints/${j.namespace}/${j.name}`,
        'execution.checkpointing.interval': '60 s',
      });
      expect(Object.values(conf(m)).every((v) => typeof v === 'string')).toBe(true);
      expect(conf(m)['state.checkpoints.dir']).toBeUndefined();
      expect(j.checkpointPrefix).toBe(`checkpoints/${j.namespace}/${j.name}`);
      expect(j.savepointPrefix).toBe(`savepoints/${j.namespace}/${j.name}`);
      expect(m.spec.job).toMatchObject({ jarURI: `s3://${az.artifactBucket}/${j.jars[0]!.key}`, upgradeMode: 'savepoint', state: 'running' });
      expect(m.spec.job?.initialSavepointPath).toBeUndefined();
      expect(JSON.stringify(m.spec.podTemplate)).toContain(`"values":["${az.zone}"]`);
      expect(m.metadata.labels).toMatchObject({ [FLEET_LABELS.tier]: j.tier, [FLEET_LABELS.team]: j.team, [FLEET_LABELS.role]: 'primary' });
      expect(JSON.parse(m.metadata.annotations![FLEET_ANNOTATIONS.jars]!)).toEqual(j.jars);
      expect(m.metadata.annotations![FLEET_ANNOTATIONS.consumes]!.split(',')).toEqual(j.lineage.consumes);
      expect(m.metadata.annotations![FLEET_ANNOTATIONS.produces]!.split(',')).toEqual(j.lineage.produces);
    }
    expect(new Set(big.jobs.map((j) => j.deployment.spec.podTemplate && JSON.stringify(j.deployment.spec.podTemplate).length)).size).toBeGreaterThan(2);
  });

  it('uses per-AZ bucket names under per-az-buckets and shared ones under symmetric', () => {
    expect(big.platform.azs.map((a) => [a.stateBucket, a.artifactBucket])).toEqual([
      ['flink-state', 'flink-artifacts'],
      ['flink-state', 'flink-artifacts'],
    ]);
    const perAz = generateFleet({ jobs: 100, seed: 1, layout: 'per-az-buckets', azs: ['az-x', 'az-y', 'az-z'], templates });
    expect(perAz.platform.azs.map((a) => [a.name, a.zone, a.stateBucket, a.artifactBucket])).toEqual([
      ['az-x', 'us-east-1a', 'flink-state-az-x', 'flink-artifacts-az-x'],
      ['az-y', 'us-east-1b', 'flink-state-az-y', 'flink-artifacts-az-y'],
      ['az-z', 'us-east-1c', 'flink-state-az-z', 'flink-artifacts-az-z'],
    ]);
    for (const s of perAz.standbys) expect(conf(s.manifest)['execution.checkpointing.dir']).toMatch(new RegExp(`^s3://flink-state-${s.az}/`));
  });

  it('shares a pool of ≈ jobs/5 jars: 1–3 per job, popular ones used by many jobs, digests from keys', () => {
    const refs = big.jobs.flatMap((j) => j.jars);
    const distinct = new Map(refs.map((r) => [r.digest, r]));
    expect(distinct.size).toBeLessThanOrEqual(1000);
    expect(distinct.size).toBeLessThan(refs.length / 4);
    expect(new Set(refs.map((r) => r.key)).size).toBe(distinct.size);
    expect(big.jobs.filter((j) => j.jars.length < 1 || j.jars.length > 3 || new Set(j.jars.map((x) => x.digest)).size !== j.jars.length)).toEqual([]);
    const badJars = [...distinct.values()].filter(
      (jar) =>
        !/^jars\/[a-z-]+\/[a-z-]+-\d+\.\d+\.\d+\.jar$/.test(jar.key) ||
        !/^sha256:[0-9a-f]{64}$/.test(jar.digest) ||
        jar.sizeBytes < 20 * 2 ** 20 ||
        jar.sizeBytes > 300 * 2 ** 20,
    );
    expect(badJars).toEqual([]);
    const uses = new Map<string, number>();
    for (const r of refs) uses.set(r.digest, (uses.get(r.digest) ?? 0) + 1);
    expect(Math.max(...uses.values())).toBeGreaterThan(100);
  });

  it('wires lineage: 1–2 produced and 1–3 consumed topics, mostly external, ≈ 20 % of jobs fed by the fleet', () => {
    const topic = /^[a-z-]+\.[a-z0-9-]+$/;
    for (const fleet of [generateFleet({ jobs: 1000, seed: 11, templates }), big]) {
      const producers = producersOf(fleet);
      const bad = fleet.jobs.filter(
        ({ lineage: l }) =>
          l.produces.length < 1 || l.produces.length > 2 || l.consumes.length < 1 || l.consumes.length > 3 || ![...l.consumes, ...l.produces].every((t) => topic.test(t)),
      );
      expect(bad.map(jobKey)).toEqual([]);
      const reads = fleet.jobs.flatMap((j) => j.lineage.consumes);
      expect(reads.filter((t) => producers.has(t)).length / reads.length).toBeLessThan(0.2);
      const fed = fleet.jobs.filter((j) => j.lineage.consumes.some((t) => producers.has(t))).length / fleet.jobs.length;
      expect(fed).toBeGreaterThan(0.15);
      expect(fed).toBeLessThan(0.25);
    }
  });

  it('feeds jobs from same-or-higher tiers, mostly of the same team, except exactly max(1, 2 %) of P0/P1 fed by an unfed P3', () => {
    for (const fleet of [generateFleet({ jobs: 1000, seed: 11, templates }), big]) {
      const producers = producersOf(fleet);
      const edges = fleet.jobs.flatMap((consumer) =>
        consumer.lineage.consumes.flatMap((t) => (producers.has(t) ? [{ consumer, producer: producers.get(t)! }] : [])),
      );
      const misfed = edges.filter((e) => TIERS.indexOf(e.producer.tier) > TIERS.indexOf(e.consumer.tier));
      expect(misfed.filter((e) => e.producer.tier !== 'P3' || (e.consumer.tier !== 'P0' && e.consumer.tier !== 'P1'))).toEqual([]);
      const critical = fleet.jobs.filter((j) => j.tier === 'P0' || j.tier === 'P1');
      expect(new Set(misfed.map((e) => e.consumer)).size).toBe(Math.max(1, Math.round(P3_FEEDS_CRITICAL_SHARE * critical.length)));
      const p3Fed = misfed.filter((e) => e.producer.lineage.consumes.some((t) => producers.has(t)));
      expect(p3Fed.map((e) => jobKey(e.producer))).toEqual([]);
      const regular = edges.filter((e) => !misfed.includes(e));
      expect(regular.filter((e) => e.consumer.team === e.producer.team).length / regular.length).toBeGreaterThan(0.6);
    }
  });

  it('closes ≈ 0.1 % of jobs into 2-job cycles within one tier', () => {
    const fleet = generateFleet({ jobs: 2000, seed: 11, templates });
    const producers = producersOf(fleet);
    const pairs = fleet.jobs.flatMap((x) =>
      x.lineage.consumes.flatMap((t) => {
        const y = producers.get(t);
        return y !== undefined && y !== x && jobKey(x) < jobKey(y) && y.lineage.consumes.some((v) => producers.get(v) === x) ? [[x, y] as const] : [];
      }),
    );
    expect(pairs.length).toBeGreaterThanOrEqual(1);
    expect(pairs.length).toBeLessThanOrEqual(Math.ceil(0.002 * fleet.jobs.length));
    expect(pairs.filter(([x, y]) => x.tier !== y.tier)).toEqual([]);
  });

  it('generates 5,000 jobs in under 3 s of CPU (typically ≈ 0.5 s) as under 30 MB of JSON', () => {
    expect(bigJson.length).toBeLessThan(30e6);
    expect(bigCpuMillis).toBeLessThan(3000);
  });

  it('rejects bad options with the option name and a fix', () => {
    expect(() => generateFleet({ jobs: 0, seed: 1, templates })).toThrow(/opts\.jobs .*Fix:/);
    expect(() => generateFleet({ jobs: 10, seed: 1.5, templates })).toThrow(/opts\.seed/);
    expect(() => generateFleet({ jobs: 10, seed: 1, azs: ['az-a'], templates })).toThrow(/opts\.azs/);
    expect(() => generateFleet({ jobs: 10, seed: 1, azs: ['az-a', 'az-a'], templates })).toThrow(/opts\.azs\[1\] repeats/);
    expect(() => generateFleet({ jobs: 10, seed: 1, templates: [] })).toThrow(/opts\.templates/);
    expect(() => generateFleet({ jobs: 10, seed: 1, templates, maxStateBytes: 1e6 })).toThrow(/opts\.maxStateBytes must be within .*got 1000000\. Fix:/);
  });

  it.skipIf(!existsSync(CRD_VALIDATOR))('emits deployments and standbys that validate against the real FlinkDeployment CRD', async () => {
    const { loadFlinkDeploymentValidator } = (await import(CRD_VALIDATOR.href)) as {
      loadFlinkDeploymentValidator: () => Promise<(m: unknown) => { ok: true } | { ok: false; errors: string[] }>;
    };
    const validate = await loadFlinkDeploymentValidator();
    const fleet = generateFleet({ jobs: 600, seed: 5, layout: 'per-az-buckets', templates });
    const manifests = [...fleet.jobs.map((j) => j.deployment), ...fleet.standbys.map((s) => s.manifest)];
    const failures = manifests.flatMap((m) => {
      const r = validate(m);
      return r.ok ? [] : [`${m.metadata.namespace}/${m.metadata.name}: ${r.errors.join('; ')}`];
    });
    expect(failures).toEqual([]);
  });
});

describe('evacuating az-a into az-b with the real planner and tiers.yaml', () => {
  const policy = parseTiersPolicy(readFileSync(new URL(`../../${DEFAULT_TIERS_FILE}`, import.meta.url), 'utf8'), DEFAULT_TIERS_FILE);
  const cases: Array<[jobs: number, seed: number]> = [[1000, 11], [1000, 23], [5000, 42], [5000, 7]];
  let plans: Array<{ label: string; fleet: GeneratedFleet; inA: FleetJob[]; targetFree: Capacity; plan: Plan }>;
  beforeAll(() => {
    plans = cases.map(([jobs, seed]) => {
      const fleet = jobs === 5000 && seed === 42 ? big : generateFleet({ jobs, seed, templates });
      // Free in az-b = allocatable minus what az-b's own primaries and hot standbys request.
      const hotInB = fleet.jobs.filter((j) => j.standby?.kind === 'hot' && j.standby.az === 'az-b');
      const load = sum([...fleet.jobs.filter((j) => j.az === 'az-b'), ...hotInB]);
      const cap = fleet.capacities['az-b']!;
      const targetFree = { cores: cap.cores - load.cores, memoryMiB: cap.memoryMiB - load.memoryMiB };
      const catalog = { version: 1, takenAt: '2025-01-01T00:00:00Z', platform: fleet.platform, jobs: fleet.jobs };
      const plan = planEvacuation({ catalog, tiers: policy, sourceAz: 'az-a', targetAz: 'az-b', targetFree, nowEpochSeconds: 0 });
      return { label: `${jobs} jobs, seed ${seed}`, fleet, inA: fleet.jobs.filter((j) => j.az === 'az-a'), targetFree, plan };
    });
  });

  it('lifts at most 3 % of az-a: only P3 producers reading external topics, to the tier of a P0/P1 consumer of theirs', () => {
    for (const { label, fleet, inA, plan } of plans) {
      const producers = producersOf(fleet);
      const byKey = new Map(fleet.jobs.map((j) => [jobKey(j), j]));
      const lifted = plan.admitted.filter((p) => p.liftedFor !== undefined);
      expect(lifted.length, label).toBeLessThanOrEqual(0.03 * inA.length);
      for (const p of lifted) {
        const job = byKey.get(p.key)!;
        const origin = byKey.get(p.liftedFor!)!; // the lifting consumer or one of equal tier downstream of it
        expect([p.catalogTier, p.tier === 'P0' || p.tier === 'P1', origin.tier === p.tier], `${label}: ${p.key}`).toEqual(['P3', true, true]);
        const direct = fleet.jobs.filter((c) => c.lineage.consumes.some((t) => job.lineage.produces.includes(t)));
        expect(direct.some((c) => c.tier === p.tier), `${label}: ${p.key}`).toBe(true);
        expect(job.lineage.consumes.filter((t) => producers.has(t)), `${label}: ${p.key}`).toEqual([]);
      }
      const realP0 = inA.filter((j) => j.tier === 'P0').length;
      expect(plan.admitted.filter((p) => p.tier === 'P0').length, label).toBe(realP0 + lifted.filter((p) => p.tier === 'P0').length);
    }
    expect(plans.reduce((n, { plan }) => n + plan.admitted.filter((p) => p.liftedFor !== undefined).length, 0)).toBeGreaterThan(0);
  });

  it('admits every P0–P2 job of az-a, lifted ones included, only after preempting some az-b P3 jobs', () => {
    for (const { label, inA, targetFree, plan } of plans) {
      expect(targetFree.cores, label).toBeGreaterThan(0);
      expect(targetFree.memoryMiB, label).toBeGreaterThan(0);
      expect(plan.notAdmitted.filter((n) => n.tier !== 'P3'), label).toEqual([]);
      const admitted = new Set(plan.admitted.map((p) => p.key));
      expect(inA.filter((j) => j.tier !== 'P3' && !admitted.has(jobKey(j))).map(jobKey), label).toEqual([]);
      expect(plan.preemptions.length, label).toBeGreaterThan(0);
      expect(plan.preemptions.length, label).toBeLessThan(0.1 * inA.length);
      expect(plan.notAdmitted.length, label).toBeGreaterThan(0); // az-a's P3 jobs do not all fit
    }
  });
});

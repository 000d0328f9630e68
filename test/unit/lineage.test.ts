import { describe, expect, it } from 'vitest';
import { analyzeLineage, byLineageOrder, indexProducers, unresolvedLineage } from '../../domain/lineage.js';
import type { FleetJob } from '../../domain/types.js';
import { job } from './fixtures/fleet.js';

describe('analyzeLineage', () => {
  it('lifts a P3 producer feeding a P0 consumer to P0, for that consumer', () => {
    const producer = job('clicks-ingest', { tier: 'P3', produces: ['clicks'] });
    const consumer = job('fraud-scorer', { tier: 'P0', consumes: ['clicks'] });
    const info = analyzeLineage([consumer, producer]);
    expect(info.get(producer)).toMatchObject({ tier: 'P0', liftedFor: 'streaming/fraud-scorer' });
    expect(info.get(consumer)).toEqual({ tier: 'P0', depth: expect.any(Number) });
    expect(info.get(producer)!.depth).toBeLessThan(info.get(consumer)!.depth);
  });

  it('lifts transitively through a chain, naming the original consumer', () => {
    const a = job('a', { tier: 'P3', produces: ['t1'] });
    const b = job('b', { tier: 'P2', consumes: ['t1'], produces: ['t2'] });
    const c = job('c', { tier: 'P1', consumes: ['t2'] });
    const info = analyzeLineage([c, b, a]);
    expect(info.get(a)).toMatchObject({ tier: 'P1', liftedFor: 'streaming/c' });
    expect(info.get(b)).toMatchObject({ tier: 'P1', liftedFor: 'streaming/c' });
    expect(info.get(c)!.liftedFor).toBeUndefined();
  });

  it('never lowers a tier: a P0 producer feeding a P3 consumer stays P0 and the consumer stays P3', () => {
    const p = job('p', { tier: 'P0', produces: ['t'] });
    const c = job('c', { tier: 'P3', consumes: ['t'] });
    const info = analyzeLineage([p, c]);
    expect(info.get(p)!.tier).toBe('P0');
    expect(info.get(c)!.tier).toBe('P3');
  });

  it('terminates on cyclic lineage; every job of the cycle takes the highest tier in it', () => {
    const x = job('x', { tier: 'P3', consumes: ['tz'], produces: ['tx'] });
    const y = job('y', { tier: 'P1', consumes: ['tx'], produces: ['ty'] });
    const z = job('z', { tier: 'P2', consumes: ['ty'], produces: ['tz'] });
    const self = job('self', { tier: 'P3', consumes: ['loop'], produces: ['loop'] });
    const info = analyzeLineage([x, y, z, self]);
    expect([x, y, z].map((j) => info.get(j)!.tier)).toEqual(['P1', 'P1', 'P1']);
    expect(info.get(x)!.liftedFor).toBe('streaming/y');
    expect(info.get(y)!.liftedFor).toBeUndefined();
    expect(info.get(self)).toEqual({ tier: 'P3', depth: expect.any(Number) });
  });

  it('a cycle feeding a higher tier is lifted as a whole', () => {
    const x = job('x', { tier: 'P3', consumes: ['ty'], produces: ['tx'] });
    const y = job('y', { tier: 'P3', consumes: ['tx'], produces: ['ty'] });
    const sink = job('sink', { tier: 'P0', consumes: ['ty'] });
    const info = analyzeLineage([x, y, sink]);
    expect(info.get(x)).toMatchObject({ tier: 'P0', liftedFor: 'streaming/sink' });
    expect(info.get(y)).toMatchObject({ tier: 'P0', liftedFor: 'streaming/sink' });
  });

  it('handles a 5,000-long chain without overflowing the stack', () => {
    const chain = Array.from({ length: 5000 }, (_, i) =>
      job(`j-${i}`, { tier: i === 4999 ? 'P0' : 'P3', consumes: i > 0 ? [`t${i - 1}`] : [], produces: [`t${i}`] }),
    );
    const info = analyzeLineage(chain);
    expect(info.get(chain[0]!)).toMatchObject({ tier: 'P0', liftedFor: 'streaming/j-4999' });
    expect(info.get(chain[0]!)!.depth).toBeLessThan(info.get(chain[4999]!)!.depth);
  });
});

describe('byLineageOrder', () => {
  it('puts producers before consumers, otherwise sorts by name', () => {
    const zProducer = job('z-producer', { produces: ['t'] });
    const aConsumer = job('a-consumer', { consumes: ['t'] });
    const m = job('m-alone');
    const b = job('b-alone');
    const jobs = [aConsumer, m, zProducer, b];
    const sorted = [...jobs].sort(byLineageOrder(analyzeLineage(jobs)));
    expect(sorted.map((j) => j.name)).toEqual(['b-alone', 'm-alone', 'z-producer', 'a-consumer']);
  });

  it('is a total order on a cycle (sorted by name)', () => {
    const x = job('x', { consumes: ['ty'], produces: ['tx'] });
    const y = job('y', { consumes: ['tx'], produces: ['ty'] });
    const order = byLineageOrder(analyzeLineage([y, x]));
    expect([y, x].sort(order).map((j) => j.name)).toEqual(['x', 'y']);
  });
});

describe('unresolvedLineage', () => {
  const producer = job('ingest', { az: 'az-a', tier: 'P3', produces: ['orders'] });
  const consumer = job('billing', { az: 'az-a', tier: 'P0', consumes: ['orders', 'external'] });
  const byTopic = indexProducers([producer, consumer]);

  it('flags a consumed topic whose only producer will not run, naming the topic and producer', () => {
    const findings = unresolvedLineage([consumer], byTopic, (j: FleetJob) => j === consumer);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ job: 'streaming/billing', code: 'lineage-unresolved', blocking: false });
    expect(findings[0]!.message).toContain('"orders"');
    expect(findings[0]!.message).toContain('streaming/ingest');
  });

  it('is quiet when a producer is live, and for topics no catalog job produces', () => {
    expect(unresolvedLineage([consumer], byTopic, () => true)).toEqual([]);
  });
});

/**
 * Lineage: which jobs feed which, through the topics in `FleetJob.lineage` (docs/design.md#tiers-capacity-and-lineage).
 *
 * A producer feeding a higher-tier consumer, directly or through other jobs, is lifted to
 * that consumer's tier (P0 highest): a P0 job reading a topic written by a P3 job needs the
 * producer moved with P0 priority. A cycle of jobs all take the highest tier found in or
 * downstream of the cycle. Pure and linear in the number of lineage entries: jobs and topics
 * are nodes of one graph (job → topic it produces → job consuming it), so a topic with many
 * producers and many consumers costs |producers| + |consumers| edges, not their product.
 * Cycles are collapsed into strongly connected components (Tarjan, iterative).
 */
import { TIERS, jobKey } from './types.js';
import type { Finding, FleetJob, JobKey, Tier } from './types.js';

/** Lineage facts about one job. */
export interface LineageInfo {
  /** Effective tier: the highest of the job's own tier and every live consumer downstream. */
  tier: Tier;
  /** The consumer (job key) whose tier lifted this job; absent when not lifted. */
  liftedFor?: JobKey;
  /** Position in the producer → consumer order: producers have a smaller depth. ≥ 0. */
  depth: number;
}

/**
 * Effective tiers and depths of `live` jobs.
 *
 * @param live every job that will run once the evacuation is done: the jobs being moved plus
 *   the jobs outside the failed AZ. Jobs left behind in the failed AZ must not be passed:
 *   they neither lift their producers nor carry lifting through to them.
 * @returns one entry per job object in `live` (keyed by object, so a catalog listing one key
 *   in two AZs cannot collide). The caller decides what a lift means: the planner moves only
 *   in-scope jobs at their lifted tier and never preempts a lifted job in the target AZ.
 */
export function analyzeLineage(live: readonly FleetJob[]): Map<FleetJob, LineageInfo> {
  const graph = buildGraph(live);
  const { compOf, comps } = stronglyConnected(graph);
  const none = TIERS.length;
  // Best (lowest) tier rank reachable downstream of each component, and the job it comes from.
  const bestRank = new Array<number>(comps.length).fill(none);
  const bestOrigin = new Array<number>(comps.length).fill(-1);
  const depth = new Array<number>(comps.length).fill(0);
  const better = (rank: number, origin: number, c: number): boolean =>
    rank < bestRank[c]! || (rank === bestRank[c]! && origin >= 0 && keyOf(live, origin) < keyOf(live, bestOrigin[c]!));
  // Tarjan emits a component only after every component reachable from it: sinks first.
  comps.forEach((members, c) => {
    for (const v of members) {
      if (v < live.length && better(TIERS.indexOf(live[v]!.tier), v, c)) {
        bestRank[c] = TIERS.indexOf(live[v]!.tier);
        bestOrigin[c] = v;
      }
      for (const w of graph[v]!) {
        const d = compOf[w]!;
        if (d !== c && better(bestRank[d]!, bestOrigin[d]!, c)) {
          bestRank[c] = bestRank[d]!;
          bestOrigin[c] = bestOrigin[d]!;
        }
      }
    }
  });
  for (let c = comps.length - 1; c >= 0; c--) {
    for (const v of comps[c]!) {
      for (const w of graph[v]!) {
        const d = compOf[w]!;
        if (d !== c) depth[d] = Math.max(depth[d]!, depth[c]! + 1);
      }
    }
  }
  const result = new Map<FleetJob, LineageInfo>();
  live.forEach((job, v) => {
    const c = compOf[v]!;
    const lifted = bestRank[c]! < TIERS.indexOf(job.tier);
    const info: LineageInfo = { tier: TIERS[bestRank[c]!]!, depth: depth[c]! };
    if (lifted) info.liftedFor = keyOf(live, bestOrigin[c]!);
    result.set(job, info);
  });
  return result;
}

/**
 * Comparator putting producers before their consumers where the lineage allows (by depth),
 * then the biggest state (longest restore) first, then by name, then namespace: a stable
 * total order, also on cyclic lineage.
 * Jobs missing from `info` sort as depth 0.
 */
export function byLineageOrder(info: ReadonlyMap<FleetJob, LineageInfo>): (a: FleetJob, b: FleetJob) => number {
  return (a, b) =>
    (info.get(a)?.depth ?? 0) - (info.get(b)?.depth ?? 0) ||
    // Longest expected start-up first (state restore dominates it): dispatch latency then
    // hides behind the slow restores instead of adding to the tier's RTO.
    b.stateSizeBytes - a.stateSizeBytes ||
    compareStrings(a.name, b.name) ||
    compareStrings(a.namespace, b.namespace);
}

/** Topic → the jobs producing it, over any set of jobs (typically the whole catalog). */
export function indexProducers(jobs: readonly FleetJob[]): Map<string, FleetJob[]> {
  const byTopic = new Map<string, FleetJob[]>();
  for (const job of jobs) {
    for (const topic of job.lineage.produces) {
      const list = byTopic.get(topic);
      if (list) list.push(job);
      else byTopic.set(topic, [job]);
    }
  }
  return byTopic;
}

/**
 * `lineage-unresolved` findings (non-blocking) for consumers whose input will have no writer.
 *
 * A topic is unresolved for a consumer when the catalog knows producers of it and none of
 * them is live (`isLive`: being moved, or running outside the failed AZ and not preempted).
 * Topics no catalog job produces are fed from outside the Flink fleet and are not flagged;
 * a producer alive in a third AZ keeps writing and is not flagged either.
 */
export function unresolvedLineage(
  consumers: readonly FleetJob[],
  producersByTopic: ReadonlyMap<string, readonly FleetJob[]>,
  isLive: (job: FleetJob) => boolean,
): Finding[] {
  const findings: Finding[] = [];
  for (const consumer of consumers) {
    for (const topic of new Set(consumer.lineage.consumes)) {
      const producers = producersByTopic.get(topic);
      if (!producers || producers.length === 0 || producers.some(isLive)) continue;
      const names = producers.map((p) => `${jobKey(p)} (${p.az}, ${p.tier})`).join(', ');
      findings.push({
        job: jobKey(consumer),
        code: 'lineage-unresolved',
        message:
          `${jobKey(consumer)} consumes topic "${topic}" but its producer(s) ${names} will not run after the ` +
          `evacuation; the job starts but reads no new data from "${topic}". Fix: add the producer(s) to the ` +
          `evacuation scope or free capacity for them.`,
        blocking: false,
      });
    }
  }
  return findings;
}

/** Adjacency lists: nodes 0..jobs-1 are jobs, the rest are topics. */
function buildGraph(live: readonly FleetJob[]): number[][] {
  const topicNode = new Map<string, number>();
  const graph: number[][] = live.map(() => []);
  const nodeOf = (topic: string): number => {
    let node = topicNode.get(topic);
    if (node === undefined) {
      node = graph.length;
      topicNode.set(topic, node);
      graph.push([]);
    }
    return node;
  };
  live.forEach((job, v) => {
    for (const topic of new Set(job.lineage.produces)) graph[v]!.push(nodeOf(topic));
    for (const topic of new Set(job.lineage.consumes)) graph[nodeOf(topic)]!.push(v);
  });
  return graph;
}

/**
 * Strongly connected components (Tarjan), iterative so 5,000-long chains cannot overflow the
 * stack. Components come out in reverse topological order: sinks first.
 */
function stronglyConnected(graph: readonly number[][]): { compOf: Int32Array; comps: number[][] } {
  const n = graph.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const nextEdge = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const compOf = new Int32Array(n).fill(-1);
  const comps: number[][] = [];
  const stack: number[] = [];
  const calls: number[] = [];
  let counter = 0;
  const visit = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    calls.push(v);
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    visit(root);
    while (calls.length > 0) {
      const v = calls[calls.length - 1]!;
      const edges = graph[v]!;
      if (nextEdge[v]! < edges.length) {
        const w = edges[nextEdge[v]!++]!;
        if (index[w] === -1) visit(w);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      calls.pop();
      const parent = calls[calls.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent]!, low[v]!);
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          compOf[w] = comps.length;
          members.push(w);
        } while (w !== v);
        comps.push(members);
      }
    }
  }
  return { compOf, comps };
}

function keyOf(live: readonly FleetJob[], v: number): JobKey {
  return jobKey(live[v]!);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

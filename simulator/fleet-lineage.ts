/**
 * Topic lineage of a generated fleet (docs/design.md#tiers-capacity-and-lineage), shaped like a real platform
 * so that lineage lifting in the planner (domain/lineage.ts) stays the exception it is:
 *
 * - Each job writes 1–2 topics `<team>.<stem>[-<side output>]` and reads 1–3 topics.
 * - Most consumed topics are external, written outside the Flink fleet: shared ingestion
 *   topics (`ingest.*`) or the team's own services (`cdc.<team>-db`, `events.<team>-service`,
 *   `requests.<team>-api`). Only ≈ 20 % of jobs read ANY fleet-produced topic.
 * - A job → job edge goes from a producer of the same or a higher-priority tier (a P2 job may
 *   read P0/P1/P2 producers, a P0 job only P0 producers), mostly (≈ 80 %) of the same team,
 *   and only from jobs generated earlier, so these edges form a DAG and lift nothing.
 * - Deliberate misconfigurations, exact counts: max(1, round(2 %)) of P0/P1 jobs read a topic
 *   of a P3 producer that itself reads only external topics (lifting it cascades no further);
 *   from 100 jobs up, max(1, round(0.1 %)) 2-job cycles, each between two jobs of one tier
 *   (P2 or P3), neither being such a P3 producer (a cycle lifts nothing).
 */
import { TIERS, type Tier } from '../domain/types.js';
import { pick, shuffle, weightedIndex, type Uniform } from './random.js';

/** The lineage of one generated job; wireLineage fills `consumes` (initially empty). */
export interface LineageNode {
  team: string;
  tier: Tier;
  /** Topics the job writes, the first being its main output; 1–2, from producedTopics. */
  produces: string[];
  /** Topics the job reads, 1–3 once wired. */
  consumes: string[];
}

/** Share of jobs reading at least one topic produced by a fleet job (before deliberate edges). */
const FLEET_FED_SHARE = 0.2;
/** Share of P0/P1 jobs fed by a P3 producer (the misconfiguration lineage lifting catches). */
export const P3_FEEDS_CRITICAL_SHARE = 0.02;
/** Share of jobs closing a 2-job cycle (from 100 jobs up). */
const CYCLE_SHARE = 0.001;
const SAME_TEAM_SHARE = 0.8;
const SIDE_OUTPUTS = ['audit', 'dlq', 'metrics', 'changelog'];
/** Topics written by ingestion outside Flink, shared by all teams. */
const INGEST_TOPICS = [
  'ingest.clickstream', 'ingest.payments-raw', 'ingest.orders-cdc', 'ingest.app-logs', 'ingest.device-telemetry',
  'ingest.ad-impressions', 'ingest.search-queries', 'ingest.user-events', 'ingest.inventory-cdc', 'ingest.shipments',
];
/** Topics a team's own (non-Flink) services write: `<prefix><team><suffix>`. */
const TEAM_SOURCES: ReadonlyArray<readonly [prefix: string, suffix: string]> = [
  ['cdc.', '-db'], ['events.', '-service'], ['requests.', '-api'],
];

/** Topics a job `<team>-<stem>` writes: `<team>.<stem>`, plus a side output for ≈ 30 % of jobs. */
export function producedTopics(u: Uniform, team: string, stem: string): string[] {
  const topics = [`${team}.${stem}`];
  if (u() < 0.3) topics.push(`${team}.${stem}-${pick(u, SIDE_OUTPUTS)}`);
  return topics;
}

/** Fills `consumes` of every node (see the module doc); draws from `u` in node order. */
export function wireLineage(u: Uniform, nodes: LineageNode[]): void {
  const upstream = new UpstreamIndex();
  const fleetFed = new Set<LineageNode>();
  for (const node of nodes) {
    const count = 1 + weightedIndex(u, [50, 35, 15]);
    const fed = u() < FLEET_FED_SHARE && upstream.has(node.tier);
    const fleetTopics = fed ? (count > 1 && u() < 0.25 ? 2 : 1) : 0;
    for (let k = 0; k < count; k++) {
      const topic = k < fleetTopics ? upstream.draw(u, node.tier, node.team) : externalTopic(u, node.team);
      if (!node.consumes.includes(topic)) node.consumes.push(topic);
    }
    if (fed) fleetFed.add(node);
    upstream.add(node);
  }
  const critical = nodes.filter((n) => n.tier === 'P0' || n.tier === 'P1');
  const p3Sources = shuffle(u, nodes.filter((n) => n.tier === 'P3' && !fleetFed.has(n)));
  const feeds = critical.length === 0 || p3Sources.length === 0 ? 0 : Math.max(1, Math.round(P3_FEEDS_CRITICAL_SHARE * critical.length));
  shuffle(u, critical)
    .slice(0, feeds)
    .forEach((consumer, k) => addConsume(consumer, p3Sources[k % p3Sources.length]!.produces[0]!));
  const misfed = new Set(p3Sources.slice(0, feeds));
  const producer = new Map(nodes.flatMap((n) => n.produces.map((t) => [t, n] as const)));
  let cycles = nodes.length >= 100 ? Math.max(1, Math.round(CYCLE_SHARE * nodes.length)) : 0;
  for (const x of shuffle(u, nodes.filter((n) => n.tier === 'P2' || n.tier === 'P3'))) {
    if (cycles === 0) break;
    const y = x.consumes.map((t) => producer.get(t)).find((p) => p !== undefined && p !== x && p.tier === x.tier && !misfed.has(p));
    if (!y) continue;
    addConsume(y, x.produces[0]!);
    cycles--;
  }
}

/** An external topic: a shared ingestion topic or one of the team's own services, half each. */
function externalTopic(u: Uniform, team: string): string {
  if (u() < 0.5) return pick(u, INGEST_TOPICS);
  const [prefix, suffix] = pick(u, TEAM_SOURCES);
  return `${prefix}${team}${suffix}`;
}

/** Adds `topic` to the node's consumes, replacing the last one when it already reads 3. */
function addConsume(node: LineageNode, topic: string): void {
  if (node.consumes.includes(topic)) return;
  if (node.consumes.length >= 3) node.consumes[node.consumes.length - 1] = topic;
  else node.consumes.push(topic);
}

/** Topics of the nodes added so far, by producer tier, fleet-wide and per team. */
class UpstreamIndex {
  private readonly all: string[][] = TIERS.map(() => []);
  private readonly byTeam = new Map<string, string[][]>();

  add(node: LineageNode): void {
    const rank = TIERS.indexOf(node.tier);
    let team = this.byTeam.get(node.team);
    if (!team) this.byTeam.set(node.team, (team = TIERS.map(() => [])));
    for (const topic of node.produces) {
      this.all[rank]!.push(topic);
      team[rank]!.push(topic);
    }
  }

  /** Whether some topic of a producer of tier `tier` or higher priority exists. */
  has(tier: Tier): boolean {
    return count(this.all, TIERS.indexOf(tier)) > 0;
  }

  /**
   * A topic of a producer of `tier` or higher priority, uniform over such topics: of the
   * team with probability SAME_TEAM_SHARE when it has any, else fleet-wide. Requires has(tier).
   */
  draw(u: Uniform, tier: Tier, team: string): string {
    const rank = TIERS.indexOf(tier);
    const own = this.byTeam.get(team);
    const lists = own && count(own, rank) > 0 && u() < SAME_TEAM_SHARE ? own : this.all;
    let i = Math.floor(u() * count(lists, rank));
    for (const list of lists) {
      if (i < list.length) return list[i]!;
      i -= list.length;
    }
    throw new Error(`UpstreamIndex.draw: no ${tier}-or-higher topic; call has() first`);
  }
}

/** Total length of lists[0..rank]. */
function count(lists: readonly string[][], rank: number): number {
  let total = 0;
  for (let r = 0; r <= rank; r++) total += lists[r]!.length;
  return total;
}

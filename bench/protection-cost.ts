/**
 * The cost of continuous protection on the benchmark fleet (docs/protection.md#load-on-the-platform-and-how-to-size-it):
 * the generated 5,000-job fleet (simulator/fleet-generator.ts, its state sizes) under tiers.yaml's
 * RPOs and `protection` block, per layout and replication case, through the steady-state model
 * domain/protection-load.ts with the simulator's savepoint time (simulator/latency-model.ts
 * DEFAULT_MODEL: 5 s + state at 500 MiB/s, an assumption). Modelled, not measured: the
 * protection loop does not run on the simulator yet. No servers; part of `npm run bench`,
 * or alone: `npx tsx bench/protection-cost.ts [--jobs N]`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protectionLoad, type ProtectionLoad } from '../domain/protection-load.js';
import { NO_PROTECTION } from '../domain/protection.js';
import { parseTiersPolicy } from '../domain/tiers-policy.js';
import type { PlatformProfile } from '../domain/types.js';
import { loadExampleTemplates } from '../simulator/example-manifests.js';
import { generateFleet } from '../simulator/fleet-generator.js';
import { DEFAULT_MODEL } from '../simulator/latency-model.js';

const TIERS_FILE = fileURLToPath(new URL('../tiers.yaml', import.meta.url));
const GiB = 1024 ** 3;

/** One case of the cost table. */
export interface ProtectionCostRow {
  case: string;
  jobs: number;
  load: ProtectionLoad;
}

/**
 * The protection cost of a generated fleet of `jobs` primaries (seed 1, the bench's) in three
 * cases: per-AZ buckets with replication (savepoints only), per-AZ buckets without replication
 * between the two AZs (savepoints shipped both ways), symmetric buckets with replication (none).
 */
export function protectionCostRows(jobs = 5000): ProtectionCostRow[] {
  const policy = parseTiersPolicy(readFileSync(TIERS_FILE, 'utf8'), TIERS_FILE);
  const protection = policy.protection ?? NO_PROTECTION;
  const rate = { baseSeconds: DEFAULT_MODEL.savepointBaseSeconds, bytesPerSecond: DEFAULT_MODEL.savepointBytesPerSecond };
  const cases: Array<{ name: string; layout: PlatformProfile['layout']; notReplicated: boolean }> = [
    { name: 'per-az-buckets, replicated', layout: 'per-az-buckets', notReplicated: false },
    { name: 'per-az-buckets, not replicated', layout: 'per-az-buckets', notReplicated: true },
    { name: 'symmetric, replicated', layout: 'symmetric', notReplicated: false },
  ];
  return cases.map((c) => {
    const fleet = generateFleet({ jobs, seed: 1, templates: loadExampleTemplates(), layout: c.layout });
    const names = fleet.platform.azs.map((a) => a.name);
    const platform: PlatformProfile = {
      ...fleet.platform,
      ...(c.notReplicated ? { notReplicated: names.flatMap((from) => names.filter((to) => to !== from).map((to) => ({ from, to }))) } : {}),
    };
    const load = protectionLoad(fleet.jobs.map((j) => ({ tier: j.tier, az: j.az, stateBytes: j.stateSizeBytes })), policy.tiers, protection, platform, rate);
    return { case: c.name, jobs: fleet.jobs.length, load };
  });
}

/** The rows as text: per case the fleet-wide figures, then per protected tier and per AZ. */
export function protectionCostText(rows: readonly ProtectionCostRow[]): string {
  const lines = ['Protection cost (modelled: domain/protection-load.ts; tiers.yaml RPOs and protection block; savepoints 5 s + state at 500 MiB/s)'];
  for (const r of rows) {
    const l = r.load;
    lines.push(`  ${r.case}, ${r.jobs} jobs: ${l.savepointsPerMinute.toFixed(1)} savepoints/min, ${(l.savepointBytesPerHour / GiB).toFixed(0)} GiB written/h, ${(l.shippedBytesPerHour / GiB).toFixed(0)} GiB shipped/h`);
    for (const t of l.tiers) {
      lines.push(`    ${t.tier}: ${t.protectedJobs}/${t.jobs} jobs, a savepoint each ${t.refreshSeconds} s: ${t.savepointsPerMinute.toFixed(1)}/min, ${(t.savepointBytesPerCycle / GiB).toFixed(0)} GiB written and ${(t.shippedBytesPerCycle / GiB).toFixed(0)} GiB shipped per cycle`);
    }
    for (const a of l.azs) {
      lines.push(`    ${a.az}: ${a.savepointsPerMinute.toFixed(1)} savepoints/min, ${a.meanSavepointsInFlight.toFixed(1)} in flight on average against ${a.savepointsAtOnce} at once: ${a.keepsUp ? 'keeps up' : 'FALLS BEHIND'}`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--jobs');
  const jobs = i > 0 ? Number(process.argv[i + 1]) : 5000;
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs ${process.argv[i + 1]} is not a whole number ≥ 1. Fix: e.g. --jobs 5000`);
  process.stdout.write(`${protectionCostText(protectionCostRows(jobs))}\n`);
}

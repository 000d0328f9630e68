/**
 * The report's timeline as a Vega-Lite spec: one bar per job from the trigger to RUNNING,
 * split into its phases (queued, stop with savepoint, snapshot lookup or savepoint replication, config, jar wait, fence, apply, start-up,
 * promote), one row of the chart per tier. Pure: report in, spec out.
 */
import type { EvacuationReport, JobReport } from './report.js';
import { TIERS } from './types.js';

/** Step names the engine records (domain/evacuation.ts JobOutcome.steps) → phase labels, in timeline order. */
export const PHASE_LABELS: ReadonlyArray<readonly [step: string, label: string]> = [
  ['queued', 'queued'],
  ['savepoint', 'stop with savepoint'],
  ['promote', 'promote standby'],
  ['snapshot', 'snapshot lookup'],
  ['replica', 'savepoint replication'],
  ['config', 'config'],
  ['jars', 'jar wait'],
  ['fence', 'fence source'],
  ['apply', 'apply'],
  ['startup', 'start-up'],
];

/** Phase colours, same order as PHASE_LABELS (colour-blind-safe Okabe–Ito palette, grey for queued, Tol's wine for savepoint replication). */
const PHASE_COLORS = ['#c8c8c8', '#000000', '#009e73', '#56b4e9', '#882255', '#f0e442', '#e69f00', '#cc79a7', '#0072b2', '#d55e00'];

/** Phase legend entries per row: two rows, no wider than the chart, so that no phase is cut off. */
const LEGEND_COLUMNS = 5;

/** One bar segment of the timeline. Seconds since the trigger. */
export interface TimelineSegment {
  job: string;
  tier: string;
  outcome: JobReport['outcome'];
  phase: string;
  startSeconds: number;
  endSeconds: number;
  /** The tier's RTO target, seconds (drawn as a rule). */
  rtoTargetSeconds: number;
}

/** Most jobs drawn per tier; beyond it the slowest are drawn and the caption says how many were left out. */
export const MAX_JOBS_PER_TIER = 40;

/**
 * The segments of every job drawn: per tier the MAX_JOBS_PER_TIER jobs that took longest
 * (trigger → RUNNING, or → last step for jobs that did not run). Jobs without any step
 * (not admitted, skipped before starting) have no bar.
 * @returns the segments and, per tier, how many jobs with a bar were left out
 */
export function timelineSegments(report: EvacuationReport, maxPerTier = MAX_JOBS_PER_TIER): { segments: TimelineSegment[]; omitted: Record<string, number> } {
  const segments: TimelineSegment[] = [];
  const omitted: Record<string, number> = {};
  for (const tier of TIERS) {
    const drawable = report.jobs.filter((j) => j.tier === tier && Object.keys(j.steps).length > 0);
    const end = (j: JobReport): number => j.rtoSeconds ?? Math.max(...Object.values(j.steps).map((s) => s.endSeconds));
    const target = report.tiers.find((t) => t.tier === tier)?.rtoTargetSeconds ?? 0;
    const chosen = [...drawable].sort((a, b) => end(b) - end(a)).slice(0, maxPerTier);
    if (drawable.length > chosen.length) omitted[tier] = drawable.length - chosen.length;
    for (const j of chosen.sort((a, b) => (a.startSeconds ?? 0) - (b.startSeconds ?? 0))) {
      const label = `${j.namespace}/${j.name}`;
      const base = { job: label, tier, outcome: j.outcome, rtoTargetSeconds: target };
      if (j.startSeconds && j.startSeconds > 0) segments.push({ ...base, phase: 'queued', startSeconds: 0, endSeconds: j.startSeconds });
      for (const [step, phase] of PHASE_LABELS) {
        const s = j.steps[step];
        if (s) segments.push({ ...base, phase, startSeconds: s.startSeconds, endSeconds: Math.max(s.endSeconds, s.startSeconds) });
      }
    }
  }
  return { segments, omitted };
}

/**
 * Vega-Lite spec of the timeline (rows = tiers, y = jobs, x = seconds since the trigger,
 * colour = phase; jobs that did not end RUNNING drawn faded), with each tier's RTO target
 * as a dashed red rule.
 */
export function timelineSpec(segments: TimelineSegment[]): Record<string, unknown> {
  const phases = PHASE_LABELS.map(([, label]) => label);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: segments },
    facet: { row: { field: 'tier', type: 'nominal', sort: TIERS, title: null, header: { labelAngle: 0, labelFontSize: 14, labelFontWeight: 'bold' } } },
    resolve: { scale: { y: 'independent' } },
    spacing: 12,
    spec: {
      width: 700,
      height: { step: 12 },
      layer: [
        {
          mark: { type: 'bar', height: 9 },
          encoding: {
            y: { field: 'job', type: 'nominal', sort: null, title: null, axis: { labelFontSize: 9, labelLimit: 320 } },
            x: { field: 'startSeconds', type: 'quantitative', title: 'seconds since the trigger (wall clock)' },
            x2: { field: 'endSeconds' },
            color: { field: 'phase', type: 'nominal', scale: { domain: phases, range: PHASE_COLORS }, legend: { title: 'phase', orient: 'top', columns: LEGEND_COLUMNS, labelLimit: 0 } },
            opacity: { condition: { test: "datum.outcome === 'running'", value: 1 }, value: 0.45 },
          },
        },
        {
          mark: { type: 'rule', color: '#c00', strokeDash: [4, 3], strokeWidth: 1.5 },
          encoding: { x: { field: 'rtoTargetSeconds', aggregate: 'max', type: 'quantitative' } },
        },
      ],
    },
  };
}

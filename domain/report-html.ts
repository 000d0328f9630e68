/**
 * The report people look at: one self-contained HTML file (inline CSS, the timeline as an
 * inline SVG rendered server-side by Vega from the Vega-Lite spec of report-chart.ts, no
 * script, no external resource) built from the JSON report. Used for evacuations (worker,
 * CLI `--report-html`, console) and drills.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { predictionSummary, type EvacuationReport, type JobReport, type PredictionRow, type TierReport } from './report.js';
import { timelineSegments, timelineSpec } from './report-chart.js';
import { verdictOf, type Verdict } from './verdict.js';

/** The HTML file written beside a JSON report: `x.report.json` → `x.report.html`. */
export function reportHtmlFileOf(jsonFile: string): string {
  return jsonFile.replace(/\.json$/, '') + '.html';
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escape text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Seconds as shown in the report: one decimal, `—` for none. */
export function formatSeconds(s: number | null | undefined): string {
  return s === null || s === undefined ? '—' : `${s.toFixed(1)} s`;
}

/**
 * Render the timeline chart to an SVG string (Vega, renderer 'none': no DOM, no canvas).
 * @returns the SVG, or '' when no job has a recorded step
 */
export async function renderTimelineSvg(report: EvacuationReport): Promise<{ svg: string; omitted: Record<string, number> }> {
  const { segments, omitted } = timelineSegments(report);
  if (segments.length === 0) return { svg: '', omitted };
  const view = new vega.View(vega.parse(compile(timelineSpec(segments) as never).spec), { renderer: 'none' });
  try {
    return { svg: await view.toSVG(), omitted };
  } finally {
    view.finalize();
  }
}

function tierRow(t: TierReport): string {
  const cells: Array<[string, string]> = [
    ['jobs', String(t.jobs)], ['succeeded', String(t.succeeded)], ['failed', String(t.failed)], ['skipped', String(t.skipped)],
    ['rtoSeconds', formatSeconds(t.rtoSeconds)], ['rtoTargetSeconds', formatSeconds(t.rtoTargetSeconds)],
    ['worstRpoSeconds', formatSeconds(t.worstRpoSeconds)], ['rpoTargetSeconds', formatSeconds(t.rpoTargetSeconds)],
  ];
  const met = t.rtoSeconds === null ? 'n/a' : t.rtoMet ? 'met' : 'missed';
  const r = t.rpoAtPlan;
  const atPlan = r ? `${formatSeconds(r.worstAgeSeconds)}${r.unprotected ? ` · ${r.unprotected} unprotected` : ''}` : '—';
  return `<tr data-tier="${t.tier}"><th>${t.tier}</th>${cells.map(([k, v]) => `<td data-field="${k}">${v}</td>`).join('')}<td data-field="rpoAtPlan" class="${r?.unprotected ? 'missed' : ''}">${atPlan}</td><td data-field="rtoMet" class="${met}">${met}</td></tr>`;
}

function jobRow(j: JobReport): string {
  return `<tr><td>${escapeHtml(`${j.namespace}/${j.name}`)}</td><td>${j.tier}</td><td>${j.strategy}</td><td>${j.outcome}</td><td>${escapeHtml(j.reason ?? '')}</td></tr>`;
}

function fenceRow(j: JobReport): string {
  const seen = j.fenceSeen ? `${escapeHtml(j.fenceSeen.seen)} (at ${formatSeconds(j.fenceSeen.atSeconds)})` : '';
  return `<tr><td>${escapeHtml(`${j.namespace}/${j.name}`)}</td><td>${j.tier}</td><td>${escapeHtml(j.fenceText ?? '')}</td><td>${seen}</td></tr>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232b;margin:0;background:#f4f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#55606e}.card{background:#fff;border:1px solid #d9dee4;border-radius:8px;padding:16px;margin-top:12px;overflow-x:auto}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:600;margin-top:8px}
.ok{background:#e3f5ea;color:#11653a}.bad{background:#fde7e7;color:#9b1c1c}.warn{background:#fff1d6;color:#7a4b00}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ed;vertical-align:top}
thead th{background:#eef1f4;font-weight:600}td[data-field]{font-variant-numeric:tabular-nums}
td.met{color:#11653a;font-weight:600}td.missed{color:#9b1c1c;font-weight:600}
.note{color:#55606e;font-size:13px}`;

/**
 * Render the whole report as a self-contained HTML document.
 * Sections: verdict, per-tier RTO achieved vs target and worst RPO paid, the timeline,
 * failures and skips with reasons, fences not seen done ("fence requested, not observed"),
 * preemptions, readiness findings.
 */
export async function renderReportHtml(report: EvacuationReport): Promise<string> {
  // A chart that cannot be drawn must not cost the report its numbers.
  const { svg, omitted } = await renderTimelineSvg(report).catch((err: unknown) => ({
    svg: `<p class="note">The timeline could not be rendered: ${escapeHtml(err instanceof Error ? err.message : String(err))}</p>`, omitted: {},
  }));
  const problems = report.jobs.filter((j) => j.outcome !== 'running');
  const openFences = report.jobs.filter((j) => j.fence === 'requested' || j.fence === 'unreachable');
  const running = report.jobs.filter((j) => j.outcome === 'running').length;
  const verified = report.jobs.filter((j) => j.restore?.kind === 'checkpoint-after-restore').length;
  const unverified = report.jobs.filter((j) => j.restore?.kind === 'not-verified').length;
  const restoreText = verified + unverified === 0 ? '' : ` RUNNING means restored: ${verified} restored job${verified === 1 ? '' : 's'} counted only after a checkpoint completed after the restore` +
    `${unverified ? `; ${unverified} without checkpointing, restore not verified` : ''}.`;
  const omittedText = Object.entries(omitted).map(([tier, n]) => `${tier}: ${n} faster jobs not drawn`).join('; ');
  // Blocking findings (the job failed before anything was done to it) first, then informational ones.
  const findingsByCode = new Map<string, { blocking: boolean; code: string; jobs: number }>();
  for (const f of [...report.findings].sort((a, b) => Number(b.blocking) - Number(a.blocking))) {
    const key = `${f.blocking}/${f.code}`;
    findingsByCode.set(key, { blocking: f.blocking, code: f.code, jobs: (findingsByCode.get(key)?.jobs ?? 0) + 1 });
  }
  const title = `Evacuation ${report.evacuationId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
<div class="meta">${escapeHtml(report.sourceAz)} → ${escapeHtml(report.targetAz)} · ${report.mode} · catalog v${report.catalogVersion} · started ${escapeHtml(report.startedAt)}${report.requestedBy ? ` by ${escapeHtml(report.requestedBy)}` : ''} · ${formatSeconds(report.wallSeconds)} wall</div>
${verdictBanner(report)}
${report.abortedBy ? `<p class="bad verdict">Aborted by ${escapeHtml(report.abortedBy)}</p>` : ''}
${report.preemptionError ? `<p class="bad verdict">Preemption failed: ${escapeHtml(report.preemptionError)}</p>` : ''}
${Object.entries(report.tierFailures ?? {}).map(([tier, error]) => `<p class="bad verdict">${tier} tier workflow failed: ${escapeHtml(error)}</p>`).join('')}
<p class="note">${running} of ${report.jobs.length} jobs RUNNING.${restoreText} Durations are wall seconds since the trigger${report.timeScale !== 1 ? `; the platform ran ${report.timeScale}× faster than real time, so targets are divided by ${report.timeScale}` : ''}.</p>

<h2>Per tier: RTO achieved vs target, RPO paid</h2>
<div class="card"><table id="tiers"><thead><tr><th>tier</th><th>jobs</th><th>RUNNING</th><th>failed</th><th>skipped</th><th>RTO achieved</th><th>RTO target</th><th>worst RPO paid</th><th>RPO limit</th><th>RPO now at plan (unprotected)</th><th>RTO</th></tr></thead>
<tbody>${report.tiers.map(tierRow).join('')}</tbody></table></div>
${plannedTable(report)}

<h2>Timeline: trigger → RUNNING per job, by phase</h2>
<div class="card" id="timeline">${svg || '<p class="note">No job ran a step.</p>'}
<p class="note">Dashed red line: the tier's RTO target. Faded bars: jobs that did not end RUNNING.${omittedText ? ` Only the slowest jobs per tier are drawn (${escapeHtml(omittedText)}).` : ''}</p></div>

${predictedTable(report)}

<h2>Failures and skips (${problems.length})</h2>
<div class="card">${problems.length ? `<table id="failures"><thead><tr><th>job</th><th>tier</th><th>strategy</th><th>outcome</th><th>reason</th></tr></thead><tbody>${problems.map(jobRow).join('')}</tbody></table>` : '<p class="note">None.</p>'}</div>

<h2>Fences not seen done (${openFences.length})</h2>
<div class="card">${openFences.length ? `<table id="fences"><thead><tr><th>source copy</th><th>tier</th><th>fence</th><th>last seen</th></tr></thead><tbody>${openFences.map(fenceRow).join('')}</tbody></table>${report.fencing?.followUpWorkflowId ? `<p class="note">The fencing follow-up ${escapeHtml(report.fencing.followUpWorkflowId)} keeps working on them.</p>` : ''}` : '<p class="note">None: every moved job\'s source copy was seen stopped (or absent).</p>'}</div>

<h2>Preemptions (${report.preemptions.length})</h2>
<div class="card">${report.preemptions.length ? `<table id="preemptions"><thead><tr><th>suspended P3 job</th><th>cores freed</th><th>for job</th></tr></thead><tbody>${report.preemptions.map((p) => `<tr><td>${escapeHtml(p.key)}</td><td>${p.cores}</td><td>${escapeHtml(p.forJob)}</td></tr>`).join('')}</tbody></table>` : '<p class="note">None.</p>'}</div>

<h2>Readiness findings (${report.findings.length})</h2>
<div class="card">${findingsByCode.size ? `<table id="findings"><thead><tr><th>finding</th><th>kind</th><th>jobs</th></tr></thead><tbody>${[...findingsByCode.values()].map((f) => `<tr><td>${escapeHtml(f.code)}</td><td${f.blocking ? ' class="missed"' : ''}>${f.blocking ? 'blocking' : 'informational'}</td><td>${f.jobs}</td></tr>`).join('')}</tbody></table>` : '<p class="note">None.</p>'}</div>
</main></body></html>
`;
}

const VERDICT_CLASS: Record<Verdict, string> = { success: 'ok', 'rto-missed': 'warn', failed: 'bad', aborted: 'bad' };

/** The headline: green only for every P0–P2 job RUNNING within its tier's RTO (domain/verdict.ts). */
function verdictBanner(report: EvacuationReport): string {
  const verdict = verdictOf({ success: report.success, aborted: report.abortedBy !== undefined, tiers: report.tiers.map((t) => ({ met: t.rtoMet })) });
  const missed = report.tiers.filter((t) => !t.rtoMet).map((t) => t.tier).join(', ');
  const text: Record<Verdict, string> = {
    success: 'SUCCESS: every P0–P2 job RUNNING in the target AZ within its tier\'s RTO',
    'rto-missed': `RTO MISSED (${missed}): every P0–P2 job RUNNING in the target AZ, but late`,
    failed: 'NOT SUCCESSFUL: see failures below',
    aborted: 'ABORTED: see failures and skips below',
  };
  return `<div class="verdict ${VERDICT_CLASS[verdict]}" data-field="success" data-verdict="${verdict}">${escapeHtml(text[verdict])}</div>`;
}

/** Rows of the predicted-vs-achieved table at most (the JSON report has every job). */
const PREDICTED_ROWS = 50;

/** Per job: the plan's predicted time to RUNNING beside the achieved one (predictionSummary), worst first; nothing without a forecast. */
function predictedTable(report: EvacuationReport): string {
  const s = predictionSummary(report);
  if (s.jobs === 0) return '';
  const row = (r: PredictionRow): string => `<tr data-job="${escapeHtml(r.key)}"><td>${escapeHtml(r.key)}</td><td>${r.tier}</td>` +
    `<td data-field="predicted"${r.predictedMiss ? ' class="missed"' : ''}>${formatSeconds(r.predictedSeconds)}</td>` +
    `<td data-field="achieved"${r.achievedMiss ? ' class="missed"' : ''}>${formatSeconds(r.achievedSeconds)}</td>` +
    `<td>${formatSeconds(r.rtoTargetSeconds)}</td><td>${(r.stateBytes / 1024 ** 3).toFixed(2)} GiB (${r.stateFrom})</td></tr>`;
  const more = s.rows.length > PREDICTED_ROWS ? ` The ${s.rows.length - PREDICTED_ROWS} closest predictions are in the JSON report.` : '';
  return `<h2>Predicted vs achieved time to RUNNING (${s.jobs} jobs)</h2>
<div class="card"><p class="note">Predicted before the trigger to miss their tier's RTO: ${s.predictedMisses}; missed it: ${s.achievedMisses}; median |achieved − predicted| ${formatSeconds(s.medianErrorSeconds)}.${more}</p>
<table id="predicted"><thead><tr><th>job</th><th>tier</th><th>predicted</th><th>achieved</th><th>RTO target</th><th>state (from)</th></tr></thead><tbody>${s.rows.slice(0, PREDICTED_ROWS).map(row).join('')}</tbody></table></div>`;
}

/** Planned moves and drills (modes planned, drill): each tier's stop-with-savepoint figures, or nothing in an emergency. */
function plannedTable(report: EvacuationReport): string {
  const tiers = report.tiers.filter((t) => t.planned !== undefined);
  if (tiers.length === 0) return '';
  const row = (t: TierReport): string => {
    const p = t.planned!;
    const cells: Array<[string, string]> = [
      ['stopped', String(p.stopped)], ['toSavepointSeconds', formatSeconds(p.toSavepointSeconds)],
      ['savepointToRunningSeconds', formatSeconds(p.savepointToRunningSeconds)], ['totalSeconds', formatSeconds(p.totalSeconds)],
    ];
    return `<tr data-tier="${t.tier}"><th>${t.tier}</th>${cells.map(([k, v]) => `<td data-field="${k}">${v}</td>`).join('')}</tr>`;
  };
  return `<h2>${report.mode === 'drill' ? 'Drill' : 'Planned move'}: stop-with-savepoint, then restore from it (worst per tier)</h2>
<div class="card"><table id="planned"><thead><tr><th>tier</th><th>stopped with a savepoint</th><th>trigger → savepoint</th><th>savepoint → RUNNING</th><th>total</th></tr></thead>
<tbody>${tiers.map(row).join('')}</tbody></table></div>`;
}

/**
 * The drill's HTML report: the drill's own record (verdict, every step with its state,
 * duration and summary, verification checks against targets, approval decisions, cleanup)
 * placed at the top of the evacuation's HTML report (report-html.ts: Vega-Lite timeline,
 * RTO / RPO per tier, failures, preemptions). Pure.
 */
import type { DrillStatus } from './drill.js';
import { escapeHtml, formatSeconds } from './report-html.js';

const CLASS: Record<string, string> = { passed: 'ok', failed: 'bad', rejected: 'bad', aborted: 'bad', 'not-run': 'note', running: 'warn', pending: 'note' };

/** The drill section (a `<section>` of cards), for embedding. */
export function drillSectionHtml(s: DrillStatus): string {
  const verdict = s.phase === 'passed' ? '<p class="ok verdict">Drill passed: every step and the cleanup passed, targets met.</p>'
    : `<p class="bad verdict">Drill ${escapeHtml(s.phase)}${s.abortedBy ? ` (aborted by ${escapeHtml(s.abortedBy)})` : ''}${s.refused ? `: ${escapeHtml(s.refused)}` : ''}.</p>`;
  const rows = s.steps.map((st) => {
    const secs = st.startedAtMs !== undefined && st.endedAtMs !== undefined ? formatSeconds((st.endedAtMs - st.startedAtMs) / 1000) : '—';
    const checks = (st.checks ?? []).map((c) => `<div class="${c.passed ? 'ok' : 'bad'}">${c.passed ? '✓' : '✗'} ${escapeHtml(c.detail)}</div>`).join('');
    return `<tr><td>${st.index + 1}</td><td>${st.kind}</td><td class="${CLASS[st.state] ?? ''}">${st.state}</td><td>${secs}</td><td>${escapeHtml(st.summary ?? '')}${checks}</td></tr>`;
  }).join('');
  const cleanup = s.cleanup.map((c) => `<tr><td>${c.kind}</td><td class="${CLASS[c.state] ?? ''}">${c.state}</td><td>${escapeHtml(c.summary ?? '')}</td></tr>`).join('');
  const decisions = s.decisions.map((d) => `<li>step ${d.index + 1}: ${d.decision} by ${escapeHtml(d.by)} at ${new Date(d.atMs).toISOString()}${d.comment ? ` — ${escapeHtml(d.comment)}` : ''}</li>`).join('');
  return `<section id="drill">
<h1>Drill ${escapeHtml(s.drillId)}</h1>
<div class="meta">runbook ${escapeHtml(s.runbook)} · ${escapeHtml(s.sourceAz)} → ${escapeHtml(s.targetAz)} · by ${escapeHtml(s.requestedBy)} · started ${new Date(s.startedAtMs).toISOString()}</div>
${verdict}
<div class="card"><table id="drill-steps"><thead><tr><th>#</th><th>step</th><th>state</th><th>took</th><th>what happened</th></tr></thead><tbody>${rows}</tbody></table></div>
${cleanup ? `<h2>Cleanup</h2><div class="card"><table id="drill-cleanup"><thead><tr><th>action</th><th>state</th><th>what happened</th></tr></thead><tbody>${cleanup}</tbody></table></div>` : ''}
${decisions ? `<h2>Approvals</h2><div class="card"><ul>${decisions}</ul></div>` : ''}
</section>`;
}

/**
 * The drill report page: the drill section above the evacuation's report when the drill got
 * that far (`evacuationHtml`, from renderReportHtml), else a page of its own.
 */
export function renderDrillReportHtml(s: DrillStatus, evacuationHtml?: string): string {
  const section = drillSectionHtml(s);
  if (evacuationHtml && evacuationHtml.includes('<main>')) {
    return evacuationHtml.replace(/<title>[^<]*<\/title>/, `<title>Drill ${escapeHtml(s.drillId)}</title>`).replace('<main>', `<main>\n${section}\n<h2>Evacuation</h2>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drill ${escapeHtml(s.drillId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#1d2430}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:4px 8px;text-align:left;vertical-align:top}.ok{color:#17803d}.bad{color:#b42318}.warn{color:#a15c07}.note,.meta{color:#667}.card{margin:1rem 0}</style></head>
<body><main>
${section}
</main></body></html>`;
}

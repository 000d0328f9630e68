/**
 * Plain-text views of drills and rehearsal schedules for the CLI. Pure.
 */
import type { RehearsalSchedule } from '../client/rehearsal-schedules.js';
import type { DrillStatus } from '../domain/drill.js';

const MARK: Record<string, string> = { passed: '✓', failed: '✗', rejected: '✗', aborted: '■', running: '…', pending: ' ', 'not-run': '-' };

/** A drill's steps, cleanup and open gate, one line each. */
export function drillText(s: DrillStatus): string {
  const lines = [`drill ${s.drillId} (${s.runbook}: ${s.sourceAz} → ${s.targetAz}, by ${s.requestedBy}): ${s.phase}${s.abortedBy ? ` — aborted by ${s.abortedBy}` : ''}${s.refused ? ` — ${s.refused}` : ''}`];
  for (const st of s.steps) {
    const secs = st.startedAtMs !== undefined && st.endedAtMs !== undefined ? ` ${((st.endedAtMs - st.startedAtMs) / 1000).toFixed(1)}s` : '';
    lines.push(`  ${MARK[st.state] ?? '?'} ${String(st.index + 1).padStart(2)}. ${st.kind.padEnd(9)} ${st.state}${secs}${st.summary ? `: ${st.summary}` : ''}`);
    for (const c of st.checks ?? []) lines.push(`        ${c.passed ? '✓' : '✗'} ${c.detail}`);
  }
  for (const c of s.cleanup) lines.push(`  ${MARK[c.state] ?? '?'} cleanup   ${c.kind} ${c.state}${c.summary ? `: ${c.summary}` : ''}`);
  if (s.approval) {
    lines.push(`  Awaiting approval: ${s.approval.prompt} (until ${new Date(s.approval.deadlineMs).toISOString()})`);
    lines.push(`    az-evac drill approve ${s.drillId}   |   az-evac drill reject ${s.drillId} --comment "why"`);
  }
  if (s.reportFile) lines.push(`  Report: ${s.reportHtmlFile ?? s.reportFile} (JSON: ${s.reportFile})`);
  return lines.join('\n');
}

/** Rehearsal schedules with their recent runs. */
export function schedulesText(list: RehearsalSchedule[]): string {
  if (list.length === 0) return 'no rehearsal schedules (create one: az-evac schedule create <id> --runbook FILE --cron "0 3 * * TUE")';
  return list.map((s) => [
    `${s.scheduleId}: runbook ${s.runbook}, cron ${s.cron.join(' | ')}${s.paused ? `, PAUSED${s.note ? ` (${s.note})` : ''}` : ''}`,
    ...(s.pauseWindows.length ? [`  pause windows: ${s.pauseWindows.join(', ')}`] : []),
    `  next: ${s.nextRuns.slice(0, 3).join(', ') || '-'}; skipped (overlap): ${s.skippedOverlaps}`,
    ...s.runs.map((r) => `  ${r.scheduledAt}  ${r.drillId}  ${r.status}${r.phase ? ` ${r.phase}` : ''}${r.passed === undefined ? '' : r.passed ? ' PASS' : ' FAIL'}`),
  ].join('\n')).join('\n\n');
}

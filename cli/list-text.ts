/**
 * Plain-text view of `az-evac list`: one line per evacuation or drill, newest first. Pure.
 */
import type { RunListItem } from '../client/run-list.js';

/** Columns: started (UTC), kind, id, mode, source → target, status, outcome or phase, closed. */
export function runListText(runs: RunListItem[]): string {
  if (runs.length === 0) return 'no evacuations or drills on this task queue (start one: az-evac evacuate --from AZ --to AZ --mode drill)';
  const rows = runs.map((r) => [
    r.startedAt.replace(/\.\d+Z$/, 'Z'), r.kind, r.id, r.mode ?? '-', `${r.sourceAz ?? '?'} → ${r.targetAz ?? '?'}`, r.status,
    r.outcome ?? (r.phase ? `(${r.phase})` : '-'), r.closedAt ? r.closedAt.replace(/\.\d+Z$/, 'Z') : '-',
  ]);
  const head = ['STARTED (UTC)', 'KIND', 'ID', 'MODE', 'FROM → TO', 'STATUS', 'OUTCOME', 'CLOSED (UTC)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

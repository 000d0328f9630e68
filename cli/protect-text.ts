/**
 * Text of `az-evac protect status` and `az-evac protect run` (cli/protect-commands.ts): per tier
 * the RPO an evacuation would pay now against the target, the unprotected jobs with why, what a
 * pass would do now and what the last one did. Pure.
 */
import type { ProtectionPassRecord } from '../activities/protection-pass.js';
import type { ProtectionPassResult, ProtectionProgress, ProtectionStatus } from '../workflows/protect.js';

/** `1.5 GiB`, `300 MiB`, `12 B`. */
export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** `42 s`, `12 min`, `3.2 h`. */
export function ageText(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The last pass in one line. */
export function lastPassText(p: ProtectionPassRecord | null, nowEpochSeconds: number): string {
  if (!p) return 'Last pass: none recorded (run `az-evac protect run`, or set AZ_EVAC_PROTECTION_INTERVAL on the worker).';
  const failures = p.failures.length === 0 ? 'no failure' : `${p.failures.length} failure${p.failures.length === 1 ? '' : 's'}`;
  return `Last pass: ended ${ageText(Math.max(0, nowEpochSeconds - p.endedAtEpochSeconds))} ago, took ${ageText(p.durationSeconds)}: ${p.savepoints} savepoint${p.savepoints === 1 ? '' : 's'} taken, ${p.shipped} cop${p.shipped === 1 ? 'y' : 'ies'} shipped (${bytesText(p.shippedBytes)}), ${p.expired} expired, ${failures}.`;
}

/** `az-evac protect status` as text. */
export function protectionStatusText(s: ProtectionStatus): string {
  const lines: string[] = [];
  if (s.policy.tiers.length === 0) {
    lines.push(`Protection is off: tiers.yaml has no \`protection\` block (or it lists no tier), so no job is protected. Catalog v${s.catalogVersion}, ${s.counts.jobs} jobs.`);
    return lines.join('\n');
  }
  lines.push(`Protection of ${s.policy.tiers.join(', ')} (tiers.yaml protection: refresh at ${Math.round(s.policy.refreshAtRpoFraction * 100)} % of the RPO, ${s.policy.savepointsAtOncePerAz} savepoints at once per AZ), catalog v${s.catalogVersion}:`);
  lines.push(`${s.counts.jobs} jobs: ${s.counts.protected} protected, ${s.counts.unprotected} UNPROTECTED, ${s.counts.notRequired} in tiers that need none.`);
  lines.push('');
  lines.push(table([
    ['tier', 'jobs', 'protected', 'unprotected', 'not required', 'no snapshot', 'RPO now / target'],
    ...s.tiers.map((t) => [
      t.tier, String(t.jobs), String(t.protected), t.unprotected > 0 ? `${t.unprotected} !` : '0', String(t.notRequired), String(t.withoutSnapshot),
      `${t.worstAgeSeconds === null ? '-' : ageText(t.worstAgeSeconds)} / ${ageText(t.rpoTargetSeconds)}${t.worstAgeSeconds !== null && t.worstAgeSeconds > t.rpoTargetSeconds ? ' OVER' : ''}`,
    ]),
  ]));
  lines.push('(RPO now: the age of the newest restorable snapshot in the other AZ, worst job of the tier: what an evacuation would pay now.)');
  if (s.unprotected.length > 0) {
    lines.push('');
    lines.push(`Unprotected${s.unprotected.length < s.counts.unprotected ? ` (first ${s.unprotected.length} of ${s.counts.unprotected})` : ''}:`);
    for (const u of s.unprotected) lines.push(`  ${u.job} (${u.tier}): ${u.reason}`);
  }
  lines.push('');
  lines.push(s.due.savepoints + s.due.ships === 0
    ? 'Due now: nothing (every protected job\'s newest restorable snapshot elsewhere is fresher than its refresh point, or a savepoint is on its way).'
    : `Due now: ${s.due.savepoints} savepoint${s.due.savepoints === 1 ? '' : 's'} to take, ${s.due.ships} job${s.due.ships === 1 ? '' : 's'} to ship (\`az-evac protect run\` does it now).`);
  lines.push(lastPassText(s.lastPass, s.nowEpochSeconds));
  return lines.join('\n');
}

/** One progress line of a running pass. */
export function progressText(p: ProtectionProgress): string {
  if (p.phase === 'assessing') return 'protect: assessing every job…';
  return `protect: ${p.phase} ${p.done}/${p.tasks} jobs · ${p.savepoints} savepoints · ${p.shipped} copies (${bytesText(p.shippedBytes)}) · ${p.failures} failures`;
}

/** The summary of a finished pass (its `totals`; a result without them, from a pass before shards, is counted from its lists). */
export function passSummaryText(r: ProtectionPassResult): string {
  const t = r.totals ?? {
    savepoints: r.savepoints.length, shipped: r.shipped.length, shippedBytes: r.shipped.reduce((n, s) => n + s.bytes, 0), expired: r.expired.length, failures: r.failures.length,
  };
  const lines = [
    `Protection pass over catalog v${r.catalogVersion}: before it, ${r.before.jobs} jobs: ${r.before.protected} protected, ${r.before.unprotected} unprotected, ${r.before.notRequired} in tiers that need none.`,
    `Took ${t.savepoints} savepoint${t.savepoints === 1 ? '' : 's'}, shipped ${t.shipped} cop${t.shipped === 1 ? 'y' : 'ies'} (${bytesText(t.shippedBytes)}), expired ${t.expired}.`,
  ];
  for (const h of r.retentionHeld) lines.push(`Retention held in ${h.az === '*' ? 'every AZ' : h.az}: ${h.by} (nothing expired there this pass).`);
  if (r.failures.length > 0) {
    const listed = t.failures > r.failures.length ? ` (the first ${r.failures.length} listed)` : '';
    lines.push(`Failed (after retries) for ${t.failures} job${t.failures === 1 ? '' : 's'}${listed}:`);
    for (const f of r.failures) lines.push(`  ${f.job} ${f.step}: ${f.reason}`);
    lines.push('Those jobs stay unprotected; the next plan names the reason. Fix the cause (the operator\'s reason above), then run `az-evac protect run` again.');
  }
  lines.push('Replicated savepoints reach the other AZ after the replication lag: `az-evac protect status` shows the RPO now.');
  return lines.join('\n');
}

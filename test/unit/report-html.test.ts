import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../domain/evacuation.js';
import { buildReport } from '../../domain/report.js';
import { PHASE_LABELS, timelineSegments } from '../../domain/report-chart.js';
import { escapeHtml, formatSeconds, renderReportHtml, renderTimelineSvg, reportHtmlFileOf } from '../../domain/report-html.js';
import type { Plan, PlannedJob, Tier } from '../../domain/types.js';
import { tiersPolicy } from './fixtures/fleet.js';

const T0 = 1_800_000_000_000;
const at = (s: number): number => T0 + s * 1000;

function planned(name: string, tier: Tier): PlannedJob {
  return { key: `ns/${name}`, name, namespace: 'ns', tier, catalogTier: tier, strategy: 'redeploy', cores: 4, memoryMiB: 4096, jarDigests: [] };
}

function ran(name: string, tier: Tier, startS: number, endS: number, extra: Partial<JobOutcome> = {}): JobOutcome {
  return {
    key: `ns/${name}`, name, namespace: 'ns', tier, strategy: 'redeploy', outcome: 'running',
    steps: {
      snapshot: { startedAtMs: at(startS), endedAtMs: at(startS + 1), attempts: 1 },
      config: { startedAtMs: at(startS + 1), endedAtMs: at(startS + 1.5), attempts: 1 },
      jars: { startedAtMs: at(startS + 1.5), endedAtMs: at(startS + 3), attempts: 1 },
      apply: { startedAtMs: at(startS + 3), endedAtMs: at(startS + 4), attempts: 1 },
      startup: { startedAtMs: at(startS + 4), endedAtMs: at(endS), attempts: 1 },
    },
    startedAtMs: at(startS), endedAtMs: at(endS), snapshotAgeSeconds: 30, ...extra,
  };
}

function report(outcomes: JobOutcome[], admitted: PlannedJob[]) {
  const plan: Plan = {
    sourceAz: 'az-a', targetAz: 'az-b', catalogVersion: 2, admitted,
    notAdmitted: [{ key: 'ns/huge', tier: 'P3', reason: 'does not fit: needs 900 cores' }],
    preemptions: [{ key: 'ns/victim', name: 'victim', namespace: 'ns', cores: 8, memoryMiB: 8192, forJob: 'ns/p2-0' }],
    findings: [], capacityBefore: { cores: 100, memoryMiB: 1e6 }, capacityAfter: { cores: 10, memoryMiB: 1e5 }, jars: [],
  };
  return buildReport({ evacuationId: 'evac-<1>', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', startedAtMs: T0, endedAtMs: at(120), plan, policy: tiersPolicy(), outcomes });
}

describe('report timeline and HTML', () => {
  const admitted = [planned('p0-0', 'P0'), planned('p2-0', 'P2'), planned('p2-1', 'P2')];
  const r = report([ran('p0-0', 'P0', 0.5, 20), ran('p2-0', 'P2', 5, 90), { ...ran('p2-1', 'P2', 6, 40), outcome: 'failed', reason: 'startup failed: image pull <denied>' }], admitted);

  it('draws every phase of every job from the trigger: queued, snapshot lookup, config, jar wait, apply, start-up', () => {
    const { segments, omitted } = timelineSegments(r);
    expect(omitted).toEqual({});
    const p20 = segments.filter((s) => s.job === 'ns/p2-0');
    expect(p20.map((s) => s.phase)).toEqual(['queued', 'snapshot lookup', 'config', 'jar wait', 'apply', 'start-up']);
    expect(p20[0]).toMatchObject({ startSeconds: 0, endSeconds: 5, tier: 'P2', rtoTargetSeconds: r.tiers.find((t) => t.tier === 'P2')!.rtoTargetSeconds });
    expect(p20.at(-1)).toMatchObject({ startSeconds: 9, endSeconds: 90 });
    expect(segments.some((s) => s.job === 'ns/huge')).toBe(false); // not admitted: no bar
  });

  it('caps the jobs drawn per tier at the slowest ones and says how many were left out', () => {
    const many = Array.from({ length: 5 }, (_, i) => ran(`p2-${i}`, 'P2', i, 50 + i));
    const big = report(many, many.map((o) => planned(o.name, 'P2')));
    const { segments, omitted } = timelineSegments(big, 2);
    expect(new Set(segments.map((s) => s.job))).toEqual(new Set(['ns/p2-4', 'ns/p2-3']));
    expect(omitted).toEqual({ P2: 3 });
  });

  it('renders a self-contained page: SVG timeline, per-tier numbers equal to the JSON, failures and preemptions, escaped text', async () => {
    const html = await renderReportHtml(r);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    for (const t of r.tiers) {
      const row = html.match(new RegExp(`<tr data-tier="${t.tier}">(.*?)</tr>`))?.[1] ?? '';
      expect(row).toContain(`<td data-field="jobs">${t.jobs}</td>`);
      expect(row).toContain(`<td data-field="succeeded">${t.succeeded}</td>`);
      expect(row).toContain(`<td data-field="rtoSeconds">${formatSeconds(t.rtoSeconds)}</td>`);
      expect(row).toContain(`<td data-field="worstRpoSeconds">${formatSeconds(t.worstRpoSeconds)}</td>`);
    }
    expect(html).toContain('image pull &lt;denied&gt;');
    expect(html).toContain('Evacuation evac-&lt;1&gt;');
    expect(html).toContain('ns/victim');
    expect(html).toContain('not admitted: does not fit');
  });

  it('shows per job what showed its restore ended, and says in the page how many restores were verified', async () => {
    const verified = ran('restored', 'P2', 0, 70, { snapshotPath: 's3://b/savepoints/sp-1', restore: { kind: 'checkpoint-after-restore', restoredId: 57, restoredPath: 's3://b/savepoints/sp-1', checkpointId: 58, checkpointAtMs: at(68.5) } });
    const unverified = ran('no-checkpoints', 'P2', 0, 40, { snapshotPath: 's3://b/savepoints/sp-2', restore: { kind: 'not-verified', reason: 'checkpointing is not enabled for the job' } });
    const empty = ran('stateless', 'P2', 0, 30, { restore: { kind: 'nothing-restored' } });
    const r = report([verified, unverified, empty], [planned('restored', 'P2'), planned('no-checkpoints', 'P2'), planned('stateless', 'P2')]);
    const line = (name: string) => r.jobs.find((j) => j.name === name)!;
    expect(line('restored')).toMatchObject({ restore: { kind: 'checkpoint-after-restore', checkpointId: 58 }, restoreVerifiedSeconds: 68.5, rtoSeconds: 70 });
    expect(line('no-checkpoints')).toMatchObject({ restore: { kind: 'not-verified' } });
    expect(line('no-checkpoints').restoreVerifiedSeconds).toBeUndefined();
    expect(line('stateless').restore).toEqual({ kind: 'nothing-restored' });
    const html = await renderReportHtml(r);
    expect(html).toContain('RUNNING means restored: 1 restored job counted only after a checkpoint completed after the restore; 1 without checkpointing, restore not verified.');
  });

  it('is green only when every P0–P2 job ran within its RTO: a missed RTO is amber and names the tier, a failure or an abort red', async () => {
    const verdict = (html: string): string => html.match(/<div class="verdict (\w+)" data-field="success" data-verdict="([\w-]+)">([^<]*)</)?.slice(1, 4).join(' | ') ?? '';
    const p0 = [planned('p0-0', 'P0')];
    const rtoP0 = tiersPolicy().tiers.P0.rtoSeconds;
    expect(verdict(await renderReportHtml(report([ran('p0-0', 'P0', 0, rtoP0 - 1)], p0)))).toMatch(/^ok \| success \| SUCCESS/);
    const late = report([ran('p0-0', 'P0', 0, rtoP0 + 1)], p0);
    expect(late.success).toBe(true);
    expect(verdict(await renderReportHtml(late))).toMatch(/^warn \| rto-missed \| RTO MISSED \(P0\)/);
    expect(verdict(await renderReportHtml(r))).toMatch(/^bad \| failed \| NOT SUCCESSFUL/);
    const aborted = { ...report([ran('p0-0', 'P0', 0, 1)], p0), abortedBy: 'olga: wrong AZ' };
    expect(verdict(await renderReportHtml(aborted))).toMatch(/^bad \| aborted \| ABORTED/);
  });

  it('lists readiness findings blocking first, then informational, counted per kind', async () => {
    const findings = [
      { job: 'ns/huge', code: 'does-not-fit' as const, message: 'P3', blocking: false },
      { job: 'ns/p2-0', code: 'jars-missing' as const, message: 'x', blocking: true },
      { job: 'ns/p2-1', code: 'zonal-volume' as const, message: 'y', blocking: false },
      { job: 'ns/p2-2', code: 'zonal-volume' as const, message: 'z', blocking: false },
    ];
    const html = await renderReportHtml({ ...r, findings });
    const rows = [...(html.match(/<table id="findings">[\s\S]*?<\/table>/)?.[0] ?? '').matchAll(/<tr><td>([^<]*)<\/td><td[^>]*>([^<]*)<\/td><td>(\d+)<\/td><\/tr>/g)].map((m) => m.slice(1).join(' '));
    expect(rows).toEqual(['jars-missing blocking 1', 'does-not-fit informational 1', 'zonal-volume informational 2']);
  });

  it('draws the whole phase legend within the chart width: every phase, none cut short', async () => {
    const steps = ['savepoint', 'promote', 'snapshot', 'replica', 'config', 'jars', 'fence', 'apply', 'startup'];
    const all = ran('p0-0', 'P0', 1, 12, { steps: Object.fromEntries(steps.map((s, i) => [s, { startedAtMs: at(1 + i), endedAtMs: at(2 + i), attempts: 1 }])) });
    const { svg } = await renderTimelineSvg(report([all], [planned('p0-0', 'P0')]));
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const [, label] of PHASE_LABELS) expect(labels).toContain(label);
    expect(labels.some((l) => l?.endsWith('…'))).toBe(false);
    // The report's page is 1100 px wide (less its padding): a wider SVG scrolls, hiding the legend's end.
    expect(Number(svg.match(/^<svg[^>]* width="(\d+)"/)?.[1])).toBeLessThanOrEqual(1000);
  });

  it('names the HTML file beside the JSON and escapes HTML', () => {
    expect(reportHtmlFileOf('/s/reports/x.report.json')).toBe('/s/reports/x.report.html');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

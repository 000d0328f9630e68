/**
 * Live per-tier progress of an evacuation on the terminal: one bar per tier (done /
 * planned, running, failed, skipped, elapsed vs RTO target) plus the jar preload. On a
 * TTY the bars redraw in place (cli-progress); otherwise a line is printed every few
 * seconds, so logs of runbooks and CI stay readable.
 */
import cliProgress from 'cli-progress';
import type { EvacuationProgress } from '../domain/evacuation.js';

/**
 * Seconds since the evacuation's trigger as a person reading it now expects: `nowMs −
 * startedAtMs` while it runs; once it has its report, the workflow's own `elapsedSeconds`
 * (its end). The query's `elapsedSeconds` alone would stand still while the run waits: a query
 * reads the workflow's clock, which moves only with its workflow tasks (a runbook log showed
 * "[5s]" for 49 s of a demo).
 * @param nowMs this process's clock, epoch ms
 */
export function elapsedSeconds(p: Pick<EvacuationProgress, 'startedAtMs' | 'elapsedSeconds' | 'reportFile'>, nowMs: number): number {
  return p.reportFile !== undefined ? p.elapsedSeconds : Math.max(p.elapsedSeconds, (nowMs - p.startedAtMs) / 1000);
}

/** Watches progress by polling `poll` until `done` resolves; returns when it does. */
export async function watchProgress(poll: () => Promise<EvacuationProgress>, done: Promise<unknown>, opts: { intervalMs?: number; out?: NodeJS.WriteStream } = {}): Promise<void> {
  const out = opts.out ?? process.stderr;
  const tty = Boolean(out.isTTY);
  const interval = opts.intervalMs ?? (tty ? 500 : 5000);
  const multi = tty ? new cliProgress.MultiBar({
    stream: out, clearOnComplete: false, hideCursor: true, format: ' {tier} [{bar}] {value}/{total} running {running} failed {failed} skipped {skipped} | {elapsed}s / RTO {rto}s',
  }, cliProgress.Presets.shades_classic) : undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  let finished = false;
  void done.finally(() => { finished = true; });

  const draw = (p: EvacuationProgress): void => {
    const elapsed = elapsedSeconds(p, Date.now()).toFixed(0);
    if (!multi) {
      const tiers = p.tiers.map((t) => `${t.tier} ${t.succeeded + t.failed + t.skipped}/${t.planned} (run ${t.running}, fail ${t.failed})`).join(' | ');
      const jars = p.preload.state === 'off' ? '' : ` | jars ${p.preload.jarsDone}/${p.preload.jars} (${copied(p.preload.bytesDone)} copied)`;
      out.write(`[${elapsed}s] ${p.phase}${p.paused ? ' PAUSED' : ''} ${tiers}${jars}\n`);
      return;
    }
    for (const t of p.tiers) {
      const payload = { tier: t.tier, running: t.running, failed: t.failed, skipped: t.skipped, rto: t.rtoTargetSeconds.toFixed(0), elapsed: (((t.endedAtMs ?? Date.now()) - (p.startedAtMs)) / 1000).toFixed(0) };
      const value = t.succeeded + t.failed + t.skipped;
      const bar = bars.get(t.tier);
      if (bar) bar.update(value, payload);
      else bars.set(t.tier, multi.create(Math.max(1, t.planned), value, payload));
    }
  };

  while (!finished) {
    try {
      draw(await poll());
    } catch {
      // The workflow may be between tasks or finished; the next poll or `done` decides.
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, interval))]);
  }
  try {
    draw(await poll());
  } catch {
    // Finished workflows may no longer answer queries on a busy server; the report follows.
  }
  multi?.stop();
}

/** Bytes as MiB, or KiB under 1 MiB (simulator jars are tiny stand-ins). */
function copied(bytes: number): string {
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * The CLI's progress line (cli/progress-view.ts) off a TTY, as runbooks and CI logs show it:
 * the elapsed seconds come from this process's clock while the run goes on (the progress
 * query's own figure stands still between the workflow's tasks), and from the workflow once it
 * has its report.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { elapsedSeconds, watchProgress } from '../../cli/progress-view.js';
import type { EvacuationProgress } from '../../domain/evacuation.js';

const progress = (startedAtMs: number, elapsed: number, reportFile?: string): EvacuationProgress => ({
  evacuationId: 'evac-1', sourceAz: 'az-a', targetAz: 'az-b', mode: 'emergency', phase: 'evacuating', paused: false,
  startedAtMs, elapsedSeconds: elapsed, preload: { state: 'off', jars: 0, jarsDone: 0, bytesDone: 0 }, tiers: [],
  ...(reportFile ? { reportFile } : {}),
});

describe('CLI progress: elapsed seconds', () => {
  it('prints the time since the trigger by this process\'s clock while the query\'s figure stands still', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => { text += b.toString(); });
    // The workflow's last task was 5 s after the trigger; the trigger was 49 s ago.
    const started = Date.now() - 49_000;
    await watchProgress(async () => progress(started, 5), Promise.resolve(), { intervalMs: 10, out: out as unknown as NodeJS.WriteStream });
    expect(text).toMatch(/^\[49s\] evacuating/m);
    expect(text).not.toMatch(/\[5s\]/);
  });

  it('keeps the workflow\'s figure once the run has its report, and never goes below it', () => {
    expect(elapsedSeconds(progress(0, 66, '/r.json'), 1_000_000)).toBe(66);
    expect(elapsedSeconds(progress(10_000, 5), 59_000)).toBe(49);
    expect(elapsedSeconds(progress(10_000, 5), 12_000)).toBe(5);
  });
});

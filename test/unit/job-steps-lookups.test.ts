/**
 * The start steps' snapshot lookups of one worker go through a first-come, first-served queue
 * (activities/job-steps.ts lookupQueue): at most START_STEP_LOOKUPS_AT_ONCE at once, so that of
 * a burst of hundreds the first are done after one lookup's time and their jobs are applied while
 * the rest are looked up, instead of all of them ending together at the end (the default demo's
 * 304 P2 lookups, started at once, ended 8.7–16.7 s after their dispatch).
 */
import { describe, expect, it } from 'vitest';
import { lookupQueue } from '../../activities/job-steps.js';
import { START_STEP_LOOKUPS_AT_ONCE } from '../../domain/rto-estimate.js';

/** A lookup that ends when `release` is called, recording when it started. */
function gated(log: { started: number[]; inFlight: number; most: number }, i: number) {
  let release!: () => void;
  const done = new Promise<void>((r) => { release = r; });
  const run = async (): Promise<number> => {
    log.started.push(i);
    log.inFlight++;
    log.most = Math.max(log.most, log.inFlight);
    await done;
    log.inFlight--;
    return i;
  };
  return { run, release };
}

/** Let every pending promise callback run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('lookupQueue', () => {
  it('runs at most START_STEP_LOOKUPS_AT_ONCE lookups at once by default, the others in the order they asked', async () => {
    const queue = lookupQueue();
    const log = { started: [] as number[], inFlight: 0, most: 0 };
    const lookups = Array.from({ length: 100 }, (_, i) => gated(log, i));
    const results = lookups.map((l) => queue(l.run));
    await settle();
    expect(log.started).toEqual(Array.from({ length: START_STEP_LOOKUPS_AT_ONCE }, (_, i) => i));
    // The first one done lets the first one waiting in: first come, first served.
    lookups[0]!.release();
    await settle();
    expect(log.started.at(-1)).toBe(START_STEP_LOOKUPS_AT_ONCE);
    await expect(results[0]).resolves.toBe(0);
    for (const l of lookups) l.release();
    for (let i = 0; i < 10 && log.started.length < 100; i++) {
      await settle();
      for (const l of lookups) l.release();
    }
    await expect(Promise.all(results)).resolves.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(log.started).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(log.most).toBe(START_STEP_LOOKUPS_AT_ONCE);
  });

  it('passes a failed lookup through unchanged and frees its place', async () => {
    const queue = lookupQueue(1);
    const boom = new Error('list failed');
    await expect(queue(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(queue(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});

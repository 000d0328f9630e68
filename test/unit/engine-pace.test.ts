/**
 * The engine's pace (domain/engine-pace.ts, activities/engine-pace.ts): wall seconds per CPU
 * second of the worker's threads from Linux's schedstat, and the forecast's default engine terms
 * scaled by it. The reading is the kernel's own (/proc/self/task/<tid>/schedstat), not a mock.
 */
import { platform } from 'node:os';
import { describe, expect, it } from 'vitest';
import { enginePaceSince, readSched } from '../../activities/engine-pace.js';
import { MIN_PACE_RUN_SECONDS, pacedEngine, paceBetween, REFERENCE_ENGINE_PACE } from '../../domain/engine-pace.js';
import { DEFAULT_ENGINE_OVERHEAD } from '../../domain/rto-estimate.js';

describe('paceBetween', () => {
  it('is (run + wait) / run between two readings, with the window it covers', () => {
    const pace = paceBetween({ runNs: 1e9, waitNs: 0, atMs: 1_000 }, { runNs: 3e9, waitNs: 3e9, atMs: 6_000 });
    expect(pace).toEqual({ factor: 2.5, runSeconds: 2, waitSeconds: 3, windowSeconds: 5 });
  });

  it('takes no pace from a window with too little CPU run, a missing reading or one going backwards', () => {
    const at = { runNs: 0, waitNs: 0, atMs: 0 };
    expect(paceBetween(at, { runNs: MIN_PACE_RUN_SECONDS * 1e9 / 2, waitNs: 1e9, atMs: 1_000 })).toBeUndefined();
    expect(paceBetween(undefined, at)).toBeUndefined();
    expect(paceBetween(at, undefined)).toBeUndefined();
    expect(paceBetween({ runNs: 1e9, waitNs: 2e9, atMs: 0 }, { runNs: 2e9, waitNs: 1e9, atMs: 1_000 })).toBeUndefined();
  });
});

describe('pacedEngine', () => {
  it('multiplies the fixed seconds and divides the rates by the pace over the reference, and records the pace', () => {
    const pace = { factor: REFERENCE_ENGINE_PACE * 3, runSeconds: 1, waitSeconds: REFERENCE_ENGINE_PACE * 3 - 1, windowSeconds: 4 };
    const e = DEFAULT_ENGINE_OVERHEAD;
    expect(pacedEngine(e, pace)).toEqual({
      firstDispatchSeconds: Math.round(e.firstDispatchSeconds * 300) / 100, lookupsPerSecond: Math.round((e.lookupsPerSecond / 3) * 100) / 100,
      tierStartSeconds: Math.round(e.tierStartSeconds * 300) / 100, startStepsPerSecond: Math.round((e.startStepsPerSecond / 3) * 100) / 100,
      startStepSeconds: Math.round(e.startStepSeconds * 300) / 100, from: e.from, pace: { ...pace, reference: REFERENCE_ENGINE_PACE },
    });
    expect(pacedEngine(e, undefined)).toBe(e);
  });

  it('never makes the engine faster than at the reference pace (the quiet machine the defaults were measured on)', () => {
    const e = DEFAULT_ENGINE_OVERHEAD;
    const quiet = pacedEngine(e, { factor: REFERENCE_ENGINE_PACE / 2, runSeconds: 1, waitSeconds: 0, windowSeconds: 1 });
    const { pace: _pace, ...terms } = quiet;
    expect(terms).toEqual(e);
  });

  it('refuses a reference pace below 1 or not a number, naming it', () => {
    expect(() => pacedEngine(DEFAULT_ENGINE_OVERHEAD, undefined, 0.5)).toThrow('reference engine pace is 0.5; it must be a finite number >= 1 (REFERENCE_ENGINE_PACE)');
    expect(() => pacedEngine(DEFAULT_ENGINE_OVERHEAD, undefined, Number.NaN)).toThrow('reference engine pace is NaN');
  });
});

describe.runIf(platform() === 'linux')("readSched (Linux's schedstat of this process's threads)", () => {
  it('counts CPU run time that grows with work, and gives a pace of at least 1 over a busy window', () => {
    const before = readSched();
    expect(before).toBeDefined();
    const started = Date.now();
    let spin = 0;
    while (Date.now() - started < 200) spin++;
    expect(spin).toBeGreaterThan(0);
    const after = readSched()!;
    expect(after.runNs - before!.runNs).toBeGreaterThan(MIN_PACE_RUN_SECONDS * 1e9);
    const pace = enginePaceSince(before);
    expect(pace).toBeDefined();
    expect(pace!.factor).toBeGreaterThanOrEqual(1);
    expect(pace!.runSeconds).toBeGreaterThan(MIN_PACE_RUN_SECONDS);
  });
});

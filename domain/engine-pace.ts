/**
 * The engine's pace: how much slower than uncontended the worker's threads run now, measured
 * from the kernel's per-thread scheduler statistics, and the forecast's engine terms scaled by
 * it (docs/design.md#predicted-rto, "The engine's pace"). Pure: activities/engine-pace.ts reads
 * the statistics.
 *
 * Source: Linux `/proc/<pid>/task/<tid>/schedstat` ("time spent on the cpu", "time spent
 * waiting on a runqueue", nanoseconds; Documentation/scheduler/sched-stats.rst). A thread that
 * wants the CPU for r seconds and waits w seconds runnable behind other tasks takes r + w wall
 * seconds: (r + w) / r is its slowdown from CPU contention, whatever causes it (other processes
 * on a shared machine or node, the worker's own threads). The forecast's engine terms are wall
 * seconds measured at a known pace (REFERENCE_ENGINE_PACE); they are scaled by the pace this
 * plan measured over its own work divided by that one. Assumptions: the engine's time (the
 * worker's, Temporal's and the platform APIs' CPU on the same machine, as on the demo and the
 * benchmarks) slows down with the pace the worker sees, and the contention measured while
 * planning holds while the evacuation runs.
 */
import type { RtoEngineOverhead } from './types.js';

/** Cumulative scheduler time of the worker's threads at one moment (sums over its threads). */
export interface SchedReading {
  /** Nanoseconds the threads ran on a CPU. */
  runNs: number;
  /** Nanoseconds the threads waited runnable on a runqueue. */
  waitNs: number;
  /** When it was read, epoch milliseconds. */
  atMs: number;
}

/** The engine's pace over a window: wall seconds one CPU second of the worker took. */
export interface EnginePace {
  /** (run + wait) / run over the window; ≥ 1. */
  factor: number;
  /** CPU seconds the worker's threads ran in the window. */
  runSeconds: number;
  /** Seconds they waited runnable in it. */
  waitSeconds: number;
  /** The window's wall seconds. */
  windowSeconds: number;
}

/**
 * The pace at which DEFAULT_ENGINE_OVERHEAD was measured (the default demo at load 1-4, trigger →
 * first dispatch 4.19 s, start steps 30.6/s; docs/design.md#predicted-rto). Derived from the
 * next demo (load 4-10), whose plans measured 2.39 (the preview, 9.3 s window) and 2.77 (the
 * trigger's, 3.8 s) while its engine ran 1.16× the quiet run's time (4.86 s, 25.4/s): 2.06-2.39
 * at the quiet run's speed, 2.2 the middle. Planning contends with the demo's own processes
 * (Temporal, the object stores and the simulator answer its reads), so even a quiet machine
 * measures well above 1.
 */
export const REFERENCE_ENGINE_PACE = 2.2;

/**
 * Below this many CPU seconds in a window the pace is not taken (too few scheduler slices to
 * say anything; the forecast then uses its engine terms as they are).
 */
export const MIN_PACE_RUN_SECONDS = 0.05;

/**
 * The pace between two readings of the same threads, or undefined when the worker ran less
 * than MIN_PACE_RUN_SECONDS between them (or a reading is missing or goes backwards).
 */
export function paceBetween(before: SchedReading | undefined, after: SchedReading | undefined): EnginePace | undefined {
  if (!before || !after) return undefined;
  const run = (after.runNs - before.runNs) / 1e9;
  const wait = (after.waitNs - before.waitNs) / 1e9;
  if (!(run >= MIN_PACE_RUN_SECONDS) || !(wait >= 0) || !(after.atMs >= before.atMs)) return undefined;
  return { factor: round2((run + wait) / run), runSeconds: round3(run), waitSeconds: round3(wait), windowSeconds: round3((after.atMs - before.atMs) / 1000) };
}

/**
 * `engine` at `pace`: its fixed seconds multiplied, its rates divided by max(1, pace.factor /
 * `reference`): never faster than the quiet machine the defaults were measured on. Only terms
 * at the reference pace are scaled: the documented defaults, and terms measured from previous
 * runs that each recorded their pace (measuredEngine brings those to the reference); terms
 * measured from runs without one carry the load those runs had. Without a pace, `engine` unchanged.
 * @throws Error naming the value when `reference` is not a finite number ≥ 1
 */
export function pacedEngine(engine: RtoEngineOverhead, pace: EnginePace | undefined, reference = REFERENCE_ENGINE_PACE): RtoEngineOverhead {
  if (!(Number.isFinite(reference) && reference >= 1)) throw new Error(`reference engine pace is ${reference}; it must be a finite number >= 1 (REFERENCE_ENGINE_PACE)`);
  if (!pace || !(engine.from.from === 'default' || engine.from.atReferencePace === true)) return engine;
  const k = Math.max(1, pace.factor / reference);
  return {
    firstDispatchSeconds: round2(engine.firstDispatchSeconds * k),
    lookupsPerSecond: round2(engine.lookupsPerSecond / k),
    tierStartSeconds: round2(engine.tierStartSeconds * k),
    startStepsPerSecond: round2(engine.startStepsPerSecond / k),
    startStepSeconds: round2(engine.startStepSeconds * k),
    from: engine.from,
    pace: { ...pace, reference },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

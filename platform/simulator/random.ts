/**
 * Deterministic random draws for the simulator. Every draw is a pure function of its
 * inputs (seed plus identifying parts such as a job key and a deploy count), so the same
 * plan replayed on the same seed sees the same latencies and faults, and the benchmark
 * can recompute a lower bound. Uses pure-rand's xoroshiro128+.
 */
import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** A stream of uniform floats in [0, 1). */
export type Uniform = () => number;

/** 32-bit FNV-1a hash of a string. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A seeded stream of uniform floats in [0, 1), determined by `parts` (joined with `|`).
 * @example const u = seededUniform(1, 'ns/job', 3); u(); u();
 */
export function seededUniform(...parts: Array<string | number>): Uniform {
  const rng: RandomGenerator = xoroshiro128plus(fnv1a(parts.join('|')) | 0);
  return () => (rng.unsafeNext() >>> 0) / 0x1_0000_0000;
}

/** A draw in [min, max) from `u`. */
export function between(u: Uniform, min: number, max: number): number {
  return min + (max - min) * u();
}

/** `n` lowercase hex digits drawn from `u`. */
export function hex(u: Uniform, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += Math.floor(u() * 16).toString(16);
  return out;
}

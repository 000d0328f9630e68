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

/** A uniformly drawn element of `items` (non-empty). */
export function pick<T>(u: Uniform, items: readonly T[]): T {
  return items[Math.floor(u() * items.length)]!;
}

/** An index i in [0, weights.length) drawn with probability weights[i] / sum (weights ≥ 0, sum > 0). */
export function weightedIndex(u: Uniform, weights: readonly number[]): number {
  let r = u() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** An index in [0, n) skewed towards 0 (density ∝ x^-2/3: a few popular items, a long tail). */
export function popularIndex(u: Uniform, n: number): number {
  return Math.floor(n * u() ** 3);
}

/** A draw in [min, max) whose logarithm is uniform (0 < min ≤ max). */
export function logUniform(u: Uniform, min: number, max: number): number {
  return min * (max / min) ** u();
}

/** Fisher–Yates shuffle of `items` in place; returns `items`. */
export function shuffle<T>(u: Uniform, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

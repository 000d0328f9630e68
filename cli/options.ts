/**
 * Option-value parsers of the az-evac commands: each returns the parsed value or throws
 * commander's InvalidArgumentError naming the value and what is expected (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { TIERS, type Tier } from '../domain/types.js';

/** `P0,P1` → ['P0', 'P1'] (case-insensitive). */
export function parseTiers(value: string): Tier[] {
  const tiers = value.split(',').map((t) => t.trim().toUpperCase());
  for (const t of tiers) {
    if (!(TIERS as readonly string[]).includes(t)) throw new InvalidArgumentError(`unknown tier "${t}"; use a comma list of ${TIERS.join(', ')}`);
  }
  return tiers as Tier[];
}

/** A number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

/**
 * Parser of option `name`'s value: a number ≥ `min` (seeds, model seconds, ports of the lab's
 * processes).
 * @throws InvalidArgumentError "`name` must be a number ≥ `min`, got …"
 */
export function numberAtLeast(name: string, min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** A whole number ≥ 1 (counts: --limit, --window). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a whole number ≥ 1`);
  return n;
}

/** A TCP port, 0–65535 (0 picks a free one). */
export function tcpPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a TCP port (0–65535)`);
  return n;
}

/** `a, b,,c` → ['a', 'b', 'c']. */
export function commaList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

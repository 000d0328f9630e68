/**
 * File order of `npm test` (vitest.config.ts `sequence.sequencer`). vitest's BaseSequencer
 * orders by group, then by project name, then the longest file first; the pool then gives
 * the next file in that order to whichever worker frees up. The `kube`, `temporal` and `unit`
 * projects share one group of two workers, and kube files run one at a time (each holds the
 * shared control plane, ./kube-exclusive.ts): in BaseSequencer's order every kube file would
 * come first, and the second worker would wait on the lock instead of running other files.
 *
 * This sequencer keeps BaseSequencer's order, except that in a group holding kube files it
 * simulates the group's workers on each file's expected duration (its last run's time in
 * vitest's results cache, else the mean of the known ones, else DEFAULT_MS) and emits files in
 * the order the simulated workers take them: a freed worker takes the next kube file when the
 * control plane is free by then, else the next other file (temporal files, then unit files,
 * longest first). Wrong estimates cost waiting on the lock, never correctness.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Expected duration of a file with no known time and no other known times, ms. */
const DEFAULT_MS = 30_000;
/** The project whose files hold the shared control plane one at a time. */
const EXCLUSIVE_PROJECT = 'kube';

export default class LaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const groups = new Map<number, TestSpecification[]>();
    for (const f of sorted) {
      const order = f.project.config.sequence.groupOrder;
      groups.set(order, [...(groups.get(order) ?? []), f]);
    }
    return [...groups.values()].flatMap((group) => this.interleave(group));
  }

  /** `group` (longest first per project) in the order two or more simulated workers take it. */
  private interleave(group: TestSpecification[]): TestSpecification[] {
    const exclusive = group.filter((f) => f.project.name === EXCLUSIVE_PROJECT);
    const shared = group.filter((f) => f.project.name !== EXCLUSIVE_PROJECT);
    const workers = group[0]?.project.config.maxWorkers ?? 1;
    if (exclusive.length === 0 || shared.length === 0 || workers < 2) return group;
    const known = group.map((f) => this.ctx.cache.getTestSpecificationResult(f)?.duration).filter((d): d is number => d !== undefined && d > 0);
    const fallback = known.length ? known.reduce((a, b) => a + b, 0) / known.length : DEFAULT_MS;
    const expected = (f: TestSpecification): number => this.ctx.cache.getTestSpecificationResult(f)?.duration || fallback;
    const free = new Array<number>(workers).fill(0);
    let exclusiveFreeAt = 0;
    const out: TestSpecification[] = [];
    while (exclusive.length || shared.length) {
      const w = free.indexOf(Math.min(...free));
      const takeExclusive = exclusive.length > 0 && (exclusiveFreeAt <= free[w]! || shared.length === 0);
      const file = (takeExclusive ? exclusive : shared).shift()!;
      const startAt = takeExclusive ? Math.max(free[w]!, exclusiveFreeAt) : free[w]!;
      free[w] = startAt + expected(file);
      if (takeExclusive) exclusiveFreeAt = free[w]!;
      out.push(file);
    }
    return out;
  }
}

/**
 * File order of `npm test` (vitest.config.ts `sequence.sequencer`). vitest's BaseSequencer
 * orders by group, then by project name, then the longest file first; the pool then gives
 * the next file in that order to whichever worker frees up. The `kube`, `temporal` and `unit`
 * projects share one group of two workers, and kube files run one at a time (each holds the
 * shared control plane, ./kube-exclusive.ts): in BaseSequencer's order every kube file would
 * come first, and the second worker would wait on the lock instead of running other files.
 *
 * This sequencer orders each project's files longest first by their expected duration (the
 * last run's time in vitest's results cache, else ./file-durations.json, the times of a
 * measured run committed with the repository, else the mean of the known ones, else
 * DEFAULT_MS): on a fresh clone there is no cache, and BaseSequencer's fallback (largest file
 * first) started the longest file last, so one worker ran it alone for minutes at the end. In
 * a group holding kube files it then simulates the group's workers on those durations and
 * emits files in the order the simulated workers take them: a freed worker takes the next
 * kube file when the control plane is free by then, else the next other file (temporal files,
 * then unit files, longest first). Wrong estimates cost time, never correctness.
 * Refresh the table after a full run: `node scripts/test-durations.mjs` (reads vitest's results cache).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Measured test time per file (ms), keyed by path from the repository root: ./file-durations.json. */
const MEASURED: Record<string, number> = JSON.parse(readFileSync(new URL('./file-durations.json', import.meta.url), 'utf8')) as Record<string, number>;

/** Expected duration of a file with no known time and no other known times, ms. */
const DEFAULT_MS = 30_000;
/** The project whose files hold the shared control plane one at a time. */
const EXCLUSIVE_PROJECT = 'kube';

export default class LaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const durations = new Map(sorted.map((f) => [f, this.known(f)]));
    const known = [...durations.values()].filter((d): d is number => d !== undefined);
    const fallback = known.length ? known.reduce((a, b) => a + b, 0) / known.length : DEFAULT_MS;
    const expected = (f: TestSpecification): number => durations.get(f) ?? fallback;
    const groups = new Map<number, TestSpecification[]>();
    for (const f of sorted) {
      const order = f.project.config.sequence.groupOrder;
      groups.set(order, [...(groups.get(order) ?? []), f]);
    }
    const projects = [...new Set(sorted.map((f) => f.project.name))];
    const longestFirst = (group: TestSpecification[]): TestSpecification[] =>
      [...group].sort((a, b) => projects.indexOf(a.project.name) - projects.indexOf(b.project.name) || expected(b) - expected(a));
    return [...groups.values()].flatMap((group) => this.interleave(longestFirst(group), expected));
  }

  /** A file's expected duration (ms): its last run in vitest's cache, else the committed table; undefined when neither knows it. */
  private known(f: TestSpecification): number | undefined {
    const cached = this.ctx.cache.getTestSpecificationResult(f)?.duration;
    if (cached !== undefined && cached > 0) return cached;
    return MEASURED[relative(this.ctx.config.root, f.moduleId).split('\\').join('/')];
  }

  /** `group` (longest first per project) in the order two or more simulated workers take it. */
  private interleave(group: TestSpecification[], expected: (f: TestSpecification) => number): TestSpecification[] {
    const exclusive = group.filter((f) => f.project.name === EXCLUSIVE_PROJECT);
    const shared = group.filter((f) => f.project.name !== EXCLUSIVE_PROJECT);
    const workers = group[0]?.project.config.maxWorkers ?? 1;
    if (exclusive.length === 0 || shared.length === 0 || workers < 2) return group;
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

/**
 * Reads the worker's scheduler statistics for the engine's pace (domain/engine-pace.ts): the
 * CPU time this process's threads ran and waited runnable, summed over
 * `/proc/self/task/<tid>/schedstat` (Linux; Documentation/scheduler/sched-stats.rst: "time
 * spent on the cpu", "time spent waiting on a runqueue", nanoseconds). Needs a kernel with
 * scheduler statistics (CONFIG_SCHED_INFO, on in the usual distribution and container kernels);
 * elsewhere there is no reading and the forecast keeps its engine terms unscaled.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { paceBetween, type EnginePace, type SchedReading } from '../domain/engine-pace.js';

const TASKS = '/proc/self/task';

/**
 * The worker's threads' cumulative run and runqueue-wait time now, or undefined where Linux's
 * schedstat cannot be read. Threads that ended since an earlier reading drop out of the sums
 * (paceBetween then sees less, never a negative window it would use: it refuses those).
 */
export function readSched(): SchedReading | undefined {
  let tids: string[];
  try {
    tids = readdirSync(TASKS);
  } catch {
    return undefined;
  }
  let runNs = 0;
  let waitNs = 0;
  let read = 0;
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`${TASKS}/${tid}/schedstat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const [run, wait] = text.trim().split(/\s+/).map(Number);
    if (!Number.isFinite(run) || !Number.isFinite(wait)) continue;
    runNs += run!;
    waitNs += wait!;
    read++;
  }
  return read > 0 ? { runNs, waitNs, atMs: Date.now() } : undefined;
}

/** The pace since `before` (a readSched reading), or undefined (no reading, too little CPU run since). */
export function enginePaceSince(before: SchedReading | undefined): EnginePace | undefined {
  return paceBetween(before, readSched());
}

/**
 * EvacuationStore on a directory: `<dir>/<evacuationId>/plan.json`, its forecast when made
 * after it `<dir>/<evacuationId>/forecast.json` (domain/plan-forecast.ts), and
 * `<dir>/<evacuationId>/outcomes-<batch>.json` (one file per recorded batch; a later
 * record of a job replaces an earlier one when listed), and `<dir>/<evacuationId>/fences/<key>.json`
 * (one file per fenced-pending source copy). Plans are cached in memory,
 * since every job activity of an evacuation reads the same plan.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { FenceRecord, JobOutcome } from '../domain/evacuation.js';
import { withForecast, type PlanForecast } from '../domain/plan-forecast.js';
import { withStoredForecast } from './stored-forecast.js';
import type { EvacuationStore, StoredPlan } from './ports.js';
import { readJson, writeJsonAtomic } from './json-files.js';

/**
 * Fence files read at once by listFences: each read holds an open file, and the worker's whole
 * process shares one open-file limit (`ulimit -n`: 1,024 by default on many Linux hosts, 20,000
 * on the bench machine). Reading all of them at once failed with EMFILE at 20,000 jobs (15,057
 * fences, docs/benchmarks.md).
 */
const FILES_AT_ONCE = 64;

export class FileEvacuationStore implements EvacuationStore {
  private readonly plans = new Map<string, StoredPlan>();

  /** @param dir directory holding one sub-directory per evacuation */
  constructor(private readonly dir: string) {}

  private evacDir(evacuationId: string): string {
    return join(this.dir, encodeURIComponent(evacuationId));
  }

  async putPlan(evacuationId: string, stored: StoredPlan): Promise<void> {
    await writeJsonAtomic(join(this.evacDir(evacuationId), 'plan.json'), stored);
    this.plans.set(evacuationId, stored);
  }

  async getPlan(evacuationId: string): Promise<StoredPlan> {
    let plan = this.plans.get(evacuationId);
    if (!plan) {
      plan = await readJson<StoredPlan>(join(this.evacDir(evacuationId), 'plan.json'), `plan of evacuation ${evacuationId}`);
      this.plans.set(evacuationId, plan);
    }
    // Waiting for its forecast: looked for at every read until found (another process may store it).
    const read = await withStoredForecast(plan, () => readJson<PlanForecast>(join(this.evacDir(evacuationId), 'forecast.json'), `forecast of evacuation ${evacuationId}`));
    if (read !== plan) this.plans.set(evacuationId, read);
    return read;
  }

  async putForecast(evacuationId: string, forecast: PlanForecast): Promise<void> {
    await writeJsonAtomic(join(this.evacDir(evacuationId), 'forecast.json'), forecast);
    const cached = this.plans.get(evacuationId);
    if (cached?.pendingForecast) this.plans.set(evacuationId, withForecast(cached, forecast));
  }

  async putOutcomes(evacuationId: string, outcomes: JobOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    // Name the batch by its content so a retried write of the same batch overwrites itself.
    const digest = createHash('sha256').update(outcomes.map((o) => `${o.key}@${o.endedAtMs}`).join('\n')).digest('hex').slice(0, 16);
    const first = Math.min(...outcomes.map((o) => o.endedAtMs));
    await writeJsonAtomic(join(this.evacDir(evacuationId), `outcomes-${first}-${digest}.json`), outcomes);
  }

  async listOutcomes(evacuationId: string): Promise<JobOutcome[]> {
    let names: string[];
    try {
      names = await readdir(this.evacDir(evacuationId));
    } catch {
      return [];
    }
    const byKey = new Map<string, JobOutcome>();
    for (const name of names.filter((n) => n.startsWith('outcomes-') && n.endsWith('.json')).sort()) {
      for (const o of await readJson<JobOutcome[]>(join(this.evacDir(evacuationId), name), 'outcomes')) {
        const prev = byKey.get(o.key);
        if (!prev || prev.endedAtMs <= o.endedAtMs) byKey.set(o.key, o);
      }
    }
    return [...byKey.values()];
  }

  async putFence(evacuationId: string, fence: FenceRecord): Promise<void> {
    await writeJsonAtomic(join(this.evacDir(evacuationId), 'fences', `${encodeURIComponent(fence.key)}.json`), fence);
  }

  async listFences(evacuationId: string): Promise<FenceRecord[]> {
    const dir = join(this.evacDir(evacuationId), 'fences');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const limit = pLimit(FILES_AT_ONCE);
    return Promise.all(names.filter((n) => n.endsWith('.json')).sort().map((n) => limit(() => readJson<FenceRecord>(join(dir, n), 'fence'))));
  }
}

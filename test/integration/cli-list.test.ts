/**
 * `az-evac list` against the test run's Temporal dev server: evacuations and drills started
 * through the client facades (as the CLI and the console start them) on a task queue of
 * their own, with no worker, so they stay running (or are terminated here) and visibility
 * holds only what the clients set at start. The outcome of completed runs is mapped by
 * runOutcome (test/unit/cli-list.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../../client/drill-client.js';
import { EvacuationClient } from '../../client/evacuation-client.js';
import type { RunListItem } from '../../client/run-list.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../client/search-attributes.js';
import { EXIT } from '../../cli/exit-codes.js';
import { runCli } from '../../cli/program.js';
import { loadSettings } from '../../config/settings.js';
import { parseRunbook } from '../../domain/runbook.js';
import { testTemporalAddress } from '../setup/temporal.js';

const CANARY = fileURLToPath(new URL('../../runbooks/p3-canary.yaml', import.meta.url));

describe('az-evac list on a real Temporal (no worker)', () => {
  const taskQueue = `cli-list-${randomUUID().slice(0, 8)}`;
  let env: Record<string, string>;
  let evacuations: EvacuationClient;
  let drills: DrillClient;
  const started: string[] = [];

  /** Run az-evac in process with this file's settings; stdin is no terminal. */
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const r = { code: -1, out: '', err: '' };
    r.code = await runCli(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, env, interactive: false, ask: async () => '' });
    return r;
  }

  /** `list --json` until `done` holds for the runs (visibility is eventually consistent), at most 30 s. */
  async function listUntil(args: string[], done: (runs: RunListItem[]) => boolean): Promise<RunListItem[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await cli('list', '--json', ...args);
      expect(r.code, r.err).toBe(EXIT.ok);
      const runs = JSON.parse(r.out) as RunListItem[];
      if (done(runs) || Date.now() > deadline) return runs;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  beforeAll(async () => {
    env = { AZ_EVAC_TEMPORAL_ADDRESS: testTemporalAddress(), AZ_EVAC_TASK_QUEUE: taskQueue, USER: 'vitest' };
    const settings = loadSettings(env);
    evacuations = await EvacuationClient.connect(settings);
    drills = await DrillClient.connect(settings);
  });

  afterAll(async () => {
    await Promise.all(started.map((id) => evacuations.temporal.workflow.getHandle(id).terminate('test over').catch(() => undefined)));
    await evacuations?.close();
    await drills?.close();
  });

  it('lists evacuations and drills newest first with mode, AZs, status and outcome; filters by status; honours --limit', async () => {
    // Oldest first: a terminated emergency, a running drill evacuation, a running drill.
    const gone = await evacuations.start({ sourceAz: 'az-c', targetAz: 'az-a', mode: 'emergency', requestedBy: 'vitest' }, `cli-list-gone-${taskQueue}`);
    started.push(gone.evacuationId);
    await evacuations.temporal.workflow.getHandle(gone.evacuationId).terminate('test: ended by an operator');
    const running = await evacuations.start({ sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill', requestedBy: 'vitest' }, `cli-list-running-${taskQueue}`);
    started.push(running.evacuationId);
    const runbook = parseRunbook(await readFile(CANARY, 'utf8'), CANARY);
    const drillId = await drills.start(DrillClient.input(runbook, CANARY, { requestedBy: 'vitest' }), `cli-list-drill-${taskQueue}`);
    started.push(drillId);

    const runs = await listUntil([], (r) => r.length === 3 && r.some((x) => x.status === 'TERMINATED'));
    expect(runs.map((r) => r.id)).toEqual([drillId, running.evacuationId, gone.evacuationId]);
    expect(runs[0]).toMatchObject({ kind: 'drill', mode: 'drill', sourceAz: runbook.sourceAz, targetAz: runbook.targetAz, status: 'RUNNING' });
    expect(runs[1]).toMatchObject({ kind: 'evacuation', mode: 'drill', sourceAz: 'az-a', targetAz: 'az-b', status: 'RUNNING' });
    expect(runs[2]).toMatchObject({ kind: 'evacuation', mode: 'emergency', sourceAz: 'az-c', targetAz: 'az-a', status: 'TERMINATED', outcome: 'terminated' });
    expect(runs[2]!.closedAt! >= runs[2]!.startedAt).toBe(true);
    for (const r of runs.slice(0, 2)) expect(r).not.toHaveProperty('outcome');

    const open = await cli('list', '--json', '--status', 'running');
    expect((JSON.parse(open.out) as RunListItem[]).map((r) => r.id)).toEqual([drillId, running.evacuationId]);
    const closed = await cli('list', '--json', '--status', 'closed');
    expect((JSON.parse(closed.out) as RunListItem[]).map((r) => r.id)).toEqual([gone.evacuationId]);
    const newest = await cli('list', '--json', '--limit', '1');
    expect((JSON.parse(newest.out) as RunListItem[]).map((r) => r.id)).toEqual([drillId]);

    // The text view: one line per run, nothing on stderr.
    const text = await cli('list');
    expect(text.err).toBe('');
    const lines = text.out.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(new RegExp(`evacuation +${gone.evacuationId} +emergency +az-c → az-a +TERMINATED +terminated +\\d{4}-`));
  });

  it('evacuate --detach --json starts one evacuation, prints its id and run on stdout, and a second press joins it', async () => {
    const id = `cli-list-detach-${taskQueue}`;
    const args = ['evacuate', '--from', 'az-a', '--to', 'az-d', '--mode', 'planned', '--detach', '--json', '--id', id];
    const first = await cli(...args);
    expect(first.code, first.err).toBe(EXIT.ok);
    started.push(id);
    const press = JSON.parse(first.out) as { evacuationId: string; runId: string; joined: boolean };
    expect(press).toEqual({ evacuationId: id, runId: expect.stringMatching(/\S/), joined: false });
    expect(first.err).toContain(`Started planned evacuation ${id}`);
    const again = await cli(...args);
    expect(again.code, again.err).toBe(EXIT.ok);
    expect(JSON.parse(again.out)).toEqual({ ...press, joined: true });
    const described = await evacuations.temporal.workflow.getHandle(id).describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.mode)).toBe('planned');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.targetAz)).toBe('az-d');
  });

  it('an unknown evacuation id is bad input (exit 2), not an unexpected error', async () => {
    const r = await cli('report', `no-such-evacuation-${taskQueue}`);
    expect(r.code, r.err).toBe(EXIT.badInput);
    expect(r.err).toMatch(/^az-evac: .*no-such-evacuation/);
  });
});

/**
 * The console's drill routes on a real platform: viewers see a drill waiting at its
 * approval gate but cannot decide it; an operator's reject needs a reason, is recorded on
 * the drill and in the audit log, and the drill stops (cleanup lifts its fault).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../../client/drill-client.js';
import { parseRunbook } from '../../domain/runbook.js';
import { startConsoleHarness, type ConsoleHarness } from '../setup/console-harness.js';
import { waitFor } from '../setup/evacuation-harness.js';

let c: ConsoleHarness;
let drills: DrillClient;

beforeAll(async () => {
  c = await startConsoleHarness({ jobs: 16, seed: 5, timeScale: 50 });
  await c.h.sim.client.setAzDown('az-a', false);
  drills = await DrillClient.connect(c.h.settings);
});
afterAll(async () => {
  await drills?.close();
  await c?.close();
});

async function call(path: string, o: { token: string; body?: unknown }): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(path, c.url), {
    method: o.body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${o.token}`, ...(o.body === undefined ? {} : { 'x-az-evac-csrf': '1', 'content-type': 'application/json' }) },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

describe('console drill routes', () => {
  it('lists a drill at its gate, refuses viewers and reasonless rejects, and records an operator reject', async () => {
    const runbook = parseRunbook(['name: console-gate', 'sourceAz: az-a', 'targetAz: az-b', 'steps:',
      '  - fault: { simulator: { azDown: az-a } }',
      '  - approval: { prompt: "Evacuate az-a?", timeoutSeconds: 300 }',
      '  - evacuate: { mode: emergency }', '  - failback: {}'].join('\n'), 'gate.yaml');
    const id = await drills.start(DrillClient.input(runbook, 'gate.yaml', { requestedBy: 'vitest' }), `drill-console-${Date.now()}`);
    await waitFor('the gate', async () => ((await drills.status(id)).phase === 'awaiting-approval' ? true : undefined));

    const listed = await waitFor('the drill in the list', async () => {
      const r = await call('/api/drills', { token: c.tokens.viewer });
      return (r.body as unknown as Array<{ drillId: string; phase?: string }>).find?.((d) => d.drillId === id);
    });
    expect(listed.phase).toBe('awaiting-approval');
    const one = await call(`/api/drills/${id}`, { token: c.tokens.viewer });
    expect(one.body.approval).toMatchObject({ prompt: 'Evacuate az-a?' });

    const viewer = await call(`/api/drills/${id}/approve`, { token: c.tokens.viewer, body: {} });
    expect(viewer.status).toBe(403);
    const noReason = await call(`/api/drills/${id}/reject`, { token: c.tokens.operator, body: { reason: ' ' } });
    expect(noReason.status).toBe(400);
    expect(String(noReason.body.error)).toMatch(/missing reason/);
    expect((await drills.status(id)).phase).toBe('awaiting-approval');

    const reject = await call(`/api/drills/${id}/reject`, { token: c.tokens.operator, body: { reason: 'release in progress' } });
    expect(reject.status, JSON.stringify(reject.body)).toBe(200);
    const result = await drills.result(id);
    expect(result.phase).toBe('rejected');
    expect(result.decisions).toEqual([expect.objectContaining({ decision: 'reject', by: 'olga', comment: 'release in progress' })]);
    expect(result.cleanup).toEqual([expect.objectContaining({ kind: 'fault-teardown', state: 'passed' })]);
    const again = await call(`/api/drills/${id}/approve`, { token: c.tokens.operator, body: {} });
    expect(again.status).toBe(409);
    expect(String(again.body.error)).toMatch(/no open approval gate/);
    expect((await call('/api/drills/no-such-drill', { token: c.tokens.viewer })).status).toBe(404);
    const page = await fetch(new URL(`/api/drills/${id}/report.html`, c.url), { headers: { authorization: `Bearer ${c.tokens.viewer}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Drill rejected[\s\S]*rejected by olga \(&quot;release in progress&quot;\)/);

    const audit = (await c.audit()).filter((l) => (l as { drillId?: string }).drillId === id);
    expect(audit.map((l) => [l.action, l.outcome, l.user])).toEqual([
      ['drill-approve', 'rejected', 'victor'], ['drill-reject', 'rejected', 'olga'], ['drill-reject', 'accepted', 'olga'], ['drill-approve', 'rejected', 'olga'],
    ]);
  });
});

/**
 * The console's log stream (issue 13: structured logs in the console with the evacuation id):
 * the real console app (console/server.ts buildConsole) with its pino logger writing into
 * memory, over a stand-in Temporal client and state store (nothing listens, nothing connects).
 * Every trigger and control writes one line with the evacuation id, the user, the action and
 * its outcome (as the audit log has it), a refused one at warn with the error; the request line
 * of a route about one evacuation or drill carries its id; no token reaches the stream.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvacuationClient } from '../../client/evacuation-client.js';
import { loadSettings } from '../../config/settings.js';
import { AuditLog } from '../../console/audit-log.js';
import { ConsoleAuth } from '../../console/auth.js';
import type { ConsolePlugin } from '../../console/context.js';
import { buildConsole } from '../../console/server.js';
import type { EvacuationProgress, EvacuationRequest } from '../../domain/evacuation.js';
import { createLogger } from '../../platform/logging.js';
import type { StateStores } from '../../platform/state-stores.js';

const OP = 'op-token-0123456789abcdef';
const VIEW = 'view-token-0123456789abcdef';
const ID = 'az-evac-drill-az-a-to-az-b';

type Line = Record<string, unknown>;
const lines: Line[] = [];
let app: FastifyInstance;
let dir = '';

/** A stand-in for what the routes under test call on the Temporal client facade. */
const client = {
  async start(req: EvacuationRequest, evacuationId: string) {
    return { evacuationId, runId: `run-of-${req.mode}`, joined: false };
  },
  async pause(id: string) {
    if (id !== ID) throw Object.assign(new Error(`workflow ${id} not found`), { name: 'WorkflowNotFoundError' });
    return { evacuationId: id, phase: 'evacuating', paused: true } as unknown as EvacuationProgress;
  },
} as unknown as EvacuationClient;

/** A state store holding only a catalog of two AZs (what a trigger checks the AZs against). */
const state = {
  catalogs: { latest: async () => ({ version: 1, platform: { azs: [{ name: 'az-a' }, { name: 'az-b' }] }, jobs: [] }) },
} as unknown as StateStores;

/** The drill routes' shape (console/drill-routes.ts connects to Temporal itself): a route about one drill. */
const drillStandIn: ConsolePlugin = (a) => { a.get<{ Params: { id: string } }>('/api/drills/:id', async (req) => ({ drillId: req.params.id })); };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'az-evac-console-logs-'));
  const settings = loadSettings({ AZ_EVAC_STATE: dir, AZ_EVAC_CONSOLE_TOKENS: `olga:operator:${OP},victor:viewer:${VIEW}` });
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line); done(); } });
  app = await buildConsole({
    settings, client, state, auth: await ConsoleAuth.fromSettings(settings), audit: new AuditLog(join(dir, 'audit.jsonl')),
    plugins: [drillStandIn], logger: createLogger('info', 'az-evac-console', sink),
  });
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (url: string, token: string, body: unknown) => app.inject({
  method: 'POST', url, payload: JSON.stringify(body),
  headers: { authorization: `Bearer ${token}`, 'x-az-evac-csrf': '1', 'content-type': 'application/json', host: '127.0.0.1' },
});

describe('console log lines', () => {
  it('a trigger and a control write one line each with the evacuation id, user, action and outcome; a refusal is a warn naming the error', async () => {
    const started = await post('/api/evacuations', OP, { sourceAz: 'az-a', targetAz: 'az-b', mode: 'drill', reason: 'quarterly drill' });
    expect(started.statusCode, started.body).toBe(200);
    expect(lines).toContainEqual(expect.objectContaining({
      name: 'az-evac-console', level: 30, msg: 'evacuate accepted', evacuationId: ID, user: 'olga', role: 'operator', mode: 'drill', sourceAz: 'az-a', targetAz: 'az-b', reason: 'quarterly drill',
    }));

    expect((await post(`/api/evacuations/${ID}/pause`, OP, { reason: 'checking' })).statusCode).toBe(200);
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'pause accepted', evacuationId: ID, user: 'olga', reason: 'checking' }));

    expect((await post(`/api/evacuations/${ID}/abort`, VIEW, { reason: 'not mine' })).statusCode).toBe(403);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'abort rejected', evacuationId: ID, user: 'victor', role: 'viewer', error: expect.stringMatching(/victor is a viewer/) }));
  });

  it('the request line of a route about one evacuation or drill carries its id', async () => {
    await post(`/api/evacuations/${ID}/pause`, OP, {});
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request completed', evacuationId: ID, res: expect.objectContaining({ statusCode: 200 }) }));
    expect((await app.inject({ method: 'GET', url: '/api/drills/drill-7' })).statusCode).toBe(200);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request completed', drillId: 'drill-7' }));
    // A route about no run carries neither.
    await app.inject({ method: 'GET', url: '/healthz' });
    const health = lines.filter((l) => l.msg === 'request completed').at(-1)!;
    expect(health).not.toHaveProperty('evacuationId');
    expect(health).not.toHaveProperty('drillId');
  });

  it('never writes a token', () => {
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(text).not.toContain(OP);
    expect(text).not.toContain(VIEW);
  });
});

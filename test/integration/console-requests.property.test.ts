/**
 * Console requests fuzzed (fast-check) against the real console server (the app startConsole
 * listens with, over a real Temporal dev server, the simulator and a worker; requests go in
 * process through Fastify's `inject`): random and mutated requests to every state-changing
 * route (trigger, pause / resume / abort, drill approve / reject / abort), to unknown routes
 * and with every HTTP method. Properties:
 *  - no answer is a 5xx;
 *  - without an operator identity or without passing the CSRF check, a state-changing
 *    request is refused with 401 or 403, whatever its body;
 *  - an operator's bad body gets a 4xx whose error names the offending field;
 *  - nothing starts or changes: no workflow on the task queue, the drill waiting at its gate
 *    stays there undecided, no evacuation, no deployment in the target AZ, and every audit
 *    line the fuzzing added is a refusal.
 */
import { METHODS } from 'node:http';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../../client/drill-client.js';
import { parseRunbook } from '../../domain/runbook.js';
import { startConsoleHarness, type ConsoleHarness } from '../setup/console-harness.js';
import { waitFor } from '../setup/evacuation-harness.js';

const HOST = 'console.test:8460';
const RUNS = Number(process.env.AZ_EVAC_FUZZ_RUNS ?? 300);
/** The body a valid trigger sends (mode drill, so a slip would not take az-a's jobs for real). */
const GOOD = { sourceAz: 'az-a', targetAz: 'az-b', confirm: 'az-a', reason: 'az-a unreachable, INC-7', mode: 'drill' } as const;
const STATE_CHANGING = ['trigger', 'pause', 'resume', 'abort', 'drill-approve', 'drill-reject', 'drill-abort'] as const;
type Route = (typeof STATE_CHANGING)[number];

let c: ConsoleHarness;
let drills: DrillClient;
let drillId: string;
const counts = { requests: 0, byStatus: new Map<number, number>(), sample: new Map<number, string>() };

interface Answer { status: number; error: string }

async function send(o: InjectOptions): Promise<Answer> {
  const payload = o.payload === OVERSIZED ? JSON.stringify({ reason: 'x'.repeat(70 * 1024) }) : o.payload;
  const res = await c.console.app.inject({ ...o, ...(payload === undefined ? {} : { payload }), headers: { host: HOST, ...o.headers } });
  counts.requests++;
  counts.byStatus.set(res.statusCode, (counts.byStatus.get(res.statusCode) ?? 0) + 1);
  let error = '';
  try {
    error = String((JSON.parse(res.body) as { error?: unknown }).error ?? '');
  } catch {
    error = res.body;
  }
  if (!counts.sample.has(res.statusCode)) counts.sample.set(res.statusCode, `${o.method} ${String(o.url).slice(0, 60)}: ${error.slice(0, 160)}`);
  expect(res.statusCode, `${o.method} ${o.url} → ${res.statusCode} ${res.body}`).toBeLessThan(500);
  return { status: res.statusCode, error };
}

function pathOf(route: Route, id: string): string {
  const e = encodeURIComponent(id);
  return route === 'trigger' ? '/api/evacuations' : route.startsWith('drill-') ? `/api/drills/${e}/${route.slice(6)}` : `/api/evacuations/${e}/${route}`;
}

/** Who calls: nobody, the operator or viewer by bearer token, a wrong or mangled token, a forged cookie or proxy header. */
const identity = fc.constantFrom('none', 'operator', 'viewer', 'bogus', 'operator-lowercase-scheme', 'operator-token-prefix', 'cookie-forged', 'proxy-header');
function identityHeaders(who: string): Record<string, string> {
  switch (who) {
    case 'operator': return { authorization: `Bearer ${c.tokens.operator}` };
    case 'viewer': return { authorization: `Bearer ${c.tokens.viewer}` };
    case 'bogus': return { authorization: 'Bearer 0123456789abcdef0123456789abcdef' };
    case 'operator-lowercase-scheme': return { authorization: `bearer ${c.tokens.operator}` };
    case 'operator-token-prefix': return { authorization: `Bearer ${c.tokens.operator.slice(0, -1)}` };
    case 'cookie-forged': return { cookie: 'az_evac_session=forged-session-id' };
    case 'proxy-header': return { 'x-forwarded-user': 'olga', 'x-remote-user': 'olga' };
    default: return {};
  }
}

/** The CSRF part of a request and whether it passes (the custom header exactly `1`, and a same-origin Origin / Sec-Fetch-Site when present). */
const anyCsrf = fc.record({
  header: fc.constantFrom<string | undefined>(undefined, '1', '0', 'true', ' 1', ''),
  origin: fc.constantFrom<string | undefined>(undefined, `http://${HOST}`, 'https://evil.example', 'null', 'not a url', `http://${HOST}.evil.example`),
  site: fc.constantFrom<string | undefined>(undefined, 'same-origin', 'none', 'cross-site', 'same-site'),
}).map((x) => ({
  headers: Object.fromEntries(Object.entries({ 'x-az-evac-csrf': x.header, origin: x.origin, 'sec-fetch-site': x.site }).filter(([, v]) => v !== undefined)) as Record<string, string>,
  passes: x.header === '1' && (x.origin === undefined || x.origin === `http://${HOST}`) && (x.site === undefined || x.site === 'same-origin' || x.site === 'none'),
}));
/** Half of the requests pass the CSRF check, so identity and role are fuzzed too. */
const csrf = fc.oneof(anyCsrf, anyCsrf.filter((x) => x.passes));

/** Stands for a JSON body over the console's 64 KiB limit (expanded by `send`, so counterexamples stay short). */
const OVERSIZED = '<70 KiB of JSON>';

/** Any body: JSON values, raw text and bytes with random content types, near-valid triggers. */
const anyBody = fc.oneof(
  fc.record({ json: fc.jsonValue({ maxDepth: 3 }) }).map(({ json }) => ({ payload: JSON.stringify(json), type: 'application/json' })),
  fc.record({ text: fc.string({ maxLength: 80 }), type: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml') }).map(({ text, type }) => ({ payload: text, type })),
  fc.record({ extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) }).map(({ extra }) => ({ payload: JSON.stringify({ ...GOOD, ...extra }), type: 'application/json' })),
  fc.constant({ payload: JSON.stringify(GOOD), type: 'application/json' }),
  fc.constant({ payload: OVERSIZED, type: 'application/json' }),
  fc.constant(undefined),
);

/** Ids: the drill at its gate, evacuation ids that could exist, random text (Fastify caps a path parameter at 100 characters). */
const anyId = (): fc.Arbitrary<string> => fc.oneof(fc.constant(drillId), fc.constantFrom('az-evac-emergency-az-a-to-az-b', 'az-evac-drill-az-a-to-az-b', `${drillId}x`, ' ', '%', '/etc/passwd'),
  fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s !== '.' && s !== '..')); // `.`/`..` segments are resolved by URL parsing: another route

/** A body the parser refuses before any handler runs (400 bad JSON, 413 over the 64 KiB limit, 415 unknown content type). */
function unparsable(body: { payload: string; type: string } | undefined): boolean {
  if (!body) return false;
  if (body.payload === OVERSIZED) return true;
  if (body.type === 'text/plain') return false;
  if (body.type !== 'application/json') return true;
  try {
    JSON.parse(body.payload);
    return false;
  } catch {
    return true;
  }
}

beforeAll(async () => {
  c = await startConsoleHarness({ jobs: 12, seed: 9, timeScale: 50 });
  await c.h.sim.client.setAzDown('az-a', false);
  drills = await DrillClient.connect(c.h.settings);
  const runbook = parseRunbook(['name: console-fuzz', 'sourceAz: az-a', 'targetAz: az-b', 'steps:',
    '  - approval: { prompt: "Drill az-a?", timeoutSeconds: 3600 }', '  - evacuate: { mode: drill }', '  - failback: {}'].join('\n'), 'fuzz.yaml');
  drillId = await drills.start(DrillClient.input(runbook, 'fuzz.yaml', { requestedBy: 'vitest' }), `drill-console-fuzz-${Date.now()}`);
  await waitFor('the gate', async () => ((await drills.status(drillId)).phase === 'awaiting-approval' ? true : undefined));
});
afterAll(async () => {
  await drills?.close();
  await c?.close(drillId ? [drillId] : []);
});

let probes = 0;

/**
 * Workflows on the harness's task queue, probes left out, counted once the dev server's
 * visibility list (eventually consistent) has caught up with now: a probe workflow started
 * on the queue (and terminated at once) must be listed before the count is taken, so a
 * workflow a request started earlier would be counted.
 */
async function workflowsOnQueue(): Promise<number> {
  const probeId = `visibility-probe-${drillId}-${++probes}`;
  const probe = await c.h.temporal.workflow.start('visibilityProbe', { taskQueue: c.h.settings.taskQueue, workflowId: probeId });
  await probe.terminate('visibility probe of the console fuzz test');
  await waitFor('the probe workflow in the visibility list', async () => ((await c.h.temporal.workflow.count(`WorkflowId = '${probeId}'`)).count === 1 ? true : undefined), 30_000, 100);
  return (await c.h.temporal.workflow.count(`TaskQueue = '${c.h.settings.taskQueue}'`)).count - probes;
}

/** What must not change, observed from outside the console. */
async function observed() {
  const workflows = await workflowsOnQueue();
  const drill = await drills.status(drillId);
  return {
    workflows,
    evacuations: await c.h.client.list(),
    drill: { phase: drill.phase, decisions: drill.decisions, evacuationId: drill.evacuationId },
    targetDeployments: (await c.h.sim.client.listDeployments('az-b')).map((d) => `${d.manifest.metadata.namespace}/${d.manifest.metadata.name}:${JSON.stringify(d.manifest.spec)}`).sort(),
  };
}

describe('console requests, fuzzed against the real console server', () => {
  let before: Awaited<ReturnType<typeof observed>>;
  let auditBefore = 0;
  const started = Date.now();

  beforeAll(async () => {
    before = await observed();
    auditBefore = (await c.audit()).length;
  });

  it('a state-changing request without an operator identity or without passing CSRF is refused 401/403, whatever its body; never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...STATE_CHANGING), identity, csrf, anyBody, anyId(), async (route, who, x, body, id) => {
      fc.pre(!(who === 'operator' && x.passes));
      const r = await send({ method: 'POST', url: pathOf(route, id), headers: { ...identityHeaders(who), ...x.headers, ...(body ? { 'content-type': body.type } : {}) }, ...(body ? { payload: body.payload } : {}) });
      // The CSRF check runs before the body is read; identity and role after it (the body parser may refuse first).
      const refusals = x.passes && unparsable(body) ? [400, 401, 403, 413, 415] : [401, 403];
      expect(refusals, `${route} as ${who}, csrf ${JSON.stringify(x)}: ${r.status} ${r.error}`).toContain(r.status);
      if (r.status !== 401 && r.status !== 403) return;
      if (!x.passes) expect(r.error).toMatch(/x-az-evac-csrf|cross-site|cross-origin|Origin/);
      else if (who === 'viewer') expect(r.error).toMatch(/victor is a viewer/);
      else expect(r.error).toMatch(/not signed in/);
    }), { numRuns: RUNS, seed: 61 });
  });

  it("an operator's trigger with bad fields gets a 4xx naming a bad field", async () => {
    type Field = keyof typeof GOOD | 'extra';
    const bad: Record<Field, fc.Arbitrary<unknown>> = {
      sourceAz: fc.oneof(fc.string({ maxLength: 12 }).filter((s) => !['az-a', 'az-b'].includes(s)), fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string')),
      targetAz: fc.oneof(fc.string({ maxLength: 12 }).filter((s) => s !== 'az-b'), fc.integer()),
      confirm: fc.oneof(fc.string({ maxLength: 12 }).filter((s) => s.trim() !== 'az-a'), fc.boolean()),
      reason: fc.oneof(fc.string({ maxLength: 4 }).filter((s) => s.trim().length < 3), fc.array(fc.string())),
      mode: fc.oneof(fc.string({ maxLength: 12 }).filter((s) => !['drill', 'emergency', 'planned'].includes(s)), fc.integer()),
      extra: fc.constant(1),
    };
    const fields = Object.keys(bad) as Field[];
    const mutation = fc.uniqueArray(fc.constantFrom(...fields), { minLength: 1, maxLength: 3 }).chain((which) => fc.tuple(fc.constant(which), fc.tuple(...which.map((f) => fc.oneof(bad[f], fc.constant('<deleted>'))))));
    await fc.assert(fc.asyncProperty(mutation, async ([which, values]) => {
      const body: Record<string, unknown> = { ...GOOD };
      which.forEach((f, i) => {
        const v = values[i];
        if (f === 'extra') body.surpriseField = v;
        // A deleted mode would mean emergency, a deleted confirm is fine for a drill: both get a bad value instead.
        else if (v === '<deleted>' && f !== 'mode' && f !== 'confirm') delete body[f];
        else body[f] = v === '<deleted>' ? (f === 'mode' ? 'panic' : '') : v;
      });
      const r = await send({ method: 'POST', url: '/api/evacuations', headers: { ...identityHeaders('operator'), 'x-az-evac-csrf': '1' }, payload: body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      // Fastify's JSON parser refuses prototype poisoning (`__proto__`, `constructor.prototype` keys) before the route.
      if (/"(__proto__|constructor)"/.test(JSON.stringify(body))) return void expect(r.error).toMatch(/not valid JSON/);
      const named = which.map((f) => (f === 'extra' ? 'surpriseField' : f));
      expect(named.some((f) => r.error.startsWith(`${f}: `)), `${JSON.stringify(body)} → ${r.error}`).toBe(true);
    }), { numRuns: RUNS, seed: 62 });
  });

  it("an operator's control of an unknown evacuation or drill, or without a reason, is a 4xx naming the id or the reason", async () => {
    const reason = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 3 }).filter((s) => s.trim().length < 3), fc.integer(), fc.constant(null));
    await fc.assert(fc.asyncProperty(fc.constantFrom<Route>('pause', 'resume', 'abort', 'drill-approve', 'drill-reject', 'drill-abort'), anyId(), reason, fc.boolean(), async (route, id, why, known) => {
      // A known drill only with a missing reason (approve needs none: it would open the gate).
      const target = known && route !== 'drill-approve' && route.startsWith('drill-') ? drillId : id === drillId && route === 'drill-approve' ? `${id}-other` : id;
      const r = await send({ method: 'POST', url: pathOf(route, target), headers: { ...identityHeaders('operator'), 'x-az-evac-csrf': '1' }, payload: why === undefined ? {} : { reason: why } });
      const needsReason = route === 'abort' || route === 'drill-reject' || route === 'drill-abort';
      if (needsReason) {
        expect(r.status).toBe(400);
        expect(r.error).toMatch(/^reason: missing reason/);
      } else {
        expect([404, 409], `${route} ${target}: ${r.status} ${r.error}`).toContain(r.status);
        if (r.status === 404) expect(r.error).toBe(`no ${route.startsWith('drill-') ? 'drill' : 'evacuation'} ${target}`);
      }
    }), { numRuns: RUNS, seed: 63 });
  });

  it('unknown routes and every HTTP method: never a 5xx; state-changing methods need CSRF, unknown routes are 404', async () => {
    const known = ['/api/evacuations', '/api/drills', '/api/me', '/api/fleet', '/api/schedules', '/api/ui/scripts', `/api/drills/${drillId}`];
    const path = fc.oneof(fc.constantFrom(...known, ...STATE_CHANGING.map((r) => pathOf(r, drillId))), fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)), fc.string({ maxLength: 40 }).map((s) => `/api/${encodeURIComponent(s)}`));
    const methods = METHODS.filter((m) => m !== 'CONNECT');
    await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), path, identity, csrf, anyBody, async (method, url, who, x, body) => {
      fc.pre(!(who === 'operator' && x.passes && method === 'POST'));
      const safe = ['GET', 'HEAD', 'OPTIONS'].includes(method);
      const r = await send({ method: method as InjectOptions['method'], url, headers: { ...identityHeaders(who), ...x.headers, ...(body && !safe ? { 'content-type': body.type } : {}) }, ...(body && !safe ? { payload: body.payload } : {}) });
      if (!safe && !x.passes) expect(r.status, `${method} ${url}`).toBe(403);
      if (url.startsWith('/api/') && !known.includes(url) && !STATE_CHANGING.some((s) => pathOf(s, drillId) === url) && r.status !== 403) expect([400, 401, 404, 405, 413, 415], `${method} ${url}: ${r.status} ${r.error}`).toContain(r.status);
    }), { numRuns: RUNS, seed: 64 });
  });

  it('after all of it nothing started or changed, and every audit line the fuzzing added is a refusal', async () => {
    const after = await observed();
    expect(after).toEqual(before);
    expect(after.drill.phase).toBe('awaiting-approval');
    expect(after.drill.decisions).toEqual([]);
    expect(after.evacuations).toEqual([]);
    const added = (await c.audit()).slice(auditBefore);
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((l) => l.outcome !== 'rejected')).toEqual([]);
    console.info(`console fuzzing: ${counts.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s, by status ${JSON.stringify(Object.fromEntries([...counts.byStatus].sort((a, b) => a[0] - b[0])))}; ${added.length} audit lines, all refusals; one answer per status: ${JSON.stringify(Object.fromEntries(counts.sample))}`);
  });
});

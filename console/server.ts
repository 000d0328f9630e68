/**
 * The emergency console's HTTP server (Fastify): the page (static files in console/public),
 * the probes /healthz (serving) and /readyz (Temporal answers within 2 s, else 503), Prometheus /metrics, sign-in,
 * CSRF protection on every state-changing request, and the routes of console/routes plus the add-ons of console/plugins.ts. Errors are `{ error }` JSON with a
 * 4xx naming the problem and the fix.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { EvacuationClient } from '../client/evacuation-client.js';
import type { Settings } from '../config/settings.js';
import { buildStateStores, type StateStores } from '../platform/state-stores.js';
import type { AuditLog } from './audit-log.js';
import { ConsoleAuth, SESSION_COOKIE } from './auth.js';
import { HttpError, type ConsoleContext, type ConsolePlugin, type Identity, type Role } from './context.js';
import { csrfProblem } from './csrf.js';
import { evacuationRoutes } from './routes/evacuations.js';
import { fleetRoutes } from './routes/fleet.js';

/** Longest wait for Temporal's answer in a /readyz check, ms. */
const READY_TEMPORAL_TIMEOUT_MS = 2000;

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: `${PUBLIC}index.html`, type: 'text/html; charset=utf-8' },
  '/static/app.js': { file: `${PUBLIC}app.js`, type: 'text/javascript; charset=utf-8' },
  '/static/style.css': { file: `${PUBLIC}style.css`, type: 'text/css; charset=utf-8' },
};

/** What buildConsole needs; built by console/start.ts. */
export interface ConsoleOptions {
  settings: Settings;
  client: EvacuationClient;
  auth: ConsoleAuth;
  audit: AuditLog;
  plugins: ConsolePlugin[];
  /** The state store the worker writes (catalog, plans, reports); default: the one settings name. */
  state?: StateStores;
  /**
   * Where Fastify logs requests and errors (platform/logging.ts createLogger); default: no logs.
   * Every audit entry (trigger, control, drill decision; refusals at warn) is also a line here,
   * and the lines of a route about one evacuation or drill carry `evacuationId` or `drillId`.
   */
  logger?: FastifyBaseLogger;
}

/** Build the console app (not listening yet). */
export async function buildConsole(o: ConsoleOptions): Promise<FastifyInstance> {
  const app = Fastify({ ...(o.logger ? { loggerInstance: o.logger } : { logger: false }), bodyLimit: 64 * 1024 });
  await app.register(cookie);

  const pageScripts = new Map<string, string>();
  const ctx: ConsoleContext = {
    client: o.client,
    settings: o.settings,
    state: o.state ?? buildStateStores(o.settings),
    requireRole(req: FastifyRequest, role: Role): Identity {
      const who = o.auth.caller(req.cookies[SESSION_COOKIE], req.headers);
      if (!who) throw new HttpError(401, 'not signed in. Fix: sign in with your console token');
      if (role === 'operator' && who.role !== 'operator') throw new HttpError(403, `${who.user} is a viewer; only operators may do this. Fix: ask an operator, or get the operator role in the console's users file`);
      return who;
    },
    audit(who, entry) {
      // The same entry on the log stream: who did what to which evacuation, a refusal at warn.
      const line = { user: who.user, role: who.role, via: who.via, ...entry };
      if (entry.outcome === 'rejected') app.log.warn(line, `${entry.action} ${entry.outcome}`);
      else app.log.info(line, `${entry.action} ${entry.outcome}`);
      return o.audit.append(who, entry);
    },
    addPageScript(name: string, file: string): void {
      if (!/^[a-z0-9-]+\.js$/.test(name)) throw new Error(`page script name ${JSON.stringify(name)} must match [a-z0-9-]+.js`);
      pageScripts.set(name, file);
    },
  };

  app.addHook('onRequest', async (req, reply) => {
    // A route about one evacuation or drill: its log lines (and Fastify's "request completed") carry its id.
    const id = (req.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && id !== '') {
      const field = req.routeOptions.url?.startsWith('/api/drills/') ? 'drillId' : req.routeOptions.url?.startsWith('/api/evacuations/') ? 'evacuationId' : undefined;
      if (field) {
        req.log = req.log.child({ [field]: id });
        reply.log = req.log;
      }
    }
    const problem = csrfProblem(req.method, req.headers);
    if (problem) return reply.code(403).send({ error: problem });
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    reply.header('cache-control', 'no-store');
    return undefined;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    if (err.validation) return reply.code(400).send({ error: `bad request: ${err.message}` });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: err.message });
  });

  // Prometheus metrics of this console process (no sign-in, nothing secret): its requests by
  // route and status class (a burst of 401/403 or 5xx is worth an alert) and Node's process metrics.
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'az_evac_console_' });
  const requests = new Counter({
    name: 'az_evac_console_requests_total', help: 'Console HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const, registers: [metrics],
  });
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  // Probes (no sign-in, nothing secret): /healthz while the server serves, /readyz when Temporal answers.
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await o.client.checkTemporal(READY_TEMPORAL_TIMEOUT_MS);
      return { status: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', reason: `Temporal does not answer: ${(err as Error).message}` });
    }
  });

  for (const [path, { file, type }] of Object.entries(STATIC)) {
    app.get(path, async (_req, reply) => reply.type(type).send(await readFile(file)));
  }
  app.get<{ Params: { name: string } }>('/static/ext/:name', async (req, reply) => {
    const file = pageScripts.get(req.params.name);
    if (!file) throw new HttpError(404, `no page script ${req.params.name}`);
    return reply.type('text/javascript; charset=utf-8').send(await readFile(file));
  });
  app.get('/api/ui/scripts', async () => ({ scripts: [...pageScripts.keys()].map((n) => `/static/ext/${n}`) }));

  app.post<{ Body: { token: string } }>('/api/login', {
    schema: { body: { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1 } } } },
  }, async (req, reply) => {
    const who = o.auth.identify(req.body.token, 'session');
    if (!who) throw new HttpError(401, 'unknown token. Fix: use the token from the console users file');
    const session = o.auth.openSession(who);
    reply.setCookie(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: o.auth.sessionSeconds, secure: req.protocol === 'https' });
    await o.audit.append(who, { action: 'login', outcome: 'accepted' });
    return { user: who.user, role: who.role };
  });
  app.post('/api/logout', async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });
  app.get('/api/me', async (req) => {
    const who = ctx.requireRole(req, 'viewer');
    return { user: who.user, role: who.role };
  });

  await fleetRoutes(app, ctx);
  await evacuationRoutes(app, ctx);
  for (const plugin of o.plugins) await plugin(app, ctx);
  return app;
}

/**
 * Evacuation routes: list, trigger (start or join), live progress (JSON and server-sent
 * events), pause / resume / abort (the workflow's Updates), and the reports. Triggers and
 * controls are for operators and go to the audit log, refusals included.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVACUATION_MODES, evacuationIdFor, type EvacuationMode, type EvacuationProgress, type EvacuationRequest } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { renderReportHtml, reportHtmlFileOf } from '../../domain/report-html.js';
import { EvacuationRequestConflict } from '../../client/evacuation-client.js';
import { HttpError, type ConsoleContext, type Identity } from '../context.js';
import { httpErrorOf } from '../temporal-errors.js';
import { checkAzPair, latestCatalog } from './fleet.js';

/** How often the event stream polls the progress query, ms. */
const SSE_POLL_MS = 1000;
/** Finished phases: the stream sends the last progress and ends. */
const FINAL = new Set(['done', 'aborted', 'failed']);

interface TriggerBody { sourceAz?: unknown; targetAz?: unknown; confirm?: unknown; reason?: unknown; mode?: unknown }
const TRIGGER_KEYS = ['sourceAz', 'targetAz', 'confirm', 'reason', 'mode'];

/** Validate a trigger; @throws HttpError 400 `<field>: <problem>. Fix: …` naming the first bad field. */
async function triggerRequest(ctx: ConsoleContext, body: TriggerBody, who: Identity): Promise<{ req: EvacuationRequest; reason: string }> {
  // A mistyped key (e.g. `mdoe: drill`) would silently fall back to a default: an emergency.
  const unknown = Object.keys(body).find((k) => !TRIGGER_KEYS.includes(k));
  if (unknown !== undefined) throw new HttpError(400, `${unknown}: unknown field. Fix: send only ${TRIGGER_KEYS.join(', ')}`);
  const { sourceAz, targetAz } = checkAzPair(await latestCatalog(ctx), body.sourceAz, body.targetAz);
  if (typeof body.confirm !== 'string' || body.confirm.trim() === '') throw new HttpError(400, `confirm: missing confirmation. Fix: type the failed AZ's name (${sourceAz}) to confirm`);
  if (body.confirm.trim() !== sourceAz) throw new HttpError(400, `confirm: confirmation ${JSON.stringify(body.confirm)} does not match the failed AZ ${sourceAz}. Fix: type exactly ${sourceAz}`);
  if (typeof body.reason !== 'string' || body.reason.trim().length < 3) throw new HttpError(400, 'reason: missing reason. Fix: say why you evacuate (at least 3 characters; it goes to the audit log)');
  const mode = body.mode ?? 'emergency';
  if (!EVACUATION_MODES.includes(mode as EvacuationMode)) throw new HttpError(400, `mode: unknown mode ${JSON.stringify(mode)}. Fix: use one of ${EVACUATION_MODES.join(', ')}`);
  return { req: { sourceAz, targetAz, mode: mode as EvacuationMode, requestedBy: who.user }, reason: body.reason.trim() };
}

async function progressOf(ctx: ConsoleContext, id: string): Promise<EvacuationProgress> {
  try {
    return await ctx.client.progress(id);
  } catch (err) {
    throw httpErrorOf(err, `evacuation ${id}`);
  }
}

/** Stream progress as server-sent events (`event: progress`) until the evacuation finishes or the client leaves. */
async function streamProgress(ctx: ConsoleContext, id: string, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  await progressOf(ctx, id); // 404 before the stream starts
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let open = true;
  req.raw.on('close', () => { open = false; });
  let last = '';
  while (open) {
    try {
      const p = await ctx.client.progress(id);
      const data = JSON.stringify(p);
      if (data !== last) reply.raw.write(`event: progress\ndata: ${data}\n\n`);
      else reply.raw.write(': keep-alive\n\n');
      last = data;
      if (FINAL.has(p.phase)) break;
    } catch (err) {
      reply.raw.write(`event: problem\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`);
    }
    await new Promise((r) => setTimeout(r, SSE_POLL_MS));
  }
  reply.raw.end();
}

/** The JSON report of a finished evacuation. @throws HttpError 409 while it runs */
async function reportOf(ctx: ConsoleContext, id: string): Promise<{ file: string; report: EvacuationReport }> {
  const p = await progressOf(ctx, id);
  if (!p.reportFile) throw new HttpError(409, `evacuation ${id} has no report yet (phase ${p.phase}); it is written when the evacuation ends`);
  return { file: p.reportFile, report: JSON.parse(await ctx.state.reports.read(p.reportFile)) as EvacuationReport };
}

/** Register the evacuation routes. */
export async function evacuationRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/api/evacuations', async (req) => {
    ctx.requireRole(req, 'viewer');
    return { evacuations: await ctx.client.list() };
  });

  app.post<{ Body: TriggerBody }>('/api/evacuations', async (req) => {
    const who = ctx.requireRole(req, 'viewer');
    const body = (req.body ?? {}) as TriggerBody;
    const asked = { sourceAz: body.sourceAz, targetAz: body.targetAz, reason: body.reason };
    try {
      if (who.role !== 'operator') ctx.requireRole(req, 'operator');
      if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, `body: not a JSON object. Fix: send {"sourceAz", "targetAz", "confirm", "reason"} as application/json`);
      const { req: request, reason } = await triggerRequest(ctx, body, who);
      const started = await ctx.client.start(request, evacuationIdFor(request)).catch((err: unknown) => {
        // A different request under the same id is answered with what runs, not joined.
        if (err instanceof EvacuationRequestConflict) throw new HttpError(409, err.message);
        throw err;
      });
      await ctx.audit(who, { action: 'evacuate', outcome: started.joined ? 'joined' : 'accepted', evacuationId: started.evacuationId, sourceAz: request.sourceAz, targetAz: request.targetAz, mode: request.mode, reason });
      return started;
    } catch (err) {
      if (err instanceof HttpError) await ctx.audit(who, { action: 'evacuate', outcome: 'rejected', ...asked, error: err.message });
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/api/evacuations/:id', async (req) => {
    ctx.requireRole(req, 'viewer');
    return progressOf(ctx, req.params.id);
  });

  app.get<{ Params: { id: string } }>('/api/evacuations/:id/events', async (req, reply) => {
    ctx.requireRole(req, 'viewer');
    await streamProgress(ctx, req.params.id, req, reply);
  });

  for (const action of ['pause', 'resume', 'abort'] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: unknown } }>(`/api/evacuations/:id/${action}`, async (req) => {
      const who = ctx.requireRole(req, 'viewer');
      const id = req.params.id;
      const reason = typeof req.body?.reason === 'string' ? req.body.reason.trim() : '';
      try {
        if (who.role !== 'operator') ctx.requireRole(req, 'operator');
        if (action === 'abort' && reason.length < 3) throw new HttpError(400, 'reason: missing reason. Fix: say why you abort (at least 3 characters; it goes to the report and the audit log)');
        let progress: EvacuationProgress;
        try {
          progress = action === 'pause' ? await ctx.client.pause(id, who.user, reason || undefined)
            : action === 'resume' ? await ctx.client.resume(id, who.user)
              : await ctx.client.abort(id, who.user, reason);
        } catch (err) {
          throw httpErrorOf(err, `evacuation ${id}`);
        }
        await ctx.audit(who, { action, outcome: 'accepted', evacuationId: id, ...(reason ? { reason } : {}) });
        return progress;
      } catch (err) {
        if (err instanceof HttpError) await ctx.audit(who, { action, outcome: 'rejected', evacuationId: id, error: err.message });
        throw err;
      }
    });
  }

  app.get<{ Params: { id: string } }>('/api/evacuations/:id/report.json', async (req) => {
    ctx.requireRole(req, 'viewer');
    return (await reportOf(ctx, req.params.id)).report;
  });

  app.get<{ Params: { id: string } }>('/api/evacuations/:id/report.html', async (req, reply) => {
    ctx.requireRole(req, 'viewer');
    const { file, report } = await reportOf(ctx, req.params.id);
    const html = await ctx.state.reports.read(reportHtmlFileOf(file)).catch(() => renderReportHtml(report));
    return reply.type('text/html; charset=utf-8').send(html);
  });
}

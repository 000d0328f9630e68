/**
 * Evacuation routes: list (with each finished run's verdict), trigger (start or join), live
 * progress (JSON and server-sent events, as console/progress-view.ts shapes it), pause /
 * resume / abort (the workflow's Updates), and the reports. Triggers and controls are for
 * operators and go to the audit log, refusals included.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVACUATION_MODES, evacuationIdFor, recordsKey, type EvacuationMode, type EvacuationProgress, type EvacuationRequest, type JobOutcome } from '../../domain/evacuation.js';
import type { EvacuationReport } from '../../domain/report.js';
import { renderReportHtml, reportHtmlFileOf } from '../../domain/report-html.js';
import { verdictOf, type Verdict } from '../../domain/verdict.js';
import { AzBusyError } from '../../client/az-holds.js';
import { mayOverrideHold } from '../../domain/az-hold.js';
import { EvacuationRequestConflict } from '../../client/evacuation-client.js';
import { HttpError, type ConsoleContext, type Identity } from '../context.js';
import { progressView, temporalUiLink, type ProgressView, type TemporalUi } from '../progress-view.js';
import { httpErrorOf } from '../temporal-errors.js';
import { checkAzPair, latestCatalog, tiersScope } from './fleet.js';

/** How often the event stream polls the progress query, ms. */
const SSE_POLL_MS = 1000;
/** Finished phases: the stream sends the last progress and ends. */
const FINAL = new Set(['done', 'aborted', 'failed']);
/** Shortest gap between two reads of a running evacuation's recorded outcomes while only its counters move, ms. */
const OUTCOMES_EVERY_MS = 3000;

interface TriggerBody { sourceAz?: unknown; targetAz?: unknown; confirm?: unknown; reason?: unknown; mode?: unknown; tiers?: unknown }
const TRIGGER_KEYS = ['sourceAz', 'targetAz', 'confirm', 'reason', 'mode', 'tiers'];

/** Validate a trigger; @throws HttpError 400 `<field>: <problem>. Fix: …` naming the first bad field. */
async function triggerRequest(ctx: ConsoleContext, body: TriggerBody, who: Identity): Promise<{ req: EvacuationRequest; reason: string }> {
  // A mistyped key (e.g. `mdoe: drill`) would silently fall back to a default: an emergency.
  const unknown = Object.keys(body).find((k) => !TRIGGER_KEYS.includes(k));
  if (unknown !== undefined) throw new HttpError(400, `${unknown}: unknown field. Fix: send only ${TRIGGER_KEYS.join(', ')}`);
  const { sourceAz, targetAz } = checkAzPair(await latestCatalog(ctx), body.sourceAz, body.targetAz);
  const mode = body.mode ?? 'emergency';
  if (!EVACUATION_MODES.includes(mode as EvacuationMode)) throw new HttpError(400, `mode: unknown mode ${JSON.stringify(mode)}. Fix: use one of ${EVACUATION_MODES.join(', ')}`);
  // An emergency acts on a failed AZ without asking it: the source AZ is typed to confirm, as the CLI asks.
  if (mode === 'emergency' && (typeof body.confirm !== 'string' || body.confirm.trim() === '')) throw new HttpError(400, `confirm: missing confirmation. Fix: type the failed AZ's name (${sourceAz}) to confirm an emergency`);
  if (body.confirm !== undefined && (typeof body.confirm !== 'string' || body.confirm.trim() !== sourceAz)) throw new HttpError(400, `confirm: confirmation ${JSON.stringify(body.confirm)} does not match the failed AZ ${sourceAz}. Fix: type exactly ${sourceAz}`);
  if (typeof body.reason !== 'string' || body.reason.trim().length < 3) throw new HttpError(400, 'reason: missing reason. Fix: say why you evacuate (at least 3 characters; it goes to the audit log)');
  const tiers = tiersScope(body.tiers);
  return { req: { sourceAz, targetAz, mode: mode as EvacuationMode, requestedBy: who.user, ...(tiers ? { scope: { tiers } } : {}) }, reason: body.reason.trim() };
}

async function progressOf(ctx: ConsoleContext, id: string): Promise<EvacuationProgress> {
  try {
    return await ctx.client.progress(id);
  } catch (err) {
    throw httpErrorOf(err, `evacuation ${id}`);
  }
}

/** The Temporal UI of the settings (AZ_EVAC_TEMPORAL_UI_URL), if any. */
function temporalUiOf(ctx: ConsoleContext): TemporalUi | undefined {
  return ctx.settings.temporalUiUrl ? { baseUrl: ctx.settings.temporalUiUrl, namespace: ctx.settings.temporalNamespace } : undefined;
}

async function readReport(ctx: ConsoleContext, file: string): Promise<EvacuationReport> {
  return JSON.parse(await ctx.state.reports.read(file)) as EvacuationReport;
}

/**
 * Progress views of one evacuation over time: the recorded outcomes are read again when a
 * tier's state or the phase changed, or when the counters moved and OUTCOMES_EVERY_MS passed
 * (a stream polls every second; the outcomes of thousands of jobs are not read that often).
 */
function progressViews(ctx: ConsoleContext): (p: EvacuationProgress) => Promise<ProgressView> {
  let outcomes: JobOutcome[] = [];
  let report: EvacuationReport | undefined;
  let states = '';
  let counters = '';
  let readAtMs = 0;
  return async (p) => {
    const nowStates = `${p.phase}|${p.reportFile ?? ''}|${p.tiers.map((t) => t.state).join(',')}`;
    const nowCounters = p.tiers.map((t) => `${t.succeeded}/${t.failed}/${t.skipped}`).join(',');
    if (nowStates !== states || (nowCounters !== counters && Date.now() - readAtMs >= OUTCOMES_EVERY_MS)) {
      outcomes = await ctx.state.evacuations.listOutcomes(recordsKey(p)).catch(() => outcomes);
      if (p.reportFile && !report) report = await readReport(ctx, p.reportFile).catch(() => undefined);
      states = nowStates;
      counters = nowCounters;
      readAtMs = Date.now();
    }
    return progressView(p, outcomes, report, temporalUiOf(ctx));
  };
}

/**
 * Stream progress as server-sent events (`event: progress`) until the evacuation finishes, the
 * client leaves or the console shuts down (`server.closing`: the browser then shows the
 * connection lost and reconnects, to this console's next start or another replica).
 */
async function streamProgress(ctx: ConsoleContext, id: string, req: FastifyRequest, reply: FastifyReply, server: { closing: boolean }): Promise<void> {
  await progressOf(ctx, id); // 404 before the stream starts
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let open = true;
  req.raw.on('close', () => { open = false; });
  let last = '';
  const view = progressViews(ctx);
  while (open && !server.closing) {
    try {
      const p = await ctx.client.progress(id);
      const data = JSON.stringify(await view(p));
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
  return { file: p.reportFile, report: await readReport(ctx, p.reportFile) };
}

/**
 * The verdict of a closed evacuation, from its result and report: neither COMPLETED nor FAILED
 * alone says whether jobs failed, an RTO was missed or someone aborted it.
 * @returns null while it runs or when its report cannot be read; `failed` when it closed without a result (terminated, an engine fault)
 */
async function verdictOfClosed(ctx: ConsoleContext, id: string, runId: string, status: string): Promise<Verdict | null> {
  if (status === 'RUNNING') return null;
  let result;
  try {
    result = await ctx.client.result(id, runId);
  } catch {
    return 'failed';
  }
  try {
    const report = await readReport(ctx, result.reportFile);
    return verdictOf({ success: report.success, aborted: report.abortedBy !== undefined || result.phase === 'aborted', tiers: report.tiers.map((t) => ({ met: t.rtoMet })) });
  } catch {
    return null;
  }
}

/** Register the evacuation routes. */
export async function evacuationRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  // Open event streams end when the console closes, or they would hold its shutdown open.
  const server = { closing: false };
  app.addHook('preClose', async () => { server.closing = true; });
  // A closed run's verdict never changes: read once per run.
  const verdicts = new Map<string, Verdict | null>();
  app.get('/api/evacuations', async (req) => {
    ctx.requireRole(req, 'viewer');
    const list = await ctx.client.list();
    return {
      evacuations: await Promise.all(list.map(async (e) => {
        const key = `${e.evacuationId}@${e.runId}`;
        if (e.closedAt && !verdicts.has(key)) {
          const verdict = await verdictOfClosed(ctx, e.evacuationId, e.runId, e.status);
          if (verdict) verdicts.set(key, verdict);
        }
        const link = temporalUiLink(temporalUiOf(ctx), e.evacuationId);
        return { ...e, verdict: verdicts.get(key) ?? null, ...(link ? { temporalUrl: link } : {}) };
      })),
    };
  });

  app.post<{ Body: TriggerBody }>('/api/evacuations', async (req) => {
    const who = ctx.requireRole(req, 'viewer');
    const body = (req.body ?? {}) as TriggerBody;
    const asked = { sourceAz: body.sourceAz, targetAz: body.targetAz, mode: body.mode, reason: body.reason };
    try {
      if (who.role !== 'operator') ctx.requireRole(req, 'operator');
      if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, `body: not a JSON object. Fix: send {"sourceAz", "targetAz", "mode", "tiers", "confirm", "reason"} as application/json`);
      const { req: request, reason } = await triggerRequest(ctx, body, who);
      const started = await ctx.client.start(request, evacuationIdFor(request)).catch((err: unknown) => {
        // A different request under the same id is answered with what runs, not joined.
        if (err instanceof EvacuationRequestConflict) throw new HttpError(409, err.message);
        // The override is a deliberate CLI step (docs/on-call.md): say so where the press was made.
        if (err instanceof AzBusyError) {
          throw new HttpError(409, mayOverrideHold(request.mode)
            ? `${err.message}. The console does not override: to run beside it, use the CLI: az-evac evacuate --from ${request.sourceAz} --to ${request.targetAz} --mode emergency --override-running`
            : err.message);
        }
        throw err;
      });
      await ctx.audit(who, { action: 'evacuate', outcome: started.joined ? 'joined' : 'accepted', evacuationId: started.evacuationId, sourceAz: request.sourceAz, targetAz: request.targetAz, mode: request.mode, ...(request.scope ? { scope: request.scope } : {}), reason });
      return started;
    } catch (err) {
      if (err instanceof HttpError) await ctx.audit(who, { action: 'evacuate', outcome: 'rejected', ...asked, error: err.message });
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/api/evacuations/:id', async (req) => {
    ctx.requireRole(req, 'viewer');
    return progressViews(ctx)(await progressOf(ctx, req.params.id));
  });

  app.get<{ Params: { id: string } }>('/api/evacuations/:id/events', async (req, reply) => {
    ctx.requireRole(req, 'viewer');
    await streamProgress(ctx, req.params.id, req, reply, server);
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

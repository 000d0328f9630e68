/**
 * Console add-on for drills: list drills and rehearsal schedules (viewers), approve or
 * reject a drill's open approval gate and abort a drill (operators, audited), and a page
 * panel (console/public/drills.js) showing drills with approve / reject buttons.
 *
 * Routes: GET /api/drills, GET /api/drills/:id, GET /api/drills/:id/report.html, GET /api/schedules,
 * POST /api/drills/:id/approve { comment? }, POST /api/drills/:id/reject { reason },
 * POST /api/drills/:id/abort { reason }. A decision the drill refuses (no open gate, already
 * finished) answers 409 with the drill's reason; an unknown drill 404.
 */
import { fileURLToPath } from 'node:url';
import { DrillClient } from '../client/drill-client.js';
import { RehearsalSchedules } from '../client/rehearsal-schedules.js';
import type { DrillStatus } from '../domain/drill.js';
import { HttpError, type ConsolePlugin } from './context.js';
import { httpErrorOf } from './temporal-errors.js';

const PAGE_SCRIPT = fileURLToPath(new URL('./public/drills.js', import.meta.url));

/** Register the drill routes and page panel. */
export const drillRoutes: ConsolePlugin = async (app, ctx) => {
  const drills = await DrillClient.connect(ctx.settings);
  const schedules = new RehearsalSchedules(drills.client, ctx.settings.taskQueue, drills);
  app.addHook('onClose', async () => { await drills.close(); });
  ctx.addPageScript('drills.js', PAGE_SCRIPT);

  app.get('/api/drills', async (req) => {
    ctx.requireRole(req, 'viewer');
    return drills.list(20);
  });
  app.get<{ Params: { id: string } }>('/api/drills/:id', async (req) => {
    ctx.requireRole(req, 'viewer');
    try {
      return await drills.status(req.params.id);
    } catch (err) {
      throw httpErrorOf(err, `drill ${req.params.id}`);
    }
  });
  app.get<{ Params: { id: string } }>('/api/drills/:id/report.html', async (req, reply) => {
    ctx.requireRole(req, 'viewer');
    let status: DrillStatus;
    try {
      status = await drills.status(req.params.id);
    } catch (err) {
      throw httpErrorOf(err, `drill ${req.params.id}`);
    }
    if (!status.reportHtmlFile) throw new HttpError(409, `drill ${req.params.id} has no report yet (phase ${status.phase}); it is written when the drill ends`);
    return reply.type('text/html; charset=utf-8').send(await ctx.state.reports.read(status.reportHtmlFile));
  });
  app.get('/api/schedules', async (req) => {
    ctx.requireRole(req, 'viewer');
    return schedules.list();
  });

  for (const action of ['approve', 'reject', 'abort'] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: unknown; comment?: unknown } }>(`/api/drills/:id/${action}`, async (req) => {
      const who = ctx.requireRole(req, 'viewer');
      const id = req.params.id;
      const text = [req.body?.reason, req.body?.comment].find((v): v is string => typeof v === 'string')?.trim() ?? '';
      const entry = { action: `drill-${action}`, drillId: id, ...(text ? { reason: text } : {}) };
      try {
        if (who.role !== 'operator') ctx.requireRole(req, 'operator');
        if (action !== 'approve' && text.length < 3) throw new HttpError(400, `reason: missing reason. Fix: say why you ${action} (at least 3 characters; it goes to the drill record and the audit log)`);
        let status: DrillStatus;
        try {
          status = action === 'abort' ? await drills.abort(id, who.user, text)
            : await drills.decide(id, { decision: action, by: who.user, ...(text ? { comment: text } : {}) });
        } catch (err) {
          throw httpErrorOf(err, `drill ${id}`);
        }
        await ctx.audit(who, { ...entry, outcome: 'accepted', ...(status.evacuationId ? { evacuationId: status.evacuationId } : {}) });
        return status;
      } catch (err) {
        if (err instanceof HttpError) await ctx.audit(who, { ...entry, outcome: 'rejected', error: err.message });
        throw err;
      }
    });
  }
};

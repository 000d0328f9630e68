/**
 * Fleet routes: the fleet at a glance (catalog per AZ and tier, with the latest readiness
 * check of each AZ) and the plan of an evacuation (planner run by the worker's plan-preview
 * workflow; acts on nothing).
 */
import type { FastifyInstance } from 'fastify';
import { TIERS, type Catalog, type Tier } from '../../domain/types.js';
import { messageOf } from '../../domain/error-message.js';
import { EVACUATION_MODES, type EvacuationMode } from '../../domain/evacuation.js';
import { HttpError, type ConsoleContext } from '../context.js';
import { fleetView, planView, type PlanView } from '../fleet-view.js';

/**
 * The newest catalog in the state store the worker writes.
 * @throws HttpError 409 when none has been synced yet
 */
export async function latestCatalog(ctx: ConsoleContext): Promise<Catalog> {
  const catalog = await ctx.state.catalogs.latest();
  if (!catalog) throw new HttpError(409, 'no fleet catalog has been synced yet. Fix: run `az-evac catalog sync` first');
  return catalog;
}

/**
 * Check a source/target pair against the catalog's AZs.
 * @param fields the request's names of the two values (body keys or query parameters), named in the errors
 * @throws HttpError 400 `<field>: …` naming the unknown AZ (and the known ones) or the identical pair
 */
export function checkAzPair(catalog: Catalog, sourceAz: unknown, targetAz: unknown, fields = { sourceAz: 'sourceAz', targetAz: 'targetAz' }): { sourceAz: string; targetAz: string } {
  const known = catalog.platform.azs.map((a) => a.name);
  for (const [field, what, az] of [[fields.sourceAz, 'failed AZ', sourceAz], [fields.targetAz, 'target AZ', targetAz]] as const) {
    if (typeof az !== 'string' || !known.includes(az)) throw new HttpError(400, `${field}: unknown ${what} ${JSON.stringify(az) ?? 'missing'}. Fix: use one of ${known.join(', ')}`);
  }
  if (sourceAz === targetAz) throw new HttpError(400, `${fields.targetAz}: the failed AZ and the target are both ${String(sourceAz)}. Fix: choose a different, surviving target AZ`);
  return { sourceAz: sourceAz as string, targetAz: targetAz as string };
}

/**
 * The tiers of a trigger's or a plan preview's scope: absent, empty or every tier means no restriction.
 * @throws HttpError 400 `tiers: …` naming the unknown tier and the known ones
 */
export function tiersScope(tiers: unknown): Tier[] | undefined {
  if (tiers === undefined || tiers === null) return undefined;
  if (!Array.isArray(tiers)) throw new HttpError(400, `tiers: ${JSON.stringify(tiers)} is not a list. Fix: send a list of tiers, e.g. ["P0","P1"], or leave it out for every tier`);
  for (const t of tiers) if (!TIERS.includes(t as Tier)) throw new HttpError(400, `tiers: unknown tier ${JSON.stringify(t)}. Fix: use ${TIERS.join(', ')}`);
  const chosen = TIERS.filter((t) => tiers.includes(t));
  if (chosen.length === 0) throw new HttpError(400, 'tiers: no tier chosen. Fix: choose at least one tier, or leave tiers out for every tier');
  return chosen.length === TIERS.length ? undefined : chosen;
}

/** Register GET /api/fleet and GET /api/plan. */
export async function fleetRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const readiness = new Map<string, PlanView & { checkedAt: string }>();
  const plans = ctx.state.evacuations;

  app.get('/api/fleet', async (req) => {
    ctx.requireRole(req, 'viewer');
    const catalog = await latestCatalog(ctx);
    const view = fleetView(catalog);
    return {
      ...view,
      azs: view.azs.map((a) => {
        const r = readiness.get(a.az);
        return { ...a, readiness: r ? { targetAz: r.targetAz, checkedAt: r.checkedAt, findings: r.findings.count, blocking: r.findings.blocking, byCode: r.findings.byCode, notAdmitted: r.notAdmitted.count, preemptions: r.preemptions.count, rpoNow: r.rpoNow?.tiers ?? null } : null };
      }),
    };
  });

  app.get<{ Querystring: { from?: string; to?: string; mode?: string; tiers?: string } }>('/api/plan', async (req) => {
    ctx.requireRole(req, 'viewer');
    const catalog = await latestCatalog(ctx);
    const { sourceAz, targetAz } = checkAzPair(catalog, req.query.from, req.query.to, { sourceAz: 'from', targetAz: 'to' });
    const mode = req.query.mode ?? 'emergency';
    if (!EVACUATION_MODES.includes(mode as EvacuationMode)) throw new HttpError(400, `mode: unknown mode ${JSON.stringify(mode)}. Fix: use one of ${EVACUATION_MODES.join(', ')}`);
    const tiers = tiersScope(req.query.tiers === undefined ? undefined : req.query.tiers.split(',').filter(Boolean));
    const planId = `az-evac-plan-${sourceAz}-to-${targetAz}-${Date.now()}`;
    try {
      await ctx.client.planPreview({ sourceAz, targetAz, mode: mode as EvacuationMode, ...(tiers ? { scope: { tiers } } : {}) }, planId);
    } catch (err) {
      throw new HttpError(502, `planning ${sourceAz} → ${targetAz} failed: ${messageOf(err)}`);
    }
    const view = planView((await plans.getPlan(planId)).plan);
    // The fleet's readiness column is the whole AZ's emergency evacuation, not a narrower preview.
    if (mode === 'emergency' && !tiers) readiness.set(sourceAz, { ...view, checkedAt: new Date().toISOString() });
    return view;
  });
}

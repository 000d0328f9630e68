/**
 * What each az-evac workflow and activity says about itself in the Temporal UI: the one-line
 * static summary (and, for workflows, the static details) set when it is started, so the UI
 * reads like the report ("P1 job shop/orders-enrich: resume its standby in az-b"). Pure text
 * from ids, AZs, tiers and strategies; Temporal renders summaries as single-line markdown.
 * Source: the SDK's CommonWorkflowOptions.staticSummary / staticDetails and
 * ActivityOptions.summary (@temporalio/common 1.24), stored as the start command's user metadata.
 */
import { stopsWithSavepoint, type EvacuationMode } from './evacuation.js';
import type { Runbook } from './runbook.js';
import type { Strategy, Tier } from './types.js';

/**
 * How a job is moved, as the report says it, by strategy.
 * @param stopFirst a planned move or drill: the source is stopped with a savepoint first and the job restored from it
 */
function moveText(strategy: Strategy, stopFirst: boolean, sourceAz: string, targetAz: string): string {
  const from = stopFirst ? 'that savepoint' : 'its newest replicated snapshot';
  const how = {
    'promote-standby': `promote its hot standby in ${targetAz}`,
    'resume-standby': `resume its standby in ${targetAz} from ${from}`,
    redeploy: `redeploy into ${targetAz} from ${from}`,
  }[strategy];
  return `${stopFirst ? `stop with a savepoint in ${sourceAz}, then ` : ''}${how}`;
}

/** Evacuation: `emergency evacuation az-a → az-b`. */
export function evacuationSummary(o: { mode: EvacuationMode; sourceAz: string; targetAz: string }): string {
  return `${o.mode} evacuation ${o.sourceAz} → ${o.targetAz}`;
}

/** Evacuation details: who asked, scope, catalog version (markdown lines). */
export function evacuationDetails(o: { requestedBy?: string; scope?: { tiers?: Tier[]; teams?: string[]; jobs?: string[] }; catalogVersion?: number; preload?: boolean }): string {
  const scope = o.scope ? [o.scope.tiers && `tiers ${o.scope.tiers.join(', ')}`, o.scope.teams && `teams ${o.scope.teams.join(', ')}`, o.scope.jobs && `${o.scope.jobs.length} named job(s)`].filter(Boolean).join('; ') : '';
  return [
    `Requested by: ${o.requestedBy ?? 'unknown'}`,
    `Scope: ${scope || 'every job of the source AZ'}`,
    `Catalog: ${o.catalogVersion === undefined ? 'newest' : `v${o.catalogVersion}`}`,
    `Jar preload: ${o.preload === false ? 'off' : 'on'}`,
  ].join('\n');
}

/** Tier: `P1 of <evacuation>: 120 jobs into az-b, RTO target 30 s`. */
export function tierSummary(o: { tier: Tier; evacuationId: string; jobs: number; targetAz: string; rtoTargetSeconds: number }): string {
  return `${o.tier} of ${o.evacuationId}: ${o.jobs} job(s) into ${o.targetAz}, RTO target ${o.rtoTargetSeconds} s`;
}

/** Shard: `P2 shard 2/4 of <evacuation>: 125 jobs, 20 at once`. */
export function shardSummary(o: { tier: Tier; evacuationId: string; shard: number; shards: number; jobs: number; slots: number }): string {
  return `${o.tier} shard ${o.shard + 1}/${o.shards} of ${o.evacuationId}: ${o.jobs} job(s), ${o.slots} at once`;
}

/** Job: `P1 job shop/orders-enrich: resume its standby in az-b from its newest replicated snapshot`. */
export function jobSummary(o: { tier: Tier; key: string; strategy: Strategy; mode: EvacuationMode; sourceAz: string; targetAz: string }): string {
  return `${o.tier} job ${o.key}: ${moveText(o.strategy, stopsWithSavepoint(o.mode), o.sourceAz, o.targetAz)}`;
}

/** Fencing follow-up: `fence az-a's source copies of <evacuation> when az-a answers`. */
export function fencingSummary(o: { evacuationId: string; sourceAz: string }): string {
  return `fence ${o.sourceAz}'s source copies of ${o.evacuationId} when ${o.sourceAz} answers`;
}

/** Drill: `drill nightly: az-a → az-b, 6 steps`. */
export function drillSummary(r: Pick<Runbook, 'name' | 'sourceAz' | 'targetAz' | 'steps'>): string {
  return `drill ${r.name}: ${r.sourceAz} → ${r.targetAz}, ${r.steps.length} step(s)`;
}

/** Drill details: the runbook file, who started it, its steps in order. */
export function drillDetails(o: { runbookFile: string; requestedBy: string; stepKinds: string[] }): string {
  return [`Runbook: ${o.runbookFile}`, `Requested by: ${o.requestedBy}`, `Steps: ${o.stepKinds.map((k, i) => `${i + 1}. ${k}`).join(', ')}`].join('\n');
}

/** Failback: `fail back <evacuation>: its jobs back into their source AZ`. */
export function failbackSummary(evacuationId: string): string {
  return `fail back ${evacuationId}: its jobs back into their source AZ`;
}

/** Plan preview: `plan (acting on nothing) drill az-a → az-b`. */
export function planSummary(o: { mode: EvacuationMode; sourceAz: string; targetAz: string }): string {
  return `plan (acting on nothing) ${o.mode} ${o.sourceAz} → ${o.targetAz}`;
}

/** Catalog sync. */
export const CATALOG_SYNC_SUMMARY = 'catalog sync: read the live fleet, store the next catalog version';

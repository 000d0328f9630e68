/**
 * One evacuation at a time per AZ. Every evacuation and drill holds each AZ it touches (its
 * source and its target) for as long as it runs; a drill or a rehearsal never starts while
 * another evacuation or drill holds one of its AZs, and a second emergency on an AZ that is
 * held needs an explicit override, because the capacity plan of the one running assumed it
 * was alone. The hold is a Temporal workflow per AZ and deployment with a fixed id (azHoldWorkflowId):
 * Temporal runs at most one execution per workflow id, so two starts at the same instant
 * cannot both take an AZ (workflows/az-hold.ts). This module is the pure part: ids, who
 * holds, when an override is allowed and the refusal text.
 */
import type { EvacuationMode } from './evacuation.js';

/** Who holds an AZ: the evacuation, drill or failback (of a real evacuation) that runs on it. */
export interface AzHolder {
  /** Workflow id of the holding evacuation (its evacuation id) or drill (its drill id). */
  workflowId: string;
  kind: 'evacuation' | 'drill' | 'failback';
  mode: EvacuationMode;
  sourceAz: string;
  targetAz: string;
  /** When it took the hold, epoch milliseconds. */
  sinceMs: number;
  /** Who asked for it (CLI user, console user, schedule), when known. */
  requestedBy?: string;
}

/**
 * Workflow id of the hold on `az` within one az-evac deployment (its task queue, as `list`
 * counts deployments): `az-evac-hold/<taskQueue>/<az>`.
 */
export function azHoldWorkflowId(taskQueue: string, az: string): string {
  return `az-evac-hold/${taskQueue}/${az}`;
}

/** The AZs an evacuation or drill holds, in the one order every taker uses (sorted, so two takers never wait on each other in a cycle). */
export function azsToHold(holder: Pick<AzHolder, 'sourceAz' | 'targetAz'>): string[] {
  return [...new Set([holder.sourceAz, holder.targetAz])].sort();
}

/**
 * Whether a start in `mode` may run beside the evacuation or drill that holds one of its AZs,
 * when the person asked for it explicitly. Only an emergency may: the source AZ is gone and
 * waiting is not an option. A drill, a rehearsal or a planned move waits its turn.
 */
export function mayOverrideHold(mode: EvacuationMode): boolean {
  return mode === 'emergency';
}

/**
 * The refusal of a start because `az` is held, naming the one that holds it and the fix.
 * @param mine what was to start
 * @param holder the running holder, or undefined when it did not say in time
 * @param holdId workflow id of the hold (azHoldWorkflowId), named when the holder is unknown
 */
export function azBusyMessage(mine: Pick<AzHolder, 'kind' | 'mode' | 'sourceAz' | 'targetAz'>, az: string, holder: AzHolder | undefined, holdId: string): string {
  const what = `${kindText(mine)} ${mine.sourceAz} → ${mine.targetAz}`;
  const who = holder
    ? `${kindText(holder)} ${holder.workflowId} (${holder.sourceAz} → ${holder.targetAz}, running since ${new Date(holder.sinceMs).toISOString()}${holder.requestedBy ? `, requested by ${holder.requestedBy}` : ''})`
    : `the evacuation or drill behind workflow ${holdId}`;
  const fix = mayOverrideHold(mine.mode)
    ? `wait for it to end (az-evac status ${holder?.workflowId ?? '<id>'}), abort it, or run beside it with --override-running (the running one's capacity plan did not count on yours)`
    : `wait for it to end (az-evac list shows it) or abort it, then start again`;
  return `${what} refused: ${az} is in use by ${who}. Fix: ${fix}`;
}

/** `drill`, `failback` or `<mode> evacuation`. */
function kindText(h: Pick<AzHolder, 'kind' | 'mode'>): string {
  return h.kind === 'evacuation' ? `${h.mode} evacuation` : h.kind;
}

/**
 * Plan preview: run the planner against the current catalog and platform and store the
 * plan, acting on nothing (`az-evac plan`, `evacuate --dry-run`).
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { searchAttributesOf } from './search-attributes.js';
import type { EvacuationInput, PlanSummary } from '../domain/evacuation.js';

type Activities = ReturnType<typeof createActivities>;

const { planEvacuation } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '60s',
  retry: { initialInterval: '1s', maximumInterval: '15s', maximumAttempts: 3 },
});

/** Plan without acting; the full plan is stored under `input.evacuationId`. */
export async function planPreview(input: EvacuationInput): Promise<PlanSummary> {
  upsertSearchAttributes(searchAttributesOf({ kind: 'plan', run: input.evacuationId, mode: input.mode, sourceAz: input.sourceAz, targetAz: input.targetAz }));
  return planEvacuation.executeWithOptions({ summary: `plan ${input.mode} ${input.sourceAz} → ${input.targetAz} without acting` }, [input]);
}

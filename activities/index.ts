/**
 * All activities of az-evac, built over injected ports. The worker (composition root)
 * calls createActivities(deps); workflows import `typeof createActivities` as a type only.
 */
import type { ActivityDeps } from './deps.js';
import { createCatalogActivities } from './catalog-sync.js';
import { createDrillActivities } from './drill.js';
import { createFailbackActivities } from './failback.js';
import { createFencingActivities } from './fencing.js';
import { createJarActivities } from './jars.js';
import { createJobBatchActivities } from './job-batch.js';
import { createJobSteps } from './job-steps.js';
import { createPlanActivities } from './plan.js';
import { createPlannedStopActivities } from './planned-stop.js';
import { createProtectionActivities } from './protect.js';
import { createProtectionPassActivities } from './protection-pass.js';
import { createReportActivities } from './report.js';
import { JarStager } from './jar-stager.js';

/** Every activity, keyed by the name workflows call it by. */
export function createActivities(deps: ActivityDeps) {
  const jars = new JarStager(deps.objects);
  const steps = createJobSteps(deps, jars);
  const planned = createPlannedStopActivities(deps);
  return {
    ...createCatalogActivities(deps),
    ...createPlanActivities(deps),
    ...createJarActivities(deps, jars),
    ...steps,
    ...planned,
    ...createJobBatchActivities(deps, steps, planned),
    ...createReportActivities(deps),
    ...createDrillActivities(deps),
    ...createFencingActivities(deps),
    ...createFailbackActivities(deps),
    ...createProtectionActivities(deps),
    ...createProtectionPassActivities(deps),
  };
}

export type { ActivityDeps } from './deps.js';

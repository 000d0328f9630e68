/**
 * All activities of az-evac, built over injected ports. The worker (composition root)
 * calls createActivities(deps); workflows import `typeof createActivities` as a type only.
 */
import type { ActivityDeps } from './deps.js';
import { createCatalogActivities } from './catalog-sync.js';
import { createJarActivities } from './jars.js';
import { createJobSteps } from './job-steps.js';
import { createPlanActivities } from './plan.js';
import { createReportActivities } from './report.js';

/** Every activity, keyed by the name workflows call it by. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createCatalogActivities(deps),
    ...createPlanActivities(deps),
    ...createJarActivities(deps),
    ...createJobSteps(deps),
    ...createReportActivities(deps),
  };
}

export type { ActivityDeps } from './deps.js';

/** Workflow entry points registered with the worker (workflowsPath points here). */
export { evacuateAz } from './evacuate-az.js';
export { evacuateTier } from './tier.js';
export { evacuateJob } from './job.js';
export { syncCatalogWorkflow } from './catalog-sync.js';
export { planPreview } from './plan-preview.js';
export { evacuateTierShard } from './tier-shard.js';
export { drill } from './drill.js';
export { fenceSourceAz } from './fence-source.js';
export { failbackDrill } from './failback.js';
export { failbackShard } from './failback-shard.js';
export { azHold } from './az-hold.js';
export { protectFleet, protectionStatus } from './protect.js';
export { protectShard } from './protect-shard.js';

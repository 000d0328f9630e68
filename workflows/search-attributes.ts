/**
 * The typed custom search attributes az-evac sets on every workflow it starts, so the
 * Temporal UI and `temporal workflow list` find them by run, kind, tier, job, mode and AZs
 * (`AzEvacRun = 'az-evac-emergency-az-a-to-az-b' AND AzEvacTier = 'P1'`). Clients and parent
 * workflows set them at start (typedSearchAttributes); the workflows a client starts also
 * upsert theirs on their first task. Used by workflows and clients: imports only
 * @temporalio/common. The namespace must have them (client/search-attributes.ts: `az-evac
 * setup temporal` creates SEARCH_ATTRIBUTES, the worker checks them at start).
 * Source: defineSearchAttributeKey / SearchAttributePair (@temporalio/common 1.24),
 * https://docs.temporal.io/search-attribute.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/** Every az-evac search attribute, all Keyword. */
export const SEARCH_ATTRIBUTE_KEYS = {
  sourceAz: defineSearchAttributeKey('AzEvacSourceAz', SearchAttributeType.KEYWORD),
  targetAz: defineSearchAttributeKey('AzEvacTargetAz', SearchAttributeType.KEYWORD),
  mode: defineSearchAttributeKey('AzEvacMode', SearchAttributeType.KEYWORD),
  tier: defineSearchAttributeKey('AzEvacTier', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('AzEvacKind', SearchAttributeType.KEYWORD),
  job: defineSearchAttributeKey('AzEvacJob', SearchAttributeType.KEYWORD),
  run: defineSearchAttributeKey('AzEvacRun', SearchAttributeType.KEYWORD),
} as const;

/** What a workflow is (AzEvacKind). */
export type WorkflowKind = 'evacuation' | 'tier' | 'shard' | 'job' | 'fencing' | 'drill' | 'failback' | 'failback-shard' | 'plan' | 'catalog-sync' | 'az-hold' | 'protection';

/** A workflow's tags; absent ones are not set. */
export interface WorkflowTags {
  kind: WorkflowKind;
  /** The evacuation id the workflow belongs to (a drill: its evacuation's; a plan preview: its plan id). */
  run?: string;
  mode?: string;
  sourceAz?: string;
  targetAz?: string;
  tier?: string;
  /** Job key `namespace/name`. */
  job?: string;
}

/** The typed attributes of `tags`, for typedSearchAttributes at start or the typed upsertSearchAttributes. */
export function searchAttributesOf(tags: WorkflowTags): SearchAttributePair[] {
  const k = SEARCH_ATTRIBUTE_KEYS;
  const pairs: SearchAttributePair[] = [{ key: k.kind, value: tags.kind }];
  for (const name of ['run', 'mode', 'sourceAz', 'targetAz', 'tier', 'job'] as const) {
    const value = tags[name];
    if (value !== undefined) pairs.push({ key: k[name], value });
  }
  return pairs;
}

/**
 * The custom search attributes az-evac's workflows carry (workflows/search-attributes.ts: set
 * at start by clients and parent workflows, upserted by the workflows a client starts): they
 * let operators and the console list evacuations, drills, tiers, jobs and fencing by run, AZ,
 * mode, tier and kind (`AzEvacSourceAz = 'az-a' AND AzEvacKind = 'evacuation'`). A start or
 * upsert naming an attribute its namespace does not have fails ("search attribute ... is not
 * defined"), so on a real cluster they must exist before the first evacuation:
 * `az-evac setup temporal` creates them through the operator service, and the worker checks
 * them at start (worker/build.ts). The dev server gets them from scripts/temporal.sh.
 *
 * Sources: custom search attributes, https://docs.temporal.io/search-attribute; creating them
 * on a self-hosted service (operator service, `temporal operator search-attribute create`) and
 * on Temporal Cloud (`tcld namespace search-attributes add`),
 * https://docs.temporal.io/self-hosted-guide/visibility/custom-search-attributes.
 */
import proto from '@temporalio/proto'; // CommonJS: no named ESM exports at run time
import { SEARCH_ATTRIBUTE_KEYS, searchAttributesOf } from '../workflows/search-attributes.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;
type OperatorService = proto.temporal.api.operatorservice.v1.OperatorService;

export { SEARCH_ATTRIBUTE_KEYS };

/**
 * Every custom search attribute az-evac uses, by name, with its Temporal type: those of
 * SEARCH_ATTRIBUTE_KEYS (all Keyword). Keep in sync with scripts/temporal.sh (a unit test checks).
 */
export const SEARCH_ATTRIBUTES: Readonly<Record<string, 'Keyword'>> = Object.fromEntries(Object.values(SEARCH_ATTRIBUTE_KEYS).map((k) => [k.name, ({ KEYWORD: 'Keyword' } as const)[k.type]]));

/**
 * The attributes a client sets when it starts an evacuation or drill: the same values the
 * workflow upserts on its first task, so visibility (the list, the Temporal UI) shows kind,
 * run, mode and AZs of a run even before a worker has picked it up.
 * @param run the evacuation id (a drill: its evacuation's id)
 */
export function startSearchAttributes(a: { kind: 'evacuation' | 'drill'; run: string; mode: string; sourceAz: string; targetAz: string }) {
  return searchAttributesOf(a);
}

/** The command that creates the attributes (the fix in every message here). */
export const SETUP_COMMAND = 'az-evac setup temporal';

const TYPE_VALUE = { Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } as const;

function typeName(v: number | null | undefined): string {
  const name = v === null || v === undefined ? undefined : IndexedValueType[v];
  return name ? name.replace('INDEXED_VALUE_TYPE_', '').toLowerCase().replace(/^./, (c) => c.toUpperCase()).replace('list', 'List') : 'unknown';
}

/**
 * The namespace has an az-evac search attribute with another type: az-evac does not overwrite
 * it (the fix, removing it, is the operator's). Its own class so the CLI reports it as a
 * setting to fix (exit 2), not as an unexpected error.
 */
export class SearchAttributeTypeMismatch extends Error {
  override readonly name = 'SearchAttributeTypeMismatch';
}

/** What a namespace lacks: attributes that are missing, and ones that exist with another type. */
export interface SearchAttributeGaps {
  missing: string[];
  wrongType: { name: string; has: string; wants: string }[];
}

/** gRPC status code of an error from either connection kind (NOT_FOUND 5, PERMISSION_DENIED 7, UNIMPLEMENTED 12, UNAUTHENTICATED 16), or undefined. */
function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Error for a failed operator call, naming the namespace and the fix.
 * @param where the connection, as describeTemporal() prints it
 */
function operatorError(err: unknown, namespace: string, where: string, what: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  const code = grpcCode(err);
  if (code === 5) {
    return new Error(`Temporal namespace ${JSON.stringify(namespace)} does not exist (${where}): ${message}. Fix: create it (temporal operator namespace create --namespace ${namespace}; on Temporal Cloud in the Cloud UI or with tcld), or set AZ_EVAC_TEMPORAL_NAMESPACE / TEMPORAL_NAMESPACE to an existing one`, { cause: err });
  }
  if (code === 7 || code === 16) {
    return new Error(`Temporal refused to ${what} in namespace ${namespace} (${where}): ${message}. Fix: use credentials (TEMPORAL_API_KEY or an mTLS certificate) allowed to ${what}; on Temporal Cloud create the attributes with tcld namespace search-attributes add (docs/temporal.md)`, { cause: err });
  }
  return new Error(`cannot ${what} in Temporal namespace ${namespace} (${where}): ${message}`, { cause: err });
}

/**
 * Which of SEARCH_ATTRIBUTES the namespace lacks.
 * @param where the connection, for messages (describeTemporal)
 * @throws Error naming the namespace and the fix when it does not exist or the credentials may not list attributes
 */
export async function searchAttributeGaps(operator: OperatorService, namespace: string, where: string): Promise<SearchAttributeGaps> {
  let custom: Record<string, number>;
  try {
    custom = ((await operator.listSearchAttributes({ namespace })).customAttributes ?? {}) as Record<string, number>;
  } catch (err) {
    throw operatorError(err, namespace, where, 'list search attributes');
  }
  const gaps: SearchAttributeGaps = { missing: [], wrongType: [] };
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    if (!(name in custom)) gaps.missing.push(name);
    else if (custom[name] !== TYPE_VALUE[type]) gaps.wrongType.push({ name, has: typeName(custom[name]), wants: type });
  }
  return gaps;
}

/** One line per wrong type: `AzEvacMode is Text, az-evac needs Keyword`. */
function wrongTypeText(gaps: SearchAttributeGaps): string {
  return gaps.wrongType.map((w) => `${w.name} is ${w.has}, az-evac needs ${w.wants}`).join('; ');
}

/**
 * The worker's start check: every attribute exists with its type, or one Error naming the
 * missing ones and the fix (`az-evac setup temporal`).
 * @throws SearchAttributeTypeMismatch for one of another type; Error for missing ones; searchAttributeGaps' errors
 */
export async function checkSearchAttributes(operator: OperatorService, namespace: string, where: string): Promise<void> {
  const gaps = await searchAttributeGaps(operator, namespace, where);
  if (gaps.wrongType.length) {
    throw new SearchAttributeTypeMismatch(`Temporal namespace ${namespace} (${where}) has az-evac's search attributes with the wrong type: ${wrongTypeText(gaps)}. Fix: remove them (temporal operator search-attribute remove) and run \`${SETUP_COMMAND}\``);
  }
  if (gaps.missing.length) {
    throw new Error(`Temporal namespace ${namespace} (${where}) lacks the search attributes az-evac's workflows set: ${gaps.missing.join(', ')} (every evacuation would fail its first workflow task). Fix: run \`${SETUP_COMMAND}\` with the same Temporal settings`);
  }
}

/** What setup did. */
export interface SetupResult {
  created: string[];
  existing: string[];
}

/**
 * Create the missing attributes (idempotent: existing ones are left alone), then wait until
 * the namespace lists all of them (a cluster's frontends pick new attributes up from the
 * namespace registry, which they refresh every few seconds).
 * @param waitMs how long to wait for the new attributes to be listed, milliseconds
 * @throws SearchAttributeTypeMismatch naming the attribute and the fix when one exists with another type; operatorError's errors;
 * an Error when they are still not listed after waitMs
 */
export async function setupSearchAttributes(operator: OperatorService, namespace: string, where: string, waitMs = 30_000): Promise<SetupResult> {
  const gaps = await searchAttributeGaps(operator, namespace, where);
  if (gaps.wrongType.length) {
    throw new SearchAttributeTypeMismatch(`Temporal namespace ${namespace} (${where}) already has ${wrongTypeText(gaps)}. Fix: remove them (temporal operator search-attribute remove --name N) and run \`${SETUP_COMMAND}\` again`);
  }
  const existing = Object.keys(SEARCH_ATTRIBUTES).filter((n) => !gaps.missing.includes(n));
  if (gaps.missing.length === 0) return { created: [], existing };
  const searchAttributes = Object.fromEntries(gaps.missing.map((n) => [n, TYPE_VALUE[SEARCH_ATTRIBUTES[n]!]]));
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // ALREADY_EXISTS (6): another setup ran at the same time; the wait below confirms.
    if (grpcCode(err) !== 6) throw operatorError(err, namespace, where, 'add search attributes');
  }
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = await searchAttributeGaps(operator, namespace, where);
    if (left.missing.length === 0 && left.wrongType.length === 0) return { created: gaps.missing, existing };
    if (Date.now() > deadline) {
      throw new Error(`added ${gaps.missing.join(', ')} to Temporal namespace ${namespace} (${where}) but after ${waitMs / 1000} s it still lacks ${left.missing.join(', ') || wrongTypeText(left)}. Fix: check the server's log (visibility store) and run \`${SETUP_COMMAND}\` again`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

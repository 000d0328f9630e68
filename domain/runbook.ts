/**
 * Drill runbooks: a YAML file describing a drill as an ordered list of steps (readiness
 * check, approval gate, fault injection, evacuation, verification, failback, report).
 * Pure: parses and validates text; reading the file is the caller's job.
 *
 * Like tiers.yaml (tiers-policy.ts), three passes each report every problem at once as a
 * ConfigValidationError `<file>: <key path>: <problem>. Fix: <fix>`: YAML syntax, the JSON
 * schema below (ajv), then the rules a schema cannot say (step order, one evacuation,
 * faults against the source AZ, evacuation mode vs a downed source AZ).
 *
 * Example (runbooks/full-az-drill.sim.yaml):
 *
 *   name: full-az-drill
 *   sourceAz: az-a
 *   targetAz: az-b
 *   steps:
 *     - readiness: { maxBlockingFindings: 0 }
 *     - approval: { prompt: "Take az-a down?", timeoutSeconds: 900 }
 *     - fault: { simulator: { azDown: az-a } }
 *     - evacuate: { mode: emergency }
 *     - verify: { requireCheckpointWithinSeconds: 600 }
 *     - failback: {}
 *     - report: {}
 */
import { Ajv } from 'ajv';
import { TIERS, type Tier } from './types.js';
import { ajvIssues, throwIfIssues, type ValidationIssue } from './validation-error.js';
import { parseYamlText } from './yaml-text.js';

/** Readiness gate: plan the evacuation without acting; fail when findings exceed the limits. */
export interface ReadinessStep {
  /** Most readiness findings of any kind allowed (default: no limit). */
  maxFindings?: number;
  /** Most blocking findings (jobs that would fail before acting) allowed (default 0). */
  maxBlockingFindings?: number;
  /** Most in-scope jobs the target AZ cannot take allowed (default: no limit). */
  maxNotAdmitted?: number;
}

/** Manual approval gate: waits for approve/reject (console or `az-evac drill approve|reject`). */
export interface ApprovalStep {
  /** What the approver is asked. */
  prompt: string;
  /** Seconds (wall) to wait; no decision in time rejects the drill. */
  timeoutSeconds: number;
}

/**
 * Fault injection. `simulator.azDown` takes an AZ of the simulator down (its API server and
 * object store stop answering, jobs freeze); `hook` runs a command on the worker host on a
 * real platform (argv, no shell), and its `teardown` at cleanup.
 */
export type FaultStep =
  | { simulator: { azDown: string } }
  | { hook: { command: string[]; teardown?: string[]; timeoutSeconds?: number } };

/** The evacuation of the drill (a child evacuateAz workflow). */
export interface EvacuateStep {
  /**
   * `drill` (default): the source AZ answers: each job is fenced (suspended) there before it
   * starts in the target (planned semantics are not used by drills yet: domain/evacuation.ts);
   * `emergency`: it does not (needed after an azDown fault): jobs restore their newest replicated snapshot.
   */
  mode?: 'drill' | 'emergency';
  tiers?: Tier[];
  teams?: string[];
  /** Job keys `namespace/name` or bare names. */
  jobs?: string[];
  /** Preload jars into the target AZ first (default true). */
  preload?: boolean;
}

/** Targets the evacuation is verified against. */
export interface VerifyStep {
  /** RTO target per tier, model seconds (default: tiers.yaml's rtoSeconds). */
  rtoSeconds?: Partial<Record<Tier, number>>;
  /** Worst RPO allowed over every tier, model seconds (default: each tier's rpoSeconds). */
  maxRpoSeconds?: number;
  /** Every admitted P0–P2 job must end RUNNING in the target AZ (default true). */
  requireRunning?: boolean;
  /** Each moved job must complete a checkpoint in the target AZ within this many model seconds after RUNNING (default 600; 0 = do not check). */
  requireCheckpointWithinSeconds?: number;
}

/** Failback: restore faults, wait for the source AZ, move the drilled jobs back from fresh savepoints. */
export interface FailbackStep {
  /** Wall seconds to wait for the source AZ's API to answer again (default 600). */
  sourceAzTimeoutSeconds?: number;
}

/** The report step (written at the end of every drill; the step says where it stands in the order). */
export type ReportStep = Record<string, never>;

/** One step of a runbook: exactly one key naming its kind. */
export type RunbookStep =
  | { readiness: ReadinessStep }
  | { approval: ApprovalStep }
  | { fault: FaultStep }
  | { evacuate: EvacuateStep }
  | { verify: VerifyStep }
  | { failback: FailbackStep }
  | { report: ReportStep };

/** Kinds of step, in the order a typical drill uses them. */
export const STEP_KINDS = ['readiness', 'approval', 'fault', 'evacuate', 'verify', 'failback', 'report'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** A parsed, valid runbook. */
export interface Runbook {
  /** `[a-z0-9-]`, ≤ 40 characters: used in drill and schedule ids. */
  name: string;
  description?: string;
  sourceAz: string;
  targetAz: string;
  steps: RunbookStep[];
}

/** The kind of a step (its one key). */
export function stepKind(step: RunbookStep): StepKind {
  return Object.keys(step)[0] as StepKind;
}

const AZ = { type: 'string', minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'an AZ name such as az-a' } as const;
const SECONDS = { type: 'number', exclusiveMinimum: 0 } as const;
const COUNT = { type: 'integer', minimum: 0 } as const;
const ARGV = { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } as const;
const strictObject = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;

const STEP_SCHEMAS: Record<StepKind, unknown> = {
  readiness: strictObject({ maxFindings: COUNT, maxBlockingFindings: COUNT, maxNotAdmitted: COUNT }),
  approval: strictObject({ prompt: { type: 'string', minLength: 1 }, timeoutSeconds: SECONDS }, ['prompt', 'timeoutSeconds']),
  fault: {
    type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
    properties: {
      simulator: strictObject({ azDown: AZ }, ['azDown']),
      hook: strictObject({ command: ARGV, teardown: ARGV, timeoutSeconds: SECONDS }, ['command']),
    },
  },
  evacuate: strictObject({
    mode: { enum: ['drill', 'emergency'] },
    tiers: { type: 'array', minItems: 1, items: { enum: [...TIERS] } },
    teams: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    jobs: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    preload: { type: 'boolean' },
  }),
  verify: strictObject({
    rtoSeconds: strictObject(Object.fromEntries(TIERS.map((t) => [t, SECONDS]))),
    maxRpoSeconds: SECONDS,
    requireRunning: { type: 'boolean' },
    requireCheckpointWithinSeconds: { type: 'number', minimum: 0 },
  }),
  failback: strictObject({ sourceAzTimeoutSeconds: SECONDS }),
  report: strictObject({}),
};

/** JSON schema (draft-07, for ajv) of a runbook file. */
export const RUNBOOK_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceAz', 'targetAz', 'steps'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$', description: 'lower-case letters, digits and -, at most 40 characters, e.g. full-az-drill' },
    description: { type: 'string' },
    sourceAz: AZ,
    targetAz: AZ,
    steps: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: STEP_SCHEMAS },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, verbose: true }).compile(RUNBOOK_SCHEMA);

/**
 * Parses and validates runbook text.
 *
 * @param text YAML text of the runbook
 * @param file the file name used in error messages, e.g. `runbooks/p3-canary.yaml`
 * @returns the typed runbook (steps as written)
 * @throws ConfigValidationError listing every problem as `<file>: <key path>: <problem>. Fix: <fix>`
 */
export function parseRunbook(text: string, file: string): Runbook {
  const data = parseYamlText(text, file);
  if (!validate(data)) throwIfIssues(file, stepShapeIssues(data, ajvIssues(validate.errors ?? [])));
  const runbook = data as Runbook;
  throwIfIssues(file, runbookRuleIssues(runbook));
  return runbook;
}

/** A step with no key or two keys gets one message saying what a step looks like. */
function stepShapeIssues(data: unknown, issues: ValidationIssue[]): ValidationIssue[] {
  const steps = data !== null && typeof data === 'object' ? (data as { steps?: unknown }).steps : undefined;
  return issues.map((i) => {
    const m = /^steps\[(\d+)\]$/.exec(i.path);
    if (!m || !Array.isArray(steps) || !/NOT have (more|fewer) than/.test(i.message)) return i;
    const keys = Object.keys((steps[Number(m[1])] ?? {}) as object);
    return {
      path: i.path,
      message: keys.length === 0 ? 'a step needs one key naming its kind' : `a step has exactly one key naming its kind, got ${keys.join(', ')}`,
      fix: `write the step as '- <kind>: {...}' with kind one of ${STEP_KINDS.join(', ')}`,
    };
  });
}

/** Rules across steps that the schema cannot express. */
export function runbookRuleIssues(rb: Runbook): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const kinds = rb.steps.map(stepKind);
  const at = (k: StepKind): number[] => kinds.flatMap((x, i) => (x === k ? [i] : []));
  if (rb.sourceAz === rb.targetAz) {
    issues.push({ path: 'targetAz', message: `is the same AZ as sourceAz ('${rb.sourceAz}')`, fix: 'set targetAz to the surviving AZ the jobs move into' });
  }
  for (const kind of ['evacuate', 'failback', 'report'] as const) {
    const found = at(kind);
    if (found.length > 1) issues.push({ path: `steps[${found[1]}]`, message: `a second '${kind}' step (the first is steps[${found[0]}])`, fix: `keep one '${kind}' step` });
  }
  const evac = at('evacuate')[0];
  const failback = at('failback')[0];
  if (evac === undefined) {
    issues.push({ path: 'steps', message: 'no evacuate step', fix: "add '- evacuate: { mode: drill }' (a drill moves jobs)" });
  } else {
    if (failback === undefined) issues.push({ path: 'steps', message: 'no failback step', fix: "add '- failback: {}' after the evacuate step: a drill moves its jobs back" });
    for (const kind of ['verify', 'failback'] as const) {
      for (const i of at(kind)) {
        if (i < evac) issues.push({ path: `steps[${i}]`, message: `'${kind}' comes before the evacuate step (steps[${evac}])`, fix: `move it after steps[${evac}]` });
      }
    }
  }
  const verify = at('verify')[0];
  if (verify !== undefined && failback !== undefined && verify > failback) {
    issues.push({ path: `steps[${verify}]`, message: `'verify' comes after failback (steps[${failback}]): the jobs are no longer in ${rb.targetAz}`, fix: `move it before steps[${failback}]` });
  }
  const report = at('report')[0];
  if (report !== undefined && report !== kinds.length - 1) {
    issues.push({ path: `steps[${report}]`, message: "'report' is not the last step", fix: 'move it to the end (the report covers every step)' });
  }
  rb.steps.forEach((step, i) => {
    if (!('fault' in step) || !('simulator' in step.fault)) return;
    const down = step.fault.simulator.azDown;
    if (down !== rb.sourceAz) {
      issues.push({ path: `steps[${i}].fault.simulator.azDown`, message: `takes '${down}' down, not the drilled source AZ '${rb.sourceAz}'`, fix: `set it to ${rb.sourceAz}` });
    }
    if (failback !== undefined && i > failback) {
      issues.push({ path: `steps[${i}]`, message: 'a fault after failback', fix: `move it before steps[${failback}]` });
    }
    if (evac !== undefined && i < evac && down === rb.sourceAz) {
      const e = rb.steps[evac] as { evacuate: EvacuateStep };
      if ((e.evacuate.mode ?? 'drill') === 'drill') {
        issues.push({
          path: `steps[${evac}].evacuate.mode`,
          message: `is 'drill', but steps[${i}] takes ${down} down first: mode drill stops each job with a savepoint in the source AZ and that API will not answer`,
          fix: "set mode: emergency (jobs in the downed AZ are recorded as fenced 'unreachable' and restored at failback)",
        });
      }
    }
  });
  return issues;
}

/**
 * The one error raised for a bad configuration or data file (tiers.yaml, the fleet catalog,
 * runbooks), and the translation of ajv schema errors into issues a person can act on.
 * Pure: no I/O.
 */
import type { ErrorObject } from 'ajv';

/** One problem in a file: where (dotted key path), what, and how to fix it. */
export interface ValidationIssue {
  /** Dotted key path with array indices, e.g. `tiers.P2.maxConcurrency`, `jobs[3].name`; `(root)` for the document. */
  path: string;
  /** The problem, without a trailing period, e.g. `must be ≥ 1, got 0`. */
  message: string;
  /** A concrete fix, e.g. `set tiers.P2.maxConcurrency to an integer ≥ 1`. */
  fix: string;
}

/**
 * A file failed validation. `message` lists every issue, one per line, as
 * `<file>: <key path>: <problem>. Fix: <fix>`.
 */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  /**
   * @param file the file as the user named it, e.g. `tiers.yaml`
   * @param issues at least one issue
   */
  constructor(
    readonly file: string,
    readonly issues: ValidationIssue[],
  ) {
    super(issues.map((i) => formatIssue(file, i)).join('\n'));
  }
}

/** `<file>: <path>: <message>. Fix: <fix>` for one issue. */
export function formatIssue(file: string, issue: ValidationIssue): string {
  return `${file}: ${issue.path}: ${issue.message.replace(/\.$/, '')}. Fix: ${issue.fix}`;
}

/** Throws ConfigValidationError for `file` when `issues` is non-empty. */
export function throwIfIssues(file: string, issues: ValidationIssue[]): void {
  if (issues.length > 0) throw new ConfigValidationError(file, issues);
}

/** `/tiers/P2/x` or `/jobs/3/name` (JSON pointer) → `tiers.P2.x` / `jobs[3].name`; `` → `(root)`. */
export function pointerToPath(pointer: string, ...more: string[]): string {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .concat(more);
  return joinPath(segments) || '(root)';
}

/** Joins key segments into a dotted path; numeric segments become `[n]`. */
export function joinPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/**
 * The candidate closest to `word` by edit distance (Levenshtein), when close enough to be a
 * typo (distance ≤ max(1, a third of the word's length) and under half of it); undefined otherwise.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(Math.max(1, Math.floor(word.length / 3)), Math.ceil(word.length / 2) - 1) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** Renders a value briefly for a message: strings quoted, objects as JSON, long text cut. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const FORMAT_EXAMPLES: Record<string, string> = {
  'date-time': 'an ISO-8601 time with zone, e.g. 2026-01-31T12:00:00Z',
  uri: 'an absolute URI, e.g. https://s3.az-a.example.internal',
};

/**
 * Translates ajv errors (compiled with `allErrors: true, verbose: true`, so each error
 * carries `data` and `parentSchema`) into issues with a concrete fix: unknown keys name the
 * allowed keys and the closest one, enums list the allowed values, missing keys say what to
 * add, limits say the bound. A schema's `description` is used as the fix for `pattern`.
 */
export function ajvIssues(errors: readonly ErrorObject[]): ValidationIssue[] {
  const issues = errors.map(ajvIssue);
  // A key suggested as the rename of an unknown key is not also reported as missing.
  const renamed = new Set(errors.flatMap((e, i) => (e.keyword === 'additionalProperties' ? [issues[i]!.rename] : [])));
  return issues
    .filter((issue, i) => !(errors[i]!.keyword === 'required' && renamed.has(issue.path)))
    .map(({ path, message, fix }) => ({ path, message, fix }));
}

function ajvIssue(e: ErrorObject): ValidationIssue & { rename?: string } {
  const path = pointerToPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((schema.properties ?? {}) as object);
      const present = Object.keys((e.data ?? {}) as object);
      const close = closestMatch(key, allowed.filter((k) => !present.includes(k)));
      const list = `allowed keys here: ${allowed.join(', ')}`;
      return {
        path: pointerToPath(e.instancePath, key),
        message: `unknown key '${key}'`,
        fix: close ? `rename '${key}' to '${close}' (${list})` : `remove '${key}' (${list})`,
        ...(close ? { rename: pointerToPath(e.instancePath, close) } : {}),
      };
    }
    case 'required': {
      const key = String(p.missingProperty);
      const child = ((schema.properties ?? {}) as Record<string, Record<string, unknown>>)[key];
      const keys = Array.isArray(child?.required) ? ` with keys ${child.required.join(', ')}` : '';
      return {
        path: pointerToPath(e.instancePath, key),
        message: 'required key is missing',
        fix: `add '${key}'${keys}${path === '(root)' ? '' : ` under ${path}`}`,
      };
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const close = typeof e.data === 'string' ? closestMatch(e.data, allowed) : undefined;
      return {
        path,
        message: `${show(e.data)} is not an allowed value`,
        fix: `use one of: ${allowed.join(', ')}${close ? ` (did you mean '${close}'?)` : ''}`,
      };
    }
    case 'const':
      return { path, message: `must be ${show(p.allowedValue)}, got ${show(e.data)}`, fix: `set ${path} to ${show(p.allowedValue)}` };
    case 'type': {
      const type = article(String(p.type));
      return { path, message: `must be ${type}, got ${show(e.data)}`, fix: path === '(root)' ? `make the document ${type}` : `set ${path} to ${type}` };
    }
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const bound = `${String(p.comparison)} ${String(p.limit)}`.replace('>=', '≥').replace('<=', '≤');
      const kind = schema.type === 'integer' ? 'an integer' : 'a number';
      return { path, message: `must be ${bound}, got ${show(e.data)}`, fix: `set ${path} to ${kind} ${bound}` };
    }
    case 'minItems':
      return { path, message: `has ${(e.data as unknown[]).length} item(s), needs at least ${String(p.limit)}`, fix: `list at least ${String(p.limit)} item(s) under ${path}` };
    case 'minLength':
      return { path, message: 'must not be empty', fix: `set ${path} to a non-empty string` };
    case 'pattern':
      return {
        path,
        message: `${show(e.data)} does not match ${String(p.pattern)}`,
        fix: `use ${typeof schema.description === 'string' ? schema.description : `a value matching ${String(p.pattern)}`}`,
      };
    case 'format': {
      const format = String(p.format);
      return { path, message: `${show(e.data)} is not a valid ${format}`, fix: `use ${FORMAT_EXAMPLES[format] ?? `a valid ${format}`}` };
    }
    default:
      return { path, message: e.message ?? `fails ${e.keyword}`, fix: `change ${path} to satisfy '${e.keyword}' (${JSON.stringify(p)})` };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * YAML text of a configuration file (tiers.yaml, runbooks) to plain data, with syntax errors
 * reported like every other configuration problem. Pure.
 */
import { parseDocument } from 'yaml';
import { throwIfIssues } from './validation-error.js';

/**
 * Parse YAML `text` (duplicate keys are errors) into plain JS data.
 * @param file the file name used in error messages
 * @throws ConfigValidationError listing every syntax error as `<file>: line L, column C: YAML syntax error (CODE): …. Fix: …`;
 *   an alias YAML cannot resolve (used before its anchor, or an alias bomb) or one that makes the data refer to itself
 *   as `<file>: (document): …`
 */
export function parseYamlText(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  throwIfIssues(file, doc.errors.map((e) => {
    const at = e.linePos?.[0];
    return {
      path: at ? `line ${at.line}, column ${at.col}` : '(document)',
      message: `YAML syntax error (${e.code}): ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      fix: 'correct the YAML at that position (indentation, brackets, quotes, duplicate keys)',
    };
  }));
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // yaml throws a ReferenceError for an alias before its anchor and for alias bombs.
    throwIfIssues(file, [{ path: '(document)', message: `YAML alias error: ${(err as Error).message}`, fix: 'write the values out instead of using anchors (&name) and aliases (*name)' }]);
  }
  if (isCyclic(data)) {
    throwIfIssues(file, [{ path: '(document)', message: 'a YAML alias (*name) refers to a node that contains it', fix: 'remove the alias inside its own anchored node' }]);
  }
  return data;
}

/** True when `value` contains itself (possible with YAML aliases). */
function isCyclic(value: unknown, open = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (open.has(value)) return true;
  open.add(value);
  const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
  const cyclic = children.some((c) => isCyclic(c, open));
  open.delete(value);
  return cyclic;
}

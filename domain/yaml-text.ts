/**
 * YAML text of a configuration file (tiers.yaml, runbooks) to plain data, with syntax errors
 * reported like every other configuration problem. Pure.
 */
import { parseDocument } from 'yaml';
import { throwIfIssues } from './validation-error.js';

/**
 * Parse YAML `text` (duplicate keys are errors) into plain JS data.
 * @param file the file name used in error messages
 * @throws ConfigValidationError listing every syntax error as `<file>: line L, column C: YAML syntax error (CODE): …. Fix: …`
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
  return doc.toJS();
}

/**
 * The Apache Flink Kubernetes Operator's own FlinkDeployment examples, used as templates
 * by the fleet generator: every application-mode FlinkDeployment (one with `spec.job`) in
 * vendor/flink-operator/examples/*.yaml (Apache-2.0, see vendor/flink-operator/SOURCE.txt).
 * Session clusters, FlinkSessionJobs, snapshots and non-Flink documents are skipped.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { FlinkDeploymentManifest } from '../domain/types.js';

const EXAMPLES_DIR = new URL('../vendor/flink-operator/examples/', import.meta.url);

let cached: FlinkDeploymentManifest[] | undefined;

/**
 * The application-mode FlinkDeployment examples, in file-name order then document order
 * (a stable order, so a seeded choice among them is reproducible). Read once per process;
 * callers get deep copies and may mutate them.
 * @throws Error naming the file and line when an example is not valid YAML (the vendored
 *   copy is damaged: restore it from vendor/flink-operator/SOURCE.txt)
 * @throws Error when no example qualifies
 */
export function loadExampleTemplates(): FlinkDeploymentManifest[] {
  cached ??= readTemplates();
  return structuredClone(cached);
}

function readTemplates(): FlinkDeploymentManifest[] {
  const files = readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
  const templates: FlinkDeploymentManifest[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(new URL(file, EXAMPLES_DIR), 'utf8'));
    if (!Array.isArray(docs)) continue; // an empty file
    for (const doc of docs) {
      const first = doc.errors[0];
      if (first) {
        throw new Error(
          `vendor/flink-operator/examples/${file}: not valid YAML: ${first.message}. ` +
            'Fix: restore the vendored examples from the operator release named in vendor/flink-operator/SOURCE.txt',
        );
      }
      const value: unknown = doc.toJS();
      if (isApplicationDeployment(value)) templates.push(value);
    }
  }
  if (templates.length === 0) {
    throw new Error(
      'vendor/flink-operator/examples/: no FlinkDeployment with spec.job found. ' +
        'Fix: restore the vendored examples from the operator release named in vendor/flink-operator/SOURCE.txt',
    );
  }
  return templates;
}

function isApplicationDeployment(value: unknown): value is FlinkDeploymentManifest {
  if (typeof value !== 'object' || value === null) return false;
  const doc = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; spec?: { job?: unknown } };
  return (
    doc.apiVersion === 'flink.apache.org/v1beta1' &&
    doc.kind === 'FlinkDeployment' &&
    typeof doc.metadata?.name === 'string' &&
    typeof doc.spec?.job === 'object' &&
    doc.spec.job !== null
  );
}

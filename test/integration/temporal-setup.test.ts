/**
 * `az-evac setup temporal` and the worker's start check, on the test run's dev server, in
 * fresh namespaces that have none of az-evac's search attributes (as a real cluster's
 * namespace has none): the worker process refuses before it polls, naming the fix; setup
 * creates the attributes (reaching Temporal through TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE,
 * Temporal's own environment configuration); a second setup creates nothing; the worker's
 * check then passes. An attribute with the wrong type is named, not overwritten.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../client/search-attributes.js';
import { EXIT } from '../../cli/exit-codes.js';
import { loadSettings } from '../../config/settings.js';
import { connectWorkerTemporal } from '../../worker/build.js';
import { testTemporalAddress } from '../setup/temporal.js';

const { IndexedValueType } = temporal.api.enums.v1;
const BIN = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));
const run = promisify(execFile);

/** The environment of a child az-evac process: this one's, without any Temporal settings of the machine. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_') || k.startsWith('AZ_EVAC_TEMPORAL_')) delete env[k];
  return { ...env, ...extra };
}

/** Run `az-evac <args>`; resolves with exit code and output (never rejects on a non-zero exit). */
async function azEvac(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: childEnv(env), timeout: 90_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

describe('az-evac setup temporal and the worker start check (dev server, fresh namespaces)', () => {
  let connection: Connection;

  /** Register a namespace and wait until the frontend serves it. */
  async function freshNamespace(): Promise<string> {
    const namespace = `az-evac-setup-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return namespace;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function customAttributes(namespace: string): Promise<Record<string, number>> {
    return ((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {}) as Record<string, number>;
  }

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('the worker refuses a namespace without the attributes before polling; setup creates them, idempotently', async () => {
    const namespace = await freshNamespace();
    const names = Object.keys(SEARCH_ATTRIBUTES);
    expect(Object.keys(await customAttributes(namespace)).filter((n) => names.includes(n))).toEqual([]);
    const taskQueue = `setup-check-${namespace}`;

    // The worker process, as an operator starts it (a simulator URL that nothing serves is
    // enough: the platform is not called before the Temporal check).
    const worker = await azEvac(['worker'], {
      AZ_EVAC_TEMPORAL_ADDRESS: testTemporalAddress(), AZ_EVAC_TEMPORAL_NAMESPACE: namespace,
      AZ_EVAC_TASK_QUEUE: taskQueue, AZ_EVAC_SIMULATOR_URL: 'http://127.0.0.1:9',
    });
    expect(worker.code).toBe(1);
    // One message (besides the health endpoints' address, printed before any check).
    const lines = worker.err.trim().split('\n').filter((l) => !l.includes('health endpoints at'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^az-evac worker: Temporal namespace ${namespace} .* lacks the search attributes az-evac's workflows set: ${names.join(', ')} .*Fix: run \`az-evac setup temporal\``));
    expect(worker.out).not.toContain('"ready":true');
    // Nothing polled the task queue.
    const described = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW });
    expect(described.pollers ?? []).toEqual([]);

    // Setup through Temporal's own variables.
    const env = { TEMPORAL_ADDRESS: testTemporalAddress(), TEMPORAL_NAMESPACE: namespace };
    const first = await azEvac(['setup', 'temporal'], env);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain(`namespace ${namespace}`);
    expect(first.out).toContain(`created ${names.join(', ')}`);
    const custom = await customAttributes(namespace);
    for (const n of names) expect(custom[n], n).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);

    const second = await azEvac(['setup', 'temporal'], env);
    expect(second.code).toBe(0);
    expect(second.out).toContain(`nothing to create; already there: ${names.join(', ')}`);

    // The worker's check passes now.
    const settings = { ...loadSettings({}), temporalAddress: testTemporalAddress(), temporalNamespace: namespace };
    const ok = await connectWorkerTemporal(settings);
    await ok.close();
  });

  it('setup names an attribute that exists with the wrong type instead of overwriting it', async () => {
    const namespace = await freshNamespace();
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { AzEvacMode: IndexedValueType.INDEXED_VALUE_TYPE_TEXT } });
    const r = await azEvac(['setup', 'temporal'], { AZ_EVAC_TEMPORAL_ADDRESS: testTemporalAddress(), AZ_EVAC_TEMPORAL_NAMESPACE: namespace });
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err).toMatch(/already has AzEvacMode is Text, az-evac needs Keyword\. Fix: remove them .*az-evac setup temporal/);
    expect((await customAttributes(namespace)).AzEvacMode).toBe(IndexedValueType.INDEXED_VALUE_TYPE_TEXT);
  });

  it('a namespace that does not exist is named with the fix, by setup and by the worker check', async () => {
    const namespace = `az-evac-missing-${randomUUID().slice(0, 8)}`;
    const r = await azEvac(['setup', 'temporal'], { AZ_EVAC_TEMPORAL_ADDRESS: testTemporalAddress(), AZ_EVAC_TEMPORAL_NAMESPACE: namespace });
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err).toMatch(new RegExp(`Temporal namespace "${namespace}" does not exist .*Fix: create it`));
    const settings = { ...loadSettings({}), temporalAddress: testTemporalAddress(), temporalNamespace: namespace };
    await expect(connectWorkerTemporal(settings)).rejects.toThrow(/does not exist .*Fix: create it/);
  });
});

/**
 * Secret scan (guarantee 5, "no secret in logs, reports or errors"): the worker and the
 * console run as the processes production runs (worker/main.ts, `az-evac console`) with
 * known secret values — the console's operator and viewer tokens, the S3 access and secret
 * keys (versitygw's per-run credentials), and a signed-in session id — and carry out a drill
 * evacuation over S3 triggered from the console, with refused requests around it. Then
 * everything they wrote is scanned for those values: the worker's and console's stdout and
 * stderr, every file in the state dir (JSON and HTML reports, audit log, plans, catalogs),
 * the Temporal histories of every workflow on the task queue, the console's answers (bodies
 * and headers, refusals included) and the CLI's output, also for a Temporal server that does
 * not answer, and an S3 refusal for a wrong secret key.
 *
 * Settings carry no Kubernetes credential (AZ_EVAC_KUBECONFIG names a file the Kubernetes
 * client reads), so there is no bearer token value to plant here.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWorkerProcess, type Started } from '../../launchers/local-processes.js';
import { EvacuationHarness, waitFor, workflowBundle } from '../setup/evacuation-harness.js';
import { consoleDrillIdLock, holdExclusively } from '../setup/exclusive.js';
import { testClients, testProfile, testS3, testStore } from '../setup/s3.js';

const BIN = fileURLToPath(new URL('../../bin/az-evac.mjs', import.meta.url));
const TOKENS = { operator: `op-${crypto.randomUUID()}`, viewer: `view-${crypto.randomUUID()}` };

/** Everything the processes wrote, by where it came from. */
const written = new Map<string, string>();
const keep = (where: string, text: string): void => { written.set(where, (written.get(where) ?? '') + text); };

let h: EvacuationHarness;
let worker: Started;
let consoleProcess: ReturnType<typeof spawn>;
let url: string;
let session = '';
let evacuationId = '';

/** Run the az-evac CLI with `env`; resolves with its exit code and everything it printed. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

/** One console request; its status, headers and body are kept for the scan under `name`. */
async function call(name: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(new URL(path, url), {
    method: o.method ?? (o.body === undefined ? 'GET' : 'POST'),
    headers: { ...(o.body === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const body = await res.text();
  const headers = [...res.headers].filter(([k]) => !(name === 'login' && k === 'set-cookie')); // the login's own cookie is the session
  keep(`console answer: ${name}`, `${res.status} ${JSON.stringify(headers)} ${body}`);
  return { status: res.status, body, headers: res.headers };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

// console-api.test.ts triggers the same deterministic drill id on the shared dev server: one at a time.
holdExclusively(consoleDrillIdLock(), "the console's drill evacuation id");

describe('secret scan of everything the worker, the console and the CLI wrote', () => {
  beforeAll(async () => {
    await workflowBundle();
    h = await EvacuationHarness.start({ jobs: 8, seed: 23, timeScale: 100, worker: 'none', s3: testS3() });
    const env = { ...h.workerEnv(), AZ_EVAC_CONSOLE_TOKENS: `olga:operator:${TOKENS.operator},victor:viewer:${TOKENS.viewer}`, AZ_EVAC_CONSOLE_AUDIT_LOG: join(h.settings.stateDir, 'audit', 'console-audit.jsonl') };
    worker = await startWorkerProcess(env, (text) => keep('worker output', text));
    await h.client.syncCatalog();

    consoleProcess = spawn(process.execPath, [BIN, 'console', '--port', String(await freePort())], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    consoleProcess.stderr!.on('data', (b: Buffer) => keep('console output', b.toString()));
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: consoleProcess.stdout! }).on('line', (line) => {
        keep('console output', `${line}\n`);
        const m = /console at (http\S+)/.exec(line);
        if (m) resolve(m[1]!);
      });
      consoleProcess.once('exit', (code) => reject(new Error(`console exited (${code}): ${written.get('console output') ?? ''}`)));
    });

    // Refused requests, each carrying or near a secret.
    const csrf = { 'x-az-evac-csrf': '1' };
    const drill = { sourceAz: 'az-a', targetAz: 'az-b', confirm: 'az-a', reason: 'secret scan drill', mode: 'drill' };
    expect((await call('wrong token login', '/api/login', { headers: csrf, body: { token: `${TOKENS.operator}x` } })).status).toBe(401);
    expect((await call('viewer trigger', '/api/evacuations', { headers: { ...csrf, authorization: `Bearer ${TOKENS.viewer}` }, body: drill })).status).toBe(403);
    expect((await call('trigger without CSRF', '/api/evacuations', { headers: { authorization: `Bearer ${TOKENS.operator}` }, body: drill })).status).toBe(403);
    expect((await call('basic auth', '/api/me', { headers: { authorization: `Basic ${Buffer.from(`olga:${TOKENS.operator}`).toString('base64')}` } })).status).toBe(401);
    expect((await call('token prefix', '/api/evacuations', { headers: { ...csrf, authorization: `Bearer ${TOKENS.operator.slice(0, -2)}` }, body: drill })).status).toBe(401);
    expect((await call('bad trigger', '/api/evacuations', { headers: { ...csrf, authorization: `Bearer ${TOKENS.operator}` }, body: { ...drill, confirm: 'az-b' } })).status).toBe(400);

    // Sign in, trigger a drill evacuation with the session, follow it to its report.
    const login = await call('login', '/api/login', { headers: csrf, body: { token: TOKENS.operator } });
    expect(login.status).toBe(200);
    session = /az_evac_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
    const cookie = { cookie: `az_evac_session=${session}` };
    const started = await call('trigger', '/api/evacuations', { headers: { ...csrf, ...cookie }, body: drill });
    expect(started.status, started.body).toBe(200);
    evacuationId = (JSON.parse(started.body) as { evacuationId: string }).evacuationId;
    // The CLI against a Temporal server that does not answer (≈ 12 s connect deadline each), while the evacuation runs.
    const dead = { ...env, AZ_EVAC_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
    const deadRuns = Promise.all([['status', evacuationId], ['console', '--port', '0'], ['abort', evacuationId, '--reason', 'scan']].map(async (args) => {
      const r = await cli(args, dead);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/cannot reach Temporal/);
      keep(`cli with no Temporal: ${args[0]}`, r.out);
    }));
    await h.client.result(evacuationId);
    await deadRuns;
    await waitFor('the report', async () => ((await call('progress', `/api/evacuations/${evacuationId}`, { headers: cookie })).body.includes('reportFile') ? true : undefined));
    expect((await call('report.json', `/api/evacuations/${evacuationId}/report.json`, { headers: cookie })).status).toBe(200);
    expect((await call('report.html', `/api/evacuations/${evacuationId}/report.html`, { headers: cookie })).status).toBe(200);
    expect((await call('pause after the end', `/api/evacuations/${evacuationId}/pause`, { headers: { ...csrf, ...cookie }, body: {} })).status).toBeGreaterThanOrEqual(400);
    expect((await call('unknown evacuation', '/api/evacuations/no-such/abort', { headers: { ...csrf, ...cookie }, body: { reason: 'scan' } })).status).toBe(404);

    keep('cli: status', (await cli(['status', evacuationId], env)).out);
  }, 300_000);

  afterAll(async () => {
    consoleProcess?.kill('SIGINT');
    await worker?.stop();
    await h?.close(evacuationId ? [evacuationId] : []);
  });

  it('an S3 request signed with a wrong secret key fails with an error that names neither key', async () => {
    const s3 = testS3();
    const wrong = `${s3.secretAccessKey.slice(0, -4)}beef`;
    const clients = testClients({ maxAttempts: 1 });
    Object.assign(clients.settings, { secretAccessKey: wrong });
    const err = await testStore(clients, [testProfile('az-b', 'no-bucket', 'x')]).listSnapshots('az-b', { checkpointPrefix: 'c/x', savepointPrefix: 's/x', jobIds: ['a'.repeat(32)] }).catch((e: unknown) => e);
    clients.destroy();
    expect(err).toMatchObject({ code: 'forbidden' });
    keep('S3 refusal', `${(err as Error).message} ${JSON.stringify(err)}`);
    for (const secret of [s3.accessKeyId, s3.secretAccessKey, wrong]) expect((err as Error).message).not.toContain(secret);
  });

  it('no token, session id or S3 key appears in logs, state files, workflow histories, console answers or CLI output', async () => {
    for (const file of await filesUnder(h.settings.stateDir)) keep(`file ${file.slice(h.settings.stateDir.length)}`, await readFile(file, 'utf8'));
    const histories: string[] = [];
    for await (const wf of h.temporal.workflow.list({ query: `TaskQueue = '${h.settings.taskQueue}'` })) {
      histories.push(wf.workflowId);
      keep(`history ${wf.workflowId}`, JSON.stringify(await h.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()));
    }
    // The scan covered what it claims: reports, the audit log, histories, logs, answers, CLI errors.
    const where = [...written.keys()];
    for (const expected of [/^file .*\.report\.json$/, /^file .*\.report\.html$/, /^file .*console-audit\.jsonl$/, /^history /, /^worker output$/, /^console output$/, /^console answer: report\.html$/, /^cli with no Temporal: console$/]) {
      expect(where.some((w) => expected.test(w)), `${String(expected)} in ${where.join(', ')}`).toBe(true);
    }
    expect(histories).toContain(evacuationId);
    expect(written.get('file /audit/console-audit.jsonl')).toMatch(/"user":"olga".*"action":"evacuate","outcome":"accepted"/);

    const s3 = testS3();
    const secrets = { 'operator token': TOKENS.operator, 'viewer token': TOKENS.viewer, 'session id': session, 'S3 access key': s3.accessKeyId, 'S3 secret key': s3.secretAccessKey };
    const leaks = [...written].flatMap(([w, text]) => Object.entries(secrets).filter(([, value]) => text.includes(value)).map(([what]) => `${what} in ${w}`));
    console.info(`secret scan: ${written.size} sources, ${[...written.values()].reduce((n, t) => n + t.length, 0)} characters, ${histories.length} workflow histories; leaks: ${leaks.length}`);
    expect(leaks).toEqual([]);
  });
});

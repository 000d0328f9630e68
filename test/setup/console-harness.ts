/**
 * Harness of the console tests: an EvacuationHarness (real simulator, in-process worker,
 * real Temporal dev server) with the emergency console started on a free port over it,
 * with one operator and one viewer token (random per run, from configuration like in
 * production) and the audit log in the harness's state dir.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startConsole, type RunningConsole } from '../../console/start.js';
import type { Settings } from '../../config/settings.js';
import type { AuditLine } from '../../console/audit-log.js';
import { EvacuationHarness, type HarnessOptions } from './evacuation-harness.js';

/** A console on a test platform. */
export interface ConsoleHarness {
  h: EvacuationHarness;
  console: RunningConsole;
  /** Base URL, ending in `/`. */
  url: string;
  tokens: { operator: string; viewer: string };
  /** Lines of the audit log so far. */
  audit(): Promise<AuditLine[]>;
  /** Start the console again over the same state, on the same port (a restart). */
  restart(): Promise<void>;
  /** Start a second console over the same state and settings on another port (another replica); closed with the harness. */
  replica(): Promise<RunningConsole>;
  close(evacuationIds?: string[]): Promise<void>;
}

/**
 * RPO of every tier in the console tests, model seconds. A person at the console presses
 * seconds to tens of seconds after the catalog sync; at the tests' time scale (50) the
 * tiers.yaml RPOs are only 6–18 s of wall time, so the emergency's stale-catalog refusal
 * (tested in test/workflow/fault-injection.test.ts) would fire under load. 36,000 s = 12 min wall.
 */
const CONSOLE_TEST_RPO_SECONDS = 36_000;

/**
 * Start a harness (catalog synced, source AZ down) and a console over it.
 * @param consoleSettings settings of the console beyond the harness's (e.g. temporalUiUrl)
 */
export async function startConsoleHarness(o: HarnessOptions, consoleSettings: Partial<Settings> = {}): Promise<ConsoleHarness> {
  const relaxed = (['P0', 'P1', 'P2', 'P3'] as const).map((t) => [t, { rpoSeconds: CONSOLE_TEST_RPO_SECONDS, ...o.tiers?.[t] }] as const);
  const h = await EvacuationHarness.start({ ...o, tiers: Object.fromEntries(relaxed) });
  await h.prepareEmergency();
  const tokens = { operator: randomBytes(18).toString('hex'), viewer: randomBytes(18).toString('hex') };
  const settings = {
    ...h.settings, consolePort: 0, consoleHost: '127.0.0.1',
    consoleTokens: `olga:operator:${tokens.operator},victor:viewer:${tokens.viewer}`,
    consoleAuditLog: join(h.settings.stateDir, 'audit', 'console-audit.jsonl'),
    ...consoleSettings,
  };
  const replicas: RunningConsole[] = [];
  const harness: ConsoleHarness = {
    h, tokens, console: await startConsole(settings), url: '',
    async audit() {
      const text = await readFile(settings.consoleAuditLog, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
    },
    async restart() {
      await harness.console.close();
      harness.console = await startConsole({ ...settings, consolePort: Number(new URL(harness.url).port) });
      harness.url = harness.console.url;
    },
    async replica() {
      const r = await startConsole(settings);
      replicas.push(r);
      return r;
    },
    async close(evacuationIds = []) {
      for (const r of replicas) await r.close().catch(() => undefined);
      await harness.console.close().catch(() => undefined);
      await h.close(evacuationIds);
    },
  };
  harness.url = harness.console.url;
  return harness;
}

/**
 * Start the emergency console: connect to Temporal, load the console users, open the audit
 * log, build the server with the add-ons of console/plugins.ts and listen. Used by
 * `az-evac console`, `az-evac demo` and the tests.
 */
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { EvacuationClient } from '../client/evacuation-client.js';
import type { Settings } from '../config/settings.js';
import { createLogger } from '../platform/logging.js';
import { AuditLog } from './audit-log.js';
import { ConsoleAuth } from './auth.js';
import { CONSOLE_PLUGINS } from './plugins.js';
import { buildConsole } from './server.js';

/** A listening console. */
export interface RunningConsole {
  /** Base URL, e.g. `http://127.0.0.1:8460/`. */
  url: string;
  /** The audit log file. */
  auditLog: string;
  /** The listening server itself (tests send in-process requests to it with `app.inject`). */
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The audit log file of `settings` (AZ_EVAC_CONSOLE_AUDIT_LOG, default `<state>/console-audit.jsonl`). */
export function auditLogFile(settings: Pick<Settings, 'consoleAuditLog' | 'stateDir'>): string {
  return resolve(settings.consoleAuditLog || join(settings.stateDir, 'console-audit.jsonl'));
}

/**
 * Start the console on settings.consoleHost:consolePort.
 * Logs JSON lines on stdout at AZ_EVAC_LOG_LEVEL (platform/logging.ts): one line per request received and per answer (method, URL, status, time, the evacuation or drill id of the route; never headers, bodies or tokens), and one per trigger, control and drill decision as the audit log has it (console/server.ts).
 * @throws Error naming AZ_EVAC_LOG_LEVEL for a bad level; when Temporal is unreachable, no console users are configured, or the users file is invalid (naming key and fix)
 */
export async function startConsole(settings: Settings): Promise<RunningConsole> {
  const logger = createLogger(settings.logLevel, 'az-evac-console');
  const auth = await ConsoleAuth.fromSettings(settings);
  const client = await EvacuationClient.connect(settings);
  const auditLog = auditLogFile(settings);
  try {
    const app = await buildConsole({ settings, client, auth, audit: new AuditLog(auditLog), plugins: CONSOLE_PLUGINS, logger });
    await app.listen({ host: settings.consoleHost, port: settings.consolePort });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : settings.consolePort;
    const host = settings.consoleHost === '0.0.0.0' ? '127.0.0.1' : settings.consoleHost;
    return {
      url: `http://${host}:${port}/`, auditLog, app,
      close: async () => { await app.close(); await client.close(); },
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}

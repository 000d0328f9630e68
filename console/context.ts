/**
 * What console routes and add-ons (console/plugins.ts) get: the Temporal client facade,
 * settings, role checks, the audit log and page scripts. See /work/wt/notes/console-api.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EvacuationClient } from '../client/evacuation-client.js';
import type { Settings } from '../config/settings.js';
import type { StateStores } from '../platform/state-stores.js';

/** Console roles: viewers see, operators also trigger and control. */
export type Role = 'viewer' | 'operator';

/** Who is calling. `user` is a name from the tokens file or the auth proxy, never a token. */
export interface Identity {
  user: string;
  role: Role;
  /** How the caller proved it: session cookie (from a token login), bearer token, or the auth proxy's header. */
  via: 'session' | 'bearer' | 'proxy';
}

/** One audit entry as a route gives it; `at`, `user` and `role` are added by the log. */
export interface AuditEntry {
  action: string;
  outcome: 'accepted' | 'joined' | 'rejected';
  evacuationId?: string;
  [key: string]: unknown;
}

/** What every route and add-on gets. */
export interface ConsoleContext {
  client: EvacuationClient;
  settings: Settings;
  /** The state store the worker writes (AZ_EVAC_STATE_STORE): the catalog, plans and reports are read through it, never from the worker's disk. */
  state: StateStores;
  /**
   * The caller, if allowed.
   * @throws HttpError 401 when not signed in, 403 when `role` is operator and the caller is a viewer
   */
  requireRole(req: FastifyRequest, role: Role): Identity;
  /** Append one entry to the audit log (JSON lines; survives restarts). Never pass tokens. */
  audit(who: Identity, entry: AuditEntry): Promise<void>;
  /** Serve browser script `file` at /static/ext/<name> and load it into the page after app.js. */
  addPageScript(name: string, file: string): void;
}

/** An add-on: registers routes (and optionally a page script). Listed in console/plugins.ts. */
export type ConsolePlugin = (app: FastifyInstance, ctx: ConsoleContext) => void | Promise<void>;

/** A clean 4xx/5xx: the reply is `{ error: message }` with `status`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

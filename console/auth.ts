/**
 * Console identities. Credentials come from configuration only (never from code):
 *  - a tokens file (YAML or JSON list of `{ user, role, token }` or `{ user, role, tokenSha256 }`),
 *  - `AZ_EVAC_CONSOLE_TOKENS` (`user:role:token,…`),
 *  - a trusted auth proxy's user header, with `AZ_EVAC_CONSOLE_PROXY_OPERATORS` naming operators.
 * A browser exchanges its token for a session cookie (random id, kept in memory, 12 h);
 * API clients may send `Authorization: Bearer <token>`. Tokens are compared as SHA-256
 * digests in constant time and never stored in sessions or logs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import type { Settings } from '../config/settings.js';
import { ajvIssues, throwIfIssues, type ValidationIssue } from '../domain/validation-error.js';
import type { Identity, Role } from './context.js';

/** One configured user. */
interface Credential {
  user: string;
  role: Role;
  sha256: Buffer;
}

const USERS_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'role'],
    properties: {
      user: { type: 'string', minLength: 1 },
      role: { enum: ['viewer', 'operator'] },
      token: { type: 'string', minLength: 16 },
      tokenSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    },
    oneOf: [{ required: ['token'] }, { required: ['tokenSha256'] }],
  },
} as const;
const validateUsers = new Ajv({ allErrors: true, verbose: true }).compile(USERS_SCHEMA);

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Session lifetime, seconds. */
export const SESSION_SECONDS = 12 * 3600;
/** Name of the session cookie. */
export const SESSION_COOKIE = 'az_evac_session';

export class ConsoleAuth {
  private readonly sessions = new Map<string, { identity: Identity; expiresAtMs: number }>();

  private constructor(private readonly credentials: Credential[], private readonly proxyHeader: string, private readonly proxyOperators: Set<string>) {}

  /**
   * Load credentials from settings.
   * @throws ConfigValidationError naming the tokens file, the key and the fix; Error for a bad AZ_EVAC_CONSOLE_TOKENS entry,
   *   or when no way to sign in is configured
   */
  static async fromSettings(settings: Pick<Settings, 'consoleTokensFile' | 'consoleTokens' | 'consoleProxyUserHeader' | 'consoleProxyOperators'>): Promise<ConsoleAuth> {
    const credentials: Credential[] = [];
    if (settings.consoleTokensFile) {
      const raw: unknown = parse(await readFile(settings.consoleTokensFile, 'utf8'));
      if (!validateUsers(raw)) throwIfIssues(settings.consoleTokensFile, ajvIssues(validateUsers.errors ?? []));
      for (const u of raw as Array<{ user: string; role: Role; token?: string; tokenSha256?: string }>) {
        credentials.push({ user: u.user, role: u.role, sha256: u.token ? sha256(u.token) : Buffer.from(u.tokenSha256 ?? '', 'hex') });
      }
    }
    for (const [i, entry] of settings.consoleTokens.split(',').map((e) => e.trim()).filter(Boolean).entries()) {
      const [user = '', role = '', ...rest] = entry.split(':');
      const token = rest.join(':');
      const issues: ValidationIssue[] = [];
      if (!user || !token) issues.push({ path: `[${i}]`, message: 'is not user:role:token', fix: 'write each entry as user:role:token' });
      if (role !== 'viewer' && role !== 'operator') issues.push({ path: `[${i}].role`, message: `unknown role for user ${JSON.stringify(user)}`, fix: 'use viewer or operator' });
      if (token.length < 16) issues.push({ path: `[${i}].token`, message: `token of ${JSON.stringify(user)} is shorter than 16 characters`, fix: 'use a random token, e.g. `openssl rand -hex 24`' });
      throwIfIssues('AZ_EVAC_CONSOLE_TOKENS', issues);
      credentials.push({ user, role: role as Role, sha256: sha256(token) });
    }
    if (credentials.length === 0 && !settings.consoleProxyUserHeader) {
      throw new Error('the console has no users: set AZ_EVAC_CONSOLE_TOKENS_FILE (or AZ_EVAC_CONSOLE_TOKENS), or AZ_EVAC_CONSOLE_PROXY_USER_HEADER behind an auth proxy');
    }
    const operators = new Set(settings.consoleProxyOperators.split(',').map((s) => s.trim()).filter(Boolean));
    return new ConsoleAuth(credentials, settings.consoleProxyUserHeader.toLowerCase(), operators);
  }

  /** The user a token belongs to, or null (constant-time comparison of digests). */
  identify(token: string, via: 'session' | 'bearer'): Identity | null {
    const digest = sha256(token);
    let found: Credential | undefined;
    for (const c of this.credentials) if (timingSafeEqual(c.sha256, digest)) found = c;
    return found ? { user: found.user, role: found.role, via } : null;
  }

  /** Start a session for a signed-in user; returns the session id to set as the cookie. */
  openSession(identity: Identity): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { identity, expiresAtMs: Date.now() + SESSION_SECONDS * 1000 });
    return id;
  }

  /** End a session (sign out). */
  closeSession(id: string): void {
    this.sessions.delete(id);
  }

  /**
   * The caller of a request: session cookie, else bearer token, else the proxy header (when configured).
   * @param headers lower-case request headers
   */
  caller(sessionId: string | undefined, headers: Record<string, string | string[] | undefined>): Identity | null {
    if (sessionId) {
      const s = this.sessions.get(sessionId);
      if (s && s.expiresAtMs > Date.now()) return s.identity;
      if (s) this.sessions.delete(sessionId);
    }
    const auth = headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) return this.identify(auth.slice(7).trim(), 'bearer');
    if (this.proxyHeader) {
      const user = headers[this.proxyHeader];
      if (typeof user === 'string' && user) return { user, role: this.proxyOperators.has(user) ? 'operator' : 'viewer', via: 'proxy' };
    }
    return null;
  }
}

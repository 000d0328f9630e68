/**
 * Console identities. Credentials come from configuration only (never from code):
 *  - a tokens file (YAML or JSON list of `{ user, role, token }` or `{ user, role, tokenSha256 }`),
 *  - `AZ_EVAC_CONSOLE_TOKENS` (`user:role:token,…`),
 *  - a trusted auth proxy's user header, with `AZ_EVAC_CONSOLE_PROXY_OPERATORS` naming operators.
 * A browser exchanges its token for a session cookie; API clients may send
 * `Authorization: Bearer <token>`. Tokens are compared as SHA-256 digests in constant time and
 * never stored in sessions or logs.
 *
 * Sessions are signed cookies, not server memory, so they survive a console restart and work
 * on every replica: `<base64url JSON { user, fingerprint, expires }>.<HMAC-SHA256>` signed by
 * @fastify/cookie's signer with the session secret (AZ_EVAC_CONSOLE_SESSION_SECRET, the same
 * on every replica; comma-separated to rotate: the first signs, all verify). Without it a
 * random secret is kept in `<AZ_EVAC_STATE>/console-session.secret` (one replica only).
 * A session names the user, not the role: the role is looked up in the current users at each
 * request, and the fingerprint of the user's token ends the session when the token changes.
 * It expires after AZ_EVAC_CONSOLE_SESSION_SECONDS; signing out clears the cookie (a copied
 * cookie stays valid until it expires or the secret is rotated).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { signerFactory } from '@fastify/cookie';
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

/** Name of the session cookie. */
export const SESSION_COOKIE = 'az_evac_session';
/** Shortest session secret accepted, characters. */
export const MIN_SESSION_SECRET_LENGTH = 32;

/** What a session cookie carries (signed; never a token). */
interface SessionClaims {
  user: string;
  /** First 16 hex digits of SHA-256 over the user's token digest: a new token ends old sessions. */
  fingerprint: string;
  /** Epoch seconds after which the session is refused. */
  expires: number;
}

const fingerprintOf = (c: Credential): string => createHash('sha256').update(c.sha256).digest('hex').slice(0, 16);

/**
 * The session secrets: AZ_EVAC_CONSOLE_SESSION_SECRET (comma-separated, newest first), else the
 * secret kept in `<stateDir>/console-session.secret` (created, mode 0600, on first use).
 * @throws Error naming the setting when a secret is shorter than MIN_SESSION_SECRET_LENGTH
 */
export async function sessionSecrets(settings: Pick<Settings, 'consoleSessionSecret' | 'stateDir'>): Promise<string[]> {
  const configured = settings.consoleSessionSecret.split(',').map((s) => s.trim()).filter(Boolean);
  for (const [i, secret] of configured.entries()) {
    if (secret.length < MIN_SESSION_SECRET_LENGTH) throw new Error(`AZ_EVAC_CONSOLE_SESSION_SECRET: secret ${i + 1} is ${secret.length} characters, shorter than ${MIN_SESSION_SECRET_LENGTH}. Fix: use a random secret, e.g. \`openssl rand -hex 32\``);
  }
  if (configured.length > 0) return configured;
  const file = join(settings.stateDir, 'console-session.secret');
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (kept.length >= MIN_SESSION_SECRET_LENGTH) return [kept];
  const secret = randomBytes(32).toString('hex');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return [secret];
}

export class ConsoleAuth {
  private constructor(
    private readonly credentials: Credential[], private readonly proxyHeader: string, private readonly proxyOperators: Set<string>,
    private readonly signer: ReturnType<typeof signerFactory>, readonly sessionSeconds: number,
  ) {}

  /**
   * Load credentials and the session secrets (sessionSecrets) from settings.
   * @throws ConfigValidationError naming the tokens file, the key and the fix; Error for a bad AZ_EVAC_CONSOLE_TOKENS entry,
   *   a short session secret, or when no way to sign in is configured
   */
  static async fromSettings(settings: Pick<Settings, 'consoleTokensFile' | 'consoleTokens' | 'consoleProxyUserHeader' | 'consoleProxyOperators' | 'consoleSessionSecret' | 'consoleSessionSeconds' | 'stateDir'>): Promise<ConsoleAuth> {
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
    if (settings.consoleSessionSeconds < 60) throw new Error(`AZ_EVAC_CONSOLE_SESSION_SECONDS=${settings.consoleSessionSeconds} is under a minute. Fix: set it to 60 or more (default 43200, 12 h)`);
    const signer = signerFactory(await sessionSecrets(settings));
    return new ConsoleAuth(credentials, settings.consoleProxyUserHeader.toLowerCase(), operators, signer, settings.consoleSessionSeconds);
  }

  /** The user a token belongs to, or null (constant-time comparison of digests). */
  identify(token: string, via: 'session' | 'bearer'): Identity | null {
    const digest = sha256(token);
    let found: Credential | undefined;
    for (const c of this.credentials) if (timingSafeEqual(c.sha256, digest)) found = c;
    return found ? { user: found.user, role: found.role, via } : null;
  }

  /**
   * Start a session for a user signed in with a token (identify(token, 'session')).
   * @param nowMs the clock, epoch ms
   * @returns the signed cookie value (valid for sessionSeconds)
   * @throws Error when `identity` is no configured user (a proxy identity has no session)
   */
  openSession(identity: Identity, nowMs = Date.now()): string {
    const credential = this.credentials.find((c) => c.user === identity.user);
    if (!credential) throw new Error(`no console user ${JSON.stringify(identity.user)} to open a session for`);
    const claims: SessionClaims = { user: credential.user, fingerprint: fingerprintOf(credential), expires: Math.floor(nowMs / 1000) + this.sessionSeconds };
    return this.signer.sign(Buffer.from(JSON.stringify(claims)).toString('base64url'));
  }

  /** The user of a session cookie: signed by a current secret, not expired, and its user still has the same token; else null. */
  private sessionIdentity(cookie: string, nowMs: number): Identity | null {
    const { valid, value } = this.signer.unsign(cookie);
    if (!valid || value === null) return null;
    let claims: Partial<SessionClaims>;
    try {
      claims = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<SessionClaims>;
    } catch {
      return null;
    }
    if (typeof claims.expires !== 'number' || claims.expires * 1000 <= nowMs) return null;
    const c = this.credentials.find((x) => x.user === claims.user && fingerprintOf(x) === claims.fingerprint);
    return c ? { user: c.user, role: c.role, via: 'session' } : null;
  }

  /**
   * The caller of a request: a valid session cookie, else bearer token, else the proxy header (when configured).
   * @param headers lower-case request headers
   * @param nowMs the clock, epoch ms
   */
  caller(sessionCookie: string | undefined, headers: Record<string, string | string[] | undefined>, nowMs = Date.now()): Identity | null {
    if (sessionCookie) {
      const who = this.sessionIdentity(sessionCookie, nowMs);
      if (who) return who;
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

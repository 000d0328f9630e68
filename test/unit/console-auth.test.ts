import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleAuth } from '../../console/auth.js';
import { csrfProblem } from '../../console/csrf.js';

const SECRET = 's'.repeat(40);
const none = { consoleTokensFile: '', consoleTokens: '', consoleProxyUserHeader: '', consoleProxyOperators: '', consoleSessionSecret: SECRET, consoleSessionSeconds: 3600, stateDir: '/nonexistent' };
const OP = 'op-token-0123456789abcdef';
const VIEW = 'view-token-0123456789abcdef';

describe('console CSRF check', () => {
  const host = '127.0.0.1:8460';
  it('lets reads through and requires the custom header and the same origin on writes', () => {
    expect(csrfProblem('GET', { host })).toBeNull();
    expect(csrfProblem('POST', { host })).toMatch(/missing x-az-evac-csrf/);
    expect(csrfProblem('POST', { host, 'x-az-evac-csrf': '1' })).toBeNull();
    expect(csrfProblem('POST', { host, 'x-az-evac-csrf': '1', origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).toBeNull();
    expect(csrfProblem('POST', { host, 'x-az-evac-csrf': '1', origin: 'http://evil.example' })).toMatch(/cross-origin/);
    expect(csrfProblem('DELETE', { host, 'x-az-evac-csrf': '1', 'sec-fetch-site': 'cross-site' })).toMatch(/cross-site/);
    expect(csrfProblem('POST', { host, 'x-az-evac-csrf': '1', origin: 'null' })).toMatch(/opaque origin/);
  });
});

describe('console identities from configuration', () => {
  it('maps tokens to users and roles, and refuses unknown tokens', async () => {
    const auth = await ConsoleAuth.fromSettings({ ...none, consoleTokens: `olga:operator:${OP},victor:viewer:${VIEW}` });
    expect(auth.identify(OP, 'bearer')).toEqual({ user: 'olga', role: 'operator', via: 'bearer' });
    expect(auth.caller(undefined, { authorization: `Bearer ${VIEW}` })).toEqual({ user: 'victor', role: 'viewer', via: 'bearer' });
    expect(auth.identify('nope', 'bearer')).toBeNull();
    const session = auth.openSession({ user: 'olga', role: 'operator', via: 'session' });
    expect(auth.caller(session, {})).toEqual({ user: 'olga', role: 'operator', via: 'session' });
    expect(session).not.toContain(OP);
  });

  it('reads a users file with plain or SHA-256 tokens and names the key and the fix when it is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'az-evac-users-'));
    const good = join(dir, 'users.yaml');
    await writeFile(good, `- { user: olga, role: operator, token: ${OP} }\n- { user: vic, role: viewer, tokenSha256: ${'a'.repeat(64)} }\n`);
    const auth = await ConsoleAuth.fromSettings({ ...none, consoleTokensFile: good });
    expect(auth.identify(OP, 'session')?.role).toBe('operator');
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, `- { user: olga, role: admin, token: ${OP} }\n`);
    await expect(ConsoleAuth.fromSettings({ ...none, consoleTokensFile: bad })).rejects.toThrow(/bad\.yaml: \[0\]\.role: .*Fix:/);
    await expect(ConsoleAuth.fromSettings({ ...none, consoleTokens: 'olga:operator:short' })).rejects.toThrow(/AZ_EVAC_CONSOLE_TOKENS: \[0\]\.token: .*shorter than 16.*Fix:/);
    await expect(ConsoleAuth.fromSettings(none)).rejects.toThrow(/no users/);
  });

  it('trusts the auth proxy header only when configured; operators are named', async () => {
    const auth = await ConsoleAuth.fromSettings({ ...none, consoleProxyUserHeader: 'X-Forwarded-User', consoleProxyOperators: 'olga' });
    expect(auth.caller(undefined, { 'x-forwarded-user': 'olga' })).toEqual({ user: 'olga', role: 'operator', via: 'proxy' });
    expect(auth.caller(undefined, { 'x-forwarded-user': 'pat' })?.role).toBe('viewer');
    const tokensOnly = await ConsoleAuth.fromSettings({ ...none, consoleTokens: `olga:operator:${OP}` });
    expect(tokensOnly.caller(undefined, { 'x-forwarded-user': 'olga' })).toBeNull();
  });

});

describe('console sessions: signed cookies', () => {
  const users = `olga:operator:${OP},victor:viewer:${VIEW}`;
  const T = 1_800_000_000_000;

  it('survive a restart and work on another replica with the same secret; refused with another secret, once expired, or tampered', async () => {
    const a = await ConsoleAuth.fromSettings({ ...none, consoleTokens: users });
    const session = a.openSession({ user: 'victor', role: 'viewer', via: 'session' }, T);
    const b = await ConsoleAuth.fromSettings({ ...none, consoleTokens: users });
    expect(b.caller(session, {}, T + 1000)).toEqual({ user: 'victor', role: 'viewer', via: 'session' });
    expect(b.caller(session, {}, T + 3600_000)).toBeNull(); // expired after consoleSessionSeconds
    const other = await ConsoleAuth.fromSettings({ ...none, consoleTokens: users, consoleSessionSecret: 't'.repeat(40) });
    expect(other.caller(session, {}, T)).toBeNull();
    const [claims = '', mac = ''] = session.split('.');
    const forged = Buffer.from(Buffer.from(claims, 'base64url').toString().replace('victor', 'olga')).toString('base64url');
    expect(b.caller(`${forged}.${mac}`, {}, T)).toBeNull();
    expect(b.caller('garbage', {}, T)).toBeNull();
    // A bearer token still works beside a bad cookie.
    expect(b.caller('garbage', { authorization: `Bearer ${OP}` }, T)?.user).toBe('olga');
  });

  it('take the role from the current users, end when the user\'s token changes, and verify old cookies while the secret rotates', async () => {
    const a = await ConsoleAuth.fromSettings({ ...none, consoleTokens: users });
    const session = a.openSession({ user: 'olga', role: 'operator', via: 'session' }, T);
    const demoted = await ConsoleAuth.fromSettings({ ...none, consoleTokens: `olga:viewer:${OP}` });
    expect(demoted.caller(session, {}, T)?.role).toBe('viewer');
    const newToken = await ConsoleAuth.fromSettings({ ...none, consoleTokens: `olga:operator:${'n'.repeat(24)}` });
    expect(newToken.caller(session, {}, T)).toBeNull();
    const rotating = await ConsoleAuth.fromSettings({ ...none, consoleTokens: users, consoleSessionSecret: `${'t'.repeat(40)},${SECRET}` });
    expect(rotating.caller(session, {}, T)?.user).toBe('olga');
    expect(a.caller(rotating.openSession({ user: 'olga', role: 'operator', via: 'session' }, T), {}, T)).toBeNull(); // signed with the new secret
  });

  it('without a configured secret keep one in the state dir (a restart keeps sessions); refuse short secrets and short lifetimes, naming the fix', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'az-evac-session-'));
    const settings = { ...none, consoleTokens: users, consoleSessionSecret: '', stateDir };
    const session = (await ConsoleAuth.fromSettings(settings)).openSession({ user: 'olga', role: 'operator', via: 'session' }, T);
    expect((await ConsoleAuth.fromSettings(settings)).caller(session, {}, T)?.user).toBe('olga');
    expect((await stat(join(stateDir, 'console-session.secret'))).mode & 0o777).toBe(0o600);
    await expect(ConsoleAuth.fromSettings({ ...settings, consoleSessionSecret: 'short' })).rejects.toThrow(/AZ_EVAC_CONSOLE_SESSION_SECRET: secret 1 is 5 characters.*Fix: .*openssl rand/);
    await expect(ConsoleAuth.fromSettings({ ...settings, consoleSessionSeconds: 5 })).rejects.toThrow(/AZ_EVAC_CONSOLE_SESSION_SECONDS=5 .*Fix:/);
  });
});

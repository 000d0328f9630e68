import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleAuth } from '../../console/auth.js';
import { csrfProblem } from '../../console/csrf.js';

const none = { consoleTokensFile: '', consoleTokens: '', consoleProxyUserHeader: '', consoleProxyOperators: '' };
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
    expect(auth.caller(session, {})?.user).toBe('olga');
    auth.closeSession(session);
    expect(auth.caller(session, {})).toBeNull();
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

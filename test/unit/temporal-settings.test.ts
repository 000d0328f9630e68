/**
 * The Temporal connection from settings: AZ_EVAC_TEMPORAL_* over Temporal's environment
 * configuration (TEMPORAL_* variables over a TOML profile) over the defaults; TLS, API key
 * and gRPC metadata into connection options; every bad input named with its fix. Also: the
 * search attributes az-evac registers are the ones the dev server script passes and cover
 * every attribute a workflow upserts.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_KEYS } from '../../client/search-attributes.js';
import { loadSettings, settingsHelp } from '../../config/settings.js';
import { LOCAL_DEV_SERVER_ENV, describeTemporal, temporalConnectionOptions } from '../../config/temporal-options.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'az-evac-envconfig-'));
const CA = join(dir, 'ca.pem');
writeFileSync(CA, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const TOML = join(dir, 'temporal.toml');
writeFileSync(TOML, `
[profile.default]
address = "default-profile:7233"
namespace = "from-default-profile"

[profile.prod]
address = "prod.example:7233"
namespace = "prod"
api_key = "prod-secret-key"
[profile.prod.tls]
server_ca_cert_path = "${CA}"
server_name = "temporal.prod.example"
[profile.prod.grpc_meta]
x-team = "platform"
`);

describe('Temporal settings', () => {
  it('defaults to the local dev server with no TLS', () => {
    const s = loadSettings({});
    expect(s.temporalAddress).toBe('127.0.0.1:7233');
    expect(s.temporalNamespace).toBe('default');
    expect(temporalConnectionOptions(s)).toEqual({ address: '127.0.0.1:7233' });
    expect(describeTemporal(s)).toBe('127.0.0.1:7233 (default), namespace default, no TLS');
  });

  it('precedence: AZ_EVAC_TEMPORAL_* over TEMPORAL_* over the profile over the defaults', () => {
    const file = { TEMPORAL_CONFIG_FILE: TOML };
    expect(loadSettings(file)).toMatchObject({ temporalAddress: 'default-profile:7233', temporalNamespace: 'from-default-profile' });
    expect(loadSettings(file).temporal.addressFrom).toBe(`profile "default" of ${TOML}`);
    const env = { ...file, TEMPORAL_ADDRESS: 'env:7233', TEMPORAL_NAMESPACE: 'env-ns' };
    expect(loadSettings(env)).toMatchObject({ temporalAddress: 'env:7233', temporalNamespace: 'env-ns', temporal: { addressFrom: 'TEMPORAL_ADDRESS' } });
    const own = { ...env, AZ_EVAC_TEMPORAL_ADDRESS: 'own:7233', AZ_EVAC_TEMPORAL_NAMESPACE: 'own-ns' };
    expect(loadSettings(own)).toMatchObject({ temporalAddress: 'own:7233', temporalNamespace: 'own-ns', temporal: { addressFrom: 'AZ_EVAC_TEMPORAL_ADDRESS' } });
  });

  it('a profile with TLS, API key and metadata becomes connection options; the key never shows in messages', () => {
    const s = loadSettings({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'prod' });
    expect(s.temporalAddress).toBe('prod.example:7233');
    const o = temporalConnectionOptions(s);
    expect(o.address).toBe('prod.example:7233');
    expect(o.apiKey).toBe('prod-secret-key');
    expect(o.metadata).toEqual({ 'x-team': 'platform' });
    expect(o.tls).toMatchObject({ serverNameOverride: 'temporal.prod.example' });
    expect(Buffer.from((o.tls as { serverRootCACertificate: Buffer }).serverRootCACertificate).toString()).toContain('BEGIN CERTIFICATE');
    const text = describeTemporal(s);
    expect(text).toBe(`prod.example:7233 (profile "prod" of ${TOML}), namespace prod, TLS (CA ${CA}), API key set`);
    expect(text).not.toContain('prod-secret-key');
  });

  it('TEMPORAL_API_KEY alone turns TLS on (system roots); TEMPORAL_TLS=false turns it off', () => {
    const on = temporalConnectionOptions(loadSettings({ TEMPORAL_ADDRESS: 'cloud.example:7233', TEMPORAL_API_KEY: 'k' }));
    expect(on).toEqual({ address: 'cloud.example:7233', apiKey: 'k', tls: true });
    const off = temporalConnectionOptions(loadSettings({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }));
    expect(off.tls).toBe(false);
    expect(temporalConnectionOptions(loadSettings({ TEMPORAL_TLS: 'true' })).tls).toMatchObject({});
  });

  it('TLS from TEMPORAL_TLS_* variables, mTLS with cert and key', () => {
    const s = loadSettings({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA, TEMPORAL_TLS_CLIENT_CERT_PATH: CA, TEMPORAL_TLS_CLIENT_KEY_PATH: CA });
    const tls = temporalConnectionOptions(s).tls as { serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
    expect(tls.serverRootCACertificate).toBeDefined();
    expect(tls.clientCertPair?.crt).toBeDefined();
    expect(describeTemporal(s)).toContain('TLS (CA');
    expect(describeTemporal(s)).toContain('mTLS');
  });

  it('LOCAL_DEV_SERVER_ENV (the demo\'s children) reaches a plaintext dev server whatever the user\'s Temporal settings are', () => {
    const user = { TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'prod', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA, TEMPORAL_TLS_CLIENT_CERT_PATH: CA, AZ_EVAC_TEMPORAL_NAMESPACE: 'prod' };
    const s = loadSettings({ ...user, ...LOCAL_DEV_SERVER_ENV, AZ_EVAC_TEMPORAL_ADDRESS: '127.0.0.1:7233' });
    expect(s.temporalNamespace).toBe('default');
    expect(temporalConnectionOptions(s)).toEqual({ address: '127.0.0.1:7233', tls: false });
  });

  it('names the setting and the fix for every bad input', () => {
    expect(() => loadSettings({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toThrow(/TEMPORAL_CONFIG_FILE=".*nope\.toml" does not exist\. Fix: /);
    expect(() => loadSettings({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'staging' })).toThrow(/TEMPORAL_PROFILE="staging": no \[profile\.staging\] in .*temporal\.toml\. Fix: /);
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[profile.default\naddress = ');
    expect(() => loadSettings({ TEMPORAL_CONFIG_FILE: bad })).toThrow(/Temporal config file .*bad\.toml cannot be read: .*Fix: correct the TOML/);
    expect(() => temporalConnectionOptions(loadSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') }))).toThrow(/TEMPORAL_TLS_SERVER_CA_CERT_PATH \(or the profile's tls\.server_ca_cert_path\) = ".*missing\.pem" cannot be read: ENOENT\. Fix: /);
    expect(() => temporalConnectionOptions(loadSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: CA }))).toThrow(/TEMPORAL_TLS_CLIENT_CERT_\* is set but TEMPORAL_TLS_CLIENT_KEY_PATH \(or _DATA\) is not .*Fix: set both/);
  });

  it('the help text lists Temporal\'s variables', () => {
    for (const v of ['TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE']) expect(settingsHelp()).toContain(v);
  });
});

describe('search attributes', () => {
  it('are the ones scripts/temporal.sh gives the dev server', () => {
    const script = readFileSync(join(REPO, 'scripts/temporal.sh'), 'utf8');
    const passed = Object.fromEntries([...script.matchAll(/--search-attribute (\w+)=(\w+)/g)].map((m) => [m[1], m[2]]));
    expect(passed).toEqual(SEARCH_ATTRIBUTES);
  });

  it('are every typed key the workflows and clients set, and no workflow uses the deprecated untyped upsert', () => {
    expect(Object.keys(SEARCH_ATTRIBUTES)).toEqual(Object.values(SEARCH_ATTRIBUTE_KEYS).map((k) => k.name));
    for (const f of readdirSync(join(REPO, 'workflows')).filter((n) => n.endsWith('.ts'))) {
      expect(readFileSync(join(REPO, 'workflows', f), 'utf8'), f).not.toMatch(/upsertSearchAttributes\(\{/);
    }
  });
});

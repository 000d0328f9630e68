/**
 * The one place that turns settings into Temporal connection options, for the worker's
 * NativeConnection (worker/build.ts), the client's Connection (client/temporal-connection.ts:
 * CLI and console) and `az-evac setup temporal`. Address and namespace come from the settings
 * (config/settings.ts resolves AZ_EVAC_TEMPORAL_* over Temporal's environment configuration);
 * TLS, API key and gRPC metadata from Temporal's environment configuration, turned into
 * options by @temporalio/envconfig's `toClientOptions`
 * (https://docs.temporal.io/develop/environment-configuration).
 */
import { readFileSync } from 'node:fs';
import { toClientOptions, type ClientConfigTLS, type ConfigDataSource } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import type { Settings } from './settings.js';

/** Options both `Connection.connect` and `NativeConnection.connect` take. */
export interface TemporalConnectionOptions {
  /** Frontend host:port. */
  address: string;
  /** TLS settings; `true` = TLS with the system's roots; undefined = plaintext. */
  tls?: TLSConfig | boolean;
  /** API key sent as a bearer token (Temporal Cloud API keys). */
  apiKey?: string;
  /** gRPC headers sent with every call. */
  metadata?: Record<string, string>;
}

/**
 * Environment that points a child process at a local dev server (the demo's), whatever
 * Temporal settings the user has (TEMPORAL_* variables, a temporal.toml profile with TLS or an
 * API key): no profile, no API key, TLS off, namespace `default`. Merge it over process.env
 * together with AZ_EVAC_TEMPORAL_ADDRESS.
 */
export const LOCAL_DEV_SERVER_ENV: Readonly<Record<string, string>> = {
  AZ_EVAC_TEMPORAL_NAMESPACE: 'default', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: '', TEMPORAL_PROFILE: '', TEMPORAL_CONFIG_FILE: '',
};

/** The files of a TLS config, each with the variable and the TOML key that set it. */
const TLS_FILES: { key: keyof ClientConfigTLS; env: string; toml: string }[] = [
  { key: 'serverCACert', env: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', toml: 'tls.server_ca_cert_path' },
  { key: 'clientCert', env: 'TEMPORAL_TLS_CLIENT_CERT_PATH', toml: 'tls.client_cert_path' },
  { key: 'clientKey', env: 'TEMPORAL_TLS_CLIENT_KEY_PATH', toml: 'tls.client_key_path' },
];

/**
 * Connection options from settings.
 * @throws Error naming the variable (and TOML key) and the fix when a TLS file cannot be
 * read, or when a client certificate comes without its key (or the key without the certificate)
 */
export function temporalConnectionOptions(settings: Pick<Settings, 'temporalAddress' | 'temporal'>): TemporalConnectionOptions {
  const { tls, apiKey, grpcMeta } = settings.temporal;
  if (tls && !tls.disabled) {
    for (const f of TLS_FILES) {
      const source = tls[f.key] as ConfigDataSource | undefined;
      if (!source || !('path' in source)) continue;
      try {
        readFileSync(source.path);
      } catch (err) {
        throw new Error(`${f.env} (or the profile's ${f.toml}) = ${JSON.stringify(source.path)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Fix: point it at a PEM file this process can read`);
      }
    }
    if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
      const [has, lacks] = tls.clientCert ? ['TEMPORAL_TLS_CLIENT_CERT_*', 'TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA)'] : ['TEMPORAL_TLS_CLIENT_KEY_*', 'TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA)'];
      throw new Error(`${has} is set but ${lacks} is not (mTLS needs both). Fix: set both, or neither for server-only TLS`);
    }
  }
  const { connectionOptions } = toClientOptions({ address: settings.temporalAddress, ...(apiKey ? { apiKey } : {}), ...(tls ? { tls } : {}), ...(grpcMeta ? { grpcMeta } : {}) });
  return {
    address: settings.temporalAddress,
    ...(connectionOptions.tls !== undefined && connectionOptions.tls !== null ? { tls: connectionOptions.tls } : {}),
    ...(typeof connectionOptions.apiKey === 'string' ? { apiKey: connectionOptions.apiKey } : {}),
    ...(connectionOptions.metadata ? { metadata: connectionOptions.metadata as Record<string, string> } : {}),
  };
}

/**
 * One line for messages: address and its source, namespace, TLS and whether an API key is
 * set (never the key). E.g. `temporal.example:7233 (TEMPORAL_ADDRESS), namespace prod, TLS (CA /etc/ca.pem), API key set`.
 */
export function describeTemporal(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'temporal'>): string {
  const { tls, apiKey, addressFrom } = settings.temporal;
  const ca = tls?.serverCACert && 'path' in tls.serverCACert ? ` (CA ${tls.serverCACert.path})` : '';
  const mtls = tls?.clientCert ? ', mTLS' : '';
  const tlsText = tls?.disabled ? 'no TLS' : tls || apiKey ? `TLS${ca}${mtls}` : 'no TLS';
  return `${settings.temporalAddress} (${addressFrom}), namespace ${settings.temporalNamespace}, ${tlsText}${apiKey ? ', API key set' : ''}`;
}

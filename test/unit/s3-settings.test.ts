/**
 * S3 settings per AZ (platform/s3/clients.ts): static keys once or per AZ, else the AWS SDK
 * default credential chain; region and addressing once or per AZ; malformed values refused
 * with the variable and the fix, secrets never echoed.
 */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.js';
import { connectionSettings, parsePerAz, S3Clients } from '../../platform/s3/clients.js';

const AZS = ['az-a', 'az-b'];
const settings = (env: Record<string, string>) => loadSettings(env);

describe('S3 settings per AZ', () => {
  it('no keys: every AZ uses the AWS SDK default credential chain, path-style, us-east-1', () => {
    const c = new S3Clients(connectionSettings(settings({}), AZS));
    const r = c.resolve('az-a');
    expect(r).toMatchObject({ region: 'us-east-1', addressing: 'path' });
    expect(r.credentials).toBeUndefined();
    expect(r.credentialSource).toMatch(/AWS SDK default credential chain/);
    // The SDK client is built without static credentials (the chain resolves them per request).
    expect(c.client('http://127.0.0.1:1', 'az-a').config.forcePathStyle).toBe(true);
  });

  it('keys, region and addressing once for every AZ, or per AZ; per-AZ values win', () => {
    const c = new S3Clients(connectionSettings(settings({
      AZ_EVAC_S3_ACCESS_KEY: 'az-b=KEYB', AZ_EVAC_S3_SECRET_KEY: 'az-b=sec/ret+B=',
      AZ_EVAC_S3_REGION: 'az-a=cn-hangzhou,az-b=cn-shanghai', AZ_EVAC_S3_ADDRESSING: 'az-a=virtual',
    }), AZS));
    expect(c.resolve('az-a')).toMatchObject({ region: 'cn-hangzhou', addressing: 'virtual' });
    expect(c.resolve('az-a').credentials).toBeUndefined();
    expect(c.resolve('az-b')).toMatchObject({ region: 'cn-shanghai', addressing: 'path', credentials: { accessKeyId: 'KEYB', secretAccessKey: 'sec/ret+B=' } });
    expect(c.resolve('az-b').credentialSource).toContain('az-b=');
    expect(c.client('https://oss-cn-hangzhou.aliyuncs.com', 'az-a').config.forcePathStyle).toBe(false);
    const all = new S3Clients(connectionSettings(settings({ AZ_EVAC_S3_ACCESS_KEY: 'K', AZ_EVAC_S3_SECRET_KEY: 'S', AZ_EVAC_S3_REGION: 'eu-west-1', AZ_EVAC_S3_ADDRESSING: 'virtual' }), AZS));
    expect(all.resolve('az-b')).toMatchObject({ region: 'eu-west-1', addressing: 'virtual', credentials: { accessKeyId: 'K', secretAccessKey: 'S' } });
  });

  it('refuses a key without a secret, an unknown addressing, an unknown AZ and a malformed entry, never echoing a secret', () => {
    expect(() => new S3Clients(connectionSettings(settings({ AZ_EVAC_S3_ACCESS_KEY: 'K' }), AZS))).toThrow(/every AZ have an access key but no secret key\. Fix: set both AZ_EVAC_S3_ACCESS_KEY and AZ_EVAC_S3_SECRET_KEY/);
    expect(() => new S3Clients(connectionSettings(settings({ AZ_EVAC_S3_ACCESS_KEY: 'az-a=K', AZ_EVAC_S3_SECRET_KEY: 'az-b=S' }), AZS))).toThrow(/of az-a have an access key but no secret key/);
    expect(() => connectionSettings(settings({ AZ_EVAC_S3_ADDRESSING: 'az-b=dns' }), AZS)).toThrow(/AZ_EVAC_S3_ADDRESSING of az-b is "dns", not path or virtual\. Fix/);
    expect(() => connectionSettings(settings({ AZ_EVAC_S3_REGION: 'az-c=us-east-2' }), AZS)).toThrow(/AZ_EVAC_S3_REGION entry "az-c=us-east-2" names AZ "az-c", which is not one of the platform's AZs \(az-a, az-b\)/);
    let message = '';
    try {
      connectionSettings(settings({ AZ_EVAC_S3_ACCESS_KEY: 'K', AZ_EVAC_S3_SECRET_KEY: 'abc=topsecret' }), AZS);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/AZ_EVAC_S3_SECRET_KEY entry 1 names AZ/);
    expect(message).not.toContain('topsecret');
    expect(() => parsePerAz('AZ_EVAC_S3_REGION', 'az-a=x,az-a=y', undefined, false)).toThrow(/names AZ az-a twice/);
    expect(() => parsePerAz('AZ_EVAC_S3_REGION', 'az-a=x,bad', undefined, false)).toThrow(/entry "bad" is not <az>=<value>/);
  });
});

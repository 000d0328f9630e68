/**
 * Classification of Kubernetes API failures (platform/kube/errors.ts), on the error objects
 * client-node raises (ApiException with the API server's Status body and headers; network
 * errors with a code). Real-server cases (422, 409, 403, connection refused) are also in
 * test/kube/kube-adapter.test.ts; 429 and 5xx cannot be provoked on demand there.
 */
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../platform/errors.js';
import { kubeError } from '../../platform/kube/errors.js';
import { parseKubeContexts } from '../../platform/kube/kube-configs.js';

const status = (code: number, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });

describe('kubeError', () => {
  it('429 is retryable and carries Retry-After seconds for the activity retry', () => {
    const e = kubeError('az-b', 'apply FlinkDeployment flink/a', new ApiException(429, 'x', status(429, 'too many requests'), { 'retry-after': '7' }));
    expect(e).toMatchObject({ code: 'throttled', retryable: true, retryAfterSeconds: 7 });
    expect(e.message).toMatch(/az-b: apply FlinkDeployment flink\/a: throttled .*Retry-After 7s/);
  });

  it.each([500, 503, 504])('%i is retryable unavailable', (code) => {
    expect(kubeError('az-b', 'get x', new ApiException(code, 'x', status(code, 'etcd timeout'), {}))).toMatchObject({ code: 'unavailable', retryable: true });
  });

  it('409 is a retryable conflict; 422 and 400 are terminal invalid with the API message; 401/403 terminal forbidden; 404 not-found', () => {
    expect(kubeError('az-b', 'w', new ApiException(409, 'x', status(409, 'the object has been modified'), {}))).toMatchObject({ code: 'conflict', retryable: true });
    const invalid = kubeError('az-b', 'apply FlinkDeployment flink/a', new ApiException(422, 'x', status(422, 'spec.job.upgradeMode: Unsupported value'), {}));
    expect(invalid).toMatchObject({ code: 'invalid', retryable: false });
    expect(invalid.message).toContain('flink/a');
    expect(invalid.message).toContain('spec.job.upgradeMode: Unsupported value');
    expect(kubeError('az-b', 'w', new ApiException(401, 'Unauthorized', undefined, {}))).toMatchObject({ code: 'forbidden', retryable: false });
    expect(kubeError('az-b', 'w', new ApiException(403, 'x', status(403, 'forbidden'), {}))).toMatchObject({ code: 'forbidden', retryable: false });
    expect(kubeError('az-b', 'w', new ApiException(404, 'x', status(404, 'not found'), {}))).toMatchObject({ code: 'not-found', retryable: false });
  });

  it('connection refused (also nested as a cause) is retryable unavailable; PlatformErrors pass through', () => {
    const refused = Object.assign(new Error('request failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    expect(kubeError('az-a', 'list', refused)).toMatchObject({ code: 'unavailable', retryable: true, message: expect.stringContaining('ECONNREFUSED') });
    const own = new PlatformError('failed', 'x', false);
    expect(kubeError('az-a', 'list', own)).toBe(own);
  });
});

describe('parseKubeContexts', () => {
  it('maps AZs to contexts, defaults to AZ-named contexts, and rejects malformed entries', () => {
    expect([...parseKubeContexts('az-a=prod-1a, az-b=prod-1b')]).toEqual([['az-a', 'prod-1a'], ['az-b', 'prod-1b']]);
    expect([...parseKubeContexts('', ['az-a', 'az-b'])]).toEqual([['az-a', 'az-a'], ['az-b', 'az-b']]);
    expect(() => parseKubeContexts('az-a')).toThrow(/az-a.*<az>=<context>/);
    expect(() => parseKubeContexts('az-a=x,az-a=y')).toThrow(/twice/);
  });
});

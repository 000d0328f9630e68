/**
 * How activities classify and retry platform errors (activities/failures.ts): 503, 429,
 * timeouts and (a few times) 403 are retried in the call, honouring Retry-After; a down AZ
 * and terminal errors are not; what is left becomes a typed ApplicationFailure (retryable or not, with the
 * server's Retry-After as the next retry delay).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { IN_CALL_RETRY, platformCall, retryDelayMs } from '../../activities/failures.js';
import { PlatformError } from '../../platform/errors.js';

/** A call failing with `errors` in turn, then answering 'ok'; counts its calls. */
function flaky(errors: PlatformError[]) {
  const calls = { n: 0 };
  return { calls, fn: async () => { const e = errors[calls.n++]; if (e) throw e; return 'ok'; } };
}

const throttled = (s: number) => new PlatformError('throttled', 'too many requests', true, s);

describe('platformCall', () => {
  it('waits the Retry-After of a 429 before retrying, then answers', async () => {
    const { calls, fn } = flaky([throttled(0.3)]);
    const t0 = Date.now();
    expect(await platformCall('x', fn)).toBe('ok');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(calls.n).toBe(2);
  });

  it('retries 503s and timeouts with back-off, then gives up with a retryable typed failure naming the call', async () => {
    const errors = Array.from({ length: IN_CALL_RETRY.attempts }, (_, i) => new PlatformError(i % 2 ? 'timeout' : 'unavailable', 'no answer', true));
    const { calls, fn } = flaky(errors);
    const err = await platformCall('apply flink/etl in az-b', fn).catch((e: unknown) => e);
    expect(calls.n).toBe(IN_CALL_RETRY.attempts);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect((err as ApplicationFailure).type).toBe('PlatformUnavailable');
    expect((err as ApplicationFailure).message).toMatch(/^apply flink\/etl in az-b: no answer/);
  }, 20_000);

  it('hands the last Retry-After to Temporal as the next retry delay', async () => {
    const { fn } = flaky(Array.from({ length: IN_CALL_RETRY.attempts }, () => throttled(0)));
    const err = (await platformCall('x', fn).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.nextRetryDelay).toBe('0s');
  });

  it('retries a 403 a few times (an API server that just restarted denies until its RBAC caches sync), then fails for good naming the fix', async () => {
    const forbidden = (): PlatformError => new PlatformError('forbidden', 'az-b: get FlinkDeployment flink/etl: forbidden (403): RBAC: not found. Fix: bind the worker', false);
    const passing = flaky([forbidden(), forbidden()]);
    expect(await platformCall('x', passing.fn)).toBe('ok');
    expect(passing.calls.n).toBe(3);
    const denied = flaky(Array.from({ length: IN_CALL_RETRY.attempts + 1 }, forbidden));
    const err = (await platformCall('get flink/etl', denied.fn).catch((e: unknown) => e)) as ApplicationFailure;
    expect(denied.calls.n).toBe(IN_CALL_RETRY.attempts);
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('Forbidden');
    expect(err.message).toMatch(/Fix: bind the worker/);
  }, 20_000);

  it('does not retry a down AZ in the call, nor a terminal error', async () => {
    for (const e of [new PlatformError('az-down', 'AZ az-a is down', true), new PlatformError('invalid', 'bad manifest', false)]) {
      const { calls, fn } = flaky([e]);
      const err = (await platformCall('x', fn).catch((x: unknown) => x)) as ApplicationFailure;
      expect(calls.n).toBe(1);
      expect(err.nonRetryable).toBe(!e.retryable);
    }
  });

  it('caps a Retry-After at 30 s and backs off exponentially without one', () => {
    expect(retryDelayMs(throttled(3600), 1)).toBe(30_000);
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(new PlatformError('unavailable', '', true), n))).toEqual([250, 500, 1000, 2000, 4000, 4000]);
  });
});

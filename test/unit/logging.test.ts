/**
 * az-evac's log stream (platform/logging.ts) and the Temporal SDK's logger routed into it
 * (worker/temporal-logging.ts): JSON lines at the configured level, credentials redacted, SDK
 * metadata kept as fields and the task token dropped. The lines are captured from a writable
 * stream in place of stdout.
 */
import { Writable } from 'node:stream';
import { LogTimestamp } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.js';
import { createLogger, parseLogLevel } from '../../platform/logging.js';
import { temporalLogger, temporalRuntimeLogging } from '../../worker/temporal-logging.js';

/** A logger at `level` whose JSON lines land in the returned array. */
function captured(level: string): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
  return { lines, logger: createLogger(level, 'az-evac-test', sink) };
}

describe('log stream', () => {
  it('AZ_EVAC_LOG_LEVEL is a documented setting, info by default, any case; a bad one is refused naming the value and the levels', () => {
    expect(loadSettings({}).logLevel).toBe('info');
    expect(loadSettings({ AZ_EVAC_LOG_LEVEL: 'WARN' }).logLevel).toBe('WARN');
    expect(parseLogLevel('WARN')).toBe('warn');
    expect(parseLogLevel(' debug ')).toBe('debug');
    expect(() => parseLogLevel('verbose')).toThrow(/AZ_EVAC_LOG_LEVEL="verbose" is not a log level\. Fix: set it to one of trace, debug, info, warn, error, fatal, silent/);
    expect(() => createLogger('loud', 'x')).toThrow(/AZ_EVAC_LOG_LEVEL="loud"/);
  });

  it('writes JSON lines at the level set, with the process name, and redacts credentials in request headers', () => {
    const { lines, logger } = captured('warn');
    logger.info('not written');
    logger.warn({ req: { method: 'POST', url: '/api/login', headers: { authorization: 'Bearer s3cret', cookie: 'az_evac_session=abc' } } }, 'refused');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, name: 'az-evac-test', msg: 'refused', req: { method: 'POST', url: '/api/login', headers: { authorization: '[redacted]', cookie: '[redacted]' } } });
    expect(JSON.stringify(lines)).not.toMatch(/s3cret|abc/);
  });

  it("routes the Temporal SDK's lines at their level, with its metadata as fields, without the task token", () => {
    const { lines, logger } = captured('info');
    const sdk = temporalLogger(logger);
    sdk.debug('below the level');
    sdk.info('start step', { evacuationId: 'evac-1', job: 'ns/a', tier: 'P1', attempt: 2, activityType: 'startJob', taskToken: 'CiQ0ZGVh', [LogTimestamp]: 1_700_000_000_123_000_000n });
    sdk.log('ERROR', 'worker failed', { sdkComponent: 'worker' });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[30, 'start step'], [50, 'worker failed']]);
    expect(lines[0]).toMatchObject({ evacuationId: 'evac-1', job: 'ns/a', tier: 'P1', attempt: 2, activityType: 'startJob', sdkTime: 1_700_000_000_123 });
    expect(lines[0]).not.toHaveProperty('taskToken');
    expect(lines[1]).toMatchObject({ sdkComponent: 'worker' });
  });

  it("forwards the Rust core's lines at WARN, or at the level set when more verbose than info", () => {
    expect(temporalRuntimeLogging(captured('info').logger).telemetryOptions.logging).toEqual({ forward: {}, filter: { core: 'WARN', other: 'WARN' } });
    expect(temporalRuntimeLogging(captured('debug').logger).telemetryOptions.logging).toEqual({ forward: {}, filter: { core: 'DEBUG', other: 'DEBUG' } });
  });
});

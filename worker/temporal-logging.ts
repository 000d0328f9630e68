/**
 * The Temporal SDK's logging routed into az-evac's log stream (platform/logging.ts), so the
 * worker writes one stream of JSON lines: the SDK's worker lines, the activity context logger
 * (activities/log.ts), the workflow logger (`log` of @temporalio/workflow, through the SDK's
 * default sinks) and the Rust core's lines, forwarded.
 * Reference: https://docs.temporal.io/develop/typescript/observability#logging
 */
import type { Logger } from 'pino';
import { LogTimestamp, type LogLevel, type LogMetadata, type Logger as TemporalLogger, type RuntimeOptions } from '@temporalio/worker';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * The Temporal SDK's Logger (Runtime.install({ logger })) over `logger`: each SDK line becomes a
 * pino line at the same level, with the SDK's metadata as fields (sdkComponent, workflowId,
 * activityType, attempt, ...), minus the task token; the SDK's own timestamp (nanoseconds) is
 * kept as `sdkTime` (ms) since a forwarded core line may be written after it happened.
 * Reference: https://typescript.temporal.io/api/namespaces/worker#logger (class DefaultLogger).
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const method = PINO_LEVEL[level];
    if (!logger.isLevelEnabled(method)) return;
    const { [LogTimestamp]: nanos, taskToken: _token, ...fields } = meta ?? {};
    logger[method]({ ...fields, ...(typeof nanos === 'bigint' ? { sdkTime: Number(nanos / 1_000_000n) } : {}) }, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

/**
 * The Temporal Runtime's logging options for `logger`: the SDK logger above, and the Rust
 * core's lines forwarded into it (at WARN and above, or at the logger's level when that is
 * more verbose than info). Pass to Runtime.install once per process, before any Worker.
 */
export function temporalRuntimeLogging(logger: Logger): Required<Pick<RuntimeOptions, 'logger'>> & { telemetryOptions: { logging: NonNullable<NonNullable<RuntimeOptions['telemetryOptions']>['logging']> } } {
  const coreLevel: LogLevel = logger.level === 'trace' ? 'TRACE' : logger.level === 'debug' ? 'DEBUG' : 'WARN';
  return { logger: temporalLogger(logger), telemetryOptions: { logging: { forward: {}, filter: { core: coreLevel, other: coreLevel } } } };
}

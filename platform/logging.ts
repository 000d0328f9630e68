/**
 * az-evac's one log stream: JSON lines (pino, https://getpino.io) on stdout, at the level
 * AZ_EVAC_LOG_LEVEL sets (config/settings.ts). The worker routes the Temporal SDK's logger into
 * it (worker/temporal-logging.ts: worker lifecycle, activity and workflow context loggers, the
 * Rust core's forwarded logs),
 * so activity lines (activities/log.ts) and workflow lines (`log` of @temporalio/workflow)
 * come out of the same stream as the SDK's; the console hands it to Fastify for its request
 * lines. Each line has `level` (pino's number), `time` (epoch ms), `name` (the process:
 * az-evac-worker, az-evac-console), `msg` and the fields of the call.
 *
 * Credentials are never written: request headers (authorization, cookies, the proxy user
 * header) are not among the fields Fastify logs and are redacted should a caller add them;
 * the Temporal task token is dropped from SDK lines (worker/temporal-logging.ts).
 */
import { pino, type DestinationStream, type Logger } from 'pino';

/** The levels AZ_EVAC_LOG_LEVEL accepts, most verbose first (pino's; `silent` writes nothing). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * The level named by `value` (AZ_EVAC_LOG_LEVEL), case-insensitive (`WARN` is `warn`).
 * @throws Error naming the value, AZ_EVAC_LOG_LEVEL and the levels it accepts
 */
export function parseLogLevel(value: string): LogLevelName {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevelName;
  throw new Error(`AZ_EVAC_LOG_LEVEL=${JSON.stringify(value)} is not a log level. Fix: set it to one of ${LOG_LEVELS.join(', ')} (or unset it: info)`);
}

/**
 * The process's logger: JSON lines at `level` into `destination` (default stdout, written
 * synchronously so no line is lost when the process exits).
 * @param level AZ_EVAC_LOG_LEVEL's value (parseLogLevel; throws on a bad one)
 * @param name the process, on every line (`name` field)
 */
export function createLogger(level: string, name: string, destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  return pino({
    name,
    level: parseLogLevel(level),
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-forwarded-user"]', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie'], censor: '[redacted]' },
  }, destination);
}

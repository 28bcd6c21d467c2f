import { context, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentCorrelationId } from './context.js';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.JWT_SECRET',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'config.JWT_SECRET',
];

/** Paths whose values are personal data: logged masked, enough to tell two apart. */
export const MASKED_PATHS = ['email', '*.email', '*.*.email'];

/** `john.doe@example.com` → `j***@example.com`; anything else that is not an email → `[masked]`. */
export function maskEmail(value: unknown): string {
  if (typeof value !== 'string') return '[masked]';
  const at = value.lastIndexOf('@');
  if (at < 1) return '[masked]';
  return `${value[0]}***${value.slice(at)}`;
}

const MASKED = new Set(MASKED_PATHS);

export function createLogger(
  service: string,
  level: string = 'info',
  options: LoggerOptions = {},
  destination?: DestinationStream,
): Logger {
  const settings: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [...REDACTED_PATHS, ...MASKED_PATHS],
      censor: (value, path) => (MASKED.has(censoredPath(path)) ? maskEmail(value) : '[redacted]'),
    },
    // every line inside a request or message handler carries its correlation id
    // (unless the line's logger is already bound to one, as fastify's request loggers are)
    // and, when tracing records it, the span it was written in
    mixin(_object, _level, logger) {
      const correlationId = currentCorrelationId();
      const line: Record<string, string> = correlationId && !('correlation_id' in logger.bindings()) ? { correlation_id: correlationId } : {};
      const span = trace.getSpan(context.active())?.spanContext();
      if (span && trace.isSpanContextValid(span)) {
        line['trace_id'] = span.traceId;
        line['span_id'] = span.spanId;
      }
      return line;
    },
    formatters: { level: (label) => ({ level: label }) },
    ...options,
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** The redaction pattern a concrete path matched (pino hands over the concrete path). */
function censoredPath(path: string[]): string {
  if (path.length === 1) return path[0]!;
  return `${'*.'.repeat(path.length - 1)}${path[path.length - 1]}`;
}

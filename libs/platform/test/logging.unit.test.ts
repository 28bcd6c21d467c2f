import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger, withCorrelation } from '../src/index.js';

function capture(): { lines: () => Array<Record<string, unknown>>; raw: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, raw: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('never writes credentials and tokens', () => {
    const { stream, lines } = capture();
    const out = createLoggerTo(stream);
    out.info({ req: { headers: { authorization: 'Bearer secret-token' } }, password: 'hunter2', config: { JWT_SECRET: 'x'.repeat(40) } }, 'request');
    const [line] = lines();
    expect(JSON.stringify(line)).not.toMatch(/secret-token|hunter2|xxxxxxxx/);
    expect(line).toMatchObject({ password: '[redacted]', req: { headers: { authorization: '[redacted]' } } });
  });

  it('masks emails wherever they appear, keeping enough to tell two apart', () => {
    const { stream, lines } = capture();
    createLoggerTo(stream).info({ email: 'john.doe@example.com', client: { email: 'Ann@Example.org' }, command: { fields: { email: 'x' } } }, 'x');
    const [line] = lines();
    expect(line).toMatchObject({ email: 'j***@example.com', client: { email: 'A***@Example.org' }, command: { fields: { email: '[masked]' } } });
    expect(JSON.stringify(line)).not.toMatch(/john\.doe|Ann@/);
  });

  it('puts the correlation id on every line written inside a request or message', () => {
    const { stream, lines } = capture();
    const out = createLoggerTo(stream);
    withCorrelation('corr-7', () => out.info('inside'));
    out.info('outside');
    expect(lines().map((l) => l['correlation_id'])).toEqual(['corr-7', undefined]);
    expect(lines()[0]).toMatchObject({ service: 'svc', level: 'info', msg: 'inside' });
  });

  it('writes the correlation id once when the logger is already bound to it (request loggers)', () => {
    const { stream, raw } = capture();
    const out = createLoggerTo(stream).child({ correlation_id: 'corr-8' });
    withCorrelation('corr-8', () => out.warn('inside a request'));
    expect(raw().match(/"correlation_id"/g)).toHaveLength(1);
  });
});

describe('log lines and traces', () => {
  it('carry the trace and span id of the span they were written in, next to the correlation id', () => {
    // what the OpenTelemetry SDK registers when tracing is on
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const { stream, lines } = capture();
      const out = createLoggerTo(stream);
      const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
      context.with(trace.setSpanContext(context.active(), spanContext), () => withCorrelation('corr-9', () => out.info('traced')));
      out.info('untraced');
      expect(lines()[0]).toMatchObject({ correlation_id: 'corr-9', trace_id: spanContext.traceId, span_id: spanContext.spanId });
      expect(lines()[1]).not.toHaveProperty('trace_id');
    } finally {
      context.disable();
    }
  });
});

function createLoggerTo(stream: Writable) {
  return createLogger('svc', 'info', {}, stream);
}

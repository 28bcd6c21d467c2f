import { beforeEach, describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { createHttpServer, createLogger } from '../src/index.js';
import { inMemoryTracing } from './in-memory-tracing.js';

const exporter = inMemoryTracing();

beforeEach(() => exporter.reset());

const traceId = '0af7651916cd43dd8448eb211c80319c';
const callerSpan = 'b7ad6b7169203331';

/** A server whose handlers answer with the trace they ran in, after work of their own under it. */
function server() {
  const app = createHttpServer({ logger: createLogger('test', 'silent'), registry: new Registry(), readiness: {} });
  const inTrace = async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    trace.getTracer('test').startSpan('work').end();
    const active = trace.getSpan(context.active())?.spanContext();
    return { traceId: active?.traceId, spanId: active?.spanId, sampled: active?.traceFlags === 1 };
  };
  app.get('/things/:id', inTrace);
  app.post('/things', inTrace);
  app.get('/broken', async () => {
    throw new Error('boom');
  });
  return app;
}

describe('HTTP server spans', () => {
  it('continue the caller trace as a SERVER span named after the route, active in the handler, without the query', async () => {
    const answer = await server().inject({ url: '/things/42?email=jo%40example.com', headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    expect(answer.statusCode).toBe(200);

    const [work, span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: 'GET /things/:id', kind: SpanKind.SERVER });
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span!.parentSpanContext?.spanId).toBe(callerSpan);
    expect(span!.attributes).toMatchObject({ 'http.route': '/things/:id', 'url.path': '/things/42', 'http.response.status_code': 200 });
    expect(JSON.stringify(span!.attributes)).not.toContain('example.com');
    expect(work!.parentSpanContext?.spanId).toBe(span!.spanContext().spanId);
    expect(answer.json()).toEqual({ traceId, spanId: span!.spanContext().spanId, sampled: true });
  });

  it('keep the span active in a handler that runs after the body is read', async () => {
    const answer = await server().inject({ method: 'POST', url: '/things', payload: { name: 'x' } });
    const [work, span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: 'POST /things', kind: SpanKind.SERVER });
    expect(span!.parentSpanContext).toBeUndefined();
    expect(work!.parentSpanContext?.spanId).toBe(span!.spanContext().spanId);
    expect(answer.json()).toMatchObject({ traceId: span!.spanContext().traceId, spanId: span!.spanContext().spanId });
  });

  it('record nothing for a caller that did not sample, yet pass its trace on unsampled', async () => {
    const answer = await server().inject({ url: '/things/7', headers: { traceparent: `00-${traceId}-${callerSpan}-00` } });
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(answer.json()).toMatchObject({ traceId, sampled: false });
  });

  it('mark a 5xx answer as an error, and leave the probes out', async () => {
    const app = server();
    expect((await app.inject({ url: '/broken' })).statusCode).toBe(500);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ name: 'GET /broken', status: { code: SpanStatusCode.ERROR } });
    expect(spans[0]!.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
  });
});

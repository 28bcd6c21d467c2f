import { context, propagation, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Probes are not requests anyone follows. */
const UNTRACED_ROUTES = new Set(['/healthz', '/readyz']);

/**
 * The SERVER span of every request a trackme HTTP service answers, opened and closed by fastify
 * hooks. The span continues the caller's W3C `traceparent`, is named after the route template
 * (`GET /api/v1/clients`, HTTP semantic conventions) and becomes the active context of the
 * request's hooks and handler, so the Kafka, MongoDB, Redis and undici spans they open are its
 * children.
 *
 * It replaces `@opentelemetry/instrumentation-http`'s server side, which costs every request the
 * same whether it is sampled or not: a WHATWG URL parse and a dozen attributes before sampling,
 * and wrapping every listener of the request and the response to carry the context. Here an
 * unsampled request costs a span context and the attach; attributes are set on recorded spans
 * only, and the URL keeps its path (a query holds list filters, an email among them). With
 * tracing off (no tracer provider registered) no hook is added.
 */
export function traceRequests(app: FastifyInstance): void {
  if (!tracingOn()) return;
  const tracer = trace.getTracer('@trackme/platform/http');
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && UNTRACED_ROUTES.has(route)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      const query = request.url.indexOf('?');
      span.setAttributes({
        'http.request.method': request.method,
        'url.scheme': 'http',
        'url.path': query < 0 ? request.url : request.url.slice(0, query),
        'network.protocol.version': request.raw.httpVersion,
      });
      if (route !== undefined) span.setAttribute('http.route', route);
    }
    spans.set(request, span);
    // fastify runs the rest of the request (hooks, body, handler) in what this hook leaves
    // active, which no `context.with` can wrap from here; the logger's correlation id is
    // entered the same way. The attachment ends with the request's own callbacks: the next
    // request on the connection starts from the root context, so the token is not kept
    context.attach(trace.setSpan(parent, span));
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    spans.delete(request);
    if (span?.isRecording()) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        span.setAttribute('error.type', String(reply.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span?.end();
    done();
  });

  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    spans.delete(request);
    span?.setAttribute('error.type', 'aborted');
    span?.end();
    done();
  });
}

/**
 * Whether a tracer provider is registered. The API's proxy provider has no delegate until one is;
 * a proxy of another copy of the API (the SDK loads the CommonJS one) means the SDK registered it.
 */
function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('@trackme/platform/http') !== undefined;
}

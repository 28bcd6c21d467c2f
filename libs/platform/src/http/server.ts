import { Readable } from 'node:stream';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type onRequestAsyncHookHandler } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { Headers, MAX_BODY_DEPTH, pathDeeperThan } from '@trackme/contracts';
import { enterCorrelation } from '../logging/context.js';
import type { Logger } from '../logging/logger.js';
import { createHttpDurationHistogram } from '../observability/metrics.js';
import { traceRequests } from '../observability/server-spans.js';
import { MethodNotAllowedError, RateLimitedError, UnauthorizedError, ValidationError } from '../errors.js';
import { clientError, frameworkError } from './framework-errors.js';
import { problem, sendProblem, toProblem } from './problem.js';
import { installValidation } from './validation.js';

export type ReadinessCheck = () => Promise<boolean> | boolean;

export interface HttpServerOptions {
  logger: Logger;
  registry: Registry;
  /** dependency name → check; /readyz is 200 only when all pass */
  readiness: Record<string, ReadinessCheck>;
  bodyLimit?: number;
  /** when set, `/internal/…` routes answer only a caller presenting it as a bearer token (the gateway) */
  serviceToken?: string;
}

export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;
const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const READINESS_TIMEOUT_MS = 1_500;
/** No route of trackme needs more; a longer URL is refused before any parsing or validation. */
export const MAX_URL_LENGTH = 4_096;

/** What a 503 answer suggests as the wait before a retry. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The fastify instance every trackme HTTP service starts from: correlation ids, problem+json
 * errors, request metrics, /healthz and /readyz. Services register their routes on it. Prometheus
 * metrics are served apart, by `createMetricsServer`, on a port that only scrapers reach.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES,
    // one line per request is written by the onResponse hook below, with the route and timing
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlation_id' }),
    requestIdHeader: false,
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    genReqId: (req) => {
      const given = req.headers[Headers.correlationId];
      return typeof given === 'string' && CORRELATION_ID_PATTERN.test(given) ? given : randomUUID();
    },
  });

  traceRequests(app);
  installValidation(app);
  const duration = createHttpDurationHistogram(options.registry);

  app.addHook('onRequest', async (request, reply) => {
    enterCorrelation(request.id);
    reply.header(Headers.correlationId, request.id);
    if (request.url.length > MAX_URL_LENGTH) {
      return sendProblem(request, reply, problem(414, 'uri_too_long', `The URL is longer than ${MAX_URL_LENGTH} characters`));
    }
  });

  if (options.serviceToken) requireServiceToken(app, options.serviceToken);

  // no schema nests deeply; a deeper body is refused before validation walks it. A body a route
  // reads as a stream (an uploaded file) is bytes still to come, not a parsed document.
  app.addHook('preValidation', async (request) => {
    if (request.body instanceof Readable) return;
    const deep = pathDeeperThan(request.body, MAX_BODY_DEPTH);
    if (deep !== undefined) throw new ValidationError('the body nests too deeply', [{ field: deep, message: `must not nest more than ${MAX_BODY_DEPTH} levels deep` }]);
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const line = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode === 503) request.log.warn(line, 'request answered unavailable');
    else if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else request.log.debug(line, 'request');
  });

  app.setErrorHandler((error: Error, request, reply) => {
    const body = toProblem(error);
    if (error instanceof UnauthorizedError) reply.header('www-authenticate', error.challenge);
    if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
    if (error instanceof MethodNotAllowedError) reply.header('allow', error.allow.join(', '));
    if (body.status === 503) {
      // a dependency that is down or overloaded is expected to pass; tell the caller when to retry
      request.log.warn({ err: error }, 'dependency unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    } else if (body.status >= 500) {
      request.log.error({ err: error }, 'unhandled error');
    }
    return sendProblem(request, reply, body);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, problem(404, 'route_not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  if (!options.registry.getSingleMetric('trackme_dependency_ready')) readinessGauge(options);

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => [name, await withTimeout(check)] as const),
    );
    const checks = Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'up' : 'down']));
    const ready = results.every(([, ok]) => ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return app;
}

/** Routes whose path starts with this answer only the gateway's service token. */
export const INTERNAL_PREFIX = '/internal/';

/**
 * The service-token check is attached to each internal route when it is declared, so it runs for
 * whatever request the router matched to that route. A check on the raw URL would let
 * `/%69nternal/…`, `//internal/…` or an absolute-form target reach the handler unchecked, since
 * the router decodes and normalises the path before matching.
 */
function requireServiceToken(app: FastifyInstance, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  const check: onRequestAsyncHookHandler = async (request) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthorizedError('internal API: only the gateway may call it', 'Bearer realm="trackme-internal"');
    }
  };
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(INTERNAL_PREFIX)) return;
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [check, ...own];
  });
}

/**
 * The Prometheus endpoint on its own listener: the API port, public for the gateway, then shows
 * neither the runtime's version nor per-route counts, and a scraper needs no token.
 */
export function createMetricsServer(registry: Registry, logger: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), frameworkErrors: frameworkError, clientErrorHandler: clientError });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, problem(404, 'route_not_found', 'This port serves GET /metrics only')));
  return app;
}

async function withTimeout(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** `trackme_dependency_ready{dependency}`: the /readyz checks, run at each scrape. */
function readinessGauge(options: HttpServerOptions): void {
  new Gauge({
    name: 'trackme_dependency_ready',
    help: 'Readiness check of each dependency at scrape time (1 up, 0 down)',
    labelNames: ['dependency'],
    registers: [options.registry],
    async collect() {
      const results = await Promise.all(Object.entries(options.readiness).map(async ([name, check]) => [name, await withTimeout(check)] as const));
      for (const [dependency, ok] of results) this.set({ dependency }, ok ? 1 : 0);
    },
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Static, TObject } from 'typebox';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import { startTracing } from '../observability/tracing.js';
import { createMetricsServer } from '../http/server.js';
import { Lifecycle } from './lifecycle.js';

/** What a service's composition root receives: validated config and the process-wide singletons. */
export interface ServiceContext<C> {
  service: string;
  config: C;
  logger: Logger;
  registry: Registry;
  lifecycle: Lifecycle;
}

export interface BaseConfig {
  HOST: string;
  PORT: number;
  METRICS_PORT: number;
  LOG_LEVEL: string;
  SHUTDOWN_TIMEOUT_MS: number;
  SHUTDOWN_DRAIN_MS?: number | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_TRACES_SAMPLER?: string | undefined;
  OTEL_TRACES_SAMPLER_ARG?: number | undefined;
}

export type Compose<C> = (context: ServiceContext<C>) => Promise<FastifyInstance>;

/** Builds the context for a composition root; used by main.ts and by in-process tests. */
export function createServiceContext<C extends Omit<BaseConfig, 'HOST' | 'PORT' | 'METRICS_PORT'>>(service: string, config: C): ServiceContext<C> {
  const logger = createLogger(service, config.LOG_LEVEL);
  return {
    service,
    config,
    logger,
    registry: createMetricsRegistry(service),
    lifecycle: new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS),
  };
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** how the process ends on a fatal start-up problem or after a signal (tests pass their own) */
  exit?: (code: number) => void;
  installSignalHandlers?: boolean;
}

export interface RunningService<C> {
  app: FastifyInstance;
  /** the Prometheus endpoint, on METRICS_PORT */
  metrics: FastifyInstance;
  context: ServiceContext<C>;
}

/**
 * Process entry point shared by every service: validate config (exit 1 listing every problem),
 * start tracing, compose, listen, and stop cleanly on SIGTERM/SIGINT.
 */
export async function runService<S extends TObject>(
  service: string,
  schema: S,
  compose: Compose<Static<S> & BaseConfig>,
  options: RunOptions = {},
): Promise<RunningService<Static<S> & BaseConfig> | undefined> {
  const { env = process.env, exit = (code: number) => process.exit(code), installSignalHandlers = true } = options;
  let config: Static<S> & BaseConfig;
  try {
    config = loadConfig(service, schema, env) as Static<S> & BaseConfig;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    exit(1);
    return undefined;
  }
  const context = createServiceContext(service, config);
  const { logger, lifecycle } = context;
  try {
    const tracing = startTracing(service, env);
    if (tracing.endpoint) logger.info({ endpoint: tracing.endpoint, sampler: config.OTEL_TRACES_SAMPLER, ratio: config.OTEL_TRACES_SAMPLER_ARG }, 'tracing enabled (OTLP/HTTP)');
    lifecycle.onStop('tracing', () => tracing.shutdown());
    if (installSignalHandlers) {
      process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
      lifecycle.installSignalHandlers(exit);
    }
    const app = await compose(context);
    // registered last, so closed first: turn not-ready while still serving, so balancers move
    // callers away; then stop accepting requests, let in-flight ones finish, and only then let
    // dependencies go away
    let draining = false;
    app.addHook('onRequest', async (request, reply) => {
      if (draining && request.url === '/readyz') await reply.code(503).send({ status: 'not_ready', checks: { shutdown: 'draining' } });
    });
    // a connection that served a request while draining is not kept for another one
    app.addHook('onSend', async (_request, reply) => {
      if (draining) reply.header('connection', 'close');
    });
    lifecycle.onStop('http', async () => {
      draining = true;
      await sleep(config.SHUTDOWN_DRAIN_MS ?? 0);
      // a keep-alive connection whose request was still running when the listener closed turns
      // idle only afterwards: close those as they come, or the close waits for them to time out
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
    });
    const metrics = createMetricsServer(context.registry, logger);
    lifecycle.onStop('metrics http', () => metrics.close());
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    const metricsAddress = await metrics.listen({ host: config.HOST, port: config.METRICS_PORT });
    logger.info({ address, metrics: metricsAddress }, `${service} listening`);
    return { app, metrics, context };
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    await lifecycle.stop('start-up failure').catch(() => undefined);
    exit(1);
    return undefined;
  }
}

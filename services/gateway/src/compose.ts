import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadStageProcess } from '@trackme/contracts';
import {
  ConfigError,
  createHttpServer,
  createKafka,
  createRedis,
  MessageProducer,
  kafkaConnection,
  startInBackground,
  type Logger,
  type ServiceContext,
} from '@trackme/platform';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { registerGatewayApp } from './app.js';
import { TokenVerifier } from './auth/verifier.js';
import { RateLimiter } from './http/rate-limit.js';
import { CommandBus } from './commands/command-bus.js';
import { OperationStore } from './commands/operation-store.js';
import type { GatewayConfig } from './config.js';
import { MetricsClient } from './metrics/metrics-client.js';
import { ListCache } from './read/list-cache.js';
import { ReadClient } from './read/read-client.js';

/** Composition root: stages → Redis → Kafka producer and reply consumer → read and metrics clients → HTTP app. */
export async function composeGateway(context: ServiceContext<GatewayConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const process = loadStageProcess(config.STAGES_CONFIG);
  const verifier = tokenVerifierOf(config);
  if (config.AUTH_MODE === 'disabled') {
    logger.warn('AUTHENTICATION IS DISABLED (AUTH_MODE=disabled): every caller acts as super_user. Never run this where anyone else can reach the API.');
  }

  const redis = createRedis(config.REDIS_URL, 'trackme-gateway', { tlsCaFile: config.REDIS_TLS_CA_FILE });
  lifecycle.onStop('redis', () => redis.close());
  const operations = new OperationStore(redis.client, config.IDEMPOTENCY_TTL_HOURS * 3600);

  const kafka = createKafka(
    { ...kafkaConnection(config), clientId: config.KAFKA_CLIENT_ID ?? 'trackme-gateway' },
    logger,
  );
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  lifecycle.onStop('kafka producer', () => producer.disconnect());
  const bus = new CommandBus(kafka, producer, operations, logger, {
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    registry,
    instanceId: randomUUID(),
  });
  lifecycle.onStop('reply consumer', () => bus.stop());
  void startInBackground(
    'kafka',
    async () => {
      if (!producer.isConnected) await producer.connect();
      await bus.start();
    },
    lifecycle,
    logger,
  );

  const read = new ReadClient(config.READ_URL, config.INTERNAL_TOKEN);
  const lists = new ListCache(config.LIST_CACHE_MS);
  lifecycle.onStop('read client', () => read.close());
  const metrics = new MetricsClient(config.METRICS_URL, config.INTERNAL_TOKEN);
  lifecycle.onStop('metrics client', () => metrics.close());

  const app = createHttpServer({
    logger,
    registry,
    bodyLimit: config.BODY_LIMIT_BYTES,
    readiness: { kafka: () => bus.isReady, redis: () => redis.ping() },
  });
  const limiter = rateLimiterOf(config, redis.client, logger, registry);
  await registerGatewayApp(app, {
    basePath: config.BASE_PATH,
    auth: { mode: config.AUTH_MODE, verifier, ...(limiter ? { limiter } : {}) },
    corsOrigins: config.CORS_ORIGINS.split(',').filter(Boolean),
    process,
    operations,
    read,
    lists,
    metrics,
    write: { bus, operations, basePath: config.BASE_PATH, timeoutMs: config.WRITE_TIMEOUT_MS, onWritten: () => lists.clear() },
    publishing: { producer, timeoutMs: config.WRITE_TIMEOUT_MS },
  });
  return app;
}

/** The token verifier of AUTH_MODE=jwt; a gateway without any key to check tokens with does not start. */
function tokenVerifierOf(config: GatewayConfig): TokenVerifier | undefined {
  if (config.AUTH_MODE === 'disabled') return undefined;
  if (!config.JWT_SECRET && !config.JWKS_URL) {
    throw new ConfigError('gateway', [
      { variable: 'JWT_SECRET', message: 'AUTH_MODE=jwt needs JWT_SECRET (HS256) or JWKS_URL (RS256/ES256/EdDSA) to verify tokens' },
    ]);
  }
  return new TokenVerifier({
    ...(config.JWT_SECRET ? { secret: config.JWT_SECRET } : {}),
    ...(config.JWKS_URL ? { jwksUrl: config.JWKS_URL } : {}),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
}

/** Per-caller request budgets in Redis; none when both limits are 0. */
function rateLimiterOf(config: GatewayConfig, redis: Redis, logger: Logger, registry: Registry): RateLimiter | undefined {
  const unlimited = (n: number) => (n === 0 ? Number.MAX_SAFE_INTEGER : n);
  if (config.RATE_LIMIT_PER_CALLER === 0 && config.RATE_LIMIT_PER_ADDRESS === 0 && config.RATE_LIMIT_NO_CACHE_PER_CALLER === 0) return undefined;
  return new RateLimiter(
    redis,
    {
      perCaller: unlimited(config.RATE_LIMIT_PER_CALLER),
      perAddress: unlimited(config.RATE_LIMIT_PER_ADDRESS),
      bypassPerCaller: unlimited(config.RATE_LIMIT_NO_CACHE_PER_CALLER),
      windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
    },
    logger,
    registry,
  );
}

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadStageProcess } from '@trackme/contracts';
import {
  ConfigError,
  createHttpServer,
  createMongo,
  createRedis,
  redisOptionsOf,
  setUpKafka,
  type Logger,
  type ServiceContext,
} from '@trackme/platform';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { registerGatewayApp } from './app.js';
import { consoleDirOf } from './console/assets.js';
import { TokenVerifier } from './auth/verifier.js';
import { RateLimiter } from './http/rate-limit.js';
import { CommandBus } from './commands/command-bus.js';
import { OperationStore } from './commands/operation-store.js';
import type { GatewayConfig } from './config.js';
import { composeJobs } from './jobs/compose-jobs.js';
import { MetricsClient } from './metrics/metrics-client.js';
import { ListCache } from './read/list-cache.js';
import { ReadClient } from './read/read-client.js';
import { LoginThrottle } from './users/login-throttle.js';
import { RefreshTokens } from './users/refresh-tokens.js';
import { SignIn } from './users/sign-in.js';
import { TokenIssuer } from './users/token-issuer.js';
import { UserAdmin } from './users/user-admin.js';
import { UserStore } from './users/user-store.js';

/** Composition root: stages → signing key → Redis and Mongo (users) → Kafka producer and reply consumer → read and metrics clients → HTTP app. */
export async function composeGateway(context: ServiceContext<GatewayConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const stages = loadStageProcess(config.STAGES_CONFIG);
  const issuer = await tokenIssuerOf(config);
  const consoleDir = config.CONSOLE_ENABLED ? consoleDirOf(config.CONSOLE_DIR) : undefined;
  const verifier = tokenVerifierOf(config, issuer);
  if (config.AUTH_MODE === 'disabled') {
    logger.warn('AUTHENTICATION IS DISABLED (AUTH_MODE=disabled): every caller acts as super_user. Never run this where anyone else can reach the API.');
  }

  const redis = createRedis(config.REDIS_URL, 'trackme-gateway', redisOptionsOf(config));
  lifecycle.onStop('redis', () => redis.close());
  const operations = new OperationStore(redis.client, config.IDEMPOTENCY_TTL_HOURS * 3600);
  // the gateway owns sign-in, so it is the one writer of users and refresh tokens
  const mongo = createMongo(config.MONGO_URL, 'trackme-gateway');
  lifecycle.onStop('mongo', () => mongo.close());
  const users = new UserStore(mongo.db);
  const refreshTokens = new RefreshTokens(mongo.db, config.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
  const throttle = new LoginThrottle(
    redis.client,
    { perAccount: config.LOGIN_FAILURES_PER_ACCOUNT, perAddress: config.LOGIN_FAILURES_PER_ADDRESS, windowMs: config.LOGIN_FAILURE_WINDOW_SECONDS * 1000 },
    logger,
    registry,
    config.LOGIN_THROTTLE_KEY_PREFIX,
  );
  if (config.CONSOLE_ENABLED && !consoleDir) logger.warn(`the web console is not built: ${config.BASE_PATH}/console answers 404 (npm run build -w web)`);
  if (!issuer) logger.warn('AUTH_SIGNING_KEY is not set: users cannot sign in (POST /auth/login answers 404)');

  const kafka = setUpKafka({ config, clientId: 'trackme-gateway', logger, registry, lifecycle });
  const { producer } = kafka;
  const bus = new CommandBus(kafka, operations, logger, { registry, instanceId: randomUUID() });
  kafka.start();

  const read = new ReadClient(config.READ_URL, config.INTERNAL_TOKEN);
  const lists = new ListCache(config.LIST_CACHE_MS);
  lifecycle.onStop('read client', () => read.close());
  const metrics = new MetricsClient(config.METRICS_URL, config.INTERNAL_TOKEN);
  lifecycle.onStop('metrics client', () => metrics.close());

  const app = createHttpServer({
    logger,
    registry,
    bodyLimit: config.BODY_LIMIT_BYTES,
    readiness: { kafka: () => bus.isReady, redis: () => redis.ping(), mongo: () => mongo.ping() },
  });
  const limiter = rateLimiterOf(config, redis.client, logger, registry);
  const write = { bus, operations, basePath: config.BASE_PATH, timeoutMs: config.WRITE_TIMEOUT_MS, onWritten: () => lists.clear() };
  await registerGatewayApp(app, {
    basePath: config.BASE_PATH,
    auth: { mode: config.AUTH_MODE, verifier, ...(limiter ? { limiter } : {}) },
    corsOrigins: config.CORS_ORIGINS.split(',').filter(Boolean),
    process: stages,
    operations,
    read,
    lists,
    metrics,
    write,
    jobs: composeJobs({ config, db: mongo.db, write, read, stages, logger, lifecycle }),
    publishing: { producer, timeoutMs: config.WRITE_TIMEOUT_MS },
    accounts: {
      users,
      issuer,
      admin: new UserAdmin(users, refreshTokens),
      signIn: issuer ? new SignIn({ users, refresh: refreshTokens, issuer, throttle }) : undefined,
      throttle,
      selfRegistration: config.AUTH_SELF_REGISTRATION,
    },
    console: { serve: config.CONSOLE_ENABLED, dir: consoleDir, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_DAYS * 86_400 },
  });
  return app;
}

/** The signer of sign-in tokens, when AUTH_SIGNING_KEY is set; a key it cannot use stops the start. */
async function tokenIssuerOf(config: GatewayConfig): Promise<TokenIssuer | undefined> {
  if (!config.AUTH_SIGNING_KEY) return undefined;
  try {
    return await TokenIssuer.create(config.AUTH_SIGNING_KEY, { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });
  } catch (error) {
    throw new ConfigError('gateway', [{ variable: 'AUTH_SIGNING_KEY', message: (error as Error).message }]);
  }
}

/** The token verifier of AUTH_MODE=jwt; a gateway without any key to check tokens with does not start. */
function tokenVerifierOf(config: GatewayConfig, issuer: TokenIssuer | undefined): TokenVerifier | undefined {
  if (config.AUTH_MODE === 'disabled') return undefined;
  if (!config.JWT_SECRET && !config.JWKS_URL && !issuer) {
    throw new ConfigError('gateway', [
      {
        variable: 'JWT_SECRET',
        message: 'AUTH_MODE=jwt needs AUTH_SIGNING_KEY (its own sign-in), JWT_SECRET (HS256) or JWKS_URL (RS256/ES256/EdDSA) to verify tokens',
      },
    ]);
  }
  return new TokenVerifier({
    ...(config.JWT_SECRET ? { secret: config.JWT_SECRET } : {}),
    ...(config.JWKS_URL ? { jwksUrl: config.JWKS_URL } : {}),
    ...(issuer ? { ownKeys: issuer.jwks } : {}),
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

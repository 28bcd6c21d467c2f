import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { DEFAULT_PARTITIONS, Topics } from '@trackme/contracts';
import {
  createHttpServer,
  createMongo,
  createRedis,
  redisOptionsOf,
  isRedisUnavailable,
  setUpKafka,
  type Logger,
  type ServiceContext,
} from '@trackme/platform';
import { ModelLoader } from './cache/model-loader.js';
import { ReadCache } from './cache/read-cache.js';
import { Bulkhead } from './clients/bulkhead.js';
import { ClientReads } from './clients/client-reads.js';
import { ClientSource } from './clients/client-source.js';
import { internalClientRoutes } from './clients/routes.js';
import type { ReadConfig } from './config.js';
import { changeFacts, createInvalidationHandler } from './events/invalidation.js';
import { registerHistoryRoutes } from './history/history-routes.js';

/** Composition root: Mongo (read-only) → Redis cache → change-event consumer → internal HTTP API. */
export async function composeRead(context: ServiceContext<ReadConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const policy = { lastLoginDays: config.HIGHLIGHT_LAST_LOGIN_DAYS };
  const mongo = createMongo(config.MONGO_URL, 'trackme-read');
  lifecycle.onStop('mongo', () => mongo.close());
  const redis = createRedis(config.REDIS_URL, 'trackme-read', redisOptionsOf(config));
  lifecycle.onStop('redis', () => redis.close());
  const cache = new ReadCache(redis.client, config.CACHE_KEY_PREFIX, config.CACHE_TTL_SECONDS);
  const source = new ClientSource(mongo.db, policy, new Bulkhead(config.READ_THROUGH_CONCURRENCY, config.READ_THROUGH_QUEUE, 'list reads from the database'));
  const loader = new ModelLoader(cache, source, logger, { reloadEveryMs: config.CACHE_RELOAD_MINUTES * 60_000 });
  lifecycle.onStop('cache loader', () => loader.stop());

  // only dead-letter records are produced here
  const kafka = setUpKafka({ config, clientId: 'trackme-read', logger, registry, lifecycle });
  kafka.consumer('event consumer', {
    groupId: 'trackme-read',
    topics: [Topics.clientEvents],
    parse: changeFacts,
    batchHandler: createInvalidationHandler(cache, source),
    partitionsConsumedConcurrently: DEFAULT_PARTITIONS,
    // while Redis is down an event waits (lists are then read from Mongo); it is never dropped
    // (a DependencyUnavailableError, e.g. Mongo down for an event without a snapshot, waits too)
    isTransient: isRedisUnavailable,
  });
  kafka.start(() => loader.start());

  const reads = new ClientReads({ source, cache, policy, logger, registry, staleMs: config.CACHE_STALE_MS });
  resyncAfterOutages(redis.client, cache, loader, reads, logger);
  const app = createHttpServer({
    logger,
    registry,
    serviceToken: config.INTERNAL_TOKEN,
    // Redis is not required to answer (reads fall back to Mongo), so it is not a readiness gate
    readiness: { mongo: () => mongo.ping(), kafka: () => kafka.isReady },
  });
  await app.register(internalClientRoutes, { reads, source });
  await registerHistoryRoutes(app, mongo.db);
  return app;
}

/**
 * Redis may come back from an outage without the invalidations it missed (or restored from an
 * older snapshot): once it answers again, everything cached before is discarded.
 */
function resyncAfterOutages(client: Redis, cache: ReadCache, loader: ModelLoader, reads: ClientReads, logger: Logger): void {
  let lost = false;
  client.on('close', () => {
    lost = true;
    reads.forgetRows();
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    cache.markStale().then(
      () => {
        logger.info('Redis is back; the cache is loaded again from Mongo');
        void loader.ensureLoaded();
      },
      (error: unknown) => logger.warn({ err: error }, 'could not reset the cache after a Redis outage'),
    );
  });
}

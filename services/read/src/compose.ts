import type { FastifyInstance } from 'fastify';
import { createHttpServer, createMongo, createRedis, type ServiceContext } from '@trackme/platform';
import type { ReadConfig } from './config.js';
import { registerHistoryRoutes } from './history/history-routes.js';

/** Composition root: Mongo (read-only) → Redis cache → internal HTTP API. */
export async function composeRead(context: ServiceContext<ReadConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const mongo = createMongo(config.MONGO_URL, 'trackme-read');
  lifecycle.onStop('mongo', () => mongo.close());
  const redis = createRedis(config.REDIS_URL, 'trackme-read');
  lifecycle.onStop('redis', () => redis.close());

  const app = createHttpServer({
    logger,
    registry,
    readiness: { mongo: () => mongo.ping(), redis: () => redis.ping() },
  });
  await registerHistoryRoutes(app, mongo.db);
  return app;
}

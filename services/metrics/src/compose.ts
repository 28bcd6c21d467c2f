import type { FastifyInstance } from 'fastify';
import {
  createHttpServer,
  createKafka,
  createMongo,
  createRedis,
  MessageProducer,
  parseBrokers,
  startInBackground,
  type ServiceContext,
} from '@trackme/platform';
import type { MetricsConfig } from './config.js';

/** Composition root: Mongo → Redis → Kafka → internal HTTP API with the Prometheus gauges. */
export async function composeMetrics(context: ServiceContext<MetricsConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const mongo = createMongo(config.MONGO_URL, 'trackme-metrics');
  lifecycle.onStop('mongo', () => mongo.close());
  const redis = createRedis(config.REDIS_URL, 'trackme-metrics');
  lifecycle.onStop('redis', () => redis.close());

  const kafka = createKafka(
    { brokers: parseBrokers(config.KAFKA_BROKERS), clientId: config.KAFKA_CLIENT_ID ?? 'trackme-metrics' },
    logger,
  );
  // dead-letter records of the event consumer go through this producer
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  lifecycle.onStop('kafka producer', () => producer.disconnect());
  void startInBackground('kafka producer', () => producer.connect(), lifecycle, logger);

  return createHttpServer({
    logger,
    registry,
    readiness: { mongo: () => mongo.ping(), redis: () => redis.ping(), kafka: () => producer.isConnected },
  });
}

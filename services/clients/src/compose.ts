import type { FastifyInstance } from 'fastify';
import {
  createHttpServer,
  createKafka,
  createMongo,
  MessageProducer,
  parseBrokers,
  startInBackground,
  type ServiceContext,
} from '@trackme/platform';
import type { ClientsConfig } from './config.js';

/** Composition root: Mongo → Kafka producer → HTTP (health, readiness, metrics). */
export async function composeClients(context: ServiceContext<ClientsConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const mongo = createMongo(config.MONGO_URL, 'trackme-clients');
  lifecycle.onStop('mongo', () => mongo.close());

  const kafka = createKafka(
    { brokers: parseBrokers(config.KAFKA_BROKERS), clientId: config.KAFKA_CLIENT_ID ?? 'trackme-clients' },
    logger,
  );
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  lifecycle.onStop('kafka producer', () => producer.disconnect());
  void startInBackground('kafka producer', () => producer.connect(), lifecycle, logger);

  return createHttpServer({
    logger,
    registry,
    readiness: { mongo: () => mongo.ping(), kafka: () => producer.isConnected },
  });
}

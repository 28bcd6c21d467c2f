import type { FastifyInstance } from 'fastify';
import {
  createHttpServer,
  createKafka,
  MessageProducer,
  parseBrokers,
  startInBackground,
  type ServiceContext,
} from '@trackme/platform';
import { registerGatewayApp } from './app.js';
import type { GatewayConfig } from './config.js';

/** Composition root: Kafka producer → HTTP app. Resources close in reverse order of creation. */
export async function composeGateway(context: ServiceContext<GatewayConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const kafka = createKafka(
    { brokers: parseBrokers(config.KAFKA_BROKERS), clientId: config.KAFKA_CLIENT_ID ?? 'trackme-gateway' },
    logger,
  );
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  lifecycle.onStop('kafka producer', () => producer.disconnect());
  void startInBackground('kafka producer', () => producer.connect(), lifecycle, logger);

  const app = createHttpServer({ logger, registry, readiness: { kafka: () => producer.isConnected } });
  await registerGatewayApp(app, config);
  return app;
}

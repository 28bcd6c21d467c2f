import type { FastifyInstance } from 'fastify';
import { DEFAULT_PARTITIONS, loadStageProcess, Topics } from '@trackme/contracts';
import {
  createHttpServer,
  createKafka,
  createMongo,
  isMongoUnavailable,
  MessageConsumer,
  MessageProducer,
  parseBrokers,
  startInBackground,
  type ServiceContext,
} from '@trackme/platform';
import { ClientRepository } from './clients/client-repository.js';
import { createCommandHandler } from './clients/command-handler.js';
import type { ClientsConfig } from './config.js';

/** Composition root: stages → Mongo → Kafka producer → command consumer → HTTP (health, metrics). */
export async function composeClients(context: ServiceContext<ClientsConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  // an invalid process stops the service at start with every problem listed
  const process = loadStageProcess(config.STAGES_CONFIG);

  const mongo = createMongo(config.MONGO_URL, 'trackme-clients');
  lifecycle.onStop('mongo', () => mongo.close());
  const repository = new ClientRepository(mongo.db);

  const kafka = createKafka(
    { brokers: parseBrokers(config.KAFKA_BROKERS), clientId: config.KAFKA_CLIENT_ID ?? 'trackme-clients' },
    logger,
  );
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  lifecycle.onStop('kafka producer', () => producer.disconnect());

  const commands = new MessageConsumer(kafka, {
    groupId: 'trackme-clients',
    topics: [Topics.clientCommands],
    handler: createCommandHandler({ repository, producer, process, logger }),
    producer,
    logger,
    registry,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    // every partition of the topic at once: clients never share a partition's order
    partitionsConsumedConcurrently: DEFAULT_PARTITIONS,
    isTransient: isMongoUnavailable,
  });
  lifecycle.onStop('command consumer', () => commands.stop());
  void startInBackground(
    'kafka',
    async () => {
      if (!producer.isConnected) await producer.connect();
      await commands.start();
    },
    lifecycle,
    logger,
  );

  return createHttpServer({
    logger,
    registry,
    readiness: { mongo: () => mongo.ping(), kafka: () => producer.isConnected && commands.isRunning },
  });
}

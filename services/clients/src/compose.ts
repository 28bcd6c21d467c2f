import type { FastifyInstance } from 'fastify';
import { DEFAULT_PARTITIONS, loadStageProcess, Topics } from '@trackme/contracts';
import { createHttpServer, createMongo, isMongoUnavailable, setUpKafka, type Logger, type ServiceContext } from '@trackme/platform';
import { createActivityApplier } from './activity/activity-applier.js';
import { createActivityIntake } from './activity/activity-intake.js';
import { ProcessedEvents } from './activity/processed-events.js';
import { ClientRepository } from './clients/client-repository.js';
import { EmailDirectory } from './clients/email-directory.js';
import { createCommandStream, parseStreamCommand } from './command-stream.js';
import { createCommandHandler } from './clients/command-handler.js';
import type { ClientsConfig } from './config.js';

/** Composition root: stages → Mongo → Kafka producer → command consumer → HTTP (health, metrics). */
export async function composeClients(context: ServiceContext<ClientsConfig>): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  // an invalid process stops the service at start with every problem listed
  const stages = loadStageProcess(config.STAGES_CONFIG);

  const mongo = createMongo(config.MONGO_URL, 'trackme-clients');
  lifecycle.onStop('mongo', () => mongo.close());
  const repository = new ClientRepository(mongo.db);

  const kafka = setUpKafka({ config, clientId: 'trackme-clients', logger, registry, lifecycle });
  const { producer } = kafka;

  const directory = new EmailDirectory(mongo.db);
  const processed = new ProcessedEvents(mongo.db);
  const consumerDefaults = {
    // every partition of the topic at once: clients never share a partition's order
    partitionsConsumedConcurrently: DEFAULT_PARTITIONS,
    maxBatchSize: config.ACTIVITY_BATCH_SIZE,
    // room for a whole batch in one fetch (an ApplyActivity command is about 600 bytes)
    maxBytesPerPartition: Math.max(1024 * 1024, config.ACTIVITY_BATCH_SIZE * 1024),
    isTransient: isMongoUnavailable,
  };
  const activityApplier = createActivityApplier({ repository, processed, producer, logger, registry });
  kafka.consumer('command consumer', {
    ...consumerDefaults,
    groupId: 'trackme-clients',
    topics: [Topics.clientCommands],
    parse: parseStreamCommand,
    batchHandler: createCommandStream({
      handleCommands: createCommandHandler({ repository, directory, producer, process: stages, logger }),
      applyActivity: activityApplier.applyRun,
      changing: activityApplier.forget,
    }),
    // after a rebalance another process may have written any client
    onAssigned: () => activityApplier.forgetAll(),
  });
  // activity is validated and routed to its client's partition of the command topic first
  kafka.consumer('activity consumer', {
    ...consumerDefaults,
    groupId: 'trackme-clients-activity',
    topics: [Topics.activity],
    ...createActivityIntake({ producer, directory }),
  });
  kafka.start();
  const expiry = startDedupExpiry(processed, config.ACTIVITY_DEDUP_DAYS, logger);
  lifecycle.onStop('activity dedup expiry', async () => clearInterval(expiry));

  return createHttpServer({
    logger,
    registry,
    readiness: { mongo: () => mongo.ping(), kafka: () => kafka.isReady },
  });
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Forgets activity event ids older than the dedup window, hourly. Every replica may run it: a
 * delete is idempotent. (A TTL index would do this on MongoDB; the Mongo-wire floor has none.)
 */
function startDedupExpiry(processed: ProcessedEvents, days: number, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    processed
      .expire(new Date(Date.now() - days * 24 * HOUR_MS))
      .then((deleted) => logger.info({ deleted }, 'expired activity dedup records'))
      .catch((error: unknown) => logger.warn({ err: error }, 'activity dedup expiry failed; retrying in an hour'));
  }, HOUR_MS);
  timer.unref();
  return timer;
}

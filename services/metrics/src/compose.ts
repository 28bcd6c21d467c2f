import type { FastifyInstance } from 'fastify';
import { DEFAULT_PARTITIONS, loadStageProcess, Topics } from '@trackme/contracts';
import {
  createHttpServer,
  createMongo,
  createRedis,
  redisOptionsOf,
  isMongoUnavailable,
  setUpKafka,
  topicFor,
  type KafkaSetup,
  type ServiceContext,
} from '@trackme/platform';
import type { MetricsConfig } from './config.js';
import { CounterStore } from './counting/counter-store.js';
import { createEventCounter } from './counting/event-counter.js';
import { LiveCounts } from './counting/live-counts.js';
import { internalMetricsRoutes } from './http/routes.js';
import { Calendar } from './periods.js';
import { MetricGauges } from './rollup/gauges.js';
import { rollupFreshness, RollupJobs } from './rollup/rollup-jobs.js';
import { RollupLock } from './rollup/rollup-lock.js';
import { Rollups } from './rollup/rollups.js';
import { RollupScheduler } from './rollup/scheduler.js';
import { createTriggerHandler } from './rollup/trigger-handler.js';

export interface MetricsOptions {
  /** the service's clock (tests fix it) */
  clock?: () => Date;
}

/** How long a rollup claim or run lock lives in Redis (a replica that died frees it by then). */
const LOCK_MS = 15 * 60_000;

/**
 * Composition root: Mongo → Redis → the change-event consumer (counters) and the rollup command
 * consumer → schedule and gauges → internal HTTP API with the Prometheus gauges.
 */
export async function composeMetrics(context: ServiceContext<MetricsConfig>, options: MetricsOptions = {}): Promise<FastifyInstance> {
  const { config, logger, registry, lifecycle } = context;
  const clock = options.clock ?? (() => new Date());
  const stages = loadStageProcess(config.STAGES_CONFIG);
  const calendar = new Calendar(config.METRICS_TZ);
  const mongo = createMongo(config.MONGO_URL, 'trackme-metrics');
  lifecycle.onStop('mongo', () => mongo.close());
  const redis = createRedis(config.REDIS_URL, 'trackme-metrics', redisOptionsOf(config));
  lifecycle.onStop('redis', () => redis.close());

  // dead-letter records of the consumers go through its producer
  const kafka = setUpKafka({ config, clientId: 'trackme-metrics', logger, registry, lifecycle });

  const store = new CounterStore(mongo.db);
  const live = new LiveCounts(redis.client, config.METRICS_KEY_PREFIX, calendar, logger, registry);
  const partitions = partitionCounter(kafka.kafka, topicFor(kafka.topicPrefix, Topics.clientEvents));
  const rollups = new Rollups({ db: mongo.db, store, live, calendar, process: stages, partitions });
  const lock = new RollupLock(redis.client, config.METRICS_KEY_PREFIX, LOCK_MS);
  const jobs = new RollupJobs(mongo.db, rollups, lock, calendar, clock, logger);
  rollupFreshness(jobs, registry);

  const counter = createEventCounter({ store, live, context: { calendar, process: stages }, logger, registry });
  kafka.consumer('event consumer', {
    groupId: 'trackme-metrics',
    topics: [Topics.clientEvents],
    parse: counter.parse,
    batchHandler: counter.handleBatch,
    maxBatchSize: config.METRICS_BATCH_SIZE,
    gatherMs: config.METRICS_BATCH_WAIT_MS,
    partitionsConsumedConcurrently: 2,
    // while Mongo is down events wait; they are never dead-lettered for that
    isTransient: isMongoUnavailable,
    // after a rebalance another process may have counted any client
    onAssigned: () => counter.forgetAll(),
  });
  kafka.consumer('rollup command consumer', {
    groupId: 'trackme-metrics-commands',
    topics: [Topics.metricsCommands],
    handler: createTriggerHandler(jobs),
    partitionsConsumedConcurrently: 1,
    // a request waits while Mongo is down; it is never dead-lettered for that (a rollup that
    // fails for another reason, e.g. Redis down for its lock, is recorded as a failed job)
    isTransient: isMongoUnavailable,
  });

  const scheduler = new RollupScheduler({
    calendar,
    clock,
    delayMs: config.METRICS_SCHEDULE_DELAY_SECONDS * 1000,
    checkEveryMs: config.METRICS_SCHEDULE_CHECK_MINUTES * 60_000,
    isDone: async (period) => {
      const stored = await rollups.stored(period);
      return stored !== null && stored.calculated_at.getTime() >= period.end;
    },
    claim: (period) => lock.claim(period),
    run: async (period) => {
      await jobs.run({ id: `scheduled-${period.interval}-${period.key}`, interval: period.interval, period: period.key, requestedAt: clock() });
    },
    logger,
  });
  lifecycle.onStop('rollup schedule', () => scheduler.stop());
  const gauges = new MetricGauges(rollups, calendar, clock, logger, registry);
  lifecycle.onStop('metric gauges', () => gauges.stop());

  kafka.start(() => {
    scheduler.start();
    gauges.start(config.METRICS_GAUGE_REFRESH_SECONDS * 1000);
  });

  const app = createHttpServer({
    logger,
    registry,
    serviceToken: config.INTERNAL_TOKEN,
    readiness: {
      mongo: () => mongo.ping(),
      redis: () => redis.ping(),
      kafka: () => kafka.isReady,
    },
  });
  await app.register(internalMetricsRoutes, { rollups, jobs, calendar, clock });
  return app;
}

/** The partition count of trackme.client-events (counter documents exist per partition), looked up once a minute at most. */
function partitionCounter(kafka: KafkaSetup['kafka'], topic: string): () => Promise<number> {
  let known: { count: number; at: number } | undefined;
  return async () => {
    if (known && Date.now() - known.at < 60_000) return known.count;
    const admin = kafka.admin();
    try {
      await admin.connect();
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      known = { count: metadata.topics[0]?.partitions.length ?? DEFAULT_PARTITIONS, at: Date.now() };
      return known.count;
    } catch {
      return known?.count ?? DEFAULT_PARTITIONS;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}

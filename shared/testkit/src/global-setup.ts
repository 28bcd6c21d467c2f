import { allTopicDeclarations } from '@trackme/contracts';
import { createKafka, createLogger, ensureTopics, parseBrokers, runMigrations } from '@trackme/platform';
import { startTestStack, stackFromEnv, stopTestStack } from './stack.js';

/**
 * Vitest global setup: one shared stack per run. Uses KAFKA_BROKERS, MONGO_URL and REDIS_URL
 * when all are given; otherwise starts the dedicated test stack and stops it at the end.
 * Declared topics (unprefixed) and migrations are applied once; tests that need isolation use
 * their own topic prefix and database.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const given = stackFromEnv();
  const stack = given ?? (await startTestStack());
  Object.assign(process.env, stack);
  const logger = createLogger('test-harness', 'warn');
  const kafka = createKafka({ brokers: parseBrokers(stack.KAFKA_BROKERS), clientId: 'trackme-test-harness' }, logger);
  await ensureTopics(kafka, allTopicDeclarations());
  await runMigrations(stack.MONGO_URL);
  return async () => {
    if (!given) await stopTestStack();
  };
}

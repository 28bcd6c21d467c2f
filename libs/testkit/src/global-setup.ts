import { allTopicDeclarations } from '@trackme/contracts';
import { ensureTopics, runMigrations } from '@trackme/platform';
import { stackFromEnv, stackKafka, startTestStack, stopTestStack } from './stack.js';

/**
 * Vitest global setup: one shared stack per run. Uses KAFKA_BROKERS, MONGO_URL and REDIS_URL
 * (with KAFKA_TLS_* / KAFKA_SASL_* / REDIS_TLS_CA_FILE when the stack needs them) when all three
 * are given; otherwise starts the dedicated test stack (SASL for Kafka, a password for Redis) and
 * stops it at the end. Test workers and the services they start inherit the stack's variables.
 * Declared topics (unprefixed) and migrations are applied once; tests that need isolation use
 * their own topic prefix and database.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const given = stackFromEnv();
  const stack = given ?? (await startTestStack());
  // tests of the credentials check that a stack started here asks for them
  Object.assign(process.env, stack, { TEST_STACK_SOURCE: given ? 'env' : 'profile' });
  const kafka = stackKafka('trackme-test-harness', stack);
  await ensureTopics(kafka, allTopicDeclarations());
  await runMigrations(stack.MONGO_URL);
  return async () => {
    if (!given) await stopTestStack();
  };
}

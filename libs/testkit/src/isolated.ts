import { allTopicDeclarations } from '@trackme/contracts';
import { ensureTopics, runMigrations } from '@trackme/platform';
import { uniqueId, uniqueTopicPrefix } from './ids.js';
import { mongoUrlWithDatabase, stackKafka, testStack, type StackEnv } from './stack.js';
import { TEST_INTERNAL_TOKEN, TEST_JWT_SECRET, TEST_SIGNING_KEY } from './tokens.js';

export interface IsolatedEnv extends StackEnv {
  KAFKA_TOPIC_PREFIX: string;
  JWT_SECRET: string;
  AUTH_SIGNING_KEY: string;
  INTERNAL_TOKEN: string;
  /** request budgets off: tests share one Redis and one test subject (the rate-limit test sets its own) */
  RATE_LIMIT_PER_CALLER: string;
  RATE_LIMIT_PER_ADDRESS: string;
  RATE_LIMIT_NO_CACHE_PER_CALLER: string;
  /** failed sign-ins counted apart from every other test's (they all come from 127.0.0.1) */
  LOGIN_THROTTLE_KEY_PREFIX: string;
  /** the read model of this environment's clients only: lists show none of another test's */
  CACHE_KEY_PREFIX: string;
}

/**
 * The shared test stack seen through a fresh topic prefix (every declared topic created) and a
 * fresh, migrated database: a test using it cannot see or disturb any other test's data.
 */
export async function isolatedEnv(): Promise<IsolatedEnv> {
  const stack = testStack();
  const prefix = uniqueTopicPrefix();
  const mongoUrl = mongoUrlWithDatabase(stack.MONGO_URL, uniqueId('db'));
  const kafka = stackKafka('trackme-test-setup', stack);
  await Promise.all([ensureTopics(kafka, allTopicDeclarations(), prefix), runMigrations(mongoUrl)]);
  return { ...stack, MONGO_URL: mongoUrl, KAFKA_TOPIC_PREFIX: prefix, JWT_SECRET: TEST_JWT_SECRET, AUTH_SIGNING_KEY: TEST_SIGNING_KEY, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, RATE_LIMIT_PER_CALLER: '0', RATE_LIMIT_PER_ADDRESS: '0', RATE_LIMIT_NO_CACHE_PER_CALLER: '0', LOGIN_THROTTLE_KEY_PREFIX: `trackme:test:${prefix}signin:`, CACHE_KEY_PREFIX: `trackme:test:${prefix}read:` };
}

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { createKafka, createLogger, KAFKA_CONNECTION_VARIABLES, kafkaConnectionFromEnv } from '@trackme/platform';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const STACK_SCRIPT = path.join(REPO_ROOT, 'deploy/local/stack.sh');

/**
 * Addresses of the Kafka broker, Mongo-wire server and Redis that tests talk to, and the
 * credentials they require (the URLs carry Redis's and Mongo's; Kafka's are the KAFKA_TLS_* and
 * KAFKA_SASL_* variables). Spreading it into a service's environment passes all of them on.
 */
export interface StackEnv {
  [variable: string]: string;
  KAFKA_BROKERS: string;
  MONGO_URL: string;
  REDIS_URL: string;
}

/** Variables besides the three addresses that say how to reach the stack's backends. */
const STACK_SECURITY_VARIABLES: readonly string[] = [...KAFKA_CONNECTION_VARIABLES.filter((v) => v !== 'KAFKA_BROKERS'), 'REDIS_TLS_CA_FILE'];

/** The stack given by the environment, if all three addresses are set, with its credentials. */
export function stackFromEnv(env: Record<string, string | undefined> = process.env): StackEnv | undefined {
  const { KAFKA_BROKERS, MONGO_URL, REDIS_URL } = env;
  if (!KAFKA_BROKERS || !MONGO_URL || !REDIS_URL) return undefined;
  const security = STACK_SECURITY_VARIABLES.flatMap((variable) => (env[variable] ? [[variable, env[variable]] as const] : []));
  return { ...Object.fromEntries(security), KAFKA_BROKERS, MONGO_URL, REDIS_URL };
}

/** Whether the stack's Kafka asks for SASL credentials (the test profile of stack.sh does). */
export const kafkaRequiresCredentials = (stack: StackEnv): boolean => stack['KAFKA_SASL_MECHANISM'] !== undefined;

/** A Kafka client of the stack, with the stack's TLS and SASL settings. */
export function stackKafka(clientId: string, stack: StackEnv = testStack()): Kafka {
  return createKafka({ ...kafkaConnectionFromEnv(stack, 'test stack'), clientId }, createLogger('test', 'silent'));
}

/** The stack the current test worker must use (set by the global setup). */
export function testStack(): StackEnv {
  const stack = stackFromEnv();
  if (!stack) throw new Error('no test stack: run tests through vitest (global setup) or set KAFKA_BROKERS, MONGO_URL, REDIS_URL');
  return stack;
}

/** Starts the dedicated test stack (own ports, fresh data folder) and returns its addresses. */
export async function startTestStack(): Promise<StackEnv> {
  await run('bash', [STACK_SCRIPT, 'up', 'test'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  const { stdout } = await run('bash', [STACK_SCRIPT, 'env', 'test'], { cwd: REPO_ROOT });
  // a value may hold '=' (a URL's query): split at the first one only
  const env = Object.fromEntries(stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  const stack = stackFromEnv(env);
  if (!stack) throw new Error(`stack.sh env printed an incomplete environment:\n${stdout}`);
  return stack;
}

export async function stopTestStack(): Promise<void> {
  await run('bash', [STACK_SCRIPT, 'down', 'test'], { cwd: REPO_ROOT });
}

/** A Mongo URL on the same server with another database (one per test file keeps tests independent). */
export function mongoUrlWithDatabase(mongoUrl: string, database: string): string {
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

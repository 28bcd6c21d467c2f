import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const STACK_SCRIPT = path.join(REPO_ROOT, 'deploy/local/stack.sh');

/** Addresses of the Kafka broker, Mongo-wire server and Redis that tests talk to. */
export interface StackEnv {
  KAFKA_BROKERS: string;
  MONGO_URL: string;
  REDIS_URL: string;
}

/** The stack given by the environment, if all three variables are set. */
export function stackFromEnv(env: Record<string, string | undefined> = process.env): StackEnv | undefined {
  const { KAFKA_BROKERS, MONGO_URL, REDIS_URL } = env;
  return KAFKA_BROKERS && MONGO_URL && REDIS_URL ? { KAFKA_BROKERS, MONGO_URL, REDIS_URL } : undefined;
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
  const env = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
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

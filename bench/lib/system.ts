import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { allTopicDeclarations } from '@trackme/contracts';
import { MongoClient } from 'mongodb';
import { createKafka, createLogger, createRedis, ensureTopics, kafkaConnectionFromEnv, runMigrations } from '@trackme/platform';
import { REPO_ROOT, spawnService, waitUntilReady, type ServiceName, type ServiceProcess } from '@trackme/testkit';
// @ts-expect-error a plain ES module shared with scripts/start.mjs
import { devJwtSecret } from '../../scripts/lib/dev-secret.mjs';

const run = promisify(execFile);
const STACK = path.join(REPO_ROOT, 'deploy/local/stack.sh');

/**
 * The benches run on the dev stack (started here when it is down), in a namespace of their own:
 * topics prefixed `<namespace>.` and the database `trackme_<namespace>`, so `npm start`'s data is
 * untouched and seeded clients are kept from one run to the next.
 */
export async function benchEnv(namespace = 'bench'): Promise<Record<string, string>> {
  const stack = await devStack();
  const mongoUrl = stack['MONGO_URL']!.replace(/\/[^/?]*(\?|$)/, `/trackme_${namespace}$1`);
  const prefix = `${namespace}.`;
  const kafka = createKafka({ ...kafkaConnectionFromEnv(stack, 'bench'), clientId: 'trackme-bench-setup' }, createLogger('bench', 'silent'));
  await Promise.all([ensureTopics(kafka, allTopicDeclarations(), prefix), runMigrations(mongoUrl)]);
  return {
    ...stack,
    MONGO_URL: mongoUrl,
    KAFKA_TOPIC_PREFIX: prefix,
    // Redis keys of their own too: the read cache and the metrics keys of `npm start` stay apart
    CACHE_KEY_PREFIX: `trackme:${namespace}:cache:`,
    METRICS_KEY_PREFIX: `trackme:${namespace}:metrics:`,
    LOGIN_THROTTLE_KEY_PREFIX: `trackme:${namespace}:signin:`,
    JWT_SECRET: devJwtSecret() as string,
    INTERNAL_TOKEN: randomBytes(24).toString('hex'),
    // one token sends everything
    RATE_LIMIT_PER_CALLER: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    RATE_LIMIT_NO_CACHE_PER_CALLER: '0',
    LOG_LEVEL: 'warn',
  };
}

/**
 * The dev stack's variables: the given KAFKA_BROKERS, MONGO_URL and REDIS_URL when all three are
 * set (a stack started elsewhere, as the tests take it), else the stack.sh dev profile, started if down.
 */
async function devStack(): Promise<Record<string, string>> {
  const { KAFKA_BROKERS, MONGO_URL, REDIS_URL } = process.env;
  if (KAFKA_BROKERS && MONGO_URL && REDIS_URL) return { KAFKA_BROKERS, MONGO_URL, REDIS_URL };
  const up = await run('bash', [STACK, 'status', 'dev']).then(() => true, () => false);
  if (!up) await run('bash', [STACK, 'up', 'dev'], { maxBuffer: 16 * 1024 * 1024 });
  const { stdout } = await run('bash', [STACK, 'env', 'dev']);
  return Object.fromEntries(stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** The namespace of the write benches (write-path, scale-out). */
export const WRITE_NAMESPACE = 'benchwrites';

/**
 * A namespace emptied for this run: its database and read model. The write benches use one, so
 * their clients do not pile up in the bench namespace's 10,000 (a full run creates about as many
 * again), which the list benches read.
 */
export async function emptyBenchEnv(namespace: string): Promise<Record<string, string>> {
  const env = await benchEnv(namespace);
  const cachePrefix = `trackme:${namespace}:read:`;
  const mongo = await MongoClient.connect(env['MONGO_URL']!);
  try {
    await mongo.db().dropDatabase();
  } finally {
    await mongo.close();
  }
  await runMigrations(env['MONGO_URL']!);
  const redis = createRedis(env['REDIS_URL']!, 'trackme-bench-setup', { tlsCaFile: env['REDIS_TLS_CA_FILE'] });
  try {
    await new Promise<void>((resolve, reject) => (redis.client.status === 'ready' ? resolve() : (redis.client.once('ready', resolve), redis.client.once('end', reject))));
    let cursor = '0';
    do {
      const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${cachePrefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.close();
  }
  return { ...env, CACHE_KEY_PREFIX: cachePrefix };
}

export interface SystemShape {
  /** instances of each service (default: one of each) */
  clients?: number;
  read?: number;
  metrics?: number;
  /** extra variables for every service */
  env?: Record<string, string>;
}

export interface BenchSystem {
  /** the gateway's API base, e.g. http://127.0.0.1:41234/api/v1 */
  api: string;
  env: Record<string, string>;
  processes: ServiceProcess[];
  of(name: ServiceName): ServiceProcess[];
  stop(): Promise<void>;
}

/** Starts the services as production runs them (built `dist/`), each its own process, and waits until all are ready. */
export async function startSystem(env: Record<string, string>, shape: SystemShape = {}): Promise<BenchSystem> {
  const base = { ...env, ...shape.env };
  const spawn = (name: ServiceName, count: number) => Promise.all(Array.from({ length: count }, () => spawnService(name, base)));
  const [clients, read, metrics] = await Promise.all([spawn('clients', shape.clients ?? 1), spawn('read', shape.read ?? 1), spawn('metrics', shape.metrics ?? 1)]);
  const gateway = await spawnService('gateway', { ...base, READ_URL: read[0]!.url, ...(metrics[0] ? { METRICS_URL: metrics[0].url } : {}) });
  const processes = [...clients, ...read, ...metrics, gateway];
  const system: BenchSystem = {
    api: `${gateway.url}/api/v1`,
    env: base,
    processes,
    of: (name) => processes.filter((p) => p.name === name),
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
  try {
    await Promise.all(processes.map((p) => waitUntilReady(p, 120_000)));
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}

/** Resident memory of a process in MB (VmRSS from /proc). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.replace(/\D+/g, '')) / 1024 : Number.NaN;
}

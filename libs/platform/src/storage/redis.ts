import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions as ClientOptions } from 'ioredis';
import { redisAddressOptions, type RedisTopology } from './redis-address.js';

export interface RedisConnection {
  client: Redis;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 5_000;
const PING_TIMEOUT_MS = 1_000;
const COMMAND_TIMEOUT_MS = 2_000;

export interface RedisOptions extends RedisTopology {
  /** PEM file of the CA that signed the server's certificate (rediss:// URLs; default: the system CAs) */
  tlsCaFile?: string | undefined;
}

/** The connection settings of a service's validated configuration (RedisConfig). */
export function redisOptionsOf(config: { REDIS_TLS_CA_FILE?: string | undefined; REDIS_SENTINEL_MASTER?: string | undefined; REDIS_SENTINEL_PASSWORD?: string | undefined }): RedisOptions {
  return { tlsCaFile: config.REDIS_TLS_CA_FILE, sentinelMaster: config.REDIS_SENTINEL_MASTER, sentinelPassword: config.REDIS_SENTINEL_PASSWORD };
}

/**
 * ioredis reconnects forever with a capped backoff; commands fail fast while it is down
 * (no offline queue), so callers can fall back instead of hanging. The URL carries the ACL user
 * and password (`redis://user:password@host:port`) and, as `rediss://`, turns TLS on. With
 * `sentinelMaster` the URL lists Sentinels instead, which name the current master.
 */
export function createRedis(url: string, connectionName: string, options: RedisOptions = {}): RedisConnection {
  const tls = options.tlsCaFile === undefined ? undefined : { ca: readFileSync(options.tlsCaFile) };
  const common: ClientOptions = {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, MAX_RECONNECT_DELAY_MS),
    // a Redis that accepts connections but does not answer must not hang callers either
    commandTimeout: COMMAND_TIMEOUT_MS,
  };
  const address = redisAddressOptions(url, options);
  const client =
    options.sentinelMaster === undefined
      ? new Redis(url, { ...common, ...(tls === undefined ? {} : { tls }) })
      : new Redis({ ...common, ...address, ...(address.enableTLSForSentinelMode ? { tls: tls ?? {}, sentinelTLS: tls ?? {} } : {}) });
  // errors surface through commands and readiness; without a listener ioredis prints them all
  client.on('error', () => undefined);
  return {
    client,
    async ping() {
      if (client.status !== 'ready') return false;
      try {
        const answer = await Promise.race([
          client.ping(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('ping timeout')), PING_TIMEOUT_MS).unref()),
        ]);
        return answer === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      if (client.status === 'end') return;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'Reached the max retries per request limit',
  'ECONNREFUSED',
  'ECONNRESET',
];

/** A Redis error that means "Redis is down or unreachable" (retry later), not a bad command. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || UNAVAILABLE_MESSAGES.some((text) => error.message.includes(text));
}

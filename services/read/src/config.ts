import { Type, type Static } from 'typebox';
import { HttpConfig, InternalApiConfig, KafkaConfig, LogConfig, MongoConfig, RedisConfig, TelemetryConfig } from '@trackme/platform';

export const ReadConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8082),
  ...KafkaConfig,
  ...MongoConfig,
  ...RedisConfig,
  ...TelemetryConfig,
  ...InternalApiConfig,
  CACHE_KEY_PREFIX: Type.String({
    default: 'trackme:read:',
    pattern: '^[A-Za-z0-9:_.-]{1,64}$',
    description: 'Prefix of every Redis key the read cache writes',
  }),
  CACHE_TTL_SECONDS: Type.Integer({
    default: 300,
    minimum: 1,
    maximum: 86_400,
    description: 'Backstop expiry of cached lists and clients (events invalidate them first)',
  }),
  CACHE_STALE_MS: Type.Integer({
    default: 250,
    minimum: 0,
    maximum: 500,
    description:
      'How old a list page rendered before the latest changes may be and still answer (X-Cache: stale) while the current one is computed; 0: never. Under a stream of writes a page is then computed at most this often per query; a change shows in lists up to this much later',
  }),
  CACHE_RELOAD_MINUTES: Type.Integer({
    default: 60,
    minimum: 0,
    maximum: 10_080,
    description: 'How often the client model in Redis is copied again from Mongo, the backstop for missed events (0: never)',
  }),
  READ_THROUGH_CONCURRENCY: Type.Integer({
    default: 2,
    minimum: 1,
    maximum: 64,
    description: 'List queries sent to Mongo at once (cache bypass, or before the cache is loaded)',
  }),
  READ_THROUGH_QUEUE: Type.Integer({
    default: 8,
    minimum: 0,
    maximum: 1_000,
    description: 'List queries that may wait for Mongo; beyond that the answer is 503 with Retry-After',
  }),
  HIGHLIGHT_LAST_LOGIN_DAYS: Type.Integer({
    default: 30,
    minimum: 1,
    maximum: 3_650,
    description: 'A client whose last login is older than this many days (or who never logged in) is highlighted',
  }),
});

export type ReadConfig = Static<typeof ReadConfigSchema>;

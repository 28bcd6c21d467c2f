import { Type, type Static } from 'typebox';
import { HttpConfig, KafkaConfig, LogConfig, MongoConfig, RedisConfig, TelemetryConfig } from '@trackme/platform';

export const ReadConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8082),
  ...KafkaConfig,
  ...MongoConfig,
  ...RedisConfig,
  ...TelemetryConfig,
});

export type ReadConfig = Static<typeof ReadConfigSchema>;

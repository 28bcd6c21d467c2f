import { Type, type Static } from 'typebox';
import { HttpConfig, KafkaConfig, LogConfig, MongoConfig, RedisConfig, TelemetryConfig } from '@trackme/platform';

export const MetricsConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8083),
  ...KafkaConfig,
  ...MongoConfig,
  ...RedisConfig,
  ...TelemetryConfig,
});

export type MetricsConfig = Static<typeof MetricsConfigSchema>;

import { Type, type Static } from 'typebox';
import { HttpConfig, KafkaConfig, LogConfig, MongoConfig, StagesConfig, TelemetryConfig } from '@trackme/platform';

export const ClientsConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8081),
  ...KafkaConfig,
  ...MongoConfig,
  ...TelemetryConfig,
  ...StagesConfig,
});

export type ClientsConfig = Static<typeof ClientsConfigSchema>;

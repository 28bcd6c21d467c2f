import { Type, type Static } from 'typebox';
import { HttpConfig, KafkaConfig, LogConfig, MongoConfig, StagesConfig, TelemetryConfig } from '@trackme/platform';

export const ClientsConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8081),
  ...KafkaConfig,
  ...MongoConfig,
  ...TelemetryConfig,
  ...StagesConfig,
  COMMAND_RESULTS_RETENTION_HOURS: Type.Integer({
    default: 168,
    minimum: 24,
    description: 'How long command outcomes are kept for redelivered or retried commands',
  }),
});

export type ClientsConfig = Static<typeof ClientsConfigSchema>;

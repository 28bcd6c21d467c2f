import { Type, type Static } from 'typebox';
import { HttpConfig, KafkaConfig, LogConfig, MongoConfig, StagesConfig, TelemetryConfig } from '@trackme/platform';

export const ClientsConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8081),
  ...KafkaConfig,
  ...MongoConfig,
  ...TelemetryConfig,
  ...StagesConfig,
  ACTIVITY_DEDUP_DAYS: Type.Integer({
    default: 8,
    minimum: 7,
    maximum: 365,
    description: 'How long activity event ids are remembered: a repeat within this many days is applied once',
  }),
  ACTIVITY_BATCH_SIZE: Type.Integer({
    default: 5_000,
    minimum: 1,
    maximum: 20_000,
    description: 'Most activity events applied in one go: a client with several events in one batch is read and written once',
  }),
});

export type ClientsConfig = Static<typeof ClientsConfigSchema>;

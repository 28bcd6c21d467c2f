import { Type, type Static } from 'typebox';
import { HttpConfig, KafkaConfig, LogConfig, TelemetryConfig } from '@trackme/platform';

export const GatewayConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8080),
  ...KafkaConfig,
  ...TelemetryConfig,
  BASE_PATH: Type.String({ default: '/api/v1', pattern: '^(/[A-Za-z0-9._~-]+)*$', description: 'Prefix of every public API route' }),
  READ_URL: Type.String({ default: 'http://127.0.0.1:8082', pattern: '^https?://', description: 'Internal URL of the read service' }),
  METRICS_URL: Type.String({ default: 'http://127.0.0.1:8083', pattern: '^https?://', description: 'Internal URL of the metrics service' }),
});

export type GatewayConfig = Static<typeof GatewayConfigSchema>;

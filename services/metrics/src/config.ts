import { Type, type Static } from 'typebox';
import { Format } from 'typebox/format';
import { HttpConfig, InternalApiConfig, KafkaConfig, LogConfig, MongoConfig, RedisConfig, StagesConfig, TelemetryConfig } from '@trackme/platform';

/** An IANA time zone this runtime knows (Intl refuses the others). */
function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
Format.Set('time-zone', isTimeZone);

export const MetricsConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8083),
  ...KafkaConfig,
  ...MongoConfig,
  ...RedisConfig,
  ...TelemetryConfig,
  ...InternalApiConfig,
  ...StagesConfig,
  METRICS_TZ: Type.String({ format: 'time-zone', default: 'UTC', description: 'IANA time zone of days, weeks and months (e.g. Europe/Berlin)' }),
  METRICS_KEY_PREFIX: Type.String({ default: 'trackme:metrics:', pattern: '^[A-Za-z0-9:_.-]{1,64}$', description: 'Prefix of the Redis keys of metrics (HyperLogLogs, locks)' }),
  METRICS_BATCH_SIZE: Type.Integer({
    default: 2_000,
    minimum: 1,
    maximum: 10_000,
    description: 'Most change events counted in one go (one write per client and counter document per batch)',
  }),
  METRICS_BATCH_WAIT_MS: Type.Integer({
    default: 1_000,
    minimum: 0,
    maximum: 5_000,
    description:
      'How long change events may gather before they are counted (0: at once). Each batch costs a few writes besides one per client, so larger batches leave the database more room under load; metrics lag by up to this much',
  }),
  METRICS_SCHEDULE_DELAY_SECONDS: Type.Integer({
    default: 60,
    minimum: 0,
    maximum: 3_600,
    description: "How long after midnight the scheduled rollups start, so the day's last events are counted",
  }),
  METRICS_SCHEDULE_CHECK_MINUTES: Type.Integer({
    default: 15,
    minimum: 1,
    maximum: 1_440,
    description: 'How often a replica checks that the last day, week and month were rolled up (catches up missed runs)',
  }),
  METRICS_GAUGE_REFRESH_SECONDS: Type.Integer({
    default: 30,
    minimum: 1,
    maximum: 3_600,
    description: 'How often the Prometheus gauges of the current periods are recomputed',
  }),
});

export type MetricsConfig = Static<typeof MetricsConfigSchema>;

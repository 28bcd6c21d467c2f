import { Type } from 'typebox';
import { TRACE_SAMPLERS } from '../observability/tracing.js';

/**
 * Variables every service understands. Each service's `config.ts` spreads the groups it needs
 * into its own schema, so `.env.dist` and the README table can be checked against them.
 */
export const LogConfig = {
  LOG_LEVEL: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
    { default: 'info', description: 'pino log level' },
  ),
};

export const HttpConfig = (defaultPort: number) => ({
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Interface the HTTP server binds (0.0.0.0 in containers)' }),
  PORT: Type.Integer({ default: defaultPort, minimum: 0, maximum: 65535, description: 'HTTP port' }),
  METRICS_PORT: Type.Integer({
    default: defaultPort === 0 ? 0 : defaultPort + METRICS_PORT_OFFSET,
    minimum: 0,
    maximum: 65535,
    description: `Port of the Prometheus /metrics endpoint, apart from the API so that only scrapers reach it (default: PORT's default + ${METRICS_PORT_OFFSET})`,
  }),
});

/** The metrics port of a service is its API port's default plus this (gateway 8080 → 9080). */
export const METRICS_PORT_OFFSET = 1000;

const SaslMechanism = Type.Union([Type.Literal('SCRAM-SHA-512'), Type.Literal('SCRAM-SHA-256'), Type.Literal('PLAIN')], {
  description: 'SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (only over TLS); unset: no SASL',
});

/**
 * Where the brokers are and how to prove who we are to them: every process that opens a Kafka
 * client (services, scripts, benchmarks, tests) reads these, through `kafkaConnection`.
 */
export const KafkaConnectionConfig = {
  KAFKA_BROKERS: Type.String({
    minLength: 1,
    pattern: '^[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*$',
    description: 'Comma-separated Kafka bootstrap servers (host:port,...)',
  }),
  KAFKA_TLS: Type.Boolean({ default: false, description: 'Connect to the brokers over TLS (verified against the system CAs or KAFKA_TLS_CA_FILE)' }),
  KAFKA_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA(s) that signed the brokers\' certificates (needs KAFKA_TLS=true)' })),
  KAFKA_TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate for mutual TLS (with KAFKA_TLS_KEY_FILE)' })),
  KAFKA_TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of KAFKA_TLS_CERT_FILE' })),
  KAFKA_SASL_MECHANISM: Type.Optional(SaslMechanism),
  KAFKA_SASL_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'SASL user (the service\'s Kafka principal)' })),
  KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ minLength: 1, writeOnly: true, description: 'SASL password of KAFKA_SASL_USERNAME' })),
};

export const KafkaConfig = {
  ...KafkaConnectionConfig,
  KAFKA_CLIENT_ID: Type.Optional(Type.String({ minLength: 1, description: 'Kafka client id (default: the service name)' })),
  KAFKA_SESSION_TIMEOUT_MS: Type.Integer({
    default: 6_000,
    minimum: 6_000,
    maximum: 300_000,
    description: 'Consumer group session timeout: how long a crashed member holds its partitions (a member heartbeats 4 times per session)',
  }),
  KAFKA_TOPIC_PREFIX: Type.String({
    default: '',
    pattern: '^[a-zA-Z0-9._-]*$',
    description: 'Prefix for every topic name (lets several environments share a broker)',
  }),
};

export const MongoConfig = {
  MONGO_URL: Type.String({
    minLength: 1,
    pattern: '^mongodb(\\+srv)?://',
    description: 'MongoDB connection string (database in the path); credentials and TLS go in it too: user:password@, ?authSource=, tls=true, tlsCAFile=, tlsCertificateKeyFile=',
  }),
};

export const RedisConfig = {
  REDIS_URL: Type.String({
    minLength: 1,
    pattern: '^rediss?://',
    description: 'Redis connection URL: redis://[user:password@]host:port[/db]; rediss:// for TLS; with REDIS_SENTINEL_MASTER, the Sentinels: host:port,host:port',
  }),
  REDIS_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the Redis server certificate (rediss:// only; default: the system CAs)' })),
  REDIS_SENTINEL_MASTER: Type.Optional(
    Type.String({
      minLength: 1,
      pattern: '^[A-Za-z0-9._-]+$',
      description:
        'Master group name for Redis Sentinel; when set, REDIS_URL lists the Sentinels (redis://[user:password@]sentinel-1:26379,sentinel-2:26379[/db], the user and password being the data nodes\')',
    }),
  ),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1, writeOnly: true, description: 'Password of the Sentinels themselves, when they ask for one (needs REDIS_SENTINEL_MASTER)' })),
};

/** The service token the gateway presents to the internal APIs of read and metrics. */
export const InternalApiConfig = {
  INTERNAL_TOKEN: Type.String({
    minLength: 32,
    description: 'Shared secret the gateway sends to the internal APIs of read and metrics, which refuse any other caller (at least 32 characters)',
  }),
};

export const TelemetryConfig = {
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'OTLP/HTTP endpoint; tracing is on only when set' }),
  ),
  OTEL_TRACES_SAMPLER: Type.Optional(
    Type.Union(
      TRACE_SAMPLERS.map((name) => Type.Literal(name)),
      { description: 'Which traces are recorded (OpenTelemetry sampler name); parentbased_* follow the caller\'s decision. Default parentbased_always_on' },
    ),
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, description: 'Ratio of new traces recorded by the *traceidratio samplers, 0 to 1 (default 1)' }),
  ),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000, description: 'Grace period for a clean stop on SIGTERM' }),
  SHUTDOWN_DRAIN_MS: Type.Integer({
    default: 1_000,
    minimum: 0,
    maximum: 60_000,
    description: 'On SIGTERM, how long /readyz answers 503 while requests are still served, so balancers stop sending new ones before the listener closes (part of SHUTDOWN_TIMEOUT_MS)',
  }),
};

export const StagesConfig = {
  STAGES_CONFIG: Type.String({ default: 'config/stages.yaml', minLength: 1, description: 'Path of the stage configuration (YAML)' }),
};

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { Type, type Static } from 'typebox';
import { KafkaConnectionConfig } from '../config/common.js';
import { loadConfig } from '../config/load-config.js';

const KafkaConnectionSchema = Type.Object(KafkaConnectionConfig);
export type KafkaConnectionValues = Static<typeof KafkaConnectionSchema>;

/** Where the brokers are and how this process proves who it is to them (TLS, SASL). */
export interface KafkaConnection {
  brokers: string[];
  ssl?: true | ConnectionOptions;
  sasl?: SASLOptions;
}

/** The names of the variables that say how to reach Kafka; a process passing Kafka on passes these. */
export const KAFKA_CONNECTION_VARIABLES = Object.keys(KafkaConnectionConfig) as Array<keyof KafkaConnectionValues>;

const SASL_MECHANISMS = {
  'SCRAM-SHA-512': 'scram-sha-512',
  'SCRAM-SHA-256': 'scram-sha-256',
  PLAIN: 'plain',
} as const;

export function parseBrokers(list: string): string[] {
  return list.split(',').map((b) => b.trim()).filter(Boolean);
}

/**
 * Turns validated configuration into kafkajs connection options; every Kafka client of the code
 * base is built from it, so TLS and SASL cannot be forgotten by one of them. The certificate files
 * were checked to be readable by `loadConfig`.
 */
export function kafkaConnection(config: KafkaConnectionValues): KafkaConnection {
  const connection: KafkaConnection = { brokers: parseBrokers(config.KAFKA_BROKERS) };
  if (config.KAFKA_TLS) {
    const files: ConnectionOptions = {
      ...(config.KAFKA_TLS_CA_FILE ? { ca: readFileSync(config.KAFKA_TLS_CA_FILE) } : {}),
      ...(config.KAFKA_TLS_CERT_FILE ? { cert: readFileSync(config.KAFKA_TLS_CERT_FILE) } : {}),
      ...(config.KAFKA_TLS_KEY_FILE ? { key: readFileSync(config.KAFKA_TLS_KEY_FILE) } : {}),
    };
    connection.ssl = Object.keys(files).length > 0 ? files : true;
  }
  if (config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD) {
    connection.sasl = {
      mechanism: SASL_MECHANISMS[config.KAFKA_SASL_MECHANISM],
      username: config.KAFKA_SASL_USERNAME,
      password: config.KAFKA_SASL_PASSWORD,
    };
  }
  return connection;
}

/**
 * The connection described by a plain environment (scripts, benchmarks, test harness): validated
 * like a service's configuration, so a bad combination fails with every problem named.
 */
export function kafkaConnectionFromEnv(env: Record<string, string | undefined>, who = 'kafka'): KafkaConnection {
  return kafkaConnection(loadConfig(who, KafkaConnectionSchema, env));
}

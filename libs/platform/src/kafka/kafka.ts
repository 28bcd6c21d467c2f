import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import type { KafkaConnection } from './connection.js';

export interface KafkaSettings extends KafkaConnection {
  clientId: string;
  /** prepended to every topic name this process uses */
  topicPrefix?: string;
}

/** kafkajs retries a broker connection this many times before giving up on one operation */
const CONNECTION_RETRIES = 8;
const CONNECTION_TIMEOUT_MS = 3_000;

/** One kafkajs client per process, logging through pino. */
export function createKafka(settings: KafkaSettings, logger: Logger, overrides: Partial<KafkaConfig> = {}): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...(settings.ssl === undefined ? {} : { ssl: settings.ssl }),
    ...(settings.sasl === undefined ? {} : { sasl: settings.sasl }),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    retry: { retries: CONNECTION_RETRIES, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...rest } = entry;
        // kafkajs logs every retriable protocol answer ("coordinator is loading", "group is
        // rebalancing") as an error although it handles them; keep those out of the error stream
        const retriableAnswer = namespace === 'Connection' && message.startsWith('Response');
        if (level <= logLevel.ERROR && !retriableAnswer) log.error(rest, message);
        else if (level === logLevel.WARN) log.warn(rest, message);
        else log.debug(rest, message);
      },
    ...overrides,
  });
}

/** Resolves a logical topic name to the broker's, applying the environment prefix. */
export const topicFor = (prefix: string | undefined, topic: string): string => `${prefix ?? ''}${topic}`;

import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { startInBackground } from '../lifecycle/background.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Logger } from '../logging/logger.js';
import { kafkaConnection, type KafkaConnectionValues } from './connection.js';
import { MessageConsumer, type ConsumerSettings, type Handling } from './consumer.js';
import { createKafka } from './kafka.js';
import { MessageProducer } from './producer.js';

export interface KafkaSetupOptions {
  config: KafkaConnectionValues & { KAFKA_CLIENT_ID?: string | undefined; KAFKA_TOPIC_PREFIX?: string | undefined; KAFKA_SESSION_TIMEOUT_MS?: number | undefined };
  /** the client id unless KAFKA_CLIENT_ID names another */
  clientId: string;
  logger: Logger;
  registry?: Registry;
  lifecycle: Lifecycle;
}

/** What a consumer of the service adds to the wiring every consumer shares. */
export type ServiceConsumerOptions<T = unknown> = Omit<ConsumerSettings, 'producer' | 'logger' | 'registry' | 'topicPrefix' | 'sessionTimeoutMs'> & Handling<T>;

/**
 * The Kafka wiring of a service, made once: the client, the producer (which also writes the
 * consumers' dead letters), consumers that share the service's logger, metrics, topic prefix and
 * session timeout, each closed with the service (consumers first, the producer last).
 */
export function setUpKafka({ config, clientId, logger, registry, lifecycle }: KafkaSetupOptions) {
  const kafka: Kafka = createKafka({ ...kafkaConnection(config), clientId: config.KAFKA_CLIENT_ID ?? clientId }, logger);
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  lifecycle.onStop('kafka producer', () => producer.disconnect());
  const consumers: MessageConsumer[] = [];

  return {
    kafka,
    producer,
    topicPrefix: config.KAFKA_TOPIC_PREFIX ?? '',
    /** A consumer, stopped with the service under `name`, started by `start` in the order made. */
    consumer<T>(name: string, options: ServiceConsumerOptions<T>): MessageConsumer<T> {
      const consumer = new MessageConsumer(kafka, {
        producer,
        logger,
        ...(registry ? { registry } : {}),
        ...(config.KAFKA_TOPIC_PREFIX !== undefined ? { topicPrefix: config.KAFKA_TOPIC_PREFIX } : {}),
        ...(config.KAFKA_SESSION_TIMEOUT_MS !== undefined ? { sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS } : {}),
        ...options,
      });
      lifecycle.onStop(name, () => consumer.stop());
      consumers.push(consumer);
      return consumer;
    },
    /** True while the producer is connected and every consumer holds its assignment. */
    get isReady(): boolean {
      return producer.isConnected && consumers.every((c) => c.isRunning);
    },
    /**
     * Connects the producer and starts the consumers in the background, retrying until Kafka
     * answers (the service answers /readyz 503 meanwhile), then runs `then`.
     */
    start(then?: () => void): void {
      void startInBackground(
        'kafka',
        async () => {
          if (!producer.isConnected) await producer.connect();
          for (const consumer of consumers) await consumer.start();
          then?.();
        },
        lifecycle,
        logger,
      );
    },
  };
}

export type KafkaSetup = ReturnType<typeof setUpKafka>;

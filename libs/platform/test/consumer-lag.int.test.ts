import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { TopicDeclaration } from '@trackme/contracts';
import { stackKafka, uniqueTopicPrefix, waitFor } from '@trackme/testkit';
import { createLogger, ensureTopics, MessageConsumer, MessageProducer, PoisonMessageError } from '../src/index.js';

const logger = createLogger('lag-test', 'silent');
const TOPIC = 'orders';
const declarations: TopicDeclaration[] = [
  { name: TOPIC, partitions: 1, retentionMs: 3_600_000, consumed: true, description: 'test' },
  { name: `${TOPIC}.dlq`, partitions: 1, retentionMs: 3_600_000, consumed: false, description: 'test' },
];

let kafka: Kafka;
let prefix: string;
let producer: MessageProducer;
let consumer: MessageConsumer;
const registry = new Registry();
let release: () => void;
const gate = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  kafka = stackKafka('lag-int-test');
  prefix = uniqueTopicPrefix();
  await ensureTopics(kafka, declarations, prefix);
  producer = new MessageProducer(kafka, logger, prefix);
  await producer.connect();
  await producer.send(TOPIC, ['a', 'poison', 'b', 'c'].map((value) => ({ key: 'k', value })));
  consumer = new MessageConsumer(kafka, {
    groupId: 'orders-worker',
    topics: [TOPIC],
    producer,
    logger,
    registry,
    topicPrefix: prefix,
    handler: async (message) => {
      await gate;
      if (message.value?.toString() === 'poison') throw new PoisonMessageError('invalid_json', 'not JSON');
    },
  });
  await consumer.start();
}, 60_000);

afterAll(async () => {
  await consumer.stop();
  await producer.disconnect();
});

const sample = async (name: string, labels: Record<string, string>) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value;
};

describe('consumer metrics', () => {
  it('report the lag of each partition until the group commits, and count dead letters per DLQ', async () => {
    const labels = { group: `${prefix}orders-worker`, topic: `${prefix}${TOPIC}`, partition: '0' };
    expect(await waitFor(async () => (await sample('trackme_kafka_consumer_lag', labels)) === 4, { timeoutMs: 20_000, what: 'a lag of 4' })).toBe(true);
    release();
    await waitFor(async () => (await sample('trackme_kafka_consumer_lag', labels)) === 0, { timeoutMs: 30_000, what: 'the lag back to 0' });
    expect(await sample('trackme_kafka_dead_letters_total', { topic: `${TOPIC}.dlq` })).toBe(1);
  }, 60_000);
});

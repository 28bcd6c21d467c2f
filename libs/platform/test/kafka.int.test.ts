import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { Headers, type Envelope, type TopicDeclaration } from '@trackme/contracts';
import { stackKafka, uniqueId, uniqueTopicPrefix, waitFor } from '@trackme/testkit';
import {
  createLogger,
  DependencyUnavailableError,
  ensureTopics,
  MessageConsumer,
  MessageProducer,
  PoisonMessageError,
  withCorrelation,
  type BatchHandler,
  type InboundMessage,
  type MessageHandler,
} from '../src/index.js';

const logger = createLogger('kafka-test', 'silent');
const ORDERS = 'orders';
const declarations = (partitions: number): TopicDeclaration[] => [
  { name: ORDERS, partitions, retentionMs: 3_600_000, consumed: true, description: 'test' },
  { name: `${ORDERS}.dlq`, partitions: 1, retentionMs: 3_600_000, consumed: false, description: 'test' },
];

let kafka: Kafka;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  kafka = stackKafka('kafka-int-test');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(partitions = 3) {
  const prefix = uniqueTopicPrefix();
  await ensureTopics(kafka, declarations(partitions), prefix);
  const producer = new MessageProducer(kafka, logger, prefix);
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  return { prefix, producer };
}

async function consumeBatches(prefix: string, producer: MessageProducer, batchHandler: BatchHandler) {
  const consumer = new MessageConsumer(kafka, { groupId: 'orders-batcher', topics: [ORDERS], batchHandler, producer, logger, topicPrefix: prefix, retryBackoffMs: 20, maxBatchSize: 50 });
  await consumer.start();
  cleanups.push(() => consumer.stop());
  return consumer;
}

async function consume(
  prefix: string,
  producer: MessageProducer,
  handler: MessageHandler,
  groupId = 'orders-worker',
  topic = ORDERS,
  beforeStart: (consumer: MessageConsumer) => void = () => undefined,
) {
  const consumer = new MessageConsumer(kafka, {
    groupId,
    topics: [topic],
    handler,
    producer,
    logger,
    topicPrefix: prefix,
    retryBackoffMs: 20,
  });
  beforeStart(consumer);
  await consumer.start();
  cleanups.push(() => consumer.stop());
  return consumer;
}

const orderIds = (messages: InboundMessage[]) =>
  messages.map((m) => (JSON.parse(m.value!.toString()) as Envelope<{ n: number }>).data.n);

describe('Kafka wrapper against the real broker', () => {
  it('delivers an enveloped message with its key, correlation id, type and custom headers', async () => {
    const { prefix, producer } = await setup();
    const received: InboundMessage[] = [];
    await consume(prefix, producer, async (m) => void received.push(m));

    const sent = await withCorrelation('corr-42', () =>
      producer.publish(ORDERS, 'client-7', { type: 'OrderPlaced', data: { n: 1 } }, { 'x-custom': 'yes' }),
    );

    const [message] = await waitFor(() => received.length > 0 && received, { what: 'the message' });
    expect(message!.key).toBe('client-7');
    expect(message!.topic).toBe(ORDERS);
    expect(message!.headers).toMatchObject({
      [Headers.correlationId]: 'corr-42',
      [Headers.messageType]: 'OrderPlaced',
      'x-custom': 'yes',
    });
    const envelope = JSON.parse(message!.value!.toString()) as Envelope;
    expect(envelope).toEqual({ ...sent, correlation_id: 'corr-42' });
    expect(envelope).toMatchObject({ type: 'OrderPlaced', version: 1, data: { n: 1 } });
  });

  it('keeps the order of messages with the same key', async () => {
    const { prefix, producer } = await setup();
    const received: InboundMessage[] = [];
    await consume(prefix, producer, async (m) => void received.push(m));
    for (let n = 0; n < 30; n++) await producer.publish(ORDERS, 'same-client', { type: 'OrderPlaced', data: { n } });
    await waitFor(() => received.length === 30, { what: '30 messages' });
    expect(orderIds(received)).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it('delivers sends made at once by many callers in the order they were made, each with its own headers', async () => {
    const { prefix, producer } = await setup();
    const received: InboundMessage[] = [];
    await consume(prefix, producer, async (m) => void received.push(m));
    // sent while earlier sends are in flight, so they are gathered into shared requests
    await Promise.all(
      Array.from({ length: 60 }, (_, n) => withCorrelation(`corr-${n}`, () => producer.publish(ORDERS, `client-${n % 2}`, { type: 'OrderPlaced', data: { n } }))),
    );
    await waitFor(() => received.length === 60, { what: '60 messages' });
    for (const key of ['client-0', 'client-1']) {
      const ofKey = received.filter((m) => m.key === key);
      expect(orderIds(ofKey)).toEqual(Array.from({ length: 60 }, (_, n) => n).filter((n) => `client-${n % 2}` === key));
    }
    expect(received.map((m) => [orderIds([m])[0], m.headers[Headers.correlationId]]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(
      Array.from({ length: 60 }, (_, n) => [n, `corr-${n}`]),
    );
  });

  it('dead-letters a message that fails 3 times, with its original bytes and provenance, and keeps consuming', async () => {
    const { prefix, producer } = await setup(1);
    const attempts = new Map<number, number>();
    const processed: number[] = [];
    await consume(prefix, producer, async (m) => {
      const n = (JSON.parse(m.value!.toString()) as Envelope<{ n: number }>).data.n;
      attempts.set(n, (attempts.get(n) ?? 0) + 1);
      if (n === 2) throw new Error('cannot handle order 2');
      processed.push(n);
    });
    const dead: InboundMessage[] = [];
    await consume(prefix, producer, async (m) => void dead.push(m), 'dlq-reader', `${ORDERS}.dlq`);

    const sent = [];
    for (let n = 1; n <= 3; n++) sent.push(await producer.publish(ORDERS, 'client-1', { type: 'OrderPlaced', data: { n } }, { 'x-origin': 'test' }));

    await waitFor(() => processed.length === 2 && dead.length === 1, { what: 'two processed and one dead letter' });
    expect(processed).toEqual([1, 3]);
    expect(attempts.get(2)).toBe(3);
    const [letter] = dead;
    expect(JSON.parse(letter!.value!.toString())).toEqual(sent[1]);
    expect(letter!.key).toBe('client-1');
    expect(letter!.headers).toMatchObject({
      'x-origin': 'test',
      [Headers.dlqReason]: 'handler_failed',
      [Headers.dlqTopic]: ORDERS,
      [Headers.dlqPartition]: '0',
      [Headers.dlqOffset]: '1',
      [Headers.dlqAttempts]: '3',
      [Headers.dlqConsumerGroup]: 'orders-worker',
    });
    expect(JSON.parse(letter!.headers[Headers.dlqErrors]!)).toEqual(['cannot handle order 2']);
  });

  it('dead-letters a poison message at the first attempt with its reason', async () => {
    const { prefix, producer } = await setup(1);
    let calls = 0;
    await consume(prefix, producer, async () => {
      calls += 1;
      throw new PoisonMessageError('invalid_json', 'value is not JSON', { errors: ['Unexpected token'] });
    });
    const dead: InboundMessage[] = [];
    await consume(prefix, producer, async (m) => void dead.push(m), 'dlq-reader', `${ORDERS}.dlq`);
    await producer.send(ORDERS, [{ key: 'k', value: Buffer.from([0xff, 0x00, 0x13]) }]);

    await waitFor(() => dead.length === 1, { what: 'dead letter' });
    expect(calls).toBe(1);
    expect(dead[0]!.value).toEqual(Buffer.from([0xff, 0x00, 0x13]));
    expect(dead[0]!.headers[Headers.dlqReason]).toBe('invalid_json');
    expect(JSON.parse(dead[0]!.headers[Headers.dlqErrors]!)).toEqual(['value is not JSON', 'Unexpected token']);
  });

  it('commits only after processing: a message whose dependency was down is redelivered to the next group member', async () => {
    const { prefix, producer } = await setup(1);
    const first: number[] = [];
    const consumer = await consume(prefix, producer, async (m) => {
      const [n] = orderIds([m]);
      if (n === 3) throw new DependencyUnavailableError('database down');
      first.push(n!);
    });
    for (let n = 1; n <= 4; n++) await producer.publish(ORDERS, 'c', { type: 'OrderPlaced', data: { n } });
    await waitFor(() => first.length === 2, { what: 'messages before the failing one' });
    await consumer.stop();

    const second: number[] = [];
    await consume(prefix, producer, async (m) => void second.push(orderIds([m])[0]!));
    await waitFor(() => second.length === 2, { what: 'redelivery' });
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([3, 4]);
  });

  it('rebalances partitions between two members of one group without losing messages', async () => {
    const { prefix, producer } = await setup(6);
    const seenBy = new Map<number, string>();
    const record = (member: string) => async (m: InboundMessage) => void seenBy.set(orderIds([m])[0]!, member);
    const assignments = new Map<string, number>();
    const onJoin = (member: string) => (consumer: MessageConsumer) =>
      consumer.raw.on(consumer.raw.events.GROUP_JOIN, (e) =>
        assignments.set(member, Object.values(e.payload.memberAssignment).flat().length),
      );
    await consume(prefix, producer, record('a'), 'orders-worker', ORDERS, onJoin('a'));
    await waitFor(() => assignments.get('a') === 6, { what: 'a owns all partitions' });
    for (let n = 0; n < 20; n++) await producer.publish(ORDERS, `client-${n}`, { type: 'OrderPlaced', data: { n } });
    await waitFor(() => seenBy.size === 20, { what: 'first batch' });

    await consume(prefix, producer, record('b'), 'orders-worker', ORDERS, onJoin('b'));
    await waitFor(() => (assignments.get('b') ?? 0) > 0 && assignments.get('a')! + assignments.get('b')! === 6, {
      what: 'partitions split between a and b',
      timeoutMs: 30_000,
    });
    for (let n = 20; n < 60; n++) await producer.publish(ORDERS, `client-${n}`, { type: 'OrderPlaced', data: { n } });
    await waitFor(() => seenBy.size === 60, { what: 'second batch' });
    const secondBatchMembers = new Set([...seenBy].filter(([n]) => n >= 20).map(([, member]) => member));
    expect(secondBatchMembers).toEqual(new Set(['a', 'b']));
  }, 60_000);

  describe('batch handlers', () => {
    it('get runs of at most maxBatchSize messages in partition order, and dead-letter what they return', async () => {
      const { prefix, producer } = await setup(1);
      const runs: number[][] = [];
      await consumeBatches(prefix, producer, async (messages) => {
        runs.push(orderIds(messages));
        return messages.filter((m) => orderIds([m])[0]! % 40 === 0).map((message) => ({ message, reason: 'not_wanted', errors: ['multiple of 40'] }));
      });
      const dead: InboundMessage[] = [];
      await consume(prefix, producer, async (m) => void dead.push(m), 'dlq-reader', `${ORDERS}.dlq`);
      await producer.send(ORDERS, Array.from({ length: 120 }, (_, n) => ({ key: 'k', value: JSON.stringify({ data: { n: n + 1 } }) })));

      await waitFor(() => runs.flat().length === 120 && dead.length === 3, { what: '120 messages and 3 dead letters' });
      expect(runs.flat()).toEqual(Array.from({ length: 120 }, (_, n) => n + 1));
      expect(Math.max(...runs.map((r) => r.length))).toBeLessThanOrEqual(50);
      expect(orderIds(dead)).toEqual([40, 80, 120]);
      expect(dead.map((d) => d.headers[Headers.dlqReason])).toEqual(['not_wanted', 'not_wanted', 'not_wanted']);
    });

    it('retry a run whose dependency was down, and split a failing run so only the bad message is dead-lettered', async () => {
      const { prefix, producer } = await setup(1);
      let down = 2;
      const applied = new Set<number>();
      await consumeBatches(prefix, producer, async (messages) => {
        if (down > 0) {
          down -= 1;
          throw new DependencyUnavailableError('database restarting');
        }
        const ids = orderIds(messages);
        if (ids.includes(3)) throw new Error('order 3 breaks the handler');
        for (const id of ids) applied.add(id);
        return [];
      });
      const dead: InboundMessage[] = [];
      await consume(prefix, producer, async (m) => void dead.push(m), 'dlq-reader', `${ORDERS}.dlq`);
      await producer.send(ORDERS, Array.from({ length: 5 }, (_, n) => ({ key: 'k', value: JSON.stringify({ data: { n: n + 1 } }) })));

      await waitFor(() => applied.size === 4 && dead.length === 1, { what: 'four applied and one dead letter' });
      expect([...applied].sort()).toEqual([1, 2, 4, 5]);
      expect(orderIds(dead)).toEqual([3]);
      expect(dead[0]!.headers).toMatchObject({ [Headers.dlqReason]: 'handler_failed', [Headers.dlqAttempts]: '3' });
    });
  });

  it('creates declared topics once and reports nothing to do the second time', async () => {
    const prefix = `${uniqueId('topics-')}.`;
    const created = await ensureTopics(kafka, declarations(2), prefix);
    expect(created.sort()).toEqual([`${prefix}${ORDERS}`, `${prefix}${ORDERS}.dlq`]);
    expect(await ensureTopics(kafka, declarations(2), prefix)).toEqual([]);
  });
});

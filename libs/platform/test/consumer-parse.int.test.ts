import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import type { TopicDeclaration } from '@trackme/contracts';
import { stackKafka, uniqueTopicPrefix, waitFor } from '@trackme/testkit';
import {
  createLogger,
  ensureTopics,
  MessageConsumer,
  MessageProducer,
  PoisonMessageError,
  readDeadLetters,
  type Handling,
  type InboundMessage,
} from '../src/index.js';

const logger = createLogger('consumer-parse-test', 'silent');
const ORDERS = 'orders';
const declarations: TopicDeclaration[] = [
  { name: ORDERS, partitions: 1, retentionMs: 3_600_000, consumed: true, description: 'test' },
  { name: `${ORDERS}.dlq`, partitions: 1, retentionMs: 3_600_000, consumed: false, description: 'test' },
];

interface Order {
  n: number;
}

let kafka: Kafka;
const cleanups: Array<() => Promise<void>> = [];
/** how often each message value was parsed */
const parses = new Map<string, number>();

beforeAll(() => {
  kafka = stackKafka('consumer-parse-test');
});

afterEach(async () => {
  parses.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An order is a JSON number; anything else is poison, and so is a negative order. */
function parseOrder(message: InboundMessage): Order {
  const text = message.value?.toString() ?? '';
  parses.set(text, (parses.get(text) ?? 0) + 1);
  let n: unknown;
  try {
    n = JSON.parse(text);
  } catch {
    throw new PoisonMessageError('invalid_json', 'value is not JSON', { errors: ['Unexpected token'] });
  }
  if (typeof n !== 'number') throw new PoisonMessageError('not_an_order', 'value is not a number');
  if (n < 0) throw new PoisonMessageError('negative_order', 'negative order', undefined, [`n: must not be negative, was ${n}`]);
  return { n };
}

/** Starts a consumer of ORDERS with `handling`, sends `values` to it, answers where its dead letters are read. */
async function consuming(handling: Handling<Order>, values: string[]) {
  const prefix = uniqueTopicPrefix();
  await ensureTopics(kafka, declarations, prefix);
  const producer = new MessageProducer(kafka, logger, prefix);
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const consumer = new MessageConsumer<Order>(kafka, { groupId: 'orders-parser', topics: [ORDERS], producer, logger, topicPrefix: prefix, retryBackoffMs: 20, ...handling });
  await consumer.start();
  cleanups.push(() => consumer.stop());
  await producer.send(ORDERS, values.map((value) => ({ key: 'k', value })));
  return (count: number) =>
    waitFor(async () => {
      const letters = await readDeadLetters(kafka, { topic: `${ORDERS}.dlq`, topicPrefix: prefix });
      return letters.length === count && letters.sort((a, b) => Number(a.originalOffset) - Number(b.originalOffset));
    }, { what: `${count} dead letters`, timeoutMs: 30_000, intervalMs: 500 });
}

describe('a consumer with a parse option', () => {
  it('dead-letters a message parse rejects with its reason, at once, and hands the rest of the run to the batch handler in order', async () => {
    const handled: number[] = [];
    const deadLetters = await consuming(
      {
        parse: parseOrder,
        batchHandler: async (items) => {
          handled.push(...items.map((item) => item.value.n));
          // a handler may still reject what it parsed
          return items.filter((item) => item.value.n === 5).map(({ message }) => ({ message, reason: 'not_wanted', errors: ['order 5'] }));
        },
      },
      ['1', '2', 'garbage', '3', '-7', '4', '5', '6'],
    );

    const letters = await deadLetters(3);
    await waitFor(() => handled.length === 6, { what: 'six orders handled' });
    expect(letters.map((l) => [l.value.toString(), l.reason, l.errors, l.originalOffset, l.attempts])).toEqual([
      ['garbage', 'invalid_json', ['value is not JSON', 'Unexpected token'], '2', '1'],
      ['-7', 'negative_order', ['n: must not be negative, was -7'], '4', '1'],
      ['5', 'not_wanted', ['order 5'], '6', '1'],
    ]);
    expect(handled).toEqual([1, 2, 3, 4, 5, 6]);
    // parsed once each: a message parse rejects is never retried
    expect([...parses.values()].every((count) => count === 1)).toBe(true);
  });

  it('handles the messages of a failing run one by one without parsing a rejected one again', async () => {
    const applied: number[] = [];
    const deadLetters = await consuming(
      {
        parse: parseOrder,
        batchHandler: async (items) => {
          if (items.some((item) => item.value.n === 3)) throw new Error('order 3 breaks the handler');
          applied.push(...items.map((item) => item.value.n));
          return [];
        },
      },
      ['1', '2', '-1', '3', '4'],
    );

    const letters = await deadLetters(2);
    await waitFor(() => applied.length === 3, { what: 'three orders applied' });
    expect(letters.map((l) => [l.value.toString(), l.reason, l.attempts])).toEqual([
      ['-1', 'negative_order', '1'],
      ['3', 'handler_failed', '3'],
    ]);
    expect(applied).toEqual([1, 2, 4]);
    expect(parses.get('-1')).toBe(1);
  });

  it('gives a message handler the parsed value, and dead-letters what parse rejects at the first attempt', async () => {
    const handled: Array<[string, number]> = [];
    const deadLetters = await consuming(
      {
        parse: parseOrder,
        handler: async ({ message, value }) => void handled.push([message.offset, value.n]),
      },
      ['1', 'garbage', '2'],
    );

    const letters = await deadLetters(1);
    await waitFor(() => handled.length === 2, { what: 'two orders handled' });
    expect(letters.map((l) => [l.value.toString(), l.reason, l.errors, l.attempts])).toEqual([['garbage', 'invalid_json', ['value is not JSON', 'Unexpected token'], '1']]);
    expect(handled).toEqual([
      ['0', 1],
      ['2', 2],
    ]);
    expect(parses.get('garbage')).toBe(1);
  });
});

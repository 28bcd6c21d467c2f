import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { Headers, type TopicDeclaration } from '@trackme/contracts';
import { REPO_ROOT, stackKafka, testStack, uniqueTopicPrefix, waitFor } from '@trackme/testkit';
import {
  createLogger,
  ensureTopics,
  MessageConsumer,
  MessageProducer,
  PoisonMessageError,
  readDeadLetters,
  replayDeadLetters,
  REPLAYED_FROM_HEADER,
  type InboundMessage,
} from '../src/index.js';

const run = promisify(execFile);
const logger = createLogger('dlq-test', 'silent');
const TOPIC = 'signups';
const DLQ = `${TOPIC}.dlq`;
const declarations: TopicDeclaration[] = [
  { name: TOPIC, partitions: 2, retentionMs: 3_600_000, consumed: true, description: 'test' },
  { name: DLQ, partitions: 1, retentionMs: 3_600_000, consumed: false, description: 'test' },
];

let kafka: Kafka;
let prefix: string;
let producer: MessageProducer;
let consumer: MessageConsumer;
/** what the consumer accepts; anything else is poison with the reason `unknown_client` */
const known = new Set<string>(['alice']);
const processed: InboundMessage[] = [];

beforeAll(async () => {
  kafka = stackKafka('dlq-int-test');
  prefix = uniqueTopicPrefix();
  await ensureTopics(kafka, declarations, prefix);
  producer = new MessageProducer(kafka, logger, prefix);
  await producer.connect();
  consumer = new MessageConsumer(kafka, {
    groupId: 'signups-worker',
    topics: [TOPIC],
    producer,
    logger,
    topicPrefix: prefix,
    fromBeginning: true,
    handler: async (message) => {
      const client = message.value?.toString() ?? '';
      if (client === 'garbage') throw new PoisonMessageError('invalid_json', 'not JSON: unexpected token');
      if (!known.has(client)) throw new PoisonMessageError('unknown_client', `no client ${client}`);
      processed.push(message);
    },
  });
  await consumer.start();
}, 60_000);

afterAll(async () => {
  await consumer.stop();
  await producer.disconnect();
});

describe('dead letters', () => {
  it('lists what failed with its reason and provenance, filters by reason, and replays it once the cause is fixed', async () => {
    await producer.send(TOPIC, [
      { key: 'k-bob', value: 'bob', headers: { [Headers.correlationId]: 'corr-bob' } },
      { key: 'k-garbage', value: 'garbage' },
    ]);
    const letters = await waitFor(async () => {
      const all = await readDeadLetters(kafka, { topic: DLQ, topicPrefix: prefix });
      return all.length === 2 && all;
    });
    const bob = letters.find((l) => l.value.toString() === 'bob')!;
    expect(bob).toMatchObject({ reason: 'unknown_client', errors: ['no client bob'], originalTopic: TOPIC, key: 'k-bob', consumerGroup: 'signups-worker' });
    expect(bob.failedAt).toMatch(/^\d{4}-/);

    const unknown = await readDeadLetters(kafka, { topic: DLQ, topicPrefix: prefix, reason: 'unknown_client' });
    expect(unknown.map((l) => l.value.toString())).toEqual(['bob']);
    expect(await readDeadLetters(kafka, { topic: DLQ, topicPrefix: prefix, reason: 'no_such_reason' })).toEqual([]);

    known.add('bob');
    expect(await replayDeadLetters(producer, unknown, DLQ)).toEqual({ replayed: 1, skipped: 0 });
    const replayed = await waitFor(() => processed.find((m) => m.value?.toString() === 'bob'));
    expect(replayed.key).toBe('k-bob');
    expect(replayed.headers[Headers.correlationId]).toBe('corr-bob');
    expect(replayed.headers[REPLAYED_FROM_HEADER]).toBe(`${DLQ}/${bob.partition}/${bob.offset}`);
    expect(replayed.headers[Headers.dlqReason]).toBeUndefined();
    // reading is side-effect free: the records are still there
    expect(await readDeadLetters(kafka, { topic: DLQ, topicPrefix: prefix })).toHaveLength(2);
  }, 60_000);

  it('answers an empty list for an empty dead-letter topic', async () => {
    const emptyPrefix = uniqueTopicPrefix();
    await ensureTopics(kafka, declarations, emptyPrefix);
    expect(await readDeadLetters(kafka, { topic: DLQ, topicPrefix: emptyPrefix })).toEqual([]);
  });

  it('npm run dlq lists and replays from the command line', async () => {
    const env = { ...process.env, KAFKA_BROKERS: testStack().KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: prefix };
    const dlq = (...args: string[]) => run('npx', ['tsx', '--conditions=@trackme/source', 'scripts/dlq.ts', ...args], { cwd: REPO_ROOT, env });
    const listed = await dlq('list', '--topic', DLQ, '--reason', 'invalid_json');
    expect(listed.stdout).toContain('invalid_json');
    expect(listed.stdout).toContain('not JSON: unexpected token');
    expect(listed.stdout).not.toContain('unknown_client');
    expect(listed.stderr).toContain('1 record(s)');

    const json = await dlq('list', '--topic', DLQ, '--json');
    expect(json.stdout.trim().split('\n').map((line) => JSON.parse(line).value).sort()).toEqual(['bob', 'garbage']);

    const dry = await dlq('replay', '--topic', DLQ, '--reason', 'unknown_client', '--dry-run');
    expect(dry.stderr).toContain('would replay 1 record(s)');

    const refused = await dlq('list', '--topic', TOPIC).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toContain('--topic must name a dead-letter topic');
  }, 60_000);
});

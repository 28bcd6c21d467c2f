import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Headers } from '@trackme/contracts';
import { decodeHeaders, type StringHeaders } from './headers.js';
import { topicFor } from './kafka.js';
import type { MessageProducer } from './producer.js';

/** A record of a `.dlq` topic with the provenance the consumer wrote on it (consumer.ts). */
export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  reason: string;
  errors: string[];
  originalTopic: string | undefined;
  originalPartition: string | undefined;
  originalOffset: string | undefined;
  consumerGroup: string | undefined;
  attempts: string | undefined;
  failedAt: string | undefined;
  headers: StringHeaders;
}

export interface DeadLetterQuery {
  /** logical topic name, e.g. trackme.activity.dlq */
  topic: string;
  topicPrefix?: string;
  reason?: string;
  limit?: number;
  /** how long to wait for the records up to the end of the topic */
  timeoutMs?: number;
}

const DLQ_HEADERS = new Set<string>([
  Headers.dlqReason,
  Headers.dlqErrors,
  Headers.dlqTopic,
  Headers.dlqPartition,
  Headers.dlqOffset,
  Headers.dlqKey,
  Headers.dlqConsumerGroup,
  Headers.dlqAttempts,
  Headers.dlqFailedAt,
]);

/** The header a replayed message carries: which dead-letter record it came from. */
export const REPLAYED_FROM_HEADER = 'dlq-replayed-from';

function parseErrors(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
  } catch {
    return [raw];
  }
}

/**
 * Reads a dead-letter topic from its beginning to its end as it is when called (records added
 * meanwhile are left for the next call), oldest first per partition. Uses a throwaway consumer
 * group that is deleted afterwards, so reading changes nothing.
 */
export async function readDeadLetters(kafka: Kafka, query: DeadLetterQuery): Promise<DeadLetter[]> {
  const topic = topicFor(query.topicPrefix, query.topic);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `trackme-dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId });
  try {
    const ends = new Map<number, bigint>();
    for (const { partition, offset, low } of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(offset) > BigInt(low)) ends.set(partition, BigInt(offset) - 1n);
    }
    const letters: DeadLetter[] = [];
    if (ends.size > 0) {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const remaining = new Set(ends.keys());
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`could not read ${topic} to its end within ${query.timeoutMs ?? 30_000} ms`)),
          query.timeoutMs ?? 30_000,
        );
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = ends.get(partition);
              if (end === undefined || BigInt(message.offset) > end) return;
              const headers = decodeHeaders(message.headers);
              letters.push({
                partition,
                offset: message.offset,
                key: message.key?.toString() ?? null,
                value: message.value ?? Buffer.alloc(0),
                reason: headers[Headers.dlqReason] ?? 'unknown',
                errors: parseErrors(headers[Headers.dlqErrors]),
                originalTopic: headers[Headers.dlqTopic],
                originalPartition: headers[Headers.dlqPartition],
                originalOffset: headers[Headers.dlqOffset],
                consumerGroup: headers[Headers.dlqConsumerGroup],
                attempts: headers[Headers.dlqAttempts],
                failedAt: headers[Headers.dlqFailedAt],
                headers,
              });
              if (BigInt(message.offset) === end) remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch((error: unknown) => {
            clearTimeout(timer);
            reject(error as Error);
          });
      });
    }
    const matching = letters
      .filter((letter) => query.reason === undefined || letter.reason === query.reason)
      .sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    return query.limit === undefined ? matching : matching.slice(0, query.limit);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Publishes dead letters again to the topic they failed on, with their original key, bytes and
 * headers (the dead-letter headers removed, `dlq-replayed-from` added). Consumers dedup by message
 * id, so replaying a record twice applies it once. Records without an original topic are skipped.
 */
export async function replayDeadLetters(producer: MessageProducer, letters: DeadLetter[], dlqTopic: string): Promise<{ replayed: number; skipped: number }> {
  let replayed = 0;
  let skipped = 0;
  for (const letter of letters) {
    if (!letter.originalTopic) {
      skipped += 1;
      continue;
    }
    const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !DLQ_HEADERS.has(name)));
    headers[REPLAYED_FROM_HEADER] = `${dlqTopic}/${letter.partition}/${letter.offset}`;
    await producer.send(letter.originalTopic, [{ key: letter.headers[Headers.dlqKey] ?? letter.key, value: letter.value, headers }]);
    replayed += 1;
  }
  return { replayed, skipped };
}

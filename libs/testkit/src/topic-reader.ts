import type { Kafka } from 'kafkajs';
import type { Envelope } from '@trackme/contracts';
import { decodeHeaders, topicFor } from '@trackme/platform';
import { uniqueId } from './ids.js';
import { stackKafka, type StackEnv } from './stack.js';

export interface ReadMessage<T = unknown> {
  key: string | null;
  envelope: Envelope<T>;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Collects every message of a topic (from the beginning) the way an outside observer would:
 * its own consumer group, no commits that matter. For asserting on what a service published.
 */
export class TopicReader<T = unknown> {
  readonly messages: ReadMessage<T>[] = [];
  private readonly kafka: Kafka;
  private consumer?: ReturnType<Kafka['consumer']>;

  constructor(
    stack: StackEnv,
    private readonly topic: string,
    private readonly prefix = '',
  ) {
    this.kafka = stackKafka('trackme-test-reader', stack);
  }

  async start(): Promise<this> {
    const consumer = this.kafka.consumer({ groupId: uniqueId('reader-'), allowAutoTopicCreation: false });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic: topicFor(this.prefix, this.topic), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const raw = message.value?.toString() ?? '';
        let envelope: Envelope<T>;
        try {
          envelope = JSON.parse(raw) as Envelope<T>;
        } catch {
          envelope = { id: '', type: 'unparseable', version: 0, occurred_at: '', correlation_id: '', data: raw as T };
        }
        this.messages.push({ key: message.key?.toString() ?? null, envelope, headers: decodeHeaders(message.headers), partition, offset: message.offset });
      },
    });
    await joined;
    return this;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

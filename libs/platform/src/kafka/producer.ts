import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { CompressionTypes, Partitioners } from 'kafkajs';
import { Headers, type Envelope } from '@trackme/contracts';
import { currentCorrelationId } from '../logging/context.js';
import type { Logger } from '../logging/logger.js';
import type { StringHeaders } from './headers.js';
import { producerSpans } from './producer-telemetry.js';
import { topicFor } from './kafka.js';

export interface OutboundMessage {
  key: string | null;
  value: Buffer | string;
  headers?: StringHeaders;
}

export interface EnvelopeInput<T, K extends string = string> {
  type: K;
  data: T;
  /** defaults to a random UUID; pass a deterministic id to make re-publishing idempotent for consumers */
  id?: string;
  version?: number;
  occurredAt?: Date;
  correlationId?: string;
}

/** An envelope whose `type` is known: a member of a message union such as ChangeEvent. */
export type TypedEnvelope<K extends string, T> = Omit<Envelope<T>, 'type'> & { type: K };

export function buildEnvelope<T, K extends string = string>(input: EnvelopeInput<T, K>): TypedEnvelope<K, T> {
  return {
    id: input.id ?? randomUUID(),
    type: input.type,
    version: input.version ?? 1,
    occurred_at: (input.occurredAt ?? new Date()).toISOString(),
    correlation_id: input.correlationId ?? currentCorrelationId() ?? randomUUID(),
    data: input.data,
  };
}

/**
 * Bytes of records per produce request: half the broker's default message.max.bytes (1 MiB), which
 * a request's record batch for one partition must not exceed.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

type SizedRecord = { key: string | null; value: Buffer | string; headers: Record<string, string> };

const sizeOf = (r: SizedRecord) =>
  Buffer.byteLength(r.value) + (r.key ? Buffer.byteLength(r.key) : 0) + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length, 0) + 64;

/** Consecutive chunks of records, each under `limit` bytes (a larger single record goes alone). */
export function* bySize<T extends SizedRecord>(records: T[], limit: number): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf(record);
    if (chunk.length > 0 && bytes + size > limit) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

interface Queued {
  topic: string;
  records: SizedRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Idempotent producer (acks=all, one in-flight request per broker so retries keep order).
 * Every message carries the correlation id and the W3C trace context of its PRODUCER span
 * (producer-telemetry.ts).
 *
 * Sends made while a request is in flight are gathered and go out together in the next request
 * (in the order they were made), so concurrent callers share round trips instead of queueing one
 * request each: the gateway's commands under load, the replies and events of several partitions.
 * A caller's send resolves once its own messages are acknowledged.
 */
export class MessageProducer {
  private readonly producer: Producer;
  private connected = false;
  private readonly queue: Queued[] = [];
  private draining = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly topicPrefix = '',
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // bounded retries would break the idempotent producer's sequence guarantees; callers
      // that cannot wait (the gateway) apply their own deadline
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.connected = false;
  }

  /**
   * Publishes raw messages to a logical topic, in order; resolves once all replicas acknowledged.
   * Many messages go out in several requests, each under the broker's request size limit.
   */
  async send(topic: string, messages: OutboundMessage[]): Promise<void> {
    await this.sendTogether([{ topic, messages }]);
  }

  /**
   * Publishes messages to several topics in one produce request where they fit (the events and
   * the replies of a wave of commands): one round trip instead of one per topic.
   */
  async sendTogether(batches: Array<{ topic: string; messages: OutboundMessage[] }>): Promise<void> {
    const correlationId = currentCorrelationId();
    const queued = batches
      .filter((batch) => batch.messages.length > 0)
      .map(({ topic, messages }) => {
        const records = messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: { ...(correlationId ? { [Headers.correlationId]: correlationId } : {}), ...m.headers },
        }));
        const physical = topicFor(this.topicPrefix, topic);
        const spans = producerSpans(physical, records);
        const bytes = records.reduce((n, r) => n + sizeOf(r), 0);
        return new Promise<void>((resolve, reject) => this.queue.push({ topic: physical, records, bytes, resolve, reject })).then(
          () => spans.settle(),
          (error: unknown) => {
            spans.settle(error);
            throw error;
          },
        );
      });
    if (queued.length === 0) return;
    void this.drain();
    await Promise.all(queued);
  }

  /** Sends what is queued, a request at a time, each holding as many queued sends as fit. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const sends = this.takeRequest();
        try {
          if (sends.length === 1 && sends[0]!.bytes > MAX_REQUEST_BYTES) {
            const [{ topic, records }] = sends as [Queued];
            for (const chunk of bySize(records, MAX_REQUEST_BYTES)) await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: chunk });
          } else {
            await this.producer.sendBatch({
              acks: -1,
              compression: CompressionTypes.None,
              topicMessages: sends.map(({ topic, records }) => ({ topic, messages: records })),
            });
          }
          for (const send of sends) send.resolve();
        } catch (error) {
          for (const send of sends) send.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The oldest queued sends that fit one request together (at least one). */
  private takeRequest(): Queued[] {
    let bytes = this.queue[0]!.bytes;
    let count = 1;
    while (count < this.queue.length && bytes + this.queue[count]!.bytes <= MAX_REQUEST_BYTES) bytes += this.queue[count++]!.bytes;
    return this.queue.splice(0, count);
  }

  /** Wraps `data` in the standard envelope and publishes it keyed by `key` (the client id). */
  async publish<T>(topic: string, key: string, input: EnvelopeInput<T>, headers: StringHeaders = {}): Promise<Envelope<T>> {
    const envelope = buildEnvelope(input);
    await this.send(topic, [envelopeRecord({ key, envelope }, headers)]);
    this.logger.debug({ topic, type: envelope.type, id: envelope.id }, 'published');
    return envelope;
  }

  /** Publishes envelopes already built (events from an outbox keep their ids), in order, in as few requests as fit. */
  async publishEnvelopes(topic: string, items: KeyedEnvelope[]): Promise<void> {
    await this.send(
      topic,
      items.map((item) => envelopeRecord(item)),
    );
  }

  /** Publishes envelopes of several topics together, each topic's in order (see `sendTogether`). */
  async publishEnvelopesTogether(batches: Array<{ topic: string; items: KeyedEnvelope[] }>): Promise<void> {
    await this.sendTogether(batches.map(({ topic, items }) => ({ topic, messages: items.map((item) => envelopeRecord(item)) })));
  }
}

/** An envelope and its Kafka key (the client id, for every message about a client). */
export interface KeyedEnvelope {
  key: string;
  envelope: Envelope;
}

/** The record of an envelope: its JSON, and the type and correlation headers every envelope carries. */
function envelopeRecord({ key, envelope }: KeyedEnvelope, headers: StringHeaders = {}): OutboundMessage {
  return {
    key,
    value: JSON.stringify(envelope),
    headers: { [Headers.messageType]: envelope.type, [Headers.correlationId]: envelope.correlation_id, ...headers },
  };
}

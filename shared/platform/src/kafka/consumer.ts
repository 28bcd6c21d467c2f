import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage } from 'kafkajs';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import { Headers, dlqTopicOf } from '@trackme/contracts';
import { DependencyUnavailableError, PoisonMessageError } from '../errors.js';
import { withCorrelation, withoutCorrelation } from '../logging/context.js';
import type { Logger } from '../logging/logger.js';
import { decodeHeaders, type StringHeaders } from './headers.js';
import { topicFor } from './kafka.js';
import type { MessageProducer } from './producer.js';

/** A message as a handler sees it: the logical topic name, decoded key and headers, raw value. */
export interface InboundMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: StringHeaders;
  timestamp: string;
}

export type MessageHandler = (message: InboundMessage) => Promise<void>;

/** A message to dead-letter: it goes to the twin of `message.topic` with its key, value and headers. */
export interface Rejected {
  message: InboundMessage;
  reason: string;
  errors: string[];
}

/**
 * Handles consecutive messages of one partition, in order, so their writes can be combined.
 * Messages it cannot process are returned to be dead-lettered; throwing retries the whole run
 * (the handler must be idempotent), and an error that is not transient splits the run into
 * single messages so only the failing one is dead-lettered.
 */
export type BatchHandler = (messages: InboundMessage[]) => Promise<Rejected[]>;

export const CONSUMER_DEFAULTS = {
  /** attempts for an unexpected handler error before the message is dead-lettered */
  maxAttempts: 3,
  retryBackoffMs: 200,
  /** cap for the backoff while a dependency is down (those messages are retried, never dead-lettered) */
  maxBackoffMs: 10_000,
  /** partitions processed at once; messages of one partition are always handled in order */
  partitionsConsumedConcurrently: 3,
  maxBatchSize: 500,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
} as const;

export interface ConsumerOptions {
  groupId: string;
  /** logical topic names (the environment prefix is applied here) */
  topics: string[];
  /** one message at a time; exactly one of handler and batchHandler is given */
  handler?: MessageHandler;
  batchHandler?: BatchHandler;
  /** most messages given to batchHandler at once (offsets are committed after each run) */
  maxBatchSize?: number;
  /** most bytes fetched per partition at once (kafkajs default 1 MiB): bounds a batch handler's runs too */
  maxBytesPerPartition?: number;
  /**
   * Let the broker gather messages for up to this long before answering a fetch (until a fetch
   * holds `maxBytesPerPartition`): larger runs for a batch handler whose cost is mostly per run,
   * at the price of that much delay. Unset: a fetch is answered as soon as any message is there.
   */
  gatherMs?: number;
  /** publishes dead-letter records */
  producer: MessageProducer;
  logger: Logger;
  topicPrefix?: string;
  registry?: Registry;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  maxAttempts?: number;
  retryBackoffMs?: number;
  maxBackoffMs?: number;
  partitionsConsumedConcurrently?: number;
  /** errors that mean "a dependency is down": retried with backoff until it returns, never dead-lettered */
  isTransient?: (error: unknown) => boolean;
}

class StoppingError extends Error {}

/** a handler's answer when it dead-lettered the message itself */
const DEAD_LETTERED = Symbol('dead-lettered');

const tracer = trace.getTracer('@trackme/platform/kafka');

/**
 * Consumer-group member with the guarantees of docs/architecture.md ("Delivery guarantees"): per-partition order, offsets
 * committed only after the handler succeeded (or the message was dead-lettered), bounded retries
 * for unexpected errors, unlimited backoff for unavailable dependencies, DLQ with provenance.
 */
export class MessageConsumer {
  private readonly consumer: Consumer;
  private readonly options: Required<Omit<ConsumerOptions, 'registry' | 'topicPrefix' | 'isTransient' | 'sessionTimeoutMs' | 'handler' | 'batchHandler' | 'maxBytesPerPartition' | 'gatherMs'>> &
    Pick<ConsumerOptions, 'isTransient' | 'handler' | 'batchHandler'>;
  private readonly prefix: string;
  private stopping = false;
  private running = false;
  private readonly outcomes?: Counter<'topic' | 'outcome'>;
  private readonly duration?: Histogram<'topic'>;

  constructor(kafka: Kafka, options: ConsumerOptions) {
    if (!options.handler === !options.batchHandler) throw new Error('a consumer needs exactly one of handler and batchHandler');
    this.options = {
      fromBeginning: true,
      maxAttempts: CONSUMER_DEFAULTS.maxAttempts,
      retryBackoffMs: CONSUMER_DEFAULTS.retryBackoffMs,
      maxBackoffMs: CONSUMER_DEFAULTS.maxBackoffMs,
      partitionsConsumedConcurrently: CONSUMER_DEFAULTS.partitionsConsumedConcurrently,
      maxBatchSize: CONSUMER_DEFAULTS.maxBatchSize,
      ...options,
    };
    this.prefix = options.topicPrefix ?? '';
    this.consumer = kafka.consumer({
      groupId: topicFor(this.prefix, options.groupId),
      sessionTimeout: options.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs,
      heartbeatInterval: Math.min(CONSUMER_DEFAULTS.heartbeatIntervalMs, Math.floor((options.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs) / 3)),
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
      // a fetch must hold a batch of every partition processed at once, or they take turns
      ...(options.maxBytesPerPartition
        ? {
            maxBytesPerPartition: options.maxBytesPerPartition,
            maxBytes: options.maxBytesPerPartition * (options.partitionsConsumedConcurrently ?? CONSUMER_DEFAULTS.partitionsConsumedConcurrently),
          }
        : {}),
      ...(options.gatherMs ? { maxWaitTimeInMs: options.gatherMs, minBytes: options.maxBytesPerPartition ?? 1024 * 1024 } : {}),
    });
    // ready only once the group gave this member its partitions: before that, messages
    // published now might be read by nobody (a new group starting at the latest offset)
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.running = true;
    });
    this.consumer.on(this.consumer.events.STOP, () => {
      this.running = false;
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      options.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
    if (options.registry) {
      // consumers of one process share these metrics (the topic label tells them apart)
      const registry = options.registry;
      const shared = <T>(name: string, create: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? create();
      this.outcomes = shared('trackme_kafka_messages_consumed_total', () => new Counter({
        name: 'trackme_kafka_messages_consumed_total',
        help: 'Messages consumed, by outcome (processed, dead_lettered)',
        labelNames: ['topic', 'outcome'],
        registers: [registry],
      }));
      this.duration = shared('trackme_kafka_handler_duration_seconds', () => new Histogram({
        name: 'trackme_kafka_handler_duration_seconds',
        help: 'Time to handle one message (or one run of a batch consumer), retries included',
        labelNames: ['topic'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }));
    }
  }

  /** True once the consumer joined its group and holds its assignment. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Underlying kafkajs consumer, for event listeners (e.g. GROUP_JOIN in tests). */
  get raw(): Consumer {
    return this.consumer;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.options.topics.map((t) => topicFor(this.prefix, t)),
      fromBeginning: this.options.fromBeginning,
    });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      autoCommitThreshold: 100,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      ...(this.options.batchHandler
        ? { eachBatchAutoResolve: false, eachBatch: (payload: EachBatchPayload) => this.handleBatch(payload) }
        : { eachMessage: (payload: EachMessagePayload) => this.handle(payload) }),
    });
  }

  /** Stops fetching, lets in-flight handlers finish, commits what they resolved, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    this.running = false;
  }

  private inbound(topic: string, partition: number, message: KafkaMessage): InboundMessage {
    return {
      topic: topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString() : null,
      value: message.value,
      headers: decodeHeaders(message.headers),
      timestamp: message.timestamp,
    };
  }

  /** Runs of at most maxBatchSize messages; each run's offsets are committed before the next. */
  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const messages = batch.messages.map((m) => this.inbound(batch.topic, batch.partition, m));
    for (let i = 0; i < messages.length; i += this.options.maxBatchSize) {
      if (!isRunning() || isStale()) return;
      const run = messages.slice(i, i + this.options.maxBatchSize);
      const started = process.hrtime.bigint();
      await tracer.startActiveSpan(`${run[0]!.topic} process`, { kind: SpanKind.CONSUMER }, async (span) => {
        span.setAttributes({
          'messaging.system': 'kafka',
          'messaging.destination.name': batch.topic,
          'messaging.kafka.destination.partition': batch.partition,
          'messaging.batch.message_count': run.length,
        });
        // a long run must not look like a dead member: keep the group session alive meanwhile
        const beating = setInterval(() => void heartbeat().catch(() => undefined), CONSUMER_DEFAULTS.heartbeatIntervalMs);
        try {
          // a run serves many requests: each message carries its own correlation id
          await withoutCorrelation(() => this.processRun(run, heartbeat));
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          clearInterval(beating);
          span.end();
          this.duration?.observe({ topic: run[0]!.topic }, Number(process.hrtime.bigint() - started) / 1e9);
        }
      });
      resolveOffset(run[run.length - 1]!.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private async processRun(run: InboundMessage[], heartbeat: () => Promise<void>): Promise<void> {
    const { logger, retryBackoffMs, maxBackoffMs } = this.options;
    const batchHandler = this.options.batchHandler!;
    if (run.length === 1) {
      // a single message gets the per-message policy: bounded attempts, then the DLQ
      await this.process(run[0]!, heartbeat, async (message) => {
        const deadLetters = await batchHandler([message]);
        await this.deadLetterAll(deadLetters, 1);
        return deadLetters.length > 0 ? DEAD_LETTERED : undefined;
      });
      return;
    }
    let transientFailures = 0;
    for (;;) {
      if (this.stopping) throw new StoppingError('consumer is stopping; the messages stay uncommitted');
      try {
        const deadLetters = await batchHandler(run);
        await this.deadLetterAll(deadLetters, 1);
        this.outcomes?.inc({ topic: run[0]!.topic, outcome: 'processed' }, run.length - deadLetters.length);
        return;
      } catch (error) {
        if (error instanceof DependencyUnavailableError || this.options.isTransient?.(error)) {
          transientFailures += 1;
          const wait = Math.min(maxBackoffMs, retryBackoffMs * 2 ** Math.min(transientFailures, 10));
          logger.warn({ err: error, wait, topic: run[0]!.topic, messages: run.length }, 'dependency unavailable; retrying the batch');
          await sleep(wait);
          await heartbeat();
          continue;
        }
        logger.warn({ err: error, topic: run[0]!.topic, messages: run.length }, 'batch failed; handling its messages one by one');
        for (const message of run) await this.processRun([message], heartbeat);
        return;
      }
    }
  }

  private async deadLetterAll(deadLetters: Rejected[], attempts: number): Promise<void> {
    for (const { message, reason, errors } of deadLetters) await this.deadLetter(message, reason, errors, attempts);
  }

  private async handle({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const inbound = this.inbound(topic, partition, message);
    const logicalTopic = inbound.topic;
    const started = process.hrtime.bigint();
    const parent = propagation.extract(context.active(), inbound.headers);
    await context.with(parent, () =>
      tracer.startActiveSpan(`${logicalTopic} process`, { kind: SpanKind.CONSUMER }, async (span) => {
        span.setAttributes({
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.kafka.destination.partition': partition,
          'messaging.kafka.message.offset': Number(message.offset),
        });
        try {
          await withCorrelation(inbound.headers[Headers.correlationId], () => this.process(inbound, heartbeat, this.options.handler!));
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
          this.duration?.observe({ topic: logicalTopic }, Number(process.hrtime.bigint() - started) / 1e9);
        }
      }),
    );
  }

  private async process(
    message: InboundMessage,
    heartbeat: () => Promise<void>,
    handler: (message: InboundMessage) => Promise<typeof DEAD_LETTERED | void>,
  ): Promise<void> {
    const { logger, maxAttempts, retryBackoffMs, maxBackoffMs } = this.options;
    const log = logger.child({ topic: message.topic, partition: message.partition, offset: message.offset });
    let failures = 0;
    let transientFailures = 0;
    for (;;) {
      if (this.stopping) throw new StoppingError('consumer is stopping; the message stays uncommitted');
      try {
        if ((await handler(message)) !== DEAD_LETTERED) this.outcomes?.inc({ topic: message.topic, outcome: 'processed' });
        return;
      } catch (error) {
        if (error instanceof PoisonMessageError) {
          await this.deadLetter(message, error.reason, [error.message, ...detailLines(error.details)], failures + 1);
          return;
        }
        if (error instanceof DependencyUnavailableError || this.options.isTransient?.(error)) {
          transientFailures += 1;
          const wait = Math.min(maxBackoffMs, retryBackoffMs * 2 ** Math.min(transientFailures, 10));
          log.warn({ err: error, wait }, 'dependency unavailable; retrying the message');
          await sleep(wait);
          await heartbeat();
          continue;
        }
        failures += 1;
        if (failures >= maxAttempts) {
          log.error({ err: error, attempts: failures }, 'message failed every attempt; dead-lettering it');
          await this.deadLetter(message, 'handler_failed', [errorMessage(error)], failures);
          return;
        }
        log.warn({ err: error, attempt: failures }, 'message handler failed; retrying');
        await sleep(retryBackoffMs * failures);
        await heartbeat();
      }
    }
  }

  /** The original bytes, key and headers, plus where it came from and why it failed. */
  private async deadLetter(message: InboundMessage, reason: string, errors: string[], attempts: number): Promise<void> {
    await this.options.producer.send(dlqTopicOf(message.topic), [
      {
        key: message.key,
        value: message.value ?? Buffer.alloc(0),
        headers: {
          ...message.headers,
          [Headers.dlqReason]: reason,
          [Headers.dlqErrors]: JSON.stringify(errors),
          [Headers.dlqTopic]: message.topic,
          [Headers.dlqPartition]: String(message.partition),
          [Headers.dlqOffset]: message.offset,
          ...(message.key !== null ? { [Headers.dlqKey]: message.key } : {}),
          [Headers.dlqConsumerGroup]: this.options.groupId,
          [Headers.dlqAttempts]: String(attempts),
          [Headers.dlqFailedAt]: new Date().toISOString(),
        },
      },
    ]);
    this.outcomes?.inc({ topic: message.topic, outcome: 'dead_lettered' });
    this.options.logger.warn(
      { topic: message.topic, partition: message.partition, offset: message.offset, reason },
      'message dead-lettered',
    );
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The dead-letter entry of a message found to be poison. */
export function rejectedOf(message: InboundMessage, error: PoisonMessageError): Rejected {
  return { message, reason: error.reason, errors: [error.message, ...detailLines(error.details)] };
}

function detailLines(details: Record<string, unknown> | undefined): string[] {
  if (!details) return [];
  const errors = details['errors'];
  if (Array.isArray(errors)) return errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  return [JSON.stringify(details)];
}

import type { Consumer, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage } from 'kafkajs';
import { Headers, dlqTopicOf } from '@trackme/contracts';
import { PoisonMessageError } from '../errors.js';
import { withCorrelation, withoutCorrelation } from '../logging/context.js';
import { reportConsumerLag } from './consumer-lag.js';
import { consumerMetrics, inConsumerSpan } from './consumer-telemetry.js';
import { CONSUMER_DEFAULTS, groupTimings, type ConsumerOptions, type ConsumerSettings, type InboundMessage } from './consumer-options.js';
import { consumerWork, type ConsumerWork, type ParsedRun } from './consumer-work.js';
import { decodeHeaders } from './headers.js';
import { topicFor } from './kafka.js';
import { deadLetterRecord, rejectedOf, type Rejected } from './rejections.js';
import { GaveUp, retrying, type RetryPolicy } from './retry.js';

export { CONSUMER_DEFAULTS } from './consumer-options.js';
export { parseEach } from './consumer-work.js';
export type { BatchHandler, ConsumerOptions, ConsumerSettings, Handling, InboundMessage, MessageHandler } from './consumer-options.js';
export type { Parse, Parsed, ParsedBatchHandler, ParsedMessageHandler } from './consumer-options.js';

/**
 * Consumer-group member with the guarantees of docs/architecture.md ("Delivery guarantees"):
 * per-partition order, offsets committed only after the handler succeeded (or the message was
 * dead-lettered), bounded retries for unexpected errors, unlimited backoff for unavailable
 * dependencies (retry.ts), DLQ with provenance (rejections.ts). With `parse`, each message is read
 * once before its handler sees it, and one parse rejects is dead-lettered without being retried.
 */
export class MessageConsumer<T = unknown> {
  private readonly consumer: Consumer;
  private readonly options: ConsumerSettings & Record<keyof typeof CONSUMER_DEFAULTS, number> & { fromBeginning: boolean };
  private readonly work: ConsumerWork;
  private readonly heartbeatIntervalMs: number;
  private readonly prefix: string;
  private stopping = false;
  private running = false;
  private readonly metrics: ReturnType<typeof consumerMetrics>;
  private readonly groupName: string;
  private readonly kafka: Kafka;
  private stopLagReport: (() => Promise<void>) | undefined;

  constructor(kafka: Kafka, options: ConsumerOptions<T>) {
    if (!options.handler === !options.batchHandler) throw new Error('a consumer needs exactly one of handler and batchHandler');
    this.work = consumerWork(options);
    const defaults = Object.fromEntries(Object.entries(CONSUMER_DEFAULTS).map(([name, value]) => [name, options[name as keyof ConsumerSettings] ?? value]));
    this.options = { ...options, ...(defaults as Record<keyof typeof CONSUMER_DEFAULTS, number>), fromBeginning: options.fromBeginning ?? true };
    this.prefix = options.topicPrefix ?? '';
    this.groupName = topicFor(this.prefix, options.groupId);
    this.kafka = kafka;
    const sessionTimeout = this.options.sessionTimeoutMs;
    const { heartbeatInterval, maxWaitTimeInMs } = groupTimings(sessionTimeout, options.gatherMs);
    this.heartbeatIntervalMs = heartbeatInterval;
    this.consumer = kafka.consumer({
      groupId: this.groupName,
      sessionTimeout,
      heartbeatInterval,
      maxWaitTimeInMs,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
      // a fetch must hold a batch of every partition processed at once, or they take turns
      ...(options.maxBytesPerPartition
        ? { maxBytesPerPartition: options.maxBytesPerPartition, maxBytes: options.maxBytesPerPartition * this.options.partitionsConsumedConcurrently }
        : {}),
      ...(options.gatherMs ? { minBytes: options.maxBytesPerPartition ?? 1024 * 1024 } : {}),
    });
    // ready only once the group gave this member its partitions: before that, messages
    // published now might be read by nobody (a new group starting at the latest offset)
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.running = true;
      options.onAssigned?.();
    });
    this.consumer.on(this.consumer.events.STOP, () => {
      this.running = false;
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      // not ready until the restarted member holds partitions again (GROUP_JOIN)
      this.running = false;
      options.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
    this.metrics = consumerMetrics(options.registry);
    // a DLQ nothing was sent to yet reads 0 rather than no series
    for (const topic of options.topics) this.metrics.deadLetters?.inc({ topic: dlqTopicOf(topic) }, 0);
  }

  /** True once the consumer joined its group and holds its assignment. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Underlying kafkajs consumer, for tests that watch the group's events. */
  get raw(): Consumer {
    return this.consumer;
  }

  async start(): Promise<void> {
    const { registry, logger } = this.options;
    if (registry) this.stopLagReport = reportConsumerLag(this.kafka, this.groupName, this.options.topics.map((t) => topicFor(this.prefix, t)), registry, logger);
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics.map((t) => topicFor(this.prefix, t)), fromBeginning: this.options.fromBeginning });
    const parseRun = this.work.run;
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      autoCommitThreshold: 100,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      ...(parseRun
        ? { eachBatchAutoResolve: false, eachBatch: (payload: EachBatchPayload) => this.handleBatch(payload, parseRun) }
        : { eachMessage: (payload: EachMessagePayload) => this.handleMessage(payload) }),
    });
  }

  /** Stops fetching, lets in-flight handlers finish, commits what they resolved, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopLagReport?.();
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

  private async handleMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const inbound = this.inbound(topic, partition, message);
    await this.timed(inbound.topic, () =>
      inConsumerSpan([inbound], topic, this.groupName, () =>
        withCorrelation(inbound.headers[Headers.correlationId], () => this.processOne(inbound, heartbeat, () => this.work.one(inbound))),
      ),
    );
  }

  /** Runs of at most maxBatchSize messages; each run's offsets are committed before the next. */
  private async handleBatch(
    { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload,
    parseRun: (messages: InboundMessage[]) => ParsedRun,
  ): Promise<void> {
    const messages = batch.messages.map((m) => this.inbound(batch.topic, batch.partition, m));
    for (let i = 0; i < messages.length; i += this.options.maxBatchSize) {
      if (!isRunning() || isStale()) return;
      const run = messages.slice(i, i + this.options.maxBatchSize);
      // a long run must not look like a dead member: keep the group session alive meanwhile
      const beating = setInterval(() => void heartbeat().catch(() => undefined), this.heartbeatIntervalMs);
      try {
        await this.timed(run[0]!.topic, () => inConsumerSpan(run, batch.topic, this.groupName, () => this.processRun(run, heartbeat, parseRun)));
      } finally {
        clearInterval(beating);
      }
      resolveOffset(run[run.length - 1]!.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  /**
   * A run of one message is handled like a message of its own; a longer run serves many requests,
   * each with its own correlation id. Its messages are parsed once: what parse rejects is
   * dead-lettered with what the handler rejects, once the handler succeeded.
   */
  private async processRun(run: InboundMessage[], heartbeat: () => Promise<void>, parseRun: (messages: InboundMessage[]) => ParsedRun): Promise<void> {
    if (run.length === 1) {
      const [message] = run as [InboundMessage];
      // a single message gets the per-message policy: bounded attempts, then the DLQ
      await inCorrelationOf(message, () => this.processOne(message, heartbeat, () => this.work.one(message)));
      return;
    }
    const log = this.options.logger.child({ topic: run[0]!.topic, messages: run.length });
    let parsed: ParsedRun | undefined;
    try {
      const deadLetters = await withoutCorrelation(() =>
        retrying(
          async () => {
            parsed ??= parseRun(run);
            return [...parsed.rejected, ...(await parsed.handle())];
          },
          this.policy(heartbeat, 1, (error, { wait }) => log.warn({ err: error, wait }, 'dependency unavailable; retrying the batch')),
        ),
      );
      await this.deadLetterAll(deadLetters, 1);
      this.metrics.outcomes?.inc({ topic: run[0]!.topic, outcome: 'processed' }, run.length - deadLetters.length);
    } catch (error) {
      if (!(error instanceof GaveUp)) throw error;
      log.warn({ err: error.error }, 'batch failed; handling its messages one by one');
      const alone = parsed?.alone ?? run.map((message) => ({ message, handle: () => this.work.one(message) }));
      for (const { message, handle } of alone) await inCorrelationOf(message, () => this.processOne(message, heartbeat, handle));
    }
  }

  /** One message through the retry loop: `handle` answers what it rejected, dead-lettered here. */
  private async processOne(message: InboundMessage, heartbeat: () => Promise<void>, handle: () => Promise<Rejected[]>): Promise<void> {
    const log = this.options.logger.child({ topic: message.topic, partition: message.partition, offset: message.offset });
    try {
      const deadLettered = await retrying(
        async () => {
          const deadLetters = await handle();
          await this.deadLetterAll(deadLetters, 1);
          return deadLetters.length;
        },
        this.policy(heartbeat, this.options.maxAttempts, (error, { transient, attempt, wait }) =>
          transient ? log.warn({ err: error, wait }, 'dependency unavailable; retrying the message') : log.warn({ err: error, attempt }, 'message handler failed; retrying'),
        ),
      );
      if (!deadLettered) this.metrics.outcomes?.inc({ topic: message.topic, outcome: 'processed' });
    } catch (error) {
      if (!(error instanceof GaveUp)) throw error;
      if (error.error instanceof PoisonMessageError) {
        await this.deadLetterAll([rejectedOf(message, error.error)], error.attempts);
        return;
      }
      log.error({ err: error.error, attempts: error.attempts }, 'message failed every attempt; dead-lettering it');
      await this.deadLetterAll([{ message, reason: 'handler_failed', errors: [error.message] }], error.attempts);
    }
  }

  private policy(heartbeat: () => Promise<void>, maxAttempts: number, onRetry: RetryPolicy['onRetry']): RetryPolicy {
    const { retryBackoffMs, maxBackoffMs, isTransient } = this.options;
    return { maxAttempts, retryBackoffMs, maxBackoffMs, ...(isTransient ? { isTransient } : {}), isStopping: () => this.stopping, heartbeat, onRetry };
  }

  private async timed(topic: string, work: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await work();
    } finally {
      this.metrics.duration?.observe({ topic }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async deadLetterAll(deadLetters: Rejected[], attempts: number): Promise<void> {
    for (const rejected of deadLetters) {
      const { message, reason } = rejected;
      await this.options.producer.send(dlqTopicOf(message.topic), [deadLetterRecord(rejected, this.options.groupId, attempts)]);
      this.metrics.outcomes?.inc({ topic: message.topic, outcome: 'dead_lettered' });
      this.metrics.deadLetters?.inc({ topic: dlqTopicOf(message.topic) });
      this.options.logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, reason }, 'message dead-lettered');
    }
  }
}

/** Runs `fn` in the correlation the message carries, or outside any when it carries none. */
function inCorrelationOf<T>(message: InboundMessage, fn: () => T): T {
  const correlationId = message.headers[Headers.correlationId];
  return correlationId ? withCorrelation(correlationId, fn) : withoutCorrelation(fn);
}

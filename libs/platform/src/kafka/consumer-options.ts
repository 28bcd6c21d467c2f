import type { Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import type { StringHeaders } from './headers.js';
import type { MessageProducer } from './producer.js';
import type { Rejected } from './rejections.js';

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

/**
 * Handles consecutive messages of one partition, in order, so their writes can be combined.
 * Messages it cannot process are returned to be dead-lettered; throwing retries the whole run
 * (the handler must be idempotent), and an error that is not transient splits the run into
 * single messages so only the failing one is dead-lettered.
 */
export type BatchHandler = (messages: InboundMessage[]) => Promise<Rejected[]>;

/**
 * Reads a message into what its handler works on. Throws PoisonMessageError for a message that
 * can never be processed: the consumer dead-letters it with the error's reason at once, never
 * retries it, and hands the messages around it to the handler.
 */
export type Parse<T> = (message: InboundMessage) => T;

/** A message and what `parse` read from it. */
export interface Parsed<T> {
  message: InboundMessage;
  value: T;
}

export type ParsedMessageHandler<T> = (item: Parsed<T>) => Promise<void>;

/**
 * A {@link BatchHandler} of parsed messages: it gets the messages of a run that `parse`
 * accepted, in partition order, and is not called when it accepted none of them.
 */
export type ParsedBatchHandler<T> = (items: Parsed<T>[]) => Promise<Rejected[]>;

/**
 * How messages are handled: one at a time or in runs, raw or read by `parse` first. Name the
 * parse function (not an inline arrow) so its type picks the parsed handlers.
 */
export type Handling<T> =
  | { parse?: undefined; handler: MessageHandler; batchHandler?: undefined }
  | { parse?: undefined; handler?: undefined; batchHandler: BatchHandler }
  | { parse: Parse<T>; handler: ParsedMessageHandler<T>; batchHandler?: undefined }
  | { parse: Parse<T>; handler?: undefined; batchHandler: ParsedBatchHandler<T> };

export const CONSUMER_DEFAULTS = {
  /** attempts for an unexpected handler error before the message is dead-lettered */
  maxAttempts: 3,
  retryBackoffMs: 200,
  /** cap for the backoff while a dependency is down (those messages are retried, never dead-lettered) */
  maxBackoffMs: 10_000,
  /** partitions processed at once; messages of one partition are always handled in order */
  partitionsConsumedConcurrently: 3,
  maxBatchSize: 500,
  /**
   * How long the broker waits for a member that stopped heartbeating (a SIGKILL, a lost host)
   * before it hands that member's partitions to the others: the broker's smallest allowed value,
   * so a killed consumer's partitions move within seconds. A member that exits cleanly leaves at once.
   */
  sessionTimeoutMs: 6_000,
  /** heartbeats per session: kafkajs heartbeats only between fetches, so a fetch waits at most this long too */
  heartbeatsPerSession: 4,
} as const;

/**
 * kafkajs sends a heartbeat only after a fetch returns, so an idle member heartbeats once per
 * fetch wait at best: the wait is capped at the heartbeat interval, or a quiet partition would
 * let the session lapse (a few cheap fetches a second is the price of the short session).
 */
export function groupTimings(sessionTimeoutMs: number, gatherMs: number | undefined): { heartbeatInterval: number; maxWaitTimeInMs: number } {
  const heartbeatInterval = Math.floor(sessionTimeoutMs / CONSUMER_DEFAULTS.heartbeatsPerSession);
  return { heartbeatInterval, maxWaitTimeInMs: Math.min(gatherMs ?? heartbeatInterval, heartbeatInterval) };
}

/** Everything about a consumer but how it handles messages. */
export interface ConsumerSettings {
  groupId: string;
  /** logical topic names (the environment prefix is applied here) */
  topics: string[];
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
  /** told each time the group gives this member its partitions (what it cached of others may be stale) */
  onAssigned?: () => void;
}

/** A consumer's settings and its handling: exactly one of `handler` and `batchHandler`, with or without `parse`. */
export type ConsumerOptions<T = unknown> = ConsumerSettings & Handling<T>;

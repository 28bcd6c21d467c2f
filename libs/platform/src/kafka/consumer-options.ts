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
  /** told each time the group gives this member its partitions (what it cached of others may be stale) */
  onAssigned?: () => void;
}

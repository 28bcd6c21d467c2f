import { Headers } from '@trackme/contracts';
import type { PoisonMessageError } from '../errors.js';
import type { InboundMessage } from './consumer-options.js';
import type { OutboundMessage } from './producer.js';

/** A message to dead-letter: it goes to the twin of `message.topic` with its key, value and headers. */
export interface Rejected {
  message: InboundMessage;
  reason: string;
  errors: string[];
}

/** The dead-letter entry of a message found to be poison. */
export function rejectedOf(message: InboundMessage, error: PoisonMessageError): Rejected {
  return { message, reason: error.reason, errors: error.lines ?? [error.message, ...detailLines(error.details)] };
}

/** The original bytes, key and headers, plus where it came from and why it failed. */
export function deadLetterRecord({ message, reason, errors }: Rejected, consumerGroup: string, attempts: number): OutboundMessage {
  return {
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
      [Headers.dlqConsumerGroup]: consumerGroup,
      [Headers.dlqAttempts]: String(attempts),
      [Headers.dlqFailedAt]: new Date().toISOString(),
    },
  };
}

function detailLines(details: Record<string, unknown> | undefined): string[] {
  if (!details) return [];
  const errors = details['errors'];
  if (Array.isArray(errors)) return errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  return [JSON.stringify(details)];
}

import { DependencyUnavailableError, type MessageProducer } from '@trackme/platform';

/** The gateway's producer, and how long a caller waits for Kafka's acknowledgement before getting 503. */
export interface KafkaPublishing {
  producer: MessageProducer;
  timeoutMs: number;
}

/**
 * Runs `send` and resolves once Kafka acknowledged it (acks=all). A Kafka that is unreachable,
 * refuses or does not acknowledge within `timeoutMs` becomes DependencyUnavailableError (503 with
 * Retry-After). After a timeout the send may still complete, so callers publish only what is
 * harmless to receive twice when the caller retries.
 */
export async function publishAcknowledged(
  { producer, timeoutMs }: KafkaPublishing,
  what: string,
  send: (producer: MessageProducer) => Promise<unknown>,
): Promise<void> {
  if (!producer.isConnected) throw new DependencyUnavailableError('the gateway is not connected to Kafka; retry later');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const first = await Promise.race([send(producer).then(() => 'acknowledged' as const), deadline]);
    if (first === 'timeout') throw new DependencyUnavailableError(`Kafka did not acknowledge ${what} in time; retry later`);
  } catch (error) {
    if (error instanceof DependencyUnavailableError) throw error;
    throw new DependencyUnavailableError(`Kafka refused ${what}; retry later`, { cause: String(error) });
  } finally {
    clearTimeout(timer);
  }
}

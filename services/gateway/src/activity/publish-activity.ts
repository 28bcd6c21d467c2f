import { activityKey, Headers, Topics, type ActivityEvent } from '@trackme/contracts';
import { DependencyUnavailableError, type MessageProducer } from '@trackme/platform';

export interface ActivityPublishing {
  producer: MessageProducer;
  /** how long the caller waits for Kafka's acknowledgement before getting 503 */
  timeoutMs: number;
}

/**
 * Publishes accepted events to trackme.activity in one send, as plain JSON (not in trackme's
 * envelope: the topic carries the same bytes any other producer writes), keyed like every
 * producer keys them. Resolves once all replicas acknowledged; a Kafka that is down or too slow
 * becomes DependencyUnavailableError (503). After a timeout the send may still complete, which
 * is harmless: the consumer applies each event_id once, so the caller's retry cannot double it.
 */
export async function publishActivity({ producer, timeoutMs }: ActivityPublishing, events: readonly ActivityEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (!producer.isConnected) throw new DependencyUnavailableError('the gateway is not connected to Kafka; retry later');
  const messages = events.map((event) => ({
    key: activityKey(event),
    value: JSON.stringify(event),
    headers: { [Headers.messageType]: event.type },
  }));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const first = await Promise.race([producer.send(Topics.activity, messages), deadline]);
    if (first === 'timeout') throw new DependencyUnavailableError('Kafka did not acknowledge the events in time; retry later');
  } catch (error) {
    if (error instanceof DependencyUnavailableError) throw error;
    throw new DependencyUnavailableError('Kafka refused the events; retry later', { cause: String(error) });
  } finally {
    clearTimeout(timer);
  }
}

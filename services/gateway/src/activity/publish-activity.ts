import { activityKey, Headers, Topics, type ActivityEvent } from '@trackme/contracts';
import { publishAcknowledged, type KafkaPublishing } from '../kafka/publish-acknowledged.js';

/**
 * Publishes accepted events to trackme.activity in one send, as plain JSON (not in trackme's
 * envelope: the topic carries the same bytes any other producer writes), keyed like every
 * producer keys them. Resolves once all replicas acknowledged; a Kafka that is down or too slow
 * becomes DependencyUnavailableError (503). After a timeout the send may still complete, which
 * is harmless: the consumer applies each event_id once, so the caller's retry cannot double it.
 */
export async function publishActivity(publishing: KafkaPublishing, events: readonly ActivityEvent[]): Promise<void> {
  if (events.length === 0) return;
  const messages = events.map((event) => ({
    key: activityKey(event),
    value: JSON.stringify(event),
    headers: { [Headers.messageType]: event.type },
  }));
  await publishAcknowledged(publishing, 'the events', (producer) => producer.send(Topics.activity, messages));
}

import {
  APPLY_ACTIVITY_TYPE,
  Headers,
  normalizeEmail,
  Topics,
  validateActivity,
  type ActivityEvent,
  type ApplyActivityCommand,
} from '@trackme/contracts';
import { buildEnvelope, PoisonMessageError, type InboundMessage, type KeyedEnvelope, type MessageProducer, type ParsedBatchHandler, type Rejected } from '@trackme/platform';
import type { EmailDirectory } from '../clients/email-directory.js';

export interface ActivityIntakeDeps {
  producer: MessageProducer;
  directory: EmailDirectory;
  clock?: () => Date;
}

/** Dead-letter reasons on trackme.activity.dlq. */
export const ActivityRejections = {
  invalidJson: 'invalid_json',
  invalidEvent: 'invalid_event',
  unknownClient: 'unknown_client',
  unknownContract: 'unknown_contract',
} as const;

/** Reads an activity event; bad JSON or an invalid event is poison, dead-lettered with every validation error. */
export function parseActivity(message: InboundMessage, now: Date): ActivityEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PoisonMessageError(ActivityRejections.invalidJson, `message value is not JSON: ${(error as Error).message}`);
  }
  const checked = validateActivity(raw, now);
  if (!checked.ok) {
    const lines = checked.errors.map((e) => `${e.field}: ${e.message}`);
    throw new PoisonMessageError(ActivityRejections.invalidEvent, 'invalid activity event', { errors: checked.errors }, lines);
  }
  return checked.event;
}

/**
 * First step of activity ingestion, on trackme.activity: validates each event, resolves the ones
 * that name their client by email, and routes each to its client's partition of
 * trackme.client-commands as an ApplyActivity command, where the client's only writer applies it
 * (docs/adr/0002-one-writer-per-client.md). Bad events go to trackme.activity.dlq with every validation error; nothing stops
 * the consumer. Offsets are committed after the commands are acknowledged, so a crash re-routes
 * events, which the applying side recognises as duplicates.
 */
export function createActivityIntake({ producer, directory, clock = () => new Date() }: ActivityIntakeDeps) {
  const batchHandler: ParsedBatchHandler<ActivityEvent> = async (valid) => {
    const rejected: Rejected[] = [];
    const byEmail = await directory.resolve(valid.filter((v) => v.value.client_id === undefined).map((v) => v.value.email!));
    const commands: KeyedEnvelope[] = [];
    for (const { message, value: event } of valid) {
      const clientId = event.client_id ?? byEmail.get(normalizeEmail(event.email!));
      if (clientId === undefined) {
        rejected.push({ message, reason: ActivityRejections.unknownClient, errors: [`no client has the email of event ${event.event_id}`] });
        continue;
      }
      const data: ApplyActivityCommand = {
        client_id: clientId,
        event,
        origin: { topic: message.topic, partition: message.partition, offset: message.offset },
      };
      const correlationId = message.headers[Headers.correlationId] ?? event.event_id;
      commands.push({ key: clientId, envelope: buildEnvelope({ type: APPLY_ACTIVITY_TYPE, data, correlationId }) });
    }
    await producer.publishEnvelopes(Topics.clientCommands, commands);
    return rejected;
  };
  return { parse: (message: InboundMessage) => parseActivity(message, clock()), batchHandler };
}

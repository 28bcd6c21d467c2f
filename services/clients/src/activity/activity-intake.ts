import {
  APPLY_ACTIVITY_TYPE,
  Headers,
  normalizeEmail,
  Topics,
  validateActivity,
  type ActivityEvent,
  type ApplyActivityCommand,
} from '@trackme/contracts';
import { buildEnvelope, type BatchHandler, type KeyedEnvelope, type InboundMessage, type MessageProducer, type Rejected } from '@trackme/platform';
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

type Parsed = { ok: true; message: InboundMessage; event: ActivityEvent } | { ok: false; rejected: Rejected };

function parse(message: InboundMessage, now: Date): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    return { ok: false, rejected: { message, reason: ActivityRejections.invalidJson, errors: [`message value is not JSON: ${(error as Error).message}`] } };
  }
  const checked = validateActivity(raw, now);
  if (!checked.ok) {
    return {
      ok: false,
      rejected: { message, reason: ActivityRejections.invalidEvent, errors: checked.errors.map((e) => `${e.field}: ${e.message}`) },
    };
  }
  return { ok: true, message, event: checked.event };
}

/**
 * First step of activity ingestion, on trackme.activity: validates each event, resolves the ones
 * that name their client by email, and routes each to its client's partition of
 * trackme.client-commands as an ApplyActivity command, where the client's only writer applies it
 * (docs/adr/0002-one-writer-per-client.md). Bad events go to trackme.activity.dlq with every validation error; nothing stops
 * the consumer. Offsets are committed after the commands are acknowledged, so a crash re-routes
 * events, which the applying side recognises as duplicates.
 */
export function createActivityIntake({ producer, directory, clock = () => new Date() }: ActivityIntakeDeps): BatchHandler {
  return async (messages) => {
    const now = clock();
    const rejected: Rejected[] = [];
    const valid: Array<{ message: InboundMessage; event: ActivityEvent }> = [];
    for (const message of messages) {
      const parsed = parse(message, now);
      if (parsed.ok) valid.push(parsed);
      else rejected.push(parsed.rejected);
    }
    const byEmail = await directory.resolve(valid.filter((v) => v.event.client_id === undefined).map((v) => v.event.email!));
    const commands: KeyedEnvelope[] = [];
    for (const { message, event } of valid) {
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
}

import { randomUUID } from 'node:crypto';
import { Value } from 'typebox/value';
import {
  COMMAND_REPLY_TYPE,
  COMMAND_SCHEMAS,
  EnvelopeSchema,
  Headers,
  Topics,
  type Actor,
  type Client,
  type CommandReply,
  type Envelope,
  type StageProcess,
} from '@trackme/contracts';
import {
  AppError,
  buildEnvelope,
  PoisonMessageError,
  problem,
  type InboundMessage,
  type Logger,
  type MessageProducer,
} from '@trackme/platform';
import { toClient, type ClientDocument } from './client-document.js';
import type { ClientRepository, HistoryEntry } from './client-repository.js';
import { decide, type ClientCommand, type DomainEvent } from './decide.js';

export interface CommandHandlerDeps {
  repository: ClientRepository;
  producer: MessageProducer;
  process: StageProcess;
  logger: Logger;
  clock?: () => Date;
}

type Outcome = Pick<CommandReply, 'status' | 'body'>;

/** Parses a command message; anything malformed is poison and goes to the DLQ with the reason. */
export function parseCommand(message: InboundMessage): { envelope: Envelope; command: ClientCommand } {
  let raw: unknown;
  try {
    raw = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PoisonMessageError('invalid_json', `message value is not JSON: ${(error as Error).message}`);
  }
  const envelopeErrors = [...Value.Errors(EnvelopeSchema, raw)];
  if (envelopeErrors.length > 0) {
    throw new PoisonMessageError('invalid_envelope', 'message is not a trackme envelope', {
      errors: envelopeErrors.map((e) => `${e.instancePath || '/'} ${e.message}`),
    });
  }
  const envelope = raw as Envelope;
  const schema = COMMAND_SCHEMAS[envelope.type as keyof typeof COMMAND_SCHEMAS];
  if (!schema) throw new PoisonMessageError('unknown_type', `unknown command type "${envelope.type}"`);
  const dataErrors = [...Value.Errors(schema, envelope.data)];
  if (dataErrors.length > 0) {
    throw new PoisonMessageError('invalid_schema', `invalid ${envelope.type} command`, {
      errors: dataErrors.map((e) => `${e.instancePath || '/'} ${e.message}`),
    });
  }
  const data = envelope.data as { client_id: string; actor: Actor; fields?: unknown };
  const command = { type: envelope.type, clientId: data.client_id, actor: data.actor, fields: data.fields } as ClientCommand;
  return { envelope, command };
}

/**
 * Applies one command (DESIGN.md §1 write path) so that any redelivery is harmless:
 * 1. an answered command id replays its stored outcome;
 * 2. the decision and its events are written in one document write (outbox);
 * 3. history rows and events are published from the outbox, then the outbox is cleared;
 * 4. the outcome is stored under the command id, then the reply is published.
 * A crash between any two steps is repaired by the redelivery of the (uncommitted) message.
 */
export function createCommandHandler({ repository, producer, process, logger, clock = () => new Date() }: CommandHandlerDeps) {
  async function reply(commandId: string, clientId: string, outcome: Outcome): Promise<void> {
    const data: CommandReply = { command_id: commandId, client_id: clientId, ...outcome };
    await producer.publish(Topics.commandReplies, clientId, { type: COMMAND_REPLY_TYPE, data });
  }

  /** Publishes the outbox of a stored document (history first), then empties it. */
  async function relay(doc: ClientDocument): Promise<void> {
    if (doc.pending_events.length === 0) return;
    await repository.appendHistory(doc._id, doc.pending_events.map(historyEntry));
    await producer.send(
      Topics.clientEvents,
      doc.pending_events.map((event) => ({
        key: doc._id,
        value: JSON.stringify(event),
        headers: { [Headers.messageType]: event.type, [Headers.correlationId]: event.correlation_id },
      })),
    );
    await repository.clearPending(doc._id);
  }

  async function apply(envelope: Envelope, command: ClientCommand): Promise<Outcome> {
    const commandId = envelope.id;
    const doc = await repository.load(command.clientId);
    const live = doc && !doc.deleted ? doc : null;

    const applied = doc?.applied_commands.find((c) => c.id === commandId);
    if (doc && applied) {
      // written before a crash, but never answered: finish the job
      await relay(doc);
      return successOutcome(applied.status, doc.deleted ? null : toClient(doc));
    }

    const now = clock();
    const decision = decide(command, live ? toClient(live) : null, { process, now });
    if (decision.events.length === 0) return successOutcome(decision.status, decision.client);

    const events = decision.events.map((event) => toEnvelope(event, commandId, command.actor, envelope.correlation_id, now));
    const written =
      command.type === 'CreateClient'
        ? await repository.insert(decision.client!, doc, commandId, events)
        : await repository.update(live!, decision.client, commandId, decision.status, events);
    await relay(written);
    return successOutcome(decision.status, decision.client);
  }

  return async function handleCommand(message: InboundMessage): Promise<void> {
    const { envelope, command } = parseCommand(message);
    const recorded = await repository.findCommandResult(envelope.id);
    if (recorded) {
      await reply(envelope.id, recorded.client_id, { status: recorded.status, body: recorded.body });
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await apply(envelope, command);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      // a decided refusal (400/404/409) is an outcome like any other: stored and answered
      outcome = { status: error.status, body: problemBody(error) };
    }
    await repository.recordCommandResult({
      _id: envelope.id,
      client_id: command.clientId,
      status: outcome.status,
      ...(outcome.body === undefined ? {} : { body: outcome.body }),
      created_at: clock(),
    });
    await reply(envelope.id, command.clientId, outcome);
    logger.debug({ command: envelope.type, command_id: envelope.id, status: outcome.status }, 'command applied');
  };
}

function successOutcome(status: number, client: Client | null): Outcome {
  return status === 204 || !client ? { status } : { status, body: { data: client } };
}

function problemBody(error: AppError) {
  const errors = (error.details?.['errors'] as Array<{ field: string; message: string }> | undefined) ?? undefined;
  return problem(error.status, error.code, error.message, errors);
}

function toEnvelope(event: DomainEvent, commandId: string, actor: Actor, correlationId: string, now: Date): Envelope {
  const common = { client_id: event.client.id, version: event.client.version, command_id: commandId, actor };
  const data =
    event.type === 'ClientStageChanged'
      ? { ...common, from: event.from, to: event.to, rollback: event.rollback, client: event.client }
      : event.type === 'ClientUpdated'
        ? { ...common, changes: event.changes, client: event.client }
        : { ...common, client: event.client };
  return buildEnvelope({ id: randomUUID(), type: event.type, data, occurredAt: now, correlationId });
}

function historyEntry(event: Envelope): HistoryEntry {
  const data = event.data as {
    version: number;
    command_id: string;
    actor: unknown;
    from?: string;
    to?: string;
    rollback?: boolean;
    changes?: Record<string, { from: unknown; to: unknown }>;
  };
  return {
    event_id: event.id,
    type: event.type,
    version: data.version,
    command_id: data.command_id,
    actor: data.actor,
    at: new Date(event.occurred_at),
    ...(data.from !== undefined ? { from: data.from, to: data.to, rollback: data.rollback } : {}),
    ...(data.changes ? { changes: data.changes } : {}),
  };
}

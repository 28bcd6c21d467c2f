import { randomUUID } from 'node:crypto';
import {
  COMMAND_REPLY_TYPE,
  COMMAND_SCHEMAS,
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
  checkedData,
  ConflictError,
  PoisonMessageError,
  problem,
  type Logger,
  type MessageProducer,
} from '@trackme/platform';
import { toClient, type ClientDocument } from './client-document.js';
import { emailTaken, type ClientRepository, type HistoryEntry } from './client-repository.js';
import { decide, type ClientCommand, type Decision, type DomainEvent } from './decide.js';
import type { EmailDirectory } from './email-directory.js';

export interface CommandHandlerDeps {
  repository: ClientRepository;
  directory: EmailDirectory;
  producer: MessageProducer;
  process: StageProcess;
  logger: Logger;
  clock?: () => Date;
}

type Outcome = Pick<CommandReply, 'status' | 'body'>;

/** Parses a client command; anything malformed is poison and goes to the DLQ with the reason. */
export function parseCommand(envelope: Envelope): ClientCommand {
  const schema = COMMAND_SCHEMAS[envelope.type as keyof typeof COMMAND_SCHEMAS];
  if (!schema) throw new PoisonMessageError('unknown_type', `unknown command type "${envelope.type}"`);
  const data = checkedData<{ client_id: string; actor: Actor; fields?: unknown }>(envelope, schema);
  return { type: envelope.type, clientId: data.client_id, actor: data.actor, fields: data.fields } as ClientCommand;
}

/**
 * Applies one command (DESIGN.md §1 write path) so that any redelivery is harmless:
 * 1. the decision, its events (outbox) and the command id are written in one document write;
 * 2. history rows and events are published from the outbox, then the outbox is cleared;
 * 3. the reply is published.
 * A redelivered command finds its id on the client and replays its outcome, finishing step 2 if a
 * crash interrupted it. Refusals of an existing client are remembered the same way; a refused
 * create has no document to remember it on and is decided again, with the same answer.
 */
export function createCommandHandler({ repository, directory, producer, process, logger, clock = () => new Date() }: CommandHandlerDeps) {
  async function reply(commandId: string, clientId: string, outcome: Outcome): Promise<void> {
    const data: CommandReply = { command_id: commandId, client_id: clientId, ...outcome };
    await producer.publish(Topics.commandReplies, clientId, { type: COMMAND_REPLY_TYPE, data });
  }

  /** Publishes the outbox of a stored document (history first), then empties it. */
  async function relay(doc: ClientDocument, isNew: boolean): Promise<void> {
    if (doc.pending_events.length === 0) return;
    await repository.appendHistory(doc._id, doc.pending_events.map(historyEntry), isNew);
    await directory.follow(doc.pending_events);
    await producer.send(
      Topics.clientEvents,
      doc.pending_events.map((event) => ({
        key: doc._id,
        value: JSON.stringify(event),
        headers: { [Headers.messageType]: event.type, [Headers.correlationId]: event.correlation_id },
      })),
    );
    await repository.clearPending(doc._id);
    for (const event of doc.pending_events) logger.info({ audit: auditOf(event) }, 'client changed');
  }

  /** The stored outcome of a command this client already handled, after finishing its relay. */
  async function replay(doc: ClientDocument, commandId: string): Promise<Outcome | undefined> {
    const handled = doc.applied_commands.find((c) => c.id === commandId);
    if (!handled) return undefined;
    await relay(doc, false);
    if (handled.problem !== undefined) return { status: handled.status, body: handled.problem };
    return successOutcome(handled.status, doc.deleted ? null : toClient(doc));
  }

  const eventsOf = (decision: Decision, envelope: Envelope, command: ClientCommand, now: Date) =>
    decision.events.map((event) => toEnvelope(event, envelope.id, command.actor, envelope.correlation_id, now));

  async function create(envelope: Envelope, command: ClientCommand & { type: 'CreateClient' }): Promise<Outcome> {
    const now = clock();
    const decision = decide(command, null, { process, now });
    const events = eventsOf(decision, envelope, command, now);
    const inserted = await repository.insert(decision.client!, envelope.id, events);
    if (inserted.kind === 'email_taken') throw emailTaken();
    if (inserted.kind === 'inserted') {
      await relay(inserted.doc, true);
      return successOutcome(201, decision.client);
    }
    const existing = inserted.existing;
    const replayed = await replay(existing, envelope.id);
    if (replayed) return replayed;
    if (!existing.deleted) throw new ConflictError(`client ${command.clientId} already exists`, 'client_exists');
    await relay(existing, false);
    const written = await repository.replaceTombstone(decision.client!, envelope.id, events);
    await relay(written, false);
    return successOutcome(201, decision.client);
  }

  async function change(envelope: Envelope, command: Exclude<ClientCommand, { type: 'CreateClient' }>): Promise<Outcome> {
    const doc = await repository.load(command.clientId);
    if (doc) {
      const replayed = await replay(doc, envelope.id);
      if (replayed) return replayed;
    }
    const live = doc && !doc.deleted ? doc : null;
    const now = clock();
    try {
      const decision = decide(command, live ? toClient(live) : null, { process, now });
      if (decision.events.length === 0) return successOutcome(decision.status, decision.client);
      const written = await repository.update(live!, decision.client, envelope.id, decision.status, eventsOf(decision, envelope, command, now));
      await relay(written, false);
      return successOutcome(decision.status, decision.client);
    } catch (error) {
      const refusal = refusalOf(error);
      if (doc) await repository.rememberRefusal(doc, envelope.id, refusal.status, refusal.body);
      return refusal;
    }
  }

  return async function handleCommand(envelope: Envelope): Promise<void> {
    const command = parseCommand(envelope);
    let outcome: Outcome;
    try {
      outcome = command.type === 'CreateClient' ? await create(envelope, command) : await change(envelope, command);
    } catch (error) {
      outcome = refusalOf(error);
    }
    await reply(envelope.id, command.clientId, outcome);
    logger.debug({ command: envelope.type, command_id: envelope.id, status: outcome.status }, 'command handled');
  };
}

/** A decided refusal (400/404/409) is an outcome like any other; anything else is retried. */
function refusalOf(error: unknown): Outcome {
  if (!(error instanceof AppError) || error.status >= 500) throw error;
  return { status: error.status, body: problemBody(error) };
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
    correlation_id: event.correlation_id,
    actor: data.actor,
    at: new Date(event.occurred_at),
    ...(data.from !== undefined ? { from: data.from, to: data.to, rollback: data.rollback } : {}),
    ...(data.changes ? { changes: data.changes } : {}),
  };
}

/** The audit record of one change: who (subject, role, ip), what, through which request and command. */
function auditOf(event: Envelope): Record<string, unknown> {
  const data = event.data as { client_id: string; version: number; command_id: string; actor: unknown };
  return {
    event_id: event.id,
    type: event.type,
    client_id: data.client_id,
    version: data.version,
    command_id: data.command_id,
    correlation_id: event.correlation_id,
    actor: data.actor,
    at: event.occurred_at,
  };
}

import { randomUUID } from 'node:crypto';
import {
  COMMAND_REPLY_TYPE,
  Headers,
  Topics,
  type Actor,
  type ChangeEvent,
  type Client,
  type ClientCommandMessage,
  type CommandReply,
  type StageProcess,
} from '@trackme/contracts';
import {
  AppError,
  buildEnvelope,
  ConflictError,
  laps,
  problem,
  withCorrelation,
  type InboundMessage,
  type KeyedEnvelope,
  type Logger,
  type MessageProducer,
} from '@trackme/platform';
import { toClient, type ClientDocument } from './client-document.js';
import { emailTaken, type ClientChange, type ClientRepository, type HistoryEntry, type Refusal } from './client-repository.js';
import { decide, type Decision, type DomainEvent } from './decide.js';
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

/** A client command read from trackme.client-commands, checked against its schema. */
export interface CommandItem {
  message: InboundMessage;
  command: ClientCommandMessage;
}

type Parsed = CommandItem;

/** A document written by a command, whose outbox is to be relayed. */
interface Written {
  doc: ClientDocument;
  isNew: boolean;
}

/**
 * Applies client commands (docs/architecture.md, "Write path") so that any redelivery is harmless:
 * 1. the decision, its events (outbox) and the command id are written in one document write;
 * 2. history rows and events are published from the outbox;
 * 3. the reply is published, then the outbox is cleared.
 * A redelivered command finds its id on the client and replays its outcome, publishing the outbox
 * again if a crash interrupted step 2 or 3 (consumers dedup events by id). Refusals of an existing
 * client are remembered the same way; a refused create has no document to remember it on and is
 * decided again, with the same answer.
 *
 * A run of commands of one partition is applied in waves: a wave is a stretch of consecutive
 * commands that name distinct clients, so their order does not matter and every step above is one
 * round trip for the whole wave. Each client's commands still apply in partition order, one wave
 * after the other. Commands a wave cannot decide alone (a redelivery, an outbox left by a crash, a
 * duplicate key, a change of email) are applied one by one after it.
 */
export function createCommandHandler({ repository, directory, producer, process, logger, clock = () => new Date() }: CommandHandlerDeps) {
  const replyMessage = (item: Parsed, outcome: Outcome): KeyedEnvelope => {
    const data: CommandReply = { command_id: item.command.id, client_id: item.command.data.client_id, ...outcome };
    return { key: data.client_id, envelope: buildEnvelope({ type: COMMAND_REPLY_TYPE, data, correlationId: correlationOf(item) }) };
  };

  /**
   * Relays the outboxes of stored documents: the history rows, the email directory and the events,
   * all three at once (each is idempotent, and a crash before all three are done relays them again).
   */
  async function relay(written: Written[]): Promise<void> {
    const pending = written.filter((w) => w.doc.pending_events.length > 0);
    if (pending.length === 0) return;
    const events = pending.flatMap((w) => w.doc.pending_events);
    await Promise.all([
      repository.appendHistories(pending.map((w) => ({ clientId: w.doc._id, entries: w.doc.pending_events.map(historyEntry), isNew: w.isNew }))),
      directory.follow(events),
      publishEvents(events),
    ]);
  }

  async function publishEvents(events: ChangeEvent[]): Promise<void> {
    await producer.publishEnvelopes(
      Topics.clientEvents,
      events.map((event) => ({ key: event.data.client_id, envelope: event })),
    );
  }

  /** Empties the relayed outboxes, and records the changes in the audit log. */
  async function settle(written: Written[]): Promise<void> {
    const relayed = written.filter((w) => w.doc.pending_events.length > 0);
    await repository.clearPending(relayed.map((w) => w.doc._id));
    for (const event of relayed.flatMap((w) => w.doc.pending_events)) logger.info({ audit: auditOf(event) }, 'client changed');
  }

  /** Relays a document's outbox right away (the one-by-one path). */
  async function relayNow(doc: ClientDocument, isNew: boolean): Promise<void> {
    await relay([{ doc, isNew }]);
    await settle([{ doc, isNew }]);
  }

  /** The stored outcome of a command this client already handled, after finishing its relay. */
  async function replay(doc: ClientDocument, commandId: string): Promise<Outcome | undefined> {
    const handled = doc.applied_commands.find((c) => c.id === commandId);
    if (!handled) return undefined;
    await relayNow(doc, false);
    if (handled.problem !== undefined) return { status: handled.status, body: handled.problem };
    return successOutcome(handled.status, doc.deleted ? null : toClient(doc));
  }

  const eventsOf = (decision: Decision, item: Parsed, now: Date) =>
    decision.events.map((event) => toEnvelope(event, item.command.id, item.command.data.actor, item.command.correlation_id, now));

  async function create(item: Parsed, now: Date): Promise<Outcome> {
    const decision = decide(item.command, null, { process, now });
    const events = eventsOf(decision, item, now);
    const inserted = await repository.insert(decision.client!, item.command.id, events);
    if (inserted.kind === 'email_taken') throw emailTaken();
    if (inserted.kind === 'inserted') {
      await relayNow(inserted.doc, true);
      return successOutcome(201, decision.client);
    }
    const existing = inserted.existing;
    const replayed = await replay(existing, item.command.id);
    if (replayed) return replayed;
    if (!existing.deleted) throw new ConflictError(`client ${item.command.data.client_id} already exists`, 'client_exists');
    await relayNow(existing, false);
    const written = await repository.replaceTombstone(decision.client!, item.command.id, events);
    await relayNow(written, false);
    return successOutcome(201, decision.client);
  }

  async function change(item: Parsed, now: Date): Promise<Outcome> {
    const doc = await repository.load(item.command.data.client_id);
    if (doc) {
      const replayed = await replay(doc, item.command.id);
      if (replayed) return replayed;
    }
    const live = doc && !doc.deleted ? doc : null;
    try {
      const decision = decide(item.command, live ? toClient(live) : null, { process, now });
      if (decision.events.length === 0) return successOutcome(decision.status, decision.client);
      const written = await repository.update(live!, decision.client, item.command.id, decision.status, eventsOf(decision, item, now));
      await relayNow(written, false);
      return successOutcome(decision.status, decision.client);
    } catch (error) {
      const refusal = refusalOf(error);
      if (doc) await repository.rememberRefusal(doc, item.command.id, refusal.status, refusal.body);
      return refusal;
    }
  }

  /** One command on its own, from its load to its reply. */
  async function applyOne(item: Parsed): Promise<void> {
    await withCorrelation(correlationOf(item), async () => {
      const now = clock();
      let outcome: Outcome;
      try {
        outcome = item.command.type === 'CreateClient' ? await create(item, now) : await change(item, now);
      } catch (error) {
        outcome = refusalOf(error);
      }
      await producer.publishEnvelopes(Topics.commandReplies, [replyMessage(item, outcome)]);
      logger.debug({ command: item.command.type, command_id: item.command.id, status: outcome.status }, 'command handled');
    });
  }

  /** A wave of commands naming distinct clients: each step is one round trip for all of them. */
  async function applyWave(wave: Parsed[]): Promise<void> {
    const now = clock();
    const { lap, timings } = laps();
    const answered: Array<{ item: Parsed; outcome: Outcome }> = [];
    const alone: Parsed[] = [];
    const creates: Array<{ item: Parsed; decision: Decision; events: ChangeEvent[] }> = [];
    const changes: Array<{ item: Parsed; decision: Decision; change: ClientChange }> = [];
    const refusals: Refusal[] = [];

    const docs = await repository.loadMany(wave.filter((i) => i.command.type !== 'CreateClient').map((i) => i.command.data.client_id));
    lap('load');
    for (const item of wave) {
      const doc = item.command.type === 'CreateClient' ? null : (docs.get(item.command.data.client_id) ?? null);
      // a redelivery replays its outcome; an outbox left by a crash is relayed before anything else
      if (doc && (doc.pending_events.length > 0 || doc.applied_commands.some((c) => c.id === item.command.id))) {
        alone.push(item);
        continue;
      }
      const live = doc && !doc.deleted ? doc : null;
      try {
        const decision = decide(item.command, live ? toClient(live) : null, { process, now });
        const events = eventsOf(decision, item, now);
        if (item.command.type === 'CreateClient') creates.push({ item, decision, events });
        else if (events.length === 0) answered.push({ item, outcome: successOutcome(decision.status, decision.client) });
        // another client may hold the new email: the bulk write cannot refuse just this one
        else if (changesEmail(decision)) alone.push(item);
        else changes.push({ item, decision, change: { previous: live!, next: decision.client, commandId: item.command.id, status: decision.status, events } });
      } catch (error) {
        const refusal = refusalOf(error);
        if (doc) refusals.push({ previous: doc, commandId: item.command.id, status: refusal.status, problem: refusal.body });
        answered.push({ item, outcome: refusal });
      }
    }

    const [inserted, updated] = await Promise.all([
      repository.insertMany(creates.map(({ item, decision, events }) => ({ client: decision.client!, commandId: item.command.id, events }))),
      repository.updateMany(
        changes.map((c) => c.change),
        refusals,
      ),
    ]);
    lap('write');
    const written: Written[] = [];
    creates.forEach(({ item, decision }, index) => {
      const doc = inserted[index];
      // a taken id (a redelivery, a tombstone) or a taken email: decided one by one
      if (!doc) return alone.push(item);
      written.push({ doc, isNew: true });
      answered.push({ item, outcome: successOutcome(201, decision.client) });
    });
    changes.forEach(({ item, decision }, index) => {
      written.push({ doc: updated[index]!, isNew: false });
      answered.push({ item, outcome: successOutcome(decision.status, decision.client) });
    });

    await relay(written);
    lap('relay');
    await producer.publishEnvelopes(
      Topics.commandReplies,
      answered.map(({ item, outcome }) => replyMessage(item, outcome)),
    );
    lap('reply');
    await settle(written);
    lap('settle');
    for (const item of alone) await applyOne(item);
    lap('one_by_one');
    logger.debug({ commands: wave.length, one_by_one: alone.length, ms: timings }, 'commands handled');
  }

  /** Applies a run of consecutive client commands of one partition. */
  return async function handleCommands(items: CommandItem[]): Promise<void> {
    for (const wave of wavesOf(items)) await applyWave(wave);
  };
}

/** Consecutive stretches of commands in which no client is named twice. */
function* wavesOf(items: Parsed[]): Generator<Parsed[]> {
  let wave: Parsed[] = [];
  let clients = new Set<string>();
  for (const item of items) {
    if (clients.has(item.command.data.client_id)) {
      yield wave;
      wave = [];
      clients = new Set();
    }
    wave.push(item);
    clients.add(item.command.data.client_id);
  }
  if (wave.length > 0) yield wave;
}

/** The request a command came from: its header, or the envelope's own id. */
const correlationOf = (item: CommandItem) => item.message.headers[Headers.correlationId] ?? item.command.correlation_id;

const changesEmail = (decision: Decision) => decision.events.some((e) => e.type === 'ClientUpdated' && 'email' in e.changes);

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

function toEnvelope(event: DomainEvent, commandId: string, actor: Actor, correlationId: string, now: Date): ChangeEvent {
  const common = { client_id: event.client.id, version: event.client.version, command_id: commandId, actor, client: event.client };
  const meta = { id: randomUUID(), occurredAt: now, correlationId };
  switch (event.type) {
    case 'ClientStageChanged':
      return buildEnvelope({ ...meta, type: event.type, data: { ...common, from: event.from, to: event.to, rollback: event.rollback } });
    case 'ClientUpdated':
      return buildEnvelope({ ...meta, type: event.type, data: { ...common, changes: event.changes } });
    default:
      return buildEnvelope({ ...meta, type: event.type, data: common });
  }
}

function historyEntry(event: ChangeEvent): HistoryEntry {
  const data = event.data;
  return {
    event_id: event.id,
    type: event.type,
    version: data.version,
    command_id: data.command_id,
    correlation_id: event.correlation_id,
    actor: data.actor,
    at: new Date(event.occurred_at),
    ...('rollback' in data ? { from: data.from, to: data.to, rollback: data.rollback } : {}),
    ...('changes' in data ? { changes: data.changes } : {}),
  };
}

/** The audit record of one change: who (subject, role, ip), what, through which request and command. */
function auditOf(event: ChangeEvent): Record<string, unknown> {
  const { data } = event;
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

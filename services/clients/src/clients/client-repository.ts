import type { Collection, Db } from 'mongodb';
import type { Client, Envelope } from '@trackme/contracts';
import { ConflictError, DependencyUnavailableError, isDuplicateKeyError } from '@trackme/platform';
import { APPLIED_COMMANDS_KEPT, clientFields, type ClientDocument } from './client-document.js';

/** A stored command outcome: replayed to redelivered or retried commands. */
export interface CommandResult {
  _id: string;
  client_id: string;
  status: number;
  body?: unknown;
  created_at: Date;
}

/** One row of a client's timeline (the event id identifies it). */
export interface HistoryEntry {
  event_id: string;
  type: string;
  version: number;
  command_id: string;
  actor: unknown;
  at: Date;
  from?: string;
  to?: string;
  rollback?: boolean;
  changes?: Record<string, { from: unknown; to: unknown }>;
}

const emailTaken = () => new ConflictError('a client with this email already exists', 'email_taken');

/** A client's whole timeline in one document, so it is read and appended by `_id` alone. */
export interface TimelineDocument {
  _id: string;
  entries: HistoryEntry[];
}

/**
 * Mongo access of the clients service, the only writer of these collections. Every filter is on
 * `_id` alone: the Mongo-wire floor (FerretDB) uses an index for nothing else, and one consumer
 * per partition makes this process the only writer of a client at any time (DESIGN.md §3).
 */
export class ClientRepository {
  readonly clients: Collection<ClientDocument>;
  readonly commands: Collection<CommandResult>;
  readonly history: Collection<TimelineDocument>;

  constructor(db: Db) {
    this.clients = db.collection<ClientDocument>('clients');
    this.commands = db.collection<CommandResult>('commands');
    this.history = db.collection<TimelineDocument>('client_history');
  }

  load(clientId: string): Promise<ClientDocument | null> {
    return this.clients.findOne({ _id: clientId });
  }

  findCommandResult(commandId: string): Promise<CommandResult | null> {
    return this.commands.findOne({ _id: commandId });
  }

  /**
   * Stores a new client with its events to publish and the command that created it, in one
   * insert. A tombstone with the same id is replaced. The unique email index decides races.
   */
  async insert(client: Client, previous: ClientDocument | null, commandId: string, events: Envelope[]): Promise<ClientDocument> {
    const doc: ClientDocument = {
      ...clientFields(client),
      applied_commands: [{ id: commandId, status: 201 }],
      pending_events: events,
    };
    try {
      if (previous) {
        const result = await this.clients.replaceOne({ _id: client.id }, doc);
        if (result.matchedCount === 0) throw concurrentWrite(client.id);
      } else {
        await this.clients.insertOne(doc);
      }
      return doc;
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        // the id was free when loaded (one writer per client), so the email is what collided
        throw emailTaken();
      }
      throw error;
    }
  }

  /** Applies a change to an existing client and returns the document as now stored. */
  async update(previous: ClientDocument, next: Client | null, commandId: string, status: number, events: Envelope[]): Promise<ClientDocument> {
    const applied = [...previous.applied_commands, { id: commandId, status }].slice(-APPLIED_COMMANDS_KEPT);
    const pending = [...previous.pending_events, ...events];
    const set: Partial<ClientDocument> = next
      ? { ...clientFields(next), applied_commands: applied, pending_events: pending }
      : {
          // a tombstone: frees the email for a new client and keeps what redeliveries need
          deleted: true,
          email_normalized: `deleted:${previous._id}`,
          version: previous.version + 1,
          last_updated: new Date(events[0]?.occurred_at ?? Date.now()),
          applied_commands: applied,
          pending_events: pending,
        };
    delete (set as { _id?: string })._id;
    try {
      const result = await this.clients.updateOne({ _id: previous._id }, { $set: set });
      if (result.matchedCount === 0) throw concurrentWrite(previous._id);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw emailTaken();
      throw error;
    }
    return { ...previous, ...set } as ClientDocument;
  }

  /**
   * Appends timeline rows. Idempotent: a row is added only if the same row is not there yet, so
   * relaying the same outbox again after a crash adds nothing.
   */
  async appendHistory(clientId: string, entries: HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.history.updateOne({ _id: clientId }, { $addToSet: { entries: { $each: entries } } }, { upsert: true });
  }

  /** Marks the outbox empty once its events are published. */
  async clearPending(clientId: string): Promise<void> {
    await this.clients.updateOne({ _id: clientId }, { $set: { pending_events: [] } });
  }

  async recordCommandResult(result: CommandResult): Promise<void> {
    try {
      await this.commands.insertOne(result);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /** Removes command outcomes older than `before` (Mongo-wire floor: no TTL indexes). */
  async expireCommandResults(before: Date): Promise<number> {
    const { deletedCount } = await this.commands.deleteMany({ created_at: { $lt: before } });
    return deletedCount;
  }
}

function concurrentWrite(clientId: string): DependencyUnavailableError {
  // the document loaded a moment ago is gone: cannot happen with one writer per client; retrying re-reads it
  return new DependencyUnavailableError(`client ${clientId} changed while the command was applied; retrying`);
}

import type { Collection, Db } from 'mongodb';
import type { Client, Envelope } from '@trackme/contracts';
import { ConflictError, DependencyUnavailableError, forEachConcurrently, isDuplicateKeyError, withUniqueConflict } from '@trackme/platform';
import type { ActivityClocks } from '../activity/apply-activity.js';
import { APPLIED_COMMANDS_KEPT, clientFields, type AppliedCommand, type ClientDocument } from './client-document.js';

/** One row of a client's timeline (the event id identifies it). */
export interface HistoryEntry {
  event_id: string;
  type: string;
  version: number;
  command_id: string;
  /** the request that caused the change */
  correlation_id?: string;
  actor: unknown;
  at: Date;
  from?: string;
  to?: string;
  rollback?: boolean;
  changes?: Record<string, { from: unknown; to: unknown }>;
}

/** A client's whole timeline in one document, so it is read and appended by `_id` alone. */
export interface TimelineDocument {
  _id: string;
  entries: HistoryEntry[];
}

/** How many clients are looked up at once when a batch of activity names many. */
const LOAD_CONCURRENCY = 8;

/** A client after activity, and the clocks that say which events set its fields. */
export interface ActivityWrite {
  client: Client;
  clocks: ActivityClocks;
}

export type InsertResult = { kind: 'inserted'; doc: ClientDocument } | { kind: 'id_taken'; existing: ClientDocument } | { kind: 'email_taken' };

const EMAIL_TAKEN = { message: 'a client with this email already exists', code: 'email_taken' };
export const emailTaken = () => new ConflictError(EMAIL_TAKEN.message, EMAIL_TAKEN.code);

/**
 * Mongo access of the clients service, the only writer of these collections.
 * The Mongo-wire floor (FerretDB 1.24, DESIGN.md §3) shapes it: every filter is on `_id` alone
 * (nothing else uses an index; a hit or a miss costs about 1.5 ms at 10,000 clients), and one
 * consumer per partition makes this process the only writer of a client at any time. Creates
 * insert first and read only after a duplicate-key error, which saves a lookup per create.
 */
export class ClientRepository {
  readonly clients: Collection<ClientDocument>;
  readonly history: Collection<TimelineDocument>;

  constructor(db: Db) {
    this.clients = db.collection<ClientDocument>('clients');
    this.history = db.collection<TimelineDocument>('client_history');
  }

  load(clientId: string): Promise<ClientDocument | null> {
    return this.clients.findOne({ _id: clientId });
  }

  /** Several clients by id, a few lookups at a time (`$in` is not served by an index on the floor). */
  async loadMany(clientIds: string[]): Promise<Map<string, ClientDocument>> {
    const found = new Map<string, ClientDocument>();
    await forEachConcurrently(clientIds, LOAD_CONCURRENCY, async (id) => {
      const doc = await this.load(id);
      if (doc) found.set(id, doc);
    });
    return found;
  }

  /**
   * Stores what activity changed on several clients, one update per client in one round trip
   * (activity fields only: the outbox and applied commands of the command path are left alone).
   */
  async writeActivity(writes: ActivityWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const result = await this.clients.bulkWrite(
      writes.map(({ client, clocks }) => ({
        updateOne: {
          filter: { _id: client.id },
          update: {
            $set: {
              last_login: client.last_login ? new Date(client.last_login) : null,
              app: client.app,
              contracts: client.contracts,
              version: client.version,
              activity_clocks: clocks,
            },
          },
        },
      })),
      { ordered: false },
    );
    if (result.matchedCount !== writes.length) throw concurrentWrite(writes.map((w) => w.client.id).join(', '));
  }

  /**
   * Stores a new client with its outbox and the command that created it in one insert. A
   * duplicate key means the id is taken (a redelivery, a tombstone, a clash) or the email is.
   */
  async insert(client: Client, commandId: string, events: Envelope[]): Promise<InsertResult> {
    const doc = newDocument(client, commandId, events);
    try {
      await this.clients.insertOne(doc);
      return { kind: 'inserted', doc };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // the id now exists if it was the id that collided, so this lookup is an index hit
    const existing = await this.load(client.id);
    return existing ? { kind: 'id_taken', existing } : { kind: 'email_taken' };
  }

  /** Re-creates a deleted client's id (its tombstone is replaced). */
  async replaceTombstone(client: Client, commandId: string, events: Envelope[]): Promise<ClientDocument> {
    const doc = newDocument(client, commandId, events);
    const result = await withUniqueConflict(() => this.clients.replaceOne({ _id: client.id }, doc), () => EMAIL_TAKEN);
    if (result.matchedCount === 0) throw concurrentWrite(client.id);
    return doc;
  }

  /** Applies a change to an existing client and returns the document as now stored. */
  async update(previous: ClientDocument, next: Client | null, commandId: string, status: number, events: Envelope[]): Promise<ClientDocument> {
    const applied = remember(previous, { id: commandId, status });
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
    const result = await withUniqueConflict(() => this.clients.updateOne({ _id: previous._id }, { $set: set }), () => EMAIL_TAKEN);
    if (result.matchedCount === 0) throw concurrentWrite(previous._id);
    return { ...previous, ...set } as ClientDocument;
  }

  /** Remembers a refused command on the client, so a redelivery answers the same problem. */
  async rememberRefusal(previous: ClientDocument, commandId: string, status: number, problem: unknown): Promise<void> {
    await this.clients.updateOne({ _id: previous._id }, { $set: { applied_commands: remember(previous, { id: commandId, status, problem }) } });
  }

  /**
   * Appends timeline rows. Idempotent: a row is added only if the same row is not there yet, so
   * relaying the same outbox again after a crash adds nothing. A new client's timeline is
   * inserted rather than upserted (saves the upsert's lookup).
   */
  async appendHistory(clientId: string, entries: HistoryEntry[], isNew: boolean): Promise<void> {
    if (entries.length === 0) return;
    if (isNew) {
      try {
        await this.history.insertOne({ _id: clientId, entries });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    await this.history.updateOne({ _id: clientId }, { $addToSet: { entries: { $each: entries } } }, { upsert: true });
  }

  /** Marks the outbox empty once its events are published. */
  async clearPending(clientId: string): Promise<void> {
    await this.clients.updateOne({ _id: clientId }, { $set: { pending_events: [] } });
  }
}

function newDocument(client: Client, commandId: string, events: Envelope[]): ClientDocument {
  return { ...clientFields(client), applied_commands: [{ id: commandId, status: 201 }], pending_events: events };
}

function remember(previous: ClientDocument, command: AppliedCommand): AppliedCommand[] {
  return [...previous.applied_commands, command].slice(-APPLIED_COMMANDS_KEPT);
}

function concurrentWrite(clientId: string): DependencyUnavailableError {
  // the document loaded a moment ago is gone: cannot happen with one writer per client; retrying re-reads it
  return new DependencyUnavailableError(`client ${clientId} changed while the command was applied; retrying`);
}

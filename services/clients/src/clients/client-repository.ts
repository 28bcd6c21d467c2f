import type { Collection, Db } from 'mongodb';
import type { ChangeEvent, Client, CommandOutcome, Refusal } from '@trackme/contracts';
import { ConflictError, forEachConcurrently, insertManyExceptDuplicates, withUniqueConflict } from '@trackme/platform';
import type { ActivityClocks } from '../activity/apply-activity.js';
import type { ClientDocument } from './client-document.js';
import { changeSet, concurrentWrite, newDocument, refusalSet } from './client-writes.js';

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

const EMAIL_TAKEN = { message: 'a client with this email already exists', code: 'email_taken' };
export const emailTaken = () => new ConflictError(EMAIL_TAKEN.message, EMAIL_TAKEN.code);

/**
 * Mongo access of the clients service, the only writer of these collections.
 * The Mongo-wire floor (FerretDB 1.24, docs/adr/0006-mongo-wire-floor.md) shapes it: every filter is on `_id` alone
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

  /** Re-creates a deleted client's id (its tombstone is replaced). */
  async replaceTombstone(client: Client, commandId: string, events: ChangeEvent[]): Promise<ClientDocument> {
    const doc = newDocument(client, commandId, events);
    const result = await withUniqueConflict(() => this.clients.replaceOne({ _id: client.id }, doc), () => EMAIL_TAKEN);
    if (result.matchedCount === 0) throw concurrentWrite(client.id);
    return doc;
  }

  /** Applies a change to an existing client and returns the document as now stored. */
  async update(previous: ClientDocument, next: Client | null, commandId: string, outcome: ChangeOutcome, events: ChangeEvent[]): Promise<ClientDocument> {
    const set = changeSet(previous, next, commandId, outcome, events);
    const result = await withUniqueConflict(() => this.clients.updateOne({ _id: previous._id }, { $set: set }), () => EMAIL_TAKEN);
    if (result.matchedCount === 0) throw concurrentWrite(previous._id);
    return { ...previous, ...set } as ClientDocument;
  }

  /** Remembers a refused command on the client, so a redelivery answers the same refusal. */
  async rememberRefusal(previous: ClientDocument, commandId: string, refusal: Refusal): Promise<void> {
    await this.clients.updateOne({ _id: previous._id }, { $set: refusalSet(previous, commandId, refusal) });
  }

  /**
   * Stores several new clients in one round trip. Returns, in order, each stored document, or
   * null where a duplicate key refused it (a taken id or email: the caller loads the id to tell which).
   */
  async insertMany(creates: NewClient[]): Promise<Array<ClientDocument | null>> {
    if (creates.length === 0) return [];
    const docs = creates.map(({ client, commandId, events }) => newDocument(client, commandId, events));
    const refused = new Set(await insertManyExceptDuplicates(this.clients, docs));
    return docs.map((doc, index) => (refused.has(index) ? null : doc));
  }

  /**
   * Applies changes and remembers refusals on several existing clients in one round trip, and
   * returns the changed documents as now stored. A change of email may collide with another
   * client's: the Mongo-wire floor then fails the whole bulk write, so such changes go through
   * `update` one by one instead.
   */
  async updateMany(changes: ClientChange[], refusals: RememberedRefusal[]): Promise<ClientDocument[]> {
    const sets = changes.map((c) => changeSet(c.previous, c.next, c.commandId, c.outcome, c.events));
    const writes = [
      ...changes.map((c, i) => ({ updateOne: { filter: { _id: c.previous._id }, update: { $set: sets[i]! } } })),
      ...refusals.map((r) => ({ updateOne: { filter: { _id: r.previous._id }, update: { $set: refusalSet(r.previous, r.commandId, r.refusal) } } })),
    ];
    if (writes.length === 0) return [];
    const result = await this.clients.bulkWrite(writes, { ordered: false });
    if (result.matchedCount !== writes.length) throw concurrentWrite([...changes, ...refusals].map((c) => c.previous._id).join(', '));
    return changes.map((c, i) => ({ ...c.previous, ...sets[i] }) as ClientDocument);
  }

  /**
   * Appends timeline rows. Idempotent: a row is added only if the same row is not there yet, so
   * relaying the same outbox again after a crash adds nothing.
   */
  async appendHistory(clientId: string, entries: HistoryEntry[], isNew: boolean): Promise<void> {
    await this.appendHistories([{ clientId, entries, isNew }]);
  }

  /**
   * Appends the timeline rows of several clients: new clients' timelines in one insert (which
   * saves an upsert's lookup each), the others in one bulk write of idempotent appends.
   */
  async appendHistories(timelines: Timeline[]): Promise<void> {
    const rows = timelines.filter((t) => t.entries.length > 0);
    const fresh = rows.filter((t) => t.isNew);
    const refused = new Set(await insertManyExceptDuplicates(this.history, fresh.map((t) => ({ _id: t.clientId, entries: t.entries }))));
    // a timeline already there (a relay again after a crash) is appended to like any other
    const appends = [...rows.filter((t) => !t.isNew), ...fresh.filter((_, index) => refused.has(index))];
    if (appends.length === 0) return;
    await this.history.bulkWrite(
      appends.map((t) => ({
        updateOne: { filter: { _id: t.clientId }, update: { $addToSet: { entries: { $each: t.entries } } }, upsert: true },
      })),
      { ordered: false },
    );
  }

  /** Marks the outboxes of these clients empty once their events are published. */
  async clearPending(clientIds: string[]): Promise<void> {
    if (clientIds.length === 0) return;
    await this.clients.bulkWrite(
      clientIds.map((id) => ({ updateOne: { filter: { _id: id }, update: { $set: { pending_events: [] } } } })),
      { ordered: false },
    );
  }
}

/** A client to create, with the command that creates it and its events. */
export interface NewClient {
  client: Client;
  commandId: string;
  events: ChangeEvent[];
}

/** A decided change of an existing client (`next` null: it is deleted). */
export interface ClientChange {
  previous: ClientDocument;
  next: Client | null;
  commandId: string;
  outcome: ChangeOutcome;
  events: ChangeEvent[];
}

/** What a command that changed a stored client did. */
export type ChangeOutcome = Exclude<CommandOutcome['outcome'], 'refused'>;

/** A refused command to remember on its client. */
export interface RememberedRefusal {
  previous: ClientDocument;
  commandId: string;
  refusal: Refusal;
}

/** Timeline rows to append to one client's history. */
export interface Timeline {
  clientId: string;
  entries: HistoryEntry[];
  /** the client was just created, so it has no timeline yet */
  isNew: boolean;
}

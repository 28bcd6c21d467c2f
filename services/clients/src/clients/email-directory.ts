import type { Collection, Db } from 'mongodb';
import { normalizeEmail, type ChangeEvent } from '@trackme/contracts';
import { forEachConcurrently, insertManyExceptDuplicates } from '@trackme/platform';

export interface EmailEntry {
  /** the normalized email */
  _id: string;
  client_id: string;
}

/** How many lookups run at once when a batch names many emails. */
const LOOKUP_CONCURRENCY = 16;

/**
 * Which client holds an email (collection `client_emails`, keyed by the normalized email), so
 * activity that names a client by email is resolved by `_id` — a query on `clients.email_normalized`
 * scans the collection on the Mongo-wire floor (docs/adr/0006-mongo-wire-floor.md). The clients service keeps it in step
 * with every change it relays; a migration fills it for clients created before it existed.
 */
export class EmailDirectory {
  readonly collection: Collection<EmailEntry>;

  constructor(db: Db) {
    this.collection = db.collection<EmailEntry>('client_emails');
  }

  /** The client id of each email that belongs to a client (normalized email → id). */
  async resolve(emails: Iterable<string>): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    await forEachConcurrently(new Set([...emails].map(normalizeEmail)), LOOKUP_CONCURRENCY, async (email) => {
      const entry = await this.collection.findOne({ _id: email });
      if (entry) found.set(email, entry.client_id);
    });
    return found;
  }

  /**
   * Follows the email changes that events carry (idempotent: relays repeat). The events may be
   * of several clients, each client's in order: entries are given up first, then the new ones are
   * recorded together. Giving up is conditional on the entry still naming the client, so it is
   * right in either order with another client recording the same email.
   */
  async follow(events: ChangeEvent[]): Promise<void> {
    const forgets: Array<{ clientId: string; email: string }> = [];
    const records = new Map<string, string>();
    for (const event of events) {
      const { data } = event;
      if (event.type === 'ClientDeleted') {
        forgets.push({ clientId: data.client_id, email: data.client.email });
        continue;
      }
      const previous = 'changes' in data ? data.changes['email']?.from : undefined;
      if (typeof previous === 'string') forgets.push({ clientId: data.client_id, email: previous });
      if (event.type === 'ClientCreated' || typeof previous === 'string') records.set(normalizeEmail(data.client.email), data.client_id);
    }
    await forEachConcurrently(forgets, LOOKUP_CONCURRENCY, ({ clientId, email }) => this.forget(clientId, email));
    // an email given up and taken again by the same client within these events is recorded again
    await this.recordAll([...records].map(([_id, client_id]) => ({ _id, client_id })));
  }

  /** Records entries in one insert; an email that was another client's before is taken over. */
  private async recordAll(entries: EmailEntry[]): Promise<void> {
    const taken = await insertManyExceptDuplicates(this.collection, entries);
    // the email was another client's before (it was freed since, or this is a relay again)
    await forEachConcurrently(taken, LOOKUP_CONCURRENCY, async (index) => {
      const { _id, client_id } = entries[index]!;
      await this.collection.replaceOne({ _id }, { client_id });
    });
  }

  /** Removes the entry only while it still names this client (the email may have moved on). */
  private async forget(clientId: string, email: string): Promise<void> {
    const _id = normalizeEmail(email);
    const entry = await this.collection.findOne({ _id });
    if (entry?.client_id === clientId) await this.collection.deleteOne({ _id });
  }
}

import type { Collection, Db } from 'mongodb';
import { normalizeEmail, type Envelope } from '@trackme/contracts';
import { forEachConcurrently, isDuplicateKeyError } from '@trackme/platform';

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
 * scans the collection on the Mongo-wire floor (DESIGN.md §3). The clients service keeps it in step
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

  /** Follows the email changes that the events of one client carry (idempotent: relays repeat). */
  async follow(events: Envelope[]): Promise<void> {
    for (const event of events) {
      const data = event.data as { client_id: string; client?: { email: string }; changes?: { email?: { from: unknown } } };
      if (!data.client) continue;
      if (event.type === 'ClientDeleted') {
        await this.forget(data.client_id, data.client.email);
        continue;
      }
      const previous = data.changes?.email?.from;
      if (typeof previous === 'string') await this.forget(data.client_id, previous);
      if (event.type === 'ClientCreated' || typeof previous === 'string') await this.record(data.client_id, data.client.email);
    }
  }

  async record(clientId: string, email: string): Promise<void> {
    const _id = normalizeEmail(email);
    try {
      await this.collection.insertOne({ _id, client_id: clientId });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // the email was another client's before (it was freed since, or this is a relay again)
      await this.collection.replaceOne({ _id }, { client_id: clientId });
    }
  }

  /** Removes the entry only while it still names this client (the email may have moved on). */
  private async forget(clientId: string, email: string): Promise<void> {
    const _id = normalizeEmail(email);
    const entry = await this.collection.findOne({ _id });
    if (entry?.client_id === clientId) await this.collection.deleteOne({ _id });
  }
}

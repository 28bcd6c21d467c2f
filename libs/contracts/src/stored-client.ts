import type { Client } from './clients.js';

/**
 * A client as the `clients` collection stores it (docs/architecture.md, "Data model"). The clients service is its only
 * writer and adds internal fields (outbox, applied command ids); the read service reads these
 * fields only. Dates are stored as Dates so they can be queried by range.
 */
export interface StoredClient {
  _id: string;
  name: string;
  email: string;
  email_normalized: string;
  stage: string;
  is_active: boolean;
  source: string | null;
  channel: string | null;
  app: Client['app'];
  last_login: Date | null;
  registration_date: Date;
  last_updated: Date;
  contracts: Client['contracts'];
  version: number;
  /** deleted clients stay as tombstones so redelivered commands still find their outcome */
  deleted?: boolean;
}

/** The form emails are compared and stored in for uniqueness and lookups. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

export function toClient(doc: StoredClient): Client {
  return {
    id: doc._id,
    name: doc.name,
    email: doc.email,
    stage: doc.stage,
    is_active: doc.is_active,
    source: doc.source,
    channel: doc.channel,
    app: doc.app,
    last_login: doc.last_login ? doc.last_login.toISOString() : null,
    registration_date: doc.registration_date.toISOString(),
    last_updated: doc.last_updated.toISOString(),
    contracts: doc.contracts,
    version: doc.version,
  };
}

/** The stored form of a client's fields. */
export function storedFields(client: Client): Omit<StoredClient, 'deleted'> {
  return {
    _id: client.id,
    name: client.name,
    email: client.email,
    email_normalized: normalizeEmail(client.email),
    stage: client.stage,
    is_active: client.is_active,
    source: client.source,
    channel: client.channel,
    app: client.app,
    last_login: client.last_login ? new Date(client.last_login) : null,
    registration_date: new Date(client.registration_date),
    last_updated: new Date(client.last_updated),
    contracts: client.contracts,
    version: client.version,
  };
}

import type { Client, Envelope } from '@trackme/contracts';

/**
 * Outcome of a command already handled for this client, kept to answer redeliveries: a success
 * (the body is the client as stored) or a refusal (the problem body is kept).
 */
export interface AppliedCommand {
  id: string;
  status: number;
  problem?: unknown;
}

/**
 * A client as stored in Mongo. Besides the client's fields it carries, in the same document (one
 * atomic write, no transactions — DESIGN.md §2–3): the change events not yet published
 * (the outbox) and the ids of the last commands applied to it.
 */
export interface ClientDocument {
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
  applied_commands: AppliedCommand[];
  pending_events: Envelope[];
}

/** How many applied command ids a document remembers; redeliveries come within seconds. */
export const APPLIED_COMMANDS_KEPT = 20;

export function normalizeEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

export function toClient(doc: ClientDocument): Client {
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

/** The stored form of a client's fields (dates as Dates, so they can be queried by range). */
export function clientFields(client: Client): Omit<ClientDocument, 'applied_commands' | 'pending_events' | 'deleted'> {
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

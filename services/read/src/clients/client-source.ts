import type { Collection, Db, Filter } from 'mongodb';
import { normalizeEmail, toClient, type Client, type ListClientsQuery, type StoredClient } from '@trackme/contracts';
import { DependencyUnavailableError, isMongoUnavailable } from '@trackme/platform';
import { lastLoginCutoff, lastLoginFlipsAt, type HighlightPolicy } from './highlights.js';

/** What a list query found: one page, the total, and when the set of matches may change by itself. */
export interface ListResult {
  clients: Client[];
  total: number;
  /** ms; only `highlighted` makes membership depend on the clock */
  membershipValidUntil: number;
}

/** A stored client, or the version at which it was deleted. */
export type StoredState = { kind: 'client'; client: Client } | { kind: 'deleted'; version: number };

/** Only the public fields leave Mongo; the outbox and applied command ids stay there. */
const PROJECTION = {
  _id: 1,
  name: 1,
  email: 1,
  stage: 1,
  is_active: 1,
  source: 1,
  channel: 1,
  app: 1,
  last_login: 1,
  registration_date: 1,
  last_updated: 1,
  contracts: 1,
  version: 1,
  deleted: 1,
} as const;

const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);

/**
 * The Mongo filter of a validated list query. Every value is a plain string, boolean or Date
 * placed under a field name chosen here, so nothing from the query string can become an operator.
 */
export function listFilter(query: ListClientsQuery, now: number, policy: HighlightPolicy): Filter<StoredClient> {
  const and: Filter<StoredClient>[] = [{ deleted: { $ne: true } }, { is_active: query.is_active }];
  if (query.id !== undefined) and.push({ _id: query.id });
  if (query.email !== undefined) and.push({ email_normalized: normalizeEmail(query.email) });
  if (query.stage !== undefined) and.push({ stage: query.stage });
  if (query.source !== undefined) and.push({ source: query.source });
  if (query.channel !== undefined) and.push({ channel: query.channel });
  if (query.app !== undefined) and.push({ app: query.app });
  if (query.updated !== undefined) and.push({ last_updated: { $gte: dayStart(query.updated) } });
  if (query.last_login !== undefined) and.push({ last_login: { $gte: dayStart(query.last_login) } });
  if (query.highlighted !== undefined) {
    const cutoff = lastLoginCutoff(now, policy);
    const highlighted: Filter<StoredClient>[] = [
      { app: 'not_installed' },
      { last_login: null },
      { last_login: { $lt: cutoff } },
      { 'contracts.autopayment': 'disabled' },
    ];
    and.push(query.highlighted ? { $or: highlighted } : { $nor: highlighted });
  }
  return { $and: and };
}

/** Read-only access to the clients collection (the clients service is its only writer). */
export class ClientSource {
  private readonly clients: Collection<StoredClient>;

  constructor(
    db: Db,
    private readonly policy: HighlightPolicy,
  ) {
    this.clients = db.collection<StoredClient>('clients');
  }

  async list(query: ListClientsQuery, now: number): Promise<ListResult> {
    const filter = listFilter(query, now, this.policy);
    return guard(async () => {
      const [docs, total, nextFlip] = await Promise.all([
        this.clients
          .find(filter, { projection: PROJECTION })
          .sort({ last_updated: -1, _id: 1 })
          .skip(query.offset)
          .limit(query.limit)
          .toArray(),
        this.clients.countDocuments(filter),
        query.highlighted === undefined ? Promise.resolve(Number.POSITIVE_INFINITY) : this.nextLoginFlip(query, now),
      ]);
      return { clients: docs.map(toClient), total, membershipValidUntil: nextFlip };
    });
  }

  async get(id: string): Promise<StoredState | null> {
    return guard(async () => {
      const doc = await this.clients.findOne({ _id: id }, { projection: PROJECTION });
      if (!doc) return null;
      return doc.deleted ? { kind: 'deleted', version: doc.version } : { kind: 'client', client: toClient(doc) };
    });
  }

  /**
   * When the next client matching the other filters crosses the last-login threshold, which may
   * move it into (or out of) a `highlighted` list: the oldest login still within the window.
   */
  private async nextLoginFlip(query: ListClientsQuery, now: number): Promise<number> {
    const { highlighted: _ignored, ...rest } = query;
    const base = listFilter(rest, now, this.policy);
    const [oldest] = await this.clients
      .find({ $and: [base, { last_login: { $gte: lastLoginCutoff(now, this.policy) } }] }, { projection: { last_login: 1 } })
      .sort({ last_login: 1 })
      .limit(1)
      .toArray();
    return oldest?.last_login ? lastLoginFlipsAt(oldest.last_login.getTime(), this.policy) : Number.POSITIVE_INFINITY;
  }
}

async function guard<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isMongoUnavailable(error)) throw new DependencyUnavailableError('the client store is unavailable; retry later', { cause: (error as Error).message });
    throw error;
  }
}

import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { normalizeEmail, toClient, type Client, type ListClientsFilter, type ListClientsQuery, type StoredClient } from '@trackme/contracts';
import { DependencyUnavailableError, isMongoUnavailable } from '@trackme/platform';
import type { CachedClient } from '../cache/read-cache.js';
import { Bulkhead } from './bulkhead.js';
import { lastLoginCutoff, lastLoginFlipsAt, type HighlightPolicy } from './highlights.js';

/** What a list query found: one page, the total, and when the set of matches may change by itself. */
export interface ListResult {
  clients: Client[];
  total: number;
  /** ms; only `highlighted` makes membership depend on the clock */
  membershipValidUntil: number;
}


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

/** Ends a list query before the gateway stops waiting for it (5 s), so abandoned work stops too. */
const LIST_TIME_LIMIT_MS = 4_000;

/** Ends the read of a bulk job's set before the gateway stops waiting for it (CLIENT_IDS_TIMEOUT_MS there). */
const IDS_TIME_LIMIT_MS = 55_000;

const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);

/**
 * The Mongo filter of a validated list query. Every value is a plain string, boolean or Date
 * placed under a field name chosen here, so nothing from the query string can become an operator.
 */
export function listFilter(query: ListClientsFilter, now: number, policy: HighlightPolicy): Filter<StoredClient> {
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
    /** list queries scan on a Mongo-wire server without secondary indexes; this bounds them */
    private readonly bulkhead = new Bulkhead(2, 8, 'list reads from the database'),
  ) {
    this.clients = db.collection<StoredClient>('clients');
  }

  list(query: ListClientsQuery, now: number): Promise<ListResult> {
    return this.bulkhead.run(() => this.listNow(query, now));
  }

  private async listNow(query: ListClientsQuery, now: number): Promise<ListResult> {
    const filter = listFilter(query, now, this.policy);
    return guard(async () => {
      const [docs, total, nextFlip] = await Promise.all([
        this.clients
          .find(filter, { projection: PROJECTION, maxTimeMS: LIST_TIME_LIMIT_MS })
          .sort({ last_updated: -1, _id: 1 })
          .skip(query.offset)
          .limit(query.limit)
          .toArray(),
        this.clients.countDocuments(filter, { maxTimeMS: LIST_TIME_LIMIT_MS }),
        query.highlighted === undefined ? Promise.resolve(Number.POSITIVE_INFINITY) : this.nextLoginFlip(query, now),
      ]);
      return { clients: docs.map(toClient), total, membershipValidUntil: nextFlip };
    });
  }

  /**
   * The ids of the clients a filter matches, in list order, at most `max`: the set a bulk job works
   * on, read in one query (paging it would scan the collection once per page where no index serves
   * the filter).
   */
  ids(query: ListClientsFilter, max: number, now: number): Promise<string[]> {
    return this.bulkhead.run(() =>
      guard(async () => {
        const docs = await this.clients
          .find(listFilter(query, now, this.policy), { projection: { _id: 1 }, maxTimeMS: IDS_TIME_LIMIT_MS })
          .sort({ last_updated: -1, _id: 1 })
          .limit(max)
          .toArray();
        return docs.map((doc) => doc._id);
      }),
    );
  }

  /** A stored client's state (a deleted one with `client: null`), or null for an unknown id. */
  async get(id: string): Promise<CachedClient | null> {
    return guard(async () => {
      const doc = await this.clients.findOne({ _id: id }, { projection: PROJECTION });
      return doc ? stateOf(doc) : null;
    });
  }

  /** Every stored client (deleted ones as tombstones), in batches: what loading the cache reads. */
  async *scan(batchSize: number): AsyncGenerator<CachedClient[]> {
    const cursor = this.clients.find({}, { projection: PROJECTION, batchSize });
    let batch: CachedClient[] = [];
    try {
      for await (const doc of cursor) {
        batch.push(stateOf(doc));
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
    } catch (error) {
      throw translated(error);
    } finally {
      await cursor.close();
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * When the next client matching the other filters crosses the last-login threshold, which may
   * move it into (or out of) a `highlighted` list: the oldest login still within the window.
   */
  private async nextLoginFlip(query: ListClientsQuery, now: number): Promise<number> {
    const { highlighted: _ignored, ...rest } = query;
    const base = listFilter(rest, now, this.policy);
    const [oldest] = await this.clients
      .find({ $and: [base, { last_login: { $gte: lastLoginCutoff(now, this.policy) } }] }, { projection: { last_login: 1 }, maxTimeMS: LIST_TIME_LIMIT_MS })
      .sort({ last_login: 1 })
      .limit(1)
      .toArray();
    return oldest?.last_login ? lastLoginFlipsAt(oldest.last_login.getTime(), this.policy) : Number.POSITIVE_INFINITY;
  }
}

const MAX_TIME_EXPIRED = 50;

function stateOf(doc: StoredClient): CachedClient {
  return { id: doc._id, version: doc.version, client: doc.deleted ? null : toClient(doc) };
}

/** A driver error as callers should see it: an unreachable or too slow store is a 503, not a bug. */
function translated(error: unknown): unknown {
  if (isMongoUnavailable(error)) return new DependencyUnavailableError('the client store is unavailable; retry later', { cause: (error as Error).message });
  if (error instanceof MongoServerError && error.code === MAX_TIME_EXPIRED) {
    return new DependencyUnavailableError('the client store is too slow to answer now; retry later');
  }
  return error;
}

async function guard<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw translated(error);
  }
}

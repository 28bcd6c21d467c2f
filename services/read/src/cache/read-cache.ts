import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Client } from '@trackme/contracts';
import type { FilterRow } from '../clients/filter-row.js';
import { rowOf } from '../clients/filter-row.js';

/** A rendered list page as cached: the response body and the instant its highlights stop being true. */
export interface CachedPage {
  body: string;
  validUntil: number;
}

export interface ListLookup {
  /** the list generation read with the page; a page computed afterwards is stored under it */
  generation: string;
  /** the page of this generation, if one is stored */
  page: CachedPage | null;
  /** otherwise the page stored before the latest changes, and when it was rendered (epoch ms) */
  previous?: CachedPage & { renderedAt: number };
}

/** What the cache knows about one client: its state, that it was deleted, or nothing. */
export type ModelClient = { kind: 'client'; client: Client } | { kind: 'deleted'; version: number } | { kind: 'unknown' };

/** A client state to store: the snapshot, or null when it was deleted at this version. */
export interface CachedClient {
  id: string;
  version: number;
  client: Client | null;
}

/**
 * Stores a client state only when its version is newer than the one known, so a redelivered or
 * late event (or a row read from Mongo before a change) never replaces a newer state. A change
 * increments the list generation.
 * KEYS: versions, rows, clients, generation; ARGV: id, version, row JSON ('' = deleted), client
 * JSON, generation seed
 */
const APPLY = `
local known = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if known and known >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
end
redis.call('SET', KEYS[4], ARGV[5], 'NX')
redis.call('INCR', KEYS[4])
return 1
`;

/** Deletes or extends a lock only for the holder of its token. KEYS: lock; ARGV: token, ttl ms ('0' = release) */
const LOCK_HOLDER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

const NEVER = Number.MAX_SAFE_INTEGER;

/** A stored page, or undefined for a value this version cannot read (it is then a miss). */
function parsePage(raw: string): (CachedPage & { generation: string; renderedAt: number }) | undefined {
  const first = raw.indexOf('\n');
  const second = raw.indexOf('\n', first + 1);
  const third = raw.indexOf('\n', second + 1);
  if (first < 0 || second < 0 || third < 0) return undefined;
  const validUntil = Number(raw.slice(first + 1, second));
  const renderedAt = Number(raw.slice(second + 1, third));
  if (!Number.isFinite(validUntil) || !Number.isFinite(renderedAt) || raw.slice(second + 1, third) === '') return undefined;
  return { generation: raw.slice(0, first), validUntil, renderedAt, body: raw.slice(third + 1) };
}

interface Scripts {
  trackmeReadApply(
    versions: string,
    rows: string,
    clients: string,
    gen: string,
    id: string,
    version: number,
    row: string,
    client: string,
    seed: number,
  ): Promise<number>;
  trackmeReadLockHolder(lock: string, token: string, ttlMs: number): Promise<number>;
}

/**
 * The read service's Redis data, all under one prefix:
 * - the client model, complete once loaded from Mongo and kept current by change events:
 *   `model:versions` (id → latest version, deleted clients included), `model:rows` (id → the
 *   compact fields lists filter and sort on), `model:clients` (id → client JSON), `model:ready`
 *   (when the last complete load from Mongo started; until the first one lists are read from Mongo);
 * - `lists:gen`, incremented by every change (starting from the clock when missing);
 * - `list:<hash of the query>`: `<generation>\n<validUntil>\n<renderedAt>\n<body>`, a rendered
 *   page that is a hit only while its generation is the current one (so one increment invalidates
 *   every cached list, and a page computed from data read before a change is never served as
 *   current after it), and expires after the TTL.
 */
export class ReadCache {
  readonly keys: { versions: string; rows: string; clients: string; ready: string; lock: string; generation: string };
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    this.keys = {
      versions: `${prefix}model:versions`,
      rows: `${prefix}model:rows`,
      clients: `${prefix}model:clients`,
      ready: `${prefix}model:ready`,
      lock: `${prefix}model:lock`,
      generation: `${prefix}lists:gen`,
    };
    redis.defineCommand('trackmeReadApply', { numberOfKeys: 4, lua: APPLY });
    redis.defineCommand('trackmeReadLockHolder', { numberOfKeys: 1, lua: LOCK_HOLDER });
    this.scripts = redis as unknown as Scripts;
  }

  listKey(queryKey: string): string {
    return `${this.prefix}list:${createHash('sha1').update(queryKey).digest('base64url')}`;
  }

  async getList(queryKey: string): Promise<ListLookup> {
    const [generation, raw] = await this.redis.mget(this.keys.generation, this.listKey(queryKey));
    const current = generation ?? '0';
    const stored = raw ? parsePage(raw) : undefined;
    if (!stored) return { generation: current, page: null };
    const { generation: of, renderedAt, ...page } = stored;
    return of === current ? { generation: current, page } : { generation: current, page: null, previous: { ...page, renderedAt } };
  }

  async putList(queryKey: string, generation: string, page: CachedPage, renderedAt = Date.now()): Promise<void> {
    const validUntil = Number.isFinite(page.validUntil) ? page.validUntil : NEVER;
    await this.redis.set(this.listKey(queryKey), `${generation}\n${validUntil}\n${renderedAt}\n${page.body}`, 'EX', this.ttlSeconds);
  }

  /** Stores one client state unless a newer one is known; true when it changed something. */
  async apply(state: CachedClient): Promise<boolean> {
    const { keys } = this;
    const [row, client] = encode(state);
    return (
      (await this.scripts.trackmeReadApply(keys.versions, keys.rows, keys.clients, keys.generation, state.id, state.version, row, client, generationSeed())) === 1
    );
  }

  /** Stores many states in one round trip (loading from Mongo). */
  async applyMany(states: CachedClient[]): Promise<void> {
    if (states.length === 0) return;
    const { keys } = this;
    const pipeline = this.redis.pipeline();
    for (const state of states) {
      const [row, client] = encode(state);
      (pipeline as unknown as Scripts).trackmeReadApply(keys.versions, keys.rows, keys.clients, keys.generation, state.id, state.version, row, client, generationSeed());
    }
    results(await pipeline.exec());
  }

  async get(id: string): Promise<ModelClient> {
    const [client, version] = await this.redis.pipeline().hget(this.keys.clients, id).hget(this.keys.versions, id).exec().then(results);
    if (typeof client === 'string') return { kind: 'client', client: JSON.parse(client) as Client };
    if (typeof version === 'string') return { kind: 'deleted', version: Number(version) };
    return { kind: 'unknown' };
  }

  /** Every client's filter row, or null while the model is not loaded (then lists come from Mongo). */
  async rows(): Promise<FilterRow[] | null> {
    const [ready, rows] = await this.redis.pipeline().get(this.keys.ready).hgetall(this.keys.rows).exec().then(results);
    if (ready === null) return null;
    return Object.values(rows as Record<string, string>).map((row) => JSON.parse(row) as FilterRow);
  }

  /** The clients with these ids, in the same order (null for one deleted since its row was read). */
  async clients(ids: string[]): Promise<(Client | null)[]> {
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(this.keys.clients, ...ids);
    return values.map((value) => (value === null ? null : (JSON.parse(value) as Client)));
  }

  async isReady(): Promise<boolean> {
    return (await this.loadedAt()) !== null;
  }

  /** When the last complete load from Mongo started (ms), or null while the model is not loaded. */
  async loadedAt(): Promise<number | null> {
    const value = await this.redis.get(this.keys.ready);
    return value === null ? null : Number(value);
  }

  /** The model is complete: every client read from Mongo since `startedAt` is in it. */
  markReady(startedAt = Date.now()): Promise<unknown> {
    return this.redis.set(this.keys.ready, String(startedAt));
  }

  /**
   * After Redis was unreachable (it may have restarted empty, or from an older snapshot), trust
   * nothing cached: every list is invalidated and the model must be loaded again.
   */
  async markStale(): Promise<void> {
    await this.redis.pipeline().del(this.keys.ready).set(this.keys.generation, generationSeed(), 'NX').incr(this.keys.generation).exec().then(results);
  }

  /** A lock for loading the model, so one replica loads it; returns the token that holds it. */
  async lock(ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    return (await this.redis.set(this.keys.lock, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : null;
  }

  async extendLock(token: string, ttlMs: number): Promise<boolean> {
    return (await this.scripts.trackmeReadLockHolder(this.keys.lock, token, ttlMs)) === 1;
  }

  async unlock(token: string): Promise<void> {
    await this.scripts.trackmeReadLockHolder(this.keys.lock, token, 0);
  }
}

/**
 * Where a missing generation counter starts: the clock in ms × 1000. After Redis lost its data the
 * counter starts again above every value it had before, unless it had counted more than 1,000
 * changes per ms since it was first seeded, so a generation remembered by a process does not name
 * two different states. (Processes also forget their rows when the connection to Redis drops.)
 */
function generationSeed(): number {
  return Date.now() * 1000;
}

function encode(state: CachedClient): [string, string] {
  return state.client ? [JSON.stringify(rowOf(state.client)), JSON.stringify(state.client)] : ['', ''];
}

/** Values of an executed pipeline; the first error is thrown. */
function results(executed: [Error | null, unknown][] | null): unknown[] {
  return (executed ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Client } from '@trackme/contracts';

/** A rendered list page as cached: the response body and the instant its highlights stop being true. */
export interface CachedPage {
  body: string;
  validUntil: number;
}

export interface ListLookup {
  /** the list generation read with the page; a page filled later is stored under it */
  generation: string;
  page: CachedPage | null;
}

/** A cached single client, or the tombstone of a deleted one. */
export type CachedClient = { version: number; client: Client | null };

/**
 * Sets a client entry only when the given version is newer than the cached one, so a redelivered
 * or late event (or a slow fill from Mongo) never replaces a newer state.
 */
const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local cached = tonumber(string.match(current, '^(%d+)|'))
  if cached and cached >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
`;

type SetIfNewer = (key: string, version: number, value: string, ttlSeconds: number) => Promise<number>;

const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The read service's Redis keys (all under one prefix):
 * - `client:<id>`: `<version>|<client JSON>` (empty JSON for a deleted client), written from change
 *   events and from Mongo on a miss, version-aware;
 * - `lists:gen`: a counter every change event increments;
 * - `list:<hash of the query>`: `<generation>\n<validUntil>\n<body>`; a page is a hit only while
 *   its generation is the current one, so one increment invalidates every cached list at once, and
 *   a page computed from data read before a change can never be served after it.
 * Every key also expires after the TTL, a backstop for anything missed.
 */
export class ReadCache {
  private readonly generationKey: string;
  private readonly setIfNewer: SetIfNewer;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    this.generationKey = `${prefix}lists:gen`;
    redis.defineCommand('trackmeReadSetIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
    const command = (redis as unknown as Record<string, SetIfNewer>)['trackmeReadSetIfNewer'];
    if (!command) throw new Error('Lua command was not defined');
    this.setIfNewer = command.bind(redis);
  }

  listKey(queryKey: string): string {
    return `${this.prefix}list:${createHash('sha1').update(queryKey).digest('base64url')}`;
  }

  clientKey(id: string): string {
    return `${this.prefix}client:${id}`;
  }

  async getList(queryKey: string): Promise<ListLookup> {
    const [generation, raw] = await this.redis.mget(this.generationKey, this.listKey(queryKey));
    const current = generation ?? '0';
    if (raw === null || raw === undefined) return { generation: current, page: null };
    const first = raw.indexOf('\n');
    const second = raw.indexOf('\n', first + 1);
    if (first < 0 || second < 0 || raw.slice(0, first) !== current) return { generation: current, page: null };
    return { generation: current, page: { validUntil: Number(raw.slice(first + 1, second)), body: raw.slice(second + 1) } };
  }

  async putList(queryKey: string, generation: string, page: CachedPage): Promise<void> {
    const validUntil = Number.isFinite(page.validUntil) ? page.validUntil : NEVER;
    await this.redis.set(this.listKey(queryKey), `${generation}\n${validUntil}\n${page.body}`, 'EX', this.ttlSeconds);
  }

  async getClient(id: string): Promise<CachedClient | null> {
    const raw = await this.redis.get(this.clientKey(id));
    if (raw === null) return null;
    const bar = raw.indexOf('|');
    const json = raw.slice(bar + 1);
    return { version: Number(raw.slice(0, bar)), client: json === '' ? null : (JSON.parse(json) as Client) };
  }

  /** Stores a client (or a deleted client's tombstone) unless a newer version is cached. */
  async putClient(id: string, version: number, client: Client | null): Promise<boolean> {
    return (await this.setIfNewer(this.clientKey(id), version, client ? JSON.stringify(client) : '', this.ttlSeconds)) === 1;
  }

  /**
   * Applies one change event: the client entry follows the event's snapshot (or is dropped when
   * the event has none) and every cached list is invalidated. Safe to repeat.
   */
  async applyChange(id: string, version: number, client: Client | null | undefined): Promise<void> {
    const pipeline = this.redis.pipeline();
    if (client === undefined) pipeline.del(this.clientKey(id));
    else pipeline.trackmeReadSetIfNewer(this.clientKey(id), version, client ? JSON.stringify(client) : '', this.ttlSeconds);
    pipeline.incr(this.generationKey);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  /**
   * After Redis was unreachable (it may have restarted from an older snapshot), trust nothing
   * cached: invalidate every list and drop every client entry.
   */
  async resync(): Promise<void> {
    await this.redis.incr(this.generationKey);
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}client:*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

declare module 'ioredis' {
  interface ChainableCommander {
    trackmeReadSetIfNewer(key: string, version: number, value: string, ttlSeconds: number): ChainableCommander;
  }
}

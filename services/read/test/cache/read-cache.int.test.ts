import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@trackme/contracts';
import { createRedis, type RedisConnection } from '@trackme/platform';
import { testStack, uniqueId, waitFor } from '@trackme/testkit';
import { ReadCache } from '../../src/cache/read-cache.js';

let redis: RedisConnection;
let cache: ReadCache;

const snapshot = (version: number, name = `v${version}`) => ({ id: 'c1', name, version }) as unknown as Client;

beforeAll(async () => {
  redis = createRedis(testStack().REDIS_URL, 'read-cache-test');
  await waitFor(() => redis.ping(), { what: 'redis' });
});
afterAll(() => redis.close());

const freshCache = () => (cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60));

describe('ReadCache client entries', () => {
  it('keeps the newest version: an older or repeated event never replaces it', async () => {
    freshCache();
    expect(await cache.putClient('c1', 2, snapshot(2))).toBe(true);
    expect(await cache.putClient('c1', 1, snapshot(1))).toBe(false);
    expect(await cache.putClient('c1', 2, snapshot(2, 'again'))).toBe(false);
    expect(await cache.getClient('c1')).toEqual({ version: 2, client: snapshot(2) });
    expect(await cache.putClient('c1', 3, snapshot(3))).toBe(true);
    expect((await cache.getClient('c1'))?.client).toEqual(snapshot(3));
  });

  it('keeps a deletion as a tombstone that a late update cannot resurrect', async () => {
    freshCache();
    await cache.applyChange('c1', 5, null);
    await cache.applyChange('c1', 4, snapshot(4));
    expect(await cache.getClient('c1')).toEqual({ version: 5, client: null });
  });

  it('drops the entry when an event carries no snapshot', async () => {
    freshCache();
    await cache.putClient('c1', 1, snapshot(1));
    await cache.applyChange('c1', 2, undefined);
    expect(await cache.getClient('c1')).toBeNull();
  });

  it('expires entries after the TTL backstop', async () => {
    const prefix = `trackme:test:${uniqueId()}:`;
    await new ReadCache(redis.client, prefix, 60).putClient('c1', 1, snapshot(1));
    const ttl = await redis.client.ttl(`${prefix}client:c1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });
});

describe('ReadCache lists', () => {
  const page = { body: '{"data":[]}', validUntil: 123 };

  it('serves a page stored under the current generation', async () => {
    freshCache();
    const { generation, page: missing } = await cache.getList('q');
    expect(missing).toBeNull();
    await cache.putList('q', generation, page);
    expect(await cache.getList('q')).toEqual({ generation, page });
  });

  it('invalidates every list on a change event', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    await cache.putList('q', generation, page);
    await cache.putList('other', generation, page);
    await cache.applyChange('c1', 1, snapshot(1));
    expect((await cache.getList('q')).page).toBeNull();
    expect((await cache.getList('other')).page).toBeNull();
  });

  it('never serves a page computed before a change, even when it is stored after it', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    // the page was read from Mongo, then the change event arrived, then the page was stored
    await cache.applyChange('c1', 1, snapshot(1));
    await cache.putList('q', generation, page);
    expect((await cache.getList('q')).page).toBeNull();
  });

  it('keeps a page whose highlights never expire', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    await cache.putList('q', generation, { body: 'x', validUntil: Number.POSITIVE_INFINITY });
    expect((await cache.getList('q')).page?.validUntil).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('discards lists and clients on resync', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    await cache.putList('q', generation, page);
    await cache.putClient('c1', 1, snapshot(1));
    await cache.resync();
    expect((await cache.getList('q')).page).toBeNull();
    expect(await cache.getClient('c1')).toBeNull();
  });
});

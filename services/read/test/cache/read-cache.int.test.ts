import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@trackme/contracts';
import { createRedis, type RedisConnection } from '@trackme/platform';
import { sampleClient, testStack, uniqueId, waitFor } from '@trackme/testkit';
import { ReadCache } from '../../src/cache/read-cache.js';

let redis: RedisConnection;
let cache: ReadCache;

const snapshot = (id: string, version: number, overrides: Partial<Client> = {}): Client => sampleClient({ id, name: `v${version}`, version, ...overrides });

beforeAll(async () => {
  redis = createRedis(testStack().REDIS_URL, 'read-cache-test');
  await waitFor(() => redis.ping(), { what: 'redis' });
});
afterAll(() => redis.close());

const freshCache = () => (cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60));

describe('ReadCache client model', () => {
  it('keeps the newest version: an older or repeated state never replaces it', async () => {
    freshCache();
    expect(await cache.apply({ id: 'c1', version: 2, client: snapshot('c1', 2) })).toBe(true);
    expect(await cache.apply({ id: 'c1', version: 1, client: snapshot('c1', 1) })).toBe(false);
    expect(await cache.apply({ id: 'c1', version: 2, client: snapshot('c1', 2, { name: 'again' }) })).toBe(false);
    expect(await cache.get('c1')).toEqual({ kind: 'client', client: snapshot('c1', 2) });
    expect(await cache.apply({ id: 'c1', version: 3, client: snapshot('c1', 3) })).toBe(true);
    expect(await cache.get('c1')).toEqual({ kind: 'client', client: snapshot('c1', 3) });
  });

  it('remembers a deletion, which a late update cannot undo, and drops the client from the rows', async () => {
    freshCache();
    await cache.markReady();
    await cache.apply({ id: 'c1', version: 4, client: snapshot('c1', 4) });
    await cache.apply({ id: 'c1', version: 5, client: null });
    await cache.apply({ id: 'c1', version: 4, client: snapshot('c1', 4) });
    expect(await cache.get('c1')).toEqual({ kind: 'deleted', version: 5 });
    expect(await cache.rows()).toEqual([]);
    expect(await cache.get('nobody')).toEqual({ kind: 'unknown' });
  });

  it('offers the rows only once the model was loaded, and the clients of a page in order', async () => {
    freshCache();
    await cache.applyMany([1, 2, 3].map((n) => ({ id: `c${n}`, version: 1, client: snapshot(`c${n}`, 1, { stage: n === 2 ? 'completed' : 'registration' }) })));
    expect(await cache.rows()).toBeNull();
    await cache.markReady();
    const rows = await cache.rows();
    expect(rows?.map((row) => [row.id, row.stage]).sort()).toEqual([
      ['c1', 'registration'],
      ['c2', 'completed'],
      ['c3', 'registration'],
    ]);
    expect((await cache.clients(['c3', 'c1'])).map((c) => c?.id)).toEqual(['c3', 'c1']);
    await cache.markStale();
    expect(await cache.rows()).toBeNull();
  });

  it('lets one holder at a time take the load lock, and only the holder extend or release it', async () => {
    freshCache();
    const token = await cache.lock(5_000);
    expect(token).not.toBeNull();
    expect(await cache.lock(5_000)).toBeNull();
    expect(await cache.extendLock('someone-else', 5_000)).toBe(false);
    expect(await cache.extendLock(token!, 5_000)).toBe(true);
    await cache.unlock('someone-else');
    expect(await cache.lock(5_000)).toBeNull();
    await cache.unlock(token!);
    expect(await cache.lock(5_000)).not.toBeNull();
  });
});

describe('ReadCache lists', () => {
  const page = { body: '{"data":[]}', validUntil: 123 };

  it('serves a page stored under the current generation, for the TTL', async () => {
    freshCache();
    const { generation, page: missing } = await cache.getList('q');
    expect(missing).toBeNull();
    await cache.putList('q', generation, page);
    expect(await cache.getList('q')).toEqual({ generation, page });
    const ttl = await redis.client.ttl(cache.listKey('q'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('invalidates every list when a client changes, not when a stale state is refused', async () => {
    freshCache();
    await cache.apply({ id: 'c1', version: 2, client: snapshot('c1', 2) });
    const { generation } = await cache.getList('q');
    await cache.putList('q', generation, page);
    await cache.apply({ id: 'c1', version: 1, client: snapshot('c1', 1) });
    expect((await cache.getList('q')).page).toEqual(page);
    await cache.apply({ id: 'c1', version: 3, client: snapshot('c1', 3) });
    const after = await cache.getList('q');
    expect(after.page).toBeNull();
    // offered as the page from before the change, with when it was rendered
    expect(after.previous).toEqual({ ...page, renderedAt: expect.any(Number) });
  });

  it('reads a page stored in the older format as a miss', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    await redis.client.set(cache.listKey('q'), `${generation}\n123\n{"data":[]}`);
    expect(await cache.getList('q')).toEqual({ generation, page: null });
  });

  it('starts a missing generation counter from the clock, so it never repeats after Redis lost its data', async () => {
    freshCache();
    const before = Date.now() * 1000;
    await cache.apply({ id: 'c1', version: 1, client: snapshot('c1', 1) });
    const first = Number((await cache.getList('q')).generation);
    expect(first).toBeGreaterThan(before);
    // Redis loses its data later than the counter was first seeded (here: 10 ms later)
    await sleep(10);
    await redis.client.del(cache.keys.generation);
    await cache.markStale();
    expect(Number((await cache.getList('q')).generation)).toBeGreaterThan(first);
  });

  it('never serves a page computed before a change, even when it is stored after it', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    // the page was computed, then the change arrived, then the page was stored
    await cache.apply({ id: 'c1', version: 1, client: snapshot('c1', 1) });
    await cache.putList('q', generation, page);
    expect((await cache.getList('q')).page).toBeNull();
  });

  it('keeps a page whose highlights never expire, and drops every page when marked stale', async () => {
    freshCache();
    const { generation } = await cache.getList('q');
    await cache.putList('q', generation, { body: 'x', validUntil: Number.POSITIVE_INFINITY });
    expect((await cache.getList('q')).page?.validUntil).toBe(Number.MAX_SAFE_INTEGER);
    await cache.markStale();
    expect((await cache.getList('q')).page).toBeNull();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { storedFields, type Client, type ListClientsQuery, type StoredClient } from '@trackme/contracts';
import { createLogger, createMongo, createRedis, NotFoundError, type MongoConnection, type RedisConnection } from '@trackme/platform';
import { isolatedEnv, startPrivateRedis, uniqueId, waitFor, type PrivateRedis } from '@trackme/testkit';
import { ModelLoader } from '../../src/cache/model-loader.js';
import { ReadCache } from '../../src/cache/read-cache.js';
import { ClientReads } from '../../src/clients/client-reads.js';
import { ClientSource, type ListResult } from '../../src/clients/client-source.js';

const DAY = 86_400_000;
const policy = { lastLoginDays: 30 };
let now = Date.parse('2026-11-26T12:00:00.000Z');

/** The real source, counting the list queries that reach Mongo. */
class CountingSource extends ClientSource {
  listCalls = 0;
  override async list(query: ListClientsQuery, at: number): Promise<ListResult> {
    this.listCalls += 1;
    return super.list(query, at);
  }
}

let mongo: MongoConnection;
let privateRedis: PrivateRedis;
let redis: RedisConnection;
let source: CountingSource;
let registry: Registry;
let reads: ClientReads;
let cache: CountingCache;

/** The real cache, counting how often the model's rows are read. */
class CountingCache extends ReadCache {
  rowReads = 0;
  override async rows() {
    this.rowReads += 1;
    return super.rows();
  }
}

const alice: Client = {
  id: 'alice',
  name: 'Alice',
  email: 'alice@example.com',
  stage: 'registration',
  is_active: true,
  source: null,
  channel: null,
  app: 'installed',
  last_login: new Date(now - 29 * DAY).toISOString(),
  registration_date: '2026-01-01T00:00:00.000Z',
  last_updated: '2026-11-01T00:00:00.000Z',
  contracts: [],
  version: 1,
};

const query: ListClientsQuery = { is_active: true, limit: 50, offset: 0 };

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string>; value: number }[];
  return values.filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value)).reduce((sum, v) => sum + v.value, 0);
}

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = createMongo(env.MONGO_URL, 'read-test');
  await mongo.db.collection<StoredClient>('clients').insertOne(storedFields(alice));
  privateRedis = await startPrivateRedis();
  redis = createRedis(privateRedis.url, 'read-test');
  await waitFor(() => redis.ping(), { what: 'private redis' });
  registry = new Registry();
  source = new CountingSource(mongo.db, policy);
  cache = new CountingCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
  reads = new ClientReads({ source, cache, policy, registry, logger: createLogger('read-test', 'silent'), clock: () => now });
});

afterAll(async () => {
  await redis.close();
  await privateRedis.stop();
  await mongo.close();
});

const readsOf = (limit: number) => reads.list({ ...query, limit }, false);

describe('ClientReads', () => {
  it('answers a list from Mongo first, then from the cache with the same body', async () => {
    const first = await reads.list(query, false);
    const second = await reads.list(query, false);
    expect(first.cache).toBe('miss');
    // the page carries the instant its highlights change: a day from now, alice's last login turns 30 days old
    expect(second).toEqual({ body: first.body, cache: 'hit', validUntil: now + DAY });
    expect(JSON.parse(first.body)).toMatchObject({ data: [{ id: 'alice', last_login: { highlight: false } }], meta: { total: 1, limit: 50, offset: 0 } });
    expect(await counter('trackme_read_cache_lookups_total', { resource: 'list', result: 'hit' })).toBe(1);
  });

  it('reads through to Mongo on bypass and leaves the cache alone', async () => {
    const calls = source.listCalls;
    expect((await reads.list(query, true)).cache).toBe('bypass');
    expect(source.listCalls).toBe(calls + 1);
    expect((await reads.list(query, false)).cache).toBe('hit');
  });

  it('recomputes a cached page once the clock crosses a highlight threshold', async () => {
    const before = JSON.parse((await reads.list(query, false)).body);
    expect(before.data[0].last_login.highlight).toBe(false);
    now += 2 * DAY;
    const after = await reads.list(query, false);
    expect(after.cache).toBe('miss');
    expect(JSON.parse(after.body).data[0].last_login.highlight).toBe(true);
  });

  it('shares one Mongo query between concurrent misses of the same list', async () => {
    const other = { ...query, limit: 7 };
    const calls = source.listCalls;
    const answers = await Promise.all(Array.from({ length: 5 }, () => reads.list(other, false)));
    expect(source.listCalls).toBe(calls + 1);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it('computes missing pages from the client model once it is loaded from Mongo, without querying Mongo', async () => {
    await new ModelLoader(cache, source, createLogger('read-test', 'silent')).ensureLoaded();
    expect(await cache.isReady()).toBe(true);
    const calls = source.listCalls;
    const page = await reads.list({ ...query, limit: 3 }, false);
    expect(page.cache).toBe('miss');
    expect(JSON.parse(page.body)).toMatchObject({ data: [{ id: 'alice' }], meta: { total: 1, limit: 3 } });
    expect(source.listCalls).toBe(calls);
  });

  it('reads the model rows once per change, however many different pages miss in between', async () => {
    const renamed = async (name: string, version: number) => {
      expect(await cache.apply({ id: 'alice', version, client: { ...alice, name, version } })).toBe(true);
      const before = cache.rowReads;
      for (const limit of [11, 12, 13]) {
        const page = await readsOf(limit);
        expect(page.cache).toBe('miss');
        expect(JSON.parse(page.body).data[0].name).toBe(name);
      }
      expect(cache.rowReads).toBe(before + 1);
    };
    await renamed('Alice B', 2);
    await renamed('Alice C', 3);
  });

  it('reads a client the cache does not know from Mongo once, then from the cache; 404 for an unknown one', async () => {
    await mongo.db.collection<StoredClient>('clients').insertOne(storedFields({ ...alice, id: 'bob', email: 'bob@example.com' }));
    expect((await reads.get('bob', false)).cache).toBe('miss');
    const hit = await reads.get('bob', false);
    expect(hit.cache).toBe('hit');
    expect(JSON.parse(hit.body).data).toMatchObject({ id: 'bob', app: { status: 'installed', highlight: false } });
    await expect(reads.get('nobody', false)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps answering from Mongo while Redis is down, counts the failures, and caches again once it is back', async () => {
    await privateRedis.kill();
    await waitFor(() => redis.client.status !== 'ready', { what: 'redis client to notice' });
    const errorsBefore = await counter('trackme_read_cache_errors_total', {});

    const list = await reads.list(query, false);
    expect(list.cache).toBe('miss');
    expect(JSON.parse(list.body).data[0].id).toBe('alice');
    expect((await reads.get('alice', false)).cache).toBe('miss');
    expect(await counter('trackme_read_cache_errors_total', {})).toBeGreaterThan(errorsBefore);

    await privateRedis.start();
    await waitFor(() => redis.ping(), { timeoutMs: 20_000, what: 'redis client to reconnect' });
    await reads.list(query, false);
    expect((await reads.list(query, false)).cache).toBe('hit');
  });
});

describe('ClientReads under a stream of changes', () => {
  it('answers with the page from before the latest changes while one computation of the current page runs, for CACHE_STALE_MS at most', async () => {
    const model = new CountingCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
    await new ModelLoader(model, source, createLogger('read-test', 'silent')).ensureLoaded();
    const stale = new ClientReads({ source, cache: model, policy, registry: new Registry(), logger: createLogger('read-test', 'silent'), clock: () => now, staleMs: 250 });
    const aliceIn = (answer: { body: string }) => (JSON.parse(answer.body).data as Client[]).find((c) => c.id === 'alice')?.name;
    const rename = (name: string, version: number) => model.apply({ id: 'alice', version, client: { ...alice, name, version } });

    expect((await stale.list(query, false)).cache).toBe('miss');
    await rename('Alice S', 10);
    const rowReads = model.rowReads;
    // five readers right after the change: all get the page from before it, and one computation starts
    const answers = await Promise.all(Array.from({ length: 5 }, () => stale.list(query, false)));
    expect(answers.map((a) => a.cache)).toEqual(Array(5).fill('stale'));
    expect(aliceIn(answers[0]!)).toBe('Alice');
    await waitFor(async () => (await stale.list(query, false)).cache === 'hit', { what: 'the current page computed' });
    expect(aliceIn(await stale.list(query, false))).toBe('Alice S');
    expect(model.rowReads).toBe(rowReads + 1);

    // a page rendered 250 ms before the next change is too old to answer for it: the reader waits for the current one
    now += 250;
    await rename('Alice T', 11);
    const late = await stale.list(query, false);
    expect(late.cache).toBe('miss');
    expect(aliceIn(late)).toBe('Alice T');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedFields, type Client, type StoredClient } from '@trackme/contracts';
import { createLogger, createMongo, createRedis, type MongoConnection, type RedisConnection } from '@trackme/platform';
import { isolatedEnv, sampleClient, uniqueId, waitFor } from '@trackme/testkit';
import { ModelLoader } from '../../src/cache/model-loader.js';
import { ReadCache } from '../../src/cache/read-cache.js';
import { ClientSource } from '../../src/clients/client-source.js';

let mongo: MongoConnection;
let redis: RedisConnection;
let source: ClientSource;
const logger = createLogger('read-test', 'silent');

const client = (n: number, version = 1): Client =>
  sampleClient({ id: `c${n}`, last_updated: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(), version });

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = createMongo(env.MONGO_URL, 'read-test');
  const docs: StoredClient[] = Array.from({ length: 25 }, (_, i) => storedFields(client(i, 2)));
  docs.push({ ...storedFields(client(99, 3)), deleted: true });
  await mongo.db.collection<StoredClient>('clients').insertMany(docs);
  redis = createRedis(env.REDIS_URL, 'read-test');
  await waitFor(() => redis.ping(), { what: 'redis' });
  source = new ClientSource(mongo.db, { lastLoginDays: 30 });
});

afterAll(async () => {
  await redis.close();
  await mongo.close();
});

describe('ModelLoader', () => {
  it('copies every client from Mongo, keeps newer states that events brought meanwhile, then marks the model ready', async () => {
    const cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
    // an event applied before the load finished is newer than what Mongo gave the loader
    await cache.apply({ id: 'c3', version: 7, client: { ...client(3, 7), name: 'From an event' } });
    await new ModelLoader(cache, source, logger, { batchSize: 10 }).ensureLoaded();

    expect(await cache.isReady()).toBe(true);
    expect(await cache.rows()).toHaveLength(25);
    expect(await cache.get('c3')).toMatchObject({ kind: 'client', client: { name: 'From an event', version: 7 } });
    expect(await cache.get('c99')).toEqual({ kind: 'deleted', version: 3 });
  });

  it('leaves the load to the replica holding the lock', async () => {
    const cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
    const token = await cache.lock(10_000);
    await new ModelLoader(cache, source, logger).ensureLoaded();
    expect(await cache.isReady()).toBe(false);
    await cache.unlock(token!);
    await new ModelLoader(cache, source, logger).ensureLoaded();
    expect(await cache.isReady()).toBe(true);
  });

  it('copies a loaded model again once it is older than the reload interval, correcting what no event brought', async () => {
    const cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
    await new ModelLoader(cache, source, logger).ensureLoaded();
    const firstLoad = await cache.loadedAt();
    // a change reached Mongo but its event never reached this cache
    await mongo.db.collection<StoredClient>('clients').updateOne({ _id: 'c5' }, { $set: { name: 'Missed', version: 9 } });

    await new ModelLoader(cache, source, logger, { reloadEveryMs: 3_600_000 }).ensureLoaded();
    expect(await cache.get('c5')).toMatchObject({ client: { name: 'Client c5' } });
    expect(await cache.loadedAt()).toBe(firstLoad);

    await cache.markReady(Date.now() - 3_600_001);
    await new ModelLoader(cache, source, logger, { reloadEveryMs: 3_600_000 }).ensureLoaded();
    expect(await cache.get('c5')).toMatchObject({ client: { name: 'Missed', version: 9 } });
    expect(await cache.loadedAt()).toBeGreaterThan(firstLoad!);
  });

  it('loads again after the model was marked stale', async () => {
    const cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
    const loader = new ModelLoader(cache, source, logger, { checkEveryMs: 50 });
    loader.start();
    try {
      await waitFor(() => cache.isReady(), { what: 'first load' });
      await cache.markStale();
      await waitFor(() => cache.isReady(), { what: 'load after marked stale' });
      expect(await cache.rows()).toHaveLength(25);
    } finally {
      await loader.stop();
    }
  });
});

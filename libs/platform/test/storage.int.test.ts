import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoUrlWithDatabase, testStack, uniqueId } from '@trackme/testkit';
import { ConflictError, createMongo, createRedis, runMigrations, withUniqueConflict, type MongoConnection } from '../src/index.js';

describe('MongoDB-wire server', () => {
  let mongo: MongoConnection;

  beforeAll(async () => {
    const url = mongoUrlWithDatabase(testStack().MONGO_URL, uniqueId('storage'));
    await runMigrations(url);
    mongo = createMongo(url, 'storage-test');
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('answers ping', async () => {
    expect(await mongo.ping()).toBe(true);
  });

  it('surfaces a unique-index violation on the normalized email as a typed conflict error', async () => {
    const clients = mongo.db.collection<{ _id: string; email_normalized: string }>('clients');
    await clients.insertOne({ _id: uniqueId('c'), email_normalized: 'ann@example.com' });
    const second = withUniqueConflict(
      () => clients.insertOne({ _id: uniqueId('c'), email_normalized: 'ann@example.com' }),
      () => ({ message: 'email already used', code: 'email_taken' }),
    );
    await expect(second).rejects.toBeInstanceOf(ConflictError);
    await expect(second).rejects.toMatchObject({ status: 409, code: 'email_taken' });
    expect(await clients.countDocuments({ email_normalized: 'ann@example.com' })).toBe(1);
  });

  it('applies migrations once: a second run has nothing to do', async () => {
    const url = mongoUrlWithDatabase(testStack().MONGO_URL, mongo.db.databaseName);
    expect(await runMigrations(url)).toEqual([]);
    const names = (await mongo.db.collection('clients').indexes()).map((i) => i.name);
    expect(names).toContain('email_normalized_unique');
  });

  it('reports a server that is not there as not ready instead of throwing', async () => {
    const down = createMongo('mongodb://127.0.0.1:1/none', 'down-test');
    expect(await down.ping()).toBe(false);
    await down.close();
  });
});

describe('Redis', () => {
  it('round-trips a value with an expiry', async () => {
    const redis = createRedis(testStack().REDIS_URL, 'redis-test');
    try {
      const key = `trackme:test:${uniqueId()}`;
      // no offline queue: wait until connected before the first command
      await new Promise<void>((resolve) => (redis.client.status === 'ready' ? resolve() : redis.client.once('ready', resolve)));
      expect(await redis.ping()).toBe(true);
      await redis.client.set(key, 'value', 'PX', 60_000);
      expect(await redis.client.get(key)).toBe('value');
      expect(await redis.client.pttl(key)).toBeGreaterThan(0);
    } finally {
      await redis.close();
    }
  });

  it('reports a server that is not there as not ready', async () => {
    const redis = createRedis('redis://127.0.0.1:1', 'down-test');
    expect(await redis.ping()).toBe(false);
    await redis.close();
  });
});

describe('unique index on update', () => {
  it('surfaces a duplicate caused by an update as a typed conflict too', async () => {
    const url = mongoUrlWithDatabase(testStack().MONGO_URL, uniqueId('dupupdate'));
    await runMigrations(url);
    const mongo = createMongo(url, 'dup-update-test');
    try {
      const clients = mongo.db.collection<{ _id: string; email_normalized: string }>('clients');
      await clients.insertMany([
        { _id: 'a', email_normalized: 'a@example.com' },
        { _id: 'b', email_normalized: 'b@example.com' },
      ]);
      const update = withUniqueConflict(
        () => clients.updateOne({ _id: 'b' }, { $set: { email_normalized: 'a@example.com' } }),
        () => ({ message: 'email already used', code: 'email_taken' }),
      );
      await expect(update).rejects.toMatchObject({ status: 409, code: 'email_taken' });
    } finally {
      await mongo.db.dropDatabase();
      await mongo.close();
    }
  });
});

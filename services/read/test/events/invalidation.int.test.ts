import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedFields, Topics, type Client, type StoredClient } from '@trackme/contracts';
import { createMongo, createRedis, parseEach, type InboundMessage, type MongoConnection, type RedisConnection } from '@trackme/platform';
import { isolatedEnv, sampleClient, uniqueId, waitFor } from '@trackme/testkit';
import { ReadCache } from '../../src/cache/read-cache.js';
import { ClientSource } from '../../src/clients/client-source.js';
import { changeFacts, createInvalidationHandler } from '../../src/events/invalidation.js';

let mongo: MongoConnection;
let redis: RedisConnection;
let source: ClientSource;

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = createMongo(env.MONGO_URL, 'read-test');
  redis = createRedis(env.REDIS_URL, 'read-test');
  await waitFor(() => redis.ping(), { what: 'redis' });
  source = new ClientSource(mongo.db, { lastLoginDays: 30 });
});

afterAll(async () => {
  await redis.close();
  await mongo.close();
});

let offset = 0;
function event(type: string, data: unknown): InboundMessage {
  offset += 1;
  const value = typeof data === 'string' ? data : JSON.stringify({ id: `e${offset}`, type, version: 1, occurred_at: new Date().toISOString(), correlation_id: 'c', data });
  return { topic: Topics.clientEvents, partition: 0, offset: String(offset), key: null, value: Buffer.from(value), headers: {}, timestamp: '0' };
}
const client = (id: string, version: number, name = `v${version}`): Client => sampleClient({ id, version, name });

describe('the read side consuming a run of change events', () => {
  it('stores every state of the run, newest version wins, reads snapshot-less events from Mongo and dead-letters only the poison', async () => {
    const cache = new ReadCache(redis.client, `trackme:test:${uniqueId()}:`, 60);
    const handle = createInvalidationHandler(cache, source);
    // a client whose event carries no snapshot is read from the database
    await mongo.db.collection<StoredClient>('clients').insertOne(storedFields(client('m1', 4, 'From Mongo')));
    const poison = event('ClientUpdated', '{not json');
    const { parsed, rejected } = parseEach(changeFacts, [
      event('ClientCreated', { client_id: 'a', version: 1, client: client('a', 1) }),
      event('ClientUpdated', { client_id: 'a', version: 2, client: client('a', 2) }),
      poison,
      event('ClientSomethingNew', { client_id: 'm1', version: 4 }),
      // a late, older event changes nothing
      event('ClientUpdated', { client_id: 'a', version: 1, client: client('a', 1, 'late') }),
      event('ClientCreated', { client_id: 'gone', version: 1, client: client('gone', 1) }),
      event('ClientDeleted', { client_id: 'gone', version: 2, client: client('gone', 1) }),
    ]);
    expect(await handle(parsed)).toEqual([]);

    expect(rejected.map((r) => [r.message, r.reason])).toEqual([[poison, 'invalid_json']]);
    expect(await cache.get('a')).toEqual({ kind: 'client', client: client('a', 2) });
    expect(await cache.get('m1')).toMatchObject({ kind: 'client', client: { id: 'm1', name: 'From Mongo', version: 4 } });
    expect(await cache.get('gone')).toEqual({ kind: 'deleted', version: 2 });
  });
});

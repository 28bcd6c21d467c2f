import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { isolatedEnv } from '@trackme/testkit';
import { CounterStore, type BatchRecord } from '../src/counting/counter-store.js';
import { Effects, type ClientState } from '../src/counting/reduce.js';

/**
 * A batch is recorded before it is applied, so a process killed anywhere in between leaves
 * counters that the next owner of the partition completes, each increment exactly once.
 */

let mongo: MongoClient;
let db: Db;
let store: CounterStore;

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = await MongoClient.connect(env.MONGO_URL);
  db = mongo.db();
  store = new CounterStore(db);
}, 60_000);

afterAll(() => mongo?.close());

const state = (id: string, v: number): ClientState => ({
  _id: id, v, vt: ['ClientCreated'], deleted: false, stage: 'registration', stage_since: 0, registered: 0, active: true, installed: false,
  contracts: 0, contracts_on: 0, source: null, channel: null, lc_day: 0, entered: {}, marks: {}, days: [],
});

const counter = async (id: string) => (await store.counters.findOne({ _id: id }))?.c;

describe('CounterStore', () => {
  it('records a batch, applies it, and recovers a batch that was recorded but not applied', async () => {
    const effects = new Effects();
    effects.add('day|2026-11-02', 'created', 1);
    await store.writeBatch(0, 10, [state('a', 1)], effects);
    expect(await counter('day|2026-11-02|p0')).toEqual({ created: 1 });

    // killed right after recording the next batch
    const crashed: BatchRecord = {
      _id: 'p0', to: 20, clients: [state('b', 1)], counters: [{ _id: 'day|2026-11-02|p0', inc: { created: 2 } }], at: new Date(),
    };
    await store.batches.replaceOne({ _id: 'p0' }, crashed, { upsert: true });
    expect(await store.recover(0)).toBe(20);
    expect(await counter('day|2026-11-02|p0')).toEqual({ created: 3 });
    expect(await store.clients.findOne({ _id: 'b' })).toMatchObject({ v: 1 });

    // a second owner recovering the same batch adds nothing
    expect(await store.recover(0)).toBe(20);
    expect(await counter('day|2026-11-02|p0')).toEqual({ created: 3 });
  });

  it('completes a batch that was applied to some counters only', async () => {
    const partial: BatchRecord = {
      _id: 'p1', to: 30, clients: [], at: new Date(),
      counters: [
        { _id: 'day|2026-11-03|p1', inc: { created: 1 } },
        { _id: 'week|2026-11-02|p1', inc: { created: 1 } },
      ],
    };
    await store.batches.replaceOne({ _id: 'p1' }, partial, { upsert: true });
    // killed after the day counter got the batch, before the week counter did
    await store.counters.insertOne({ _id: 'day|2026-11-03|p1', o: 30, c: { created: 1 } });
    await store.recover(1);
    expect(await counter('day|2026-11-03|p1')).toEqual({ created: 1 });
    expect(await counter('week|2026-11-02|p1')).toEqual({ created: 1 });
  });

  it('sums a period over the partitions and the rebuilt documents', async () => {
    await store.counters.insertMany([
      { _id: 'month|2026-11-01|p0', o: 1, c: { created: 2, 'g:active': 1 } },
      { _id: 'month|2026-11-01|p5', o: 1, c: { created: 3 } },
      { _id: 'month|2026-11-01|r', o: 0, c: { created: 4 } },
      // not a partition of the topic (6 partitions): not read
      { _id: 'month|2026-11-01|p6', o: 1, c: { created: 100 } },
    ]);
    const sums = await store.sum(['month|2026-11-01'], 6);
    expect(Object.fromEntries(sums.get('month|2026-11-01')!)).toEqual({ created: 9, 'g:active': 1 });
  });
});

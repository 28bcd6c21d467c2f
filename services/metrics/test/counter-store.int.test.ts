import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { ClientEventTypes, loadStageProcess } from '@trackme/contracts';
import { isolatedEnv, REPO_ROOT, sampleClient } from '@trackme/testkit';
import { CounterStore, type BatchRecord, type LegacyClientState } from '../src/counting/counter-store.js';
import { Effects, reduce, TOTALS_KEY, type ClientState, type CountedEvent } from '../src/counting/reduce.js';
import { Calendar } from '../src/periods.js';

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

const state = (id: string, version: number): ClientState => ({
  _id: id, version, types_at_version: ['ClientCreated'], deleted: false, stage: 'registration', stage_since: 0, registered: 0, active: true,
  installed: false, contracts: 0, contracts_on: 0, source: null, channel: null, last_change_day: 0, entered: {}, marks: {}, days: [],
});

/** A state as written before its fields were named (`v`, `vt`, `lc_day`). */
const legacyState = (id: string, v: number, vt: string[], lcDay: number): LegacyClientState => {
  const { version: _version, types_at_version: _types, last_change_day: _day, ...rest } = state(id, v);
  return { ...rest, v, vt, lc_day: lcDay };
};

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
    expect(await store.clients.findOne({ _id: 'b' })).toMatchObject({ version: 1 });

    // a second owner recovering the same batch adds nothing
    expect(await store.recover(0)).toBe(20);
    expect(await counter('day|2026-11-02|p0')).toEqual({ created: 3 });
  });

  it('counts from a state stored before its fields were named: a repeat is not counted again, a later version is', async () => {
    const context = { calendar: new Calendar('UTC'), process: loadStageProcess(`${REPO_ROOT}/config/stages.yaml`) };
    const day = context.calendar.dayNumber(Date.parse('2026-11-02T09:00:00Z'));
    await store.clients.insertOne(legacyState('old-a', 2, [ClientEventTypes.updated], day));
    const change = (type: string, version: number, at: string, stage: string, extra: Partial<CountedEvent['data']> = {}): CountedEvent => ({
      id: `${type}-${version}`,
      type,
      occurredAt: Date.parse(at),
      data: { client_id: 'old-a', version, client: sampleClient({ id: 'old-a', app: 'not_installed', stage, version, last_updated: at }), ...extra },
    });

    const effects = new Effects();
    const loaded = (await store.loadStates(['old-a'])).get('old-a');
    const repeated = reduce(loaded, change(ClientEventTypes.updated, 2, '2026-11-02T09:00:00.000Z', 'registration'), context, effects);
    expect(repeated).toBe(loaded);
    expect(effects.outcomes.get('duplicate')).toBe(1);

    const to = 'product_selection';
    const moved = reduce(repeated, change(ClientEventTypes.stageChanged, 3, '2026-11-03T10:00:00.000Z', to, { from: 'registration', to, rollback: false }), context, effects);
    expect(effects.outcomes.get('counted')).toBe(1);
    expect(effects.counters.get('day|2026-11-03')?.get(`tr:registration:${to}`)).toBe(1);
    // the client's last change moves from the stored day to the new one
    expect(effects.counters.get(TOTALS_KEY)?.get(`g:lc:${day}`)).toBe(-1);
    expect(effects.counters.get(TOTALS_KEY)?.get(`g:lc:${day + 1}`)).toBe(1);

    await store.writeBatch(9, 1, [moved!], effects);
    const stored = await store.clients.findOne({ _id: 'old-a' });
    expect(stored).toMatchObject({ version: 3, types_at_version: [ClientEventTypes.stageChanged], last_change_day: day + 1, stage: to });
    // the old names are written beside them, for an instance of the release before during a rolling upgrade
    expect(stored).toMatchObject({ v: 3, vt: [ClientEventTypes.stageChanged], lc_day: day + 1 });
  });

  it('recovers a batch recorded before the state fields were named, writing its states with both names', async () => {
    const crashed: BatchRecord = { _id: 'p2', to: 5, clients: [legacyState('old-b', 4, [ClientEventTypes.updated], 20_000)], counters: [], at: new Date() };
    await store.batches.replaceOne({ _id: 'p2' }, crashed, { upsert: true });
    expect(await store.recover(2)).toBe(5);
    const stored = await store.clients.findOne({ _id: 'old-b' });
    expect(stored).toMatchObject({ version: 4, types_at_version: [ClientEventTypes.updated], last_change_day: 20_000, v: 4, vt: [ClientEventTypes.updated], lc_day: 20_000 });
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

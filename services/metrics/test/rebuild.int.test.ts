import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { loadStageProcess } from '@trackme/contracts';
import { isolatedEnv, REPO_ROOT } from '@trackme/testkit';
import { CounterStore } from '../src/counting/counter-store.js';
import { Calendar, dayOfDate } from '../src/periods.js';
import { rebuildCounters } from '../src/rebuild.js';

/**
 * Rebuilding from what the clients service stores: a client document (or a deleted client's
 * tombstone) and its timeline of changes, without snapshots; the state before each change is
 * found by undoing the later ones.
 */

let mongo: MongoClient;
let db: Db;
let store: CounterStore;
const calendar = new Calendar('UTC');
const process_ = loadStageProcess(`${REPO_ROOT}/config/stages.yaml`);
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = await MongoClient.connect(env.MONGO_URL);
  db = mongo.db();
  store = new CounterStore(db);
  const base = { name: 'Ann', email: 'ann@example.com', is_active: true, source: 'web', channel: null, last_login: at('2026-11-03T08:00:00Z') };
  await db.collection('clients').insertMany([
    // today: in data_consent, app installed (it was not), autopayment of k1 enabled (it was not)
    {
      _id: 'a', ...base, email_normalized: 'ann@example.com', stage: 'data_consent', app: 'installed', contracts: [{ id: 'k1', autopayment: 'enabled' }],
      registration_date: at('2026-10-30T09:00:00Z'), last_updated: at('2026-11-02T10:00:00Z'), version: 5,
    },
    // deleted on 11-04, in registration, never changed before
    {
      // stored as the clients service stores them: the unique email index holds every document
      _id: 'b', ...base, email: 'bo@example.com', email_normalized: 'deleted:b', last_login: null, stage: 'registration', app: 'not_installed', contracts: [],
      registration_date: at('2026-11-01T09:00:00Z'), last_updated: at('2026-11-04T09:00:00Z'), version: 2, deleted: true,
    },
  ] as never[]);
  const row = (version: number, type: string, iso: string, extra: object = {}) => ({ event_id: `${type}-${version}`, type, version, command_id: 'x', actor: { subject: 't' }, at: at(iso), ...extra });
  await db.collection('client_history').insertMany([
    {
      _id: 'a',
      entries: [
        row(1, 'ClientCreated', '2026-10-30T09:00:00Z'),
        row(2, 'ClientStageChanged', '2026-10-31T09:00:00Z', { from: 'registration', to: 'product_selection', rollback: false }),
        row(3, 'ClientAppStatusChanged', '2026-11-01T09:00:00Z', { changes: { app: { from: 'not_installed', to: 'installed' } } }),
        row(4, 'ClientAutopaymentChanged', '2026-11-01T10:00:00Z', { changes: { 'autopayment:k1': { from: 'disabled', to: 'enabled' } } }),
        row(5, 'ClientStageChanged', '2026-11-02T10:00:00Z', { from: 'product_selection', to: 'data_consent', rollback: false }),
      ],
    },
    { _id: 'b', entries: [row(1, 'ClientCreated', '2026-11-01T09:00:00Z'), row(2, 'ClientDeleted', '2026-11-04T09:00:00Z')] },
  ] as never[]);
}, 60_000);

afterAll(() => mongo?.close());

const counters = async (key: string) => Object.fromEntries((await store.sum([key], 6)).get(key)!);

describe('rebuildCounters', () => {
  it('replays each timeline from the state before its first change', async () => {
    const result = await rebuildCounters({ db, store, calendar, process: process_ });
    expect(result).toMatchObject({ clients: 2, events: 7, logins: 1 });
    const october = await counters('month|2026-10-01');
    expect(october).toMatchObject({ created: 1, 'tr:registration:product_selection': 1, 'dur_sum:registration': 24, 'dur_n:registration': 1 });
    const november = await counters('month|2026-11-01');
    expect(november).toMatchObject({ created: 1, 'tr:product_selection:data_consent': 1, active: 1 });
    // the state figures moved with each change: a installed its app on 11-01, b left on 11-04
    expect(await counters('day|2026-11-01')).toMatchObject({ 'g:installed': 1, 'g:contracts_on': 1, 'g:clients': 1 });
    expect(await counters('day|2026-11-04')).toMatchObject({ 'g:clients': -1, 'g:stage:registration': -1 });
    expect(await counters('all|-')).toMatchObject({ 'g:clients': 1, 'g:stage:data_consent': 1, 'g:installed': 1 });
    // the states are the ones the consumer goes on from
    expect(await store.clients.findOne({ _id: 'a' })).toMatchObject({ version: 5, stage: 'data_consent', installed: true, contracts_on: 1 });
    expect(await store.clients.findOne({ _id: 'b' })).toMatchObject({ version: 2, deleted: true });
  });

  it('rewrites only the periods from --from on, and the running totals', async () => {
    await store.counters.replaceOne({ _id: 'month|2026-10-01|p3' }, { o: 9, c: { created: 40 } }, { upsert: true });
    await store.counters.replaceOne({ _id: 'month|2026-11-01|p3' }, { o: 9, c: { created: 40 } }, { upsert: true });
    await store.batches.replaceOne({ _id: 'p3' }, { to: 9, clients: [], counters: [], at: new Date() }, { upsert: true });
    await rebuildCounters({ db, store, calendar, process: process_, fromDay: dayOfDate('2026-11-01')! });
    expect((await counters('month|2026-10-01'))['created']).toBe(41);
    expect((await counters('month|2026-11-01'))['created']).toBe(1);
    expect(await store.batches.countDocuments()).toBe(0);
  });
});

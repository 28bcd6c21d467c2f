import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedFields, type Client, type ListClientsQuery, type StoredClient } from '@trackme/contracts';
import { createMongo, type MongoConnection } from '@trackme/platform';
import { isolatedEnv } from '@trackme/testkit';
import { ClientSource } from '../../src/clients/client-source.js';
import { rowOf, selectRows } from '../../src/clients/filter-row.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const policy = { lastLoginDays: 30 };
const iso = (ms: number) => new Date(ms).toISOString();

let mongo: MongoConnection;
let source: ClientSource;

let sequence = 0;
function client(overrides: Partial<Client> = {}): Client {
  sequence += 1;
  return {
    id: `c${String(sequence).padStart(2, '0')}`,
    name: `Client ${sequence}`,
    email: `client${sequence}@example.com`,
    stage: 'registration',
    is_active: true,
    source: 'website',
    channel: 'organic',
    app: 'installed',
    last_login: iso(NOW - DAY),
    registration_date: '2026-01-01T00:00:00.000Z',
    // later clients changed more recently
    last_updated: iso(NOW - (100 - sequence) * 60_000),
    contracts: [{ id: 'k1', autopayment: 'enabled' }],
    version: 1,
    ...overrides,
  };
}

const fixtures = {
  plain: client(),
  mobile: client({ source: 'mobile', channel: 'ads' }),
  proposal: client({ stage: 'product_selection', app: 'not_installed' }),
  inactive: client({ is_active: false }),
  stale: client({ last_login: iso(NOW - 31 * DAY) }),
  recentLogin: client({ last_login: iso(NOW - 29 * DAY) }),
  never: client({ last_login: null }),
  noAutopay: client({ contracts: [{ id: 'k1', autopayment: 'enabled' }, { id: 'k2', autopayment: 'disabled' }] }),
  mixedCase: client({ email: 'Mixed.Case@Example.com' }),
  oldUpdate: client({ last_updated: '2026-10-01T10:00:00.000Z' }),
};
const deleted = client();

const query = (overrides: Partial<ListClientsQuery> = {}): ListClientsQuery => ({ is_active: true, limit: 50, offset: 0, ...overrides });
const ids = async (overrides: Partial<ListClientsQuery> = {}) => (await source.list(query(overrides), NOW)).clients.map((c) => c.id);
const idsOf = (...clients: Client[]) => clients.map((c) => c.id);
/** the rows the read cache keeps: every client that is not deleted */
const liveRows = () => Object.values(fixtures).map(rowOf);
const rowIds = (overrides: Partial<ListClientsQuery>) => selectRows(liveRows(), query(overrides), NOW, policy).page.map((row) => row.id);

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = createMongo(env.MONGO_URL, 'read-test');
  const docs: StoredClient[] = [...Object.values(fixtures), deleted].map(storedFields);
  await mongo.db.collection<StoredClient>('clients').insertMany(docs.map((doc) => (doc._id === deleted.id ? { ...doc, deleted: true } : doc)));
  source = new ClientSource(mongo.db, policy);
});

afterAll(async () => {
  await mongo.close();
});

describe('ClientSource.list against the Mongo-wire server', () => {
  const active = Object.values(fixtures).filter((c) => c.is_active);
  const newestFirst = (clients: Client[]) => [...clients].sort((a, b) => b.last_updated.localeCompare(a.last_updated)).map((c) => c.id);

  it('lists active clients, newest change first, without deleted ones; total counts them all', async () => {
    const result = await source.list(query(), NOW);
    expect(result.clients.map((c) => c.id)).toEqual(newestFirst(active));
    expect(result.total).toBe(active.length);
    expect(result.clients[0]).not.toHaveProperty('pending_events');
  });

  it('pages with limit and offset while total stays the number of matches', async () => {
    const page = await source.list(query({ limit: 3, offset: 3 }), NOW);
    expect(page.clients.map((c) => c.id)).toEqual(newestFirst(active).slice(3, 6));
    expect(page.total).toBe(active.length);
    expect((await source.list(query({ offset: 100 }), NOW)).clients).toEqual([]);
  });

  it.each([
    ['is_active=false', { is_active: false }, [fixtures.inactive]],
    ['id', { id: fixtures.mobile.id }, [fixtures.mobile]],
    ['stage', { stage: 'product_selection' }, [fixtures.proposal]],
    ['source', { source: 'mobile' }, [fixtures.mobile]],
    ['channel', { channel: 'ads' }, [fixtures.mobile]],
    ['app', { app: 'not_installed' }, [fixtures.proposal]],
    ['email, whatever its case', { email: 'mixed.case@EXAMPLE.com' }, [fixtures.mixedCase]],
    ['updated (on or after the day)', { updated: '2026-11-20' }, Object.values(fixtures).filter((c) => c.is_active && c !== fixtures.oldUpdate)],
    ['updated on the very day', { updated: '2026-10-01' }, active],
    ['last_login (on or after the day)', { last_login: iso(NOW - 29 * DAY).slice(0, 10) }, active.filter((c) => c.last_login && c.last_login >= iso(NOW - 29 * DAY).slice(0, 10))],
    [
      'highlighted=true',
      { highlighted: true },
      [fixtures.proposal, fixtures.stale, fixtures.never, fixtures.noAutopay],
    ],
    [
      'highlighted=false',
      { highlighted: false },
      active.filter((c) => ![fixtures.proposal, fixtures.stale, fixtures.never, fixtures.noAutopay].includes(c)),
    ],
    ['a combination (source and channel)', { source: 'mobile', channel: 'organic' }, []],
    ['a combination (highlighted and stage)', { highlighted: true, stage: 'product_selection' }, [fixtures.proposal]],
    ['a value that only looks like an operator', { stage: '$ne' }, []],
  ] as [string, Partial<ListClientsQuery>, Client[]][])('filters by %s, in Mongo, in the cached rows and in a bulk set alike', async (_case, filters, expected) => {
    expect((await ids(filters)).sort()).toEqual(idsOf(...expected).sort());
    expect(rowIds(filters).sort()).toEqual(idsOf(...expected).sort());
    const { limit: _limit, offset: _offset, ...filter } = query(filters);
    expect((await source.ids(filter, 1_000, NOW)).sort()).toEqual(idsOf(...expected).sort());
  });

  it('gives the ids of every match in list order, however many pages they fill, up to the number asked', async () => {
    expect(await source.ids({ is_active: true }, 1_000, NOW)).toEqual(newestFirst(active));
    expect(await source.ids({ is_active: true }, 3, NOW)).toEqual(newestFirst(active).slice(0, 3));
  });

  it('orders and pages the cached rows exactly as Mongo does', async () => {
    for (const page of [query(), query({ limit: 3, offset: 3 }), query({ is_active: false }), query({ highlighted: true, limit: 2 })]) {
      const mongo = await source.list(page, NOW);
      const rows = selectRows(liveRows(), page, NOW, policy);
      expect(rows.page.map((row) => row.id)).toEqual(mongo.clients.map((c) => c.id));
      expect(rows.total).toBe(mongo.total);
      expect(rows.membershipValidUntil).toBe(mongo.membershipValidUntil);
    }
  });

  it('says when a highlighted list may change by the clock alone: when the oldest recent login turns 30 days old', async () => {
    const result = await source.list(query({ highlighted: true }), NOW);
    expect(result.membershipValidUntil).toBe(NOW - 29 * DAY + 30 * DAY);
    expect((await source.list(query(), NOW)).membershipValidUntil).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('ClientSource.scan', () => {
  it('yields every stored client in batches, deleted ones as tombstones', async () => {
    const states = [];
    for await (const batch of source.scan(4)) {
      expect(batch.length).toBeLessThanOrEqual(4);
      states.push(...batch);
    }
    expect(states).toHaveLength(Object.keys(fixtures).length + 1);
    expect(states.find((s) => s.id === deleted.id)).toEqual({ id: deleted.id, version: 1, client: null });
    expect(states.find((s) => s.id === fixtures.plain.id)?.client).toEqual(fixtures.plain);
  });
});

describe('ClientSource.get', () => {
  it('finds a client, reports a deleted one with its version, and nothing for an unknown id', async () => {
    expect(await source.get(fixtures.plain.id)).toEqual({ id: fixtures.plain.id, version: 1, client: fixtures.plain });
    expect(await source.get(deleted.id)).toEqual({ id: deleted.id, version: 1, client: null });
    expect(await source.get('nobody')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import type { Client, ListClientsQuery } from '@trackme/contracts';
import { byNewestChange, rowOf, rowPredicate, selectRows, type FilterRow } from '../../src/clients/filter-row.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const policy = { lastLoginDays: 30 };

const row = (overrides: Partial<FilterRow> = {}): FilterRow => ({
  id: 'c1',
  stage: 'registration',
  source: 'website',
  channel: 'organic',
  app: 'installed',
  active: true,
  email: 'ann@example.com',
  updated: Date.parse('2026-11-20T10:00:00.000Z'),
  login: NOW - DAY,
  autopayOff: false,
  ...overrides,
});

const matches = (query: Partial<ListClientsQuery>, target: FilterRow) => rowPredicate(query, NOW, policy)(target);
const page = (query: Partial<ListClientsQuery> = {}): ListClientsQuery => ({ limit: 50, offset: 0, ...query }) as ListClientsQuery;

describe('a client as a filter row', () => {
  const client: Client = {
    id: 'c1',
    name: 'Ann',
    email: ' Ann@Example.COM ',
    stage: 'form_filling',
    is_active: false,
    source: null,
    channel: 'ads',
    app: 'not_installed',
    last_login: '2026-11-01T08:30:00.000Z',
    registration_date: '2026-01-01T00:00:00.000Z',
    last_updated: '2026-11-20T10:00:00.000Z',
    contracts: [
      { id: 'k1', autopayment: 'enabled' },
      { id: 'k2', autopayment: 'disabled' },
    ],
    version: 4,
  };

  it('keeps the filtered fields, the email normalised and the dates as instants', () => {
    expect(rowOf(client)).toEqual({
      id: 'c1',
      stage: 'form_filling',
      source: null,
      channel: 'ads',
      app: 'not_installed',
      active: false,
      email: 'ann@example.com',
      updated: Date.parse('2026-11-20T10:00:00.000Z'),
      login: Date.parse('2026-11-01T08:30:00.000Z'),
      autopayOff: true,
    });
  });

  it('has no login instant for a client who never signed in, and autopayment on when no contract disables it', () => {
    const never = rowOf({ ...client, last_login: null, contracts: [{ id: 'k1', autopayment: 'enabled' }] });
    expect(never.login).toBeNull();
    expect(never.autopayOff).toBe(false);
    expect(rowOf({ ...client, contracts: [] }).autopayOff).toBe(false);
  });
});

describe('a list query as a predicate', () => {
  it('matches every row when nothing is asked', () => {
    expect(matches({}, row())).toBe(true);
  });

  it.each<[string, Partial<ListClientsQuery>, Partial<FilterRow>]>([
    ['is_active', { is_active: false }, { active: false }],
    ['id', { id: 'c9' }, { id: 'c9' }],
    ['stage', { stage: 'completed' }, { stage: 'completed' }],
    ['source', { source: 'partner' }, { source: 'partner' }],
    ['channel', { channel: 'ads' }, { channel: 'ads' }],
    ['app', { app: 'not_installed' }, { app: 'not_installed' }],
  ])('filters on %s: the row with that value only', (_name, query, fields) => {
    expect(matches(query, row(fields))).toBe(true);
    expect(matches(query, row())).toBe(false);
  });

  it('is_active=true keeps active clients only', () => {
    expect(matches({ is_active: true }, row())).toBe(true);
    expect(matches({ is_active: true }, row({ active: false }))).toBe(false);
  });

  it('matches an email whatever its case or surrounding spaces', () => {
    expect(matches({ email: '  ANN@example.com' }, row())).toBe(true);
    expect(matches({ email: 'bob@example.com' }, row())).toBe(false);
  });

  it('updated=DAY keeps clients changed on or after the start of that day (UTC)', () => {
    const query = { updated: '2026-11-20' };
    expect(matches(query, row({ updated: Date.parse('2026-11-20T00:00:00.000Z') }))).toBe(true);
    expect(matches(query, row({ updated: Date.parse('2026-11-25T00:00:00.000Z') }))).toBe(true);
    expect(matches(query, row({ updated: Date.parse('2026-11-19T23:59:59.999Z') }))).toBe(false);
  });

  it('last_login=DAY keeps clients who signed in on or after that day, never those who did not', () => {
    const query = { last_login: '2026-11-20' };
    expect(matches(query, row({ login: Date.parse('2026-11-20T00:00:00.000Z') }))).toBe(true);
    expect(matches(query, row({ login: Date.parse('2026-11-19T23:59:59.999Z') }))).toBe(false);
    expect(matches(query, row({ login: null }))).toBe(false);
  });

  describe('highlighted', () => {
    const cutoff = NOW - 30 * DAY;

    it.each<[string, Partial<FilterRow>]>([
      ['the app is not installed', { app: 'not_installed' }],
      ['the client never signed in', { login: null }],
      ['the last login is older than the policy allows', { login: cutoff - 1 }],
      ['a contract has autopayment disabled', { autopayOff: true }],
    ])('true keeps a client when %s, and false drops it', (_cause, fields) => {
      expect(matches({ highlighted: true }, row(fields))).toBe(true);
      expect(matches({ highlighted: false }, row(fields))).toBe(false);
    });

    it('a login exactly at the cutoff is not yet highlighted', () => {
      expect(matches({ highlighted: true }, row({ login: cutoff }))).toBe(false);
      expect(matches({ highlighted: false }, row({ login: cutoff }))).toBe(true);
    });

    it('true drops a client with nothing to flag, and false keeps it', () => {
      expect(matches({ highlighted: true }, row())).toBe(false);
      expect(matches({ highlighted: false }, row())).toBe(true);
    });
  });

  it('combines filters: every one must hold', () => {
    const query = { stage: 'completed', channel: 'ads' };
    expect(matches(query, row({ stage: 'completed', channel: 'ads' }))).toBe(true);
    expect(matches(query, row({ stage: 'completed' }))).toBe(false);
    expect(matches(query, row({ channel: 'ads' }))).toBe(false);
  });
});

describe('ordering', () => {
  it('puts the newest change first', () => {
    const older = row({ id: 'a', updated: 1 });
    const newer = row({ id: 'b', updated: 2 });
    expect([older, newer].sort(byNewestChange).map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('breaks ties by id, so pages never overlap', () => {
    const rows = [row({ id: 'c' }), row({ id: 'a' }), row({ id: 'b' }), row({ id: 'a' })];
    expect(rows.sort(byNewestChange).map((r) => r.id)).toEqual(['a', 'a', 'b', 'c']);
    expect(byNewestChange(row({ id: 'a' }), row({ id: 'a' }))).toBe(0);
  });
});

describe('selecting a page', () => {
  const rows = Array.from({ length: 7 }, (_, index) => row({ id: `c${index}`, updated: index, stage: index % 2 === 0 ? 'registration' : 'completed' }));

  it('returns the requested page, newest first, with the total of all matches', () => {
    const selected = selectRows(rows, page({ stage: 'registration', limit: 2, offset: 1 }), NOW, policy);
    expect(selected.total).toBe(4);
    expect(selected.page.map((r) => r.id)).toEqual(['c4', 'c2']);
  });

  it('returns an empty page past the end, still with the total', () => {
    const selected = selectRows(rows, page({ offset: 10 }), NOW, policy);
    expect(selected).toMatchObject({ page: [], total: 7 });
  });

  it('a selection without `highlighted` stays valid forever', () => {
    expect(selectRows(rows, page(), NOW, policy).membershipValidUntil).toBe(Number.POSITIVE_INFINITY);
  });

  it('a `highlighted` selection changes when the oldest recent login among the other matches turns too old', () => {
    const recent = [
      row({ id: 'old', login: NOW - 20 * DAY }),
      row({ id: 'older', login: NOW - 25 * DAY }),
      row({ id: 'other-stage', stage: 'completed', login: NOW - 29 * DAY }),
      row({ id: 'stale', login: NOW - 40 * DAY }),
      row({ id: 'never', login: null }),
    ];
    const selected = selectRows(recent, page({ highlighted: false, stage: 'registration' }), NOW, policy);
    expect(selected.page.map((r) => r.id).sort()).toEqual(['old', 'older']);
    // 'older' turns 30 days old first; 'other-stage' is outside the base filter and does not count
    expect(selected.membershipValidUntil).toBe(NOW - 25 * DAY + 30 * DAY);
  });

  it('a `highlighted` selection where no match has a recent login stays valid forever', () => {
    const stale = [row({ id: 'stale', login: NOW - 40 * DAY }), row({ id: 'never', login: null })];
    expect(selectRows(stale, page({ highlighted: true }), NOW, policy).membershipValidUntil).toBe(Number.POSITIVE_INFINITY);
  });
});

import { fileURLToPath } from 'node:url';
import {
  ACTIVITY_EVENT_SCHEMAS,
  buildStageProcess,
  CLIENT_EVENT_SCHEMAS,
  EnvelopeSchema,
  loadStageProcess,
  type Client,
  type MetricInterval,
  type StageProcess,
} from '@trackme/contracts';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { generateHistory, toEnvelopes, type GeneratedEnvelope } from './support/history-generator.js';
import { assertValidHistory, type ClientChange, type ClientCreation, type ClientHistory, type FieldValues, type History } from './support/history.js';
import { expectedRows, periodEnd, periodStartOf, rowKey, type ExpectedRow } from './support/oracle.js';
import { addDays, periodBegin } from './support/periods.js';

const t = (iso: string) => Date.parse(iso);
const BERLIN = 'Europe/Berlin';
const UTC = 'UTC';

/** A four-stage process keeps the hand-written figures short; the last stage is the conversion stage by default. */
const FOUR_STAGES = buildStageProcess({
  stages: [
    { id: 'lead', name: 'Lead', order: 1, transitions: ['contacted'] },
    { id: 'contacted', name: 'Contacted', order: 2, transitions: ['lead', 'offer'] },
    { id: 'offer', name: 'Offer', order: 3, transitions: ['contacted', 'won'] },
    { id: 'won', name: 'Won', order: 4, transitions: ['offer'] },
  ],
});

// ---- writing histories by hand -------------------------------------------------------------

type Created = Omit<ClientCreation, 'at'> & { at: string };
const move = (at: string, stage: string): ClientChange => ({ kind: 'update', at: t(at), stage });
const update = (at: string, fields: FieldValues, stage?: string): ClientChange => ({ kind: 'update', at: t(at), fields, ...(stage ? { stage } : {}) });
const appActivity = (at: string, to: 'installed' | 'not_installed'): ClientChange => ({ kind: 'app', at: t(at), to });
const autopaymentActivity = (at: string, contractId: string, to: 'enabled' | 'disabled'): ClientChange => ({ kind: 'autopayment', at: t(at), contractId, to });
const deletion = (at: string): ClientChange => ({ kind: 'delete', at: t(at) });
/** a login applied when it happened, or at `arrivedAt` */
const login = (at: string, arrivedAt = at) => ({ at: t(at), arrivedAt: t(arrivedAt) });

function client(id: string, created: Created, changes: ClientChange[], logins: Array<{ at: number; arrivedAt: number }>): ClientHistory {
  return { id, name: `Client ${id}`, email: `${id}@example.com`, created: { ...created, at: t(created.at) }, changes, logins };
}

function history(clients: ClientHistory[], process: StageProcess = FOUR_STAGES): History {
  const result: History = { seed: 1, start: t('2024-01-01T00:00:00Z'), end: t('2024-06-30T00:00:00Z'), process, clients };
  assertValidHistory(result);
  return result;
}

const row = (type: ExpectedRow['type'], value: number, labels: Record<string, string> = {}): ExpectedRow => ({ type, labels, value });
const perStage = (counts: Record<string, number>) => Object.entries(counts).map(([stage, n]) => row('clients-per-stage', n, { stage }));

/** Same rows (by type and labels) with the same values, to 9 decimals. */
function expectRows(actual: ExpectedRow[], expected: ExpectedRow[]): void {
  const byKey = (rows: ExpectedRow[]) => new Map(rows.map((r) => [rowKey(r), r.value]));
  const [got, want] = [byKey(actual), byKey(expected)];
  expect(actual.length, 'one row per type and labels').toBe(got.size);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, value] of want) expect(got.get(key), key).toBeCloseTo(value, 9);
}

function rowsFor(h: History, interval: MetricInterval, periodStart: string, tz: string, end?: string): ExpectedRow[] {
  const E = end ? new Date(end) : periodEnd(periodStart, interval, tz);
  return expectedRows(h, { interval, periodStart, end: E, now: end ? E : new Date('2024-06-01T00:00:00Z'), tz, process: h.process });
}

// ---- the periods ---------------------------------------------------------------------------

describe('periods in a zone', () => {
  it('names a period by the local date it starts on', () => {
    expect(periodStartOf(new Date('2024-03-31T22:30:00Z'), 'day', UTC)).toBe('2024-03-31');
    expect(periodStartOf(new Date('2024-03-31T22:30:00Z'), 'day', BERLIN)).toBe('2024-04-01');
    expect(periodStartOf(new Date('2024-03-31T21:59:59.999Z'), 'week', BERLIN)).toBe('2024-03-25');
    expect(periodStartOf(new Date('2024-03-31T22:00:00Z'), 'week', BERLIN)).toBe('2024-04-01');
    expect(periodStartOf(new Date('2024-02-29T23:30:00Z'), 'month', UTC)).toBe('2024-02-01');
    expect(periodStartOf(new Date('2024-02-29T23:30:00Z'), 'month', BERLIN)).toBe('2024-03-01');
    expect(periodStartOf(new Date('2025-01-01T12:00:00Z'), 'week', UTC)).toBe('2024-12-30');
    expect(periodStartOf(new Date('2024-03-31T18:45:00Z'), 'day', 'Asia/Kolkata')).toBe('2024-04-01');
  });

  it('ends a period at the next local midnight, 23 or 25 hours later on DST days', () => {
    expect(periodEnd('2024-03-31', 'day', UTC)).toEqual(new Date('2024-04-01T00:00:00Z'));
    expect(periodBegin('2024-03-31', 'day', BERLIN)).toEqual(new Date('2024-03-30T23:00:00Z'));
    expect(periodEnd('2024-03-31', 'day', BERLIN)).toEqual(new Date('2024-03-31T22:00:00Z'));
    expect(periodBegin('2024-10-27', 'day', BERLIN)).toEqual(new Date('2024-10-26T22:00:00Z'));
    expect(periodEnd('2024-10-27', 'day', BERLIN)).toEqual(new Date('2024-10-27T23:00:00Z'));
    expect(periodEnd('2024-03-25', 'week', BERLIN)).toEqual(new Date('2024-03-31T22:00:00Z'));
    expect(periodEnd('2024-12-30', 'week', UTC)).toEqual(new Date('2025-01-06T00:00:00Z'));
    expect(periodEnd('2024-03-01', 'month', BERLIN)).toEqual(new Date('2024-03-31T22:00:00Z'));
    expect(periodEnd('2024-12-01', 'month', UTC)).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(periodEnd('2024-03-31', 'day', 'Asia/Kolkata')).toEqual(new Date('2024-03-31T18:30:00Z'));
  });

  it('starts a day at its first instant where DST skips midnight, and at the later midnight where it repeats it', () => {
    // Santiago: 2024-09-08 00:00 -04 jumps to 01:00 -03; 2024-04-07 00:00 -03 falls back to 2024-04-06 23:00 -04
    expect(periodEnd('2024-09-07', 'day', 'America/Santiago')).toEqual(new Date('2024-09-08T04:00:00Z'));
    expect(periodStartOf(new Date('2024-09-08T03:59:59.999Z'), 'day', 'America/Santiago')).toBe('2024-09-07');
    expect(periodEnd('2024-04-06', 'day', 'America/Santiago')).toEqual(new Date('2024-04-07T04:00:00Z'));
  });

  it('refuses a date that does not start a period of that interval', () => {
    expect(() => periodEnd('2024-03-26', 'week', UTC)).toThrow(/does not start a week/);
    expect(() => periodEnd('2024-03-02', 'month', UTC)).toThrow(/does not start a month/);
    expect(() => periodEnd('2024-02-30', 'day', UTC)).toThrow(/not a calendar date/);
  });
});

// ---- hand-computed figures -----------------------------------------------------------------

/**
 * Six clients around the spring DST change in Berlin (2024-03-31 02:00 CET → 03:00 CEST). Berlin
 * periods: day 03-31 = [03-30T23:00Z, 03-31T22:00Z) (23 h), day 04-01 = [03-31T22:00Z, 04-01T22:00Z),
 * week 03-25 = [03-24T23:00Z, 03-31T22:00Z), month March = [02-29T23:00Z, 03-31T22:00Z).
 * Several facts fall between 22:00Z and 24:00Z, or at 23:xxZ, so UTC and Berlin disagree on them.
 */
const AROUND_DST = history([
  client(
    'c1',
    { at: '2024-03-30T23:30:00Z', stage: 'lead', source: 'web', channel: 'paid', is_active: true, app: 'not_installed', contracts: [{ id: 'k1', autopayment: 'enabled' }] },
    [move('2024-03-31T10:00:00Z', 'contacted'), move('2024-03-31T21:30:00Z', 'offer'), move('2024-03-31T22:30:00Z', 'won')],
    [login('2024-03-30T23:45:00Z'), login('2024-03-31T12:00:00Z')],
  ),
  client(
    'c2',
    {
      at: '2024-03-20T08:00:00Z',
      stage: 'contacted',
      source: null,
      channel: 'organic',
      is_active: true,
      app: 'installed',
      contracts: [
        { id: 'k1', autopayment: 'disabled' },
        { id: 'k2', autopayment: 'enabled' },
      ],
    },
    [
      move('2024-03-31T05:00:00Z', 'offer'),
      move('2024-03-31T06:00:00Z', 'contacted'), // a rollback
      update('2024-03-31T07:00:00Z', { app: 'not_installed' }, 'offer'), // ClientUpdated + ClientStageChanged
    ],
    [login('2024-03-26T09:00:00Z'), login('2024-03-31T22:10:00Z')],
  ),
  client(
    'c3',
    { at: '2024-03-10T12:00:00Z', stage: 'offer', source: 'web', channel: null, is_active: true, app: 'not_installed', contracts: [] },
    [move('2024-03-31T21:00:00Z', 'won'), deletion('2024-04-01T10:00:00Z')],
    [login('2024-03-31T21:50:00Z', '2024-04-01T09:00:00Z')], // applied late, after its conversion
  ),
  client(
    'c4',
    { at: '2024-02-29T23:30:00Z', stage: 'lead', source: 'ads', channel: 'paid', is_active: true, app: 'installed', contracts: [{ id: 'k1', autopayment: 'disabled' }] },
    [update('2024-03-05T10:00:00Z', { is_active: false }), autopaymentActivity('2024-03-31T23:30:00Z', 'k1', 'enabled')],
    [login('2024-03-01T10:00:00Z')],
  ),
  client(
    'c5',
    { at: '2024-01-15T09:00:00Z', stage: 'lead', source: null, channel: null, is_active: true, app: 'not_installed', contracts: [{ id: 'k1', autopayment: 'enabled' }] },
    [appActivity('2024-03-20T10:00:00Z', 'installed')], // activity leaves last_updated: still a dropout
    [login('2024-01-20T10:00:00Z')],
  ),
  client(
    'c6',
    {
      at: '2024-03-24T23:30:00Z', // Monday 00:30 in Berlin, Sunday in UTC
      stage: 'lead',
      source: 'ads',
      channel: null,
      is_active: true,
      app: 'not_installed',
      contracts: [
        { id: 'k1', autopayment: 'enabled' },
        { id: 'k2', autopayment: 'disabled' },
      ],
    },
    [
      update('2024-03-27T12:00:00Z', {
        contracts: [
          { id: 'k1', autopayment: 'enabled' },
          { id: 'k2', autopayment: 'enabled' },
        ],
      }),
    ],
    [login('2024-03-24T23:40:00Z'), login('2024-03-27T12:30:00Z'), login('2024-03-27T13:00:00Z')],
  ),
]);

/*
 * Durations used below, worked out by hand (absolute time, so DST does not change them):
 * - leaving lead: c1 03-30T23:30 → 03-31T10:00 = 10.5 h
 * - leaving contacted: c2 03-20T08:00 → 03-31T05:00 = 261 h; c2 06:00 → 07:00 = 1 h; c1 10:00 → 21:30 = 11.5 h
 * - leaving offer: c2 05:00 → 06:00 = 1 h; c3 03-10T12:00 → 03-31T21:00 = 513 h; c1 21:30 → 22:30 = 1 h
 * - to conversion: c3 513 h = 21.375 days; c1 03-30T23:30 → 03-31T22:30 = 23 h = 23/24 days
 * Rates at any E from 03-31 on: active, not deleted = c1 c2 c3 c5 c6 (c4 inactive since 03-05),
 * app installed only c5 (c2 uninstalled on 03-31 07:00) → 1/5; their contracts 1+2+0+1+2 = 6, enabled 5.
 */
const UTC_MARCH_31_MOVES = [
  row('transitions', 1, { from: 'lead', to: 'contacted' }),
  row('transitions', 3, { from: 'contacted', to: 'offer' }),
  row('transitions', 1, { from: 'offer', to: 'contacted' }),
  row('transitions', 2, { from: 'offer', to: 'won' }),
  row('rollback-count', 1),
  // movers c1 c2 c3, converters c1 c3
  row('conversion', 2 / 3),
  row('source-conversion', 1, { source: 'web' }),
  row('source-conversion', 0, { source: 'unknown' }),
  row('channel-conversion', 1, { channel: 'paid' }),
  row('channel-conversion', 0, { channel: 'organic' }),
  row('channel-conversion', 1, { channel: 'unknown' }),
  row('stage-duration', 10.5, { stage: 'lead' }),
  row('stage-duration', (261 + 1 + 11.5) / 3, { stage: 'contacted' }),
  row('stage-duration', (1 + 513 + 1) / 3, { stage: 'offer' }),
  row('total-duration', (21.375 + 23 / 24) / 2),
];
/** Berlin's 03-31 ends at 22:00Z: c1's conversion at 22:30Z is on 04-01. */
const BERLIN_MARCH_31_MOVES = [
  row('transitions', 1, { from: 'lead', to: 'contacted' }),
  row('transitions', 3, { from: 'contacted', to: 'offer' }),
  row('transitions', 1, { from: 'offer', to: 'contacted' }),
  row('transitions', 1, { from: 'offer', to: 'won' }),
  row('rollback-count', 1),
  // movers c1 c2 c3, converter c3
  row('conversion', 1 / 3),
  row('source-conversion', 1 / 2, { source: 'web' }),
  row('source-conversion', 0, { source: 'unknown' }),
  row('channel-conversion', 0, { channel: 'paid' }),
  row('channel-conversion', 0, { channel: 'organic' }),
  row('channel-conversion', 1, { channel: 'unknown' }),
  row('stage-duration', 10.5, { stage: 'lead' }),
  row('stage-duration', (261 + 1 + 11.5) / 3, { stage: 'contacted' }),
  row('stage-duration', (1 + 513) / 2, { stage: 'offer' }),
  row('total-duration', 21.375),
];
const RATES_FROM_MARCH_31 = [row('app-install-rate', 1 / 5), row('autopayment-rate', 5 / 6)];

describe('the oracle, on figures computed by hand', () => {
  it('computes a UTC day', () => {
    expectRows(rowsFor(AROUND_DST, 'day', '2024-03-31', UTC), [
      row('dau', 3), // c1 12:00, c3 21:50 (applied late), c2 22:10
      row('new-clients', 0), // c1 was created on 03-30 in UTC
      ...perStage({ lead: 3, contacted: 0, offer: 1, won: 2 }),
      row('status-updates', 3), // c1 c2 c3; c4's activity does not count
      ...UTC_MARCH_31_MOVES,
      // lead: nobody entered; contacted: c2 (06:00) and c1 entered and advanced;
      // offer: c2 and c1 entered, only c1 advanced (c3 entered offer on 03-10)
      row('funnel', 1, { stage: 'contacted' }),
      row('funnel', 1 / 2, { stage: 'offer' }),
      ...RATES_FROM_MARCH_31,
    ]);
  });

  it('computes the 23-hour Berlin day of the DST change', () => {
    expectRows(rowsFor(AROUND_DST, 'day', '2024-03-31', BERLIN), [
      row('dau', 2), // c1 (23:45Z the day before in UTC), c3; c2's 22:10Z is on 04-01
      row('new-clients', 1), // c1 at 00:30 CET
      ...perStage({ lead: 3, contacted: 0, offer: 2, won: 1 }),
      row('status-updates', 3),
      ...BERLIN_MARCH_31_MOVES,
      row('funnel', 1, { stage: 'lead' }), // c1 created in lead and advanced
      row('funnel', 1, { stage: 'contacted' }),
      row('funnel', 0, { stage: 'offer' }), // c1 leaves offer only at 00:30 CEST on 04-01
      ...RATES_FROM_MARCH_31,
    ]);
  });

  it('computes the Berlin day after the DST change, with a deleted client', () => {
    expectRows(rowsFor(AROUND_DST, 'day', '2024-04-01', BERLIN), [
      row('dau', 1), // c2 at 00:10 CEST; c3's late login counts on 03-31
      row('new-clients', 0),
      ...perStage({ lead: 3, contacted: 0, offer: 1, won: 1 }), // c3 deleted at 12:00 CEST
      row('status-updates', 1), // c1's conversion; a deletion and activity do not count
      row('transitions', 1, { from: 'offer', to: 'won' }),
      row('rollback-count', 0),
      row('conversion', 1),
      row('source-conversion', 1, { source: 'web' }),
      row('channel-conversion', 1, { channel: 'paid' }),
      // no funnel row: nobody entered a stage but the last
      row('stage-duration', 1, { stage: 'offer' }),
      row('total-duration', 23 / 24),
      row('app-install-rate', 1 / 4), // c1 c2 c5 c6 active
      row('autopayment-rate', 5 / 6),
    ]);
  });

  it('computes a UTC week', () => {
    expectRows(rowsFor(AROUND_DST, 'week', '2024-03-25', UTC), [
      row('wau', 4), // c1 c2 c3 c6 (c6's Sunday-night login is the week before)
      row('stickiness', (0 + 1 + 1 + 0 + 0 + 1 + 3) / 7 / 4), // Tue c2, Wed c6 (twice), Sat c1, Sun c1 c3 c2
      row('new-clients', 1), // c1; c6 was created on Sunday 03-24
      ...perStage({ lead: 3, contacted: 0, offer: 1, won: 2 }),
      row('status-updates', 4), // c6's contract update, c1 c2 c3
      ...UTC_MARCH_31_MOVES,
      row('funnel', 1, { stage: 'lead' }),
      row('funnel', 1, { stage: 'contacted' }),
      row('funnel', 1 / 2, { stage: 'offer' }),
      row('dropout', 1), // c5: last_updated 01-15, before 04-01 − 7 days; c6 updated 03-27
      ...RATES_FROM_MARCH_31,
    ]);
  });

  it('computes a Berlin ISO week that ends an hour early', () => {
    expectRows(rowsFor(AROUND_DST, 'week', '2024-03-25', BERLIN), [
      row('wau', 4), // c6 (Monday 00:40), c2, c1, c3
      row('stickiness', (1 + 1 + 1 + 0 + 0 + 0 + 2) / 7 / 4), // Mon c6, Tue c2, Wed c6, Sun c1 c3
      row('new-clients', 2), // c6, c1
      ...perStage({ lead: 3, contacted: 0, offer: 2, won: 1 }),
      row('status-updates', 4),
      ...BERLIN_MARCH_31_MOVES,
      row('funnel', 1 / 2, { stage: 'lead' }), // c6 and c1 created in lead, c1 advanced
      row('funnel', 1, { stage: 'contacted' }),
      row('funnel', 0, { stage: 'offer' }),
      row('dropout', 1),
      ...RATES_FROM_MARCH_31,
    ]);
  });

  it('computes a UTC month', () => {
    expectRows(rowsFor(AROUND_DST, 'month', '2024-03-01', UTC), [
      row('mau', 5), // all but c5
      row('stickiness', (1 + 1 + 1 + 1 + 1 + 3) / 31 / 5), // 03-01 c4, 03-24 c6, 03-26 c2, 03-27 c6, 03-30 c1, 03-31 c1 c3 c2
      row('new-clients', 4), // c3 c2 c6 c1; c4 was created on 02-29
      ...perStage({ lead: 3, contacted: 0, offer: 1, won: 2 }),
      row('status-updates', 5), // c4's deactivation counts
      ...UTC_MARCH_31_MOVES,
      row('funnel', 1 / 2, { stage: 'lead' }), // c6, c1 entered
      row('funnel', 1, { stage: 'contacted' }), // c2 (created there on 03-20) and c1
      row('funnel', 2 / 3, { stage: 'offer' }), // c3 (created there on 03-10), c2, c1; c3 and c1 advanced
      row('dropout', 1), // c5
      ...RATES_FROM_MARCH_31,
    ]);
  });

  it('computes a Berlin month across the DST change', () => {
    expectRows(rowsFor(AROUND_DST, 'month', '2024-03-01', BERLIN), [
      row('mau', 5),
      row('stickiness', (1 + 1 + 1 + 1 + 2) / 31 / 5), // 03-01 c4, 03-25 c6, 03-26 c2, 03-27 c6, 03-31 c1 c3
      row('new-clients', 5), // c4 at 00:30 CET on 03-01, c3 c2 c6 c1
      ...perStage({ lead: 3, contacted: 0, offer: 2, won: 1 }),
      row('status-updates', 5),
      ...BERLIN_MARCH_31_MOVES,
      row('funnel', 1 / 3, { stage: 'lead' }), // c4 c6 c1 entered, c1 advanced
      row('funnel', 1, { stage: 'contacted' }),
      row('funnel', 1 / 3, { stage: 'offer' }), // c3 advanced; c1's move is in April
      row('dropout', 1),
      ...RATES_FROM_MARCH_31,
    ]);
  });

  it('computes the current Berlin week to date', () => {
    // now: Wednesday 13:15 CET; c1 does not exist yet, c6's Wednesday login is after now
    expectRows(rowsFor(AROUND_DST, 'week', '2024-03-25', BERLIN, '2024-03-27T12:15:00Z'), [
      row('wau', 2), // c6 (Monday), c2 (Tuesday)
      row('stickiness', (1 + 1 + 0) / 3 / 2), // three days elapsed, today included
      row('new-clients', 1),
      ...perStage({ lead: 3, contacted: 1, offer: 1, won: 0 }),
      row('status-updates', 1), // c6 (created, updated at 12:00Z)
      row('rollback-count', 0),
      row('funnel', 0, { stage: 'lead' }),
      row('dropout', 2), // c3 (03-10) and c5 (01-15) before 03-20; c2 was created on 03-20
      row('app-install-rate', 2 / 4), // c2 c3 c5 c6 active; c2 and c5 installed
      row('autopayment-rate', 4 / 5), // c2 1 of 2, c5 1 of 1, c6 2 of 2 (since 12:00Z)
    ]);
  });
});

describe('the events of a hand-written history', () => {
  const envelopes = toEnvelopes(AROUND_DST);
  const of = (id: string) =>
    envelopes
      .filter((e) => (e.data as { client_id: string }).client_id === id)
      .map((e) => {
        const d = e.data as unknown as Record<string, any> & { client: Client };
        return [e.type, d.version, e.occurred_at, d.client.stage, d.client.last_updated] as const;
      });

  it('gives an update that also moves the stage one version for both events', () => {
    expect(of('c2')).toEqual([
      ['ClientCreated', 1, '2024-03-20T08:00:00.000Z', 'contacted', '2024-03-20T08:00:00.000Z'],
      ['ClientLoggedIn', 2, '2024-03-26T09:00:00.000Z', 'contacted', '2024-03-20T08:00:00.000Z'],
      ['ClientStageChanged', 3, '2024-03-31T05:00:00.000Z', 'offer', '2024-03-31T05:00:00.000Z'],
      ['ClientStageChanged', 4, '2024-03-31T06:00:00.000Z', 'contacted', '2024-03-31T06:00:00.000Z'],
      ['ClientUpdated', 5, '2024-03-31T07:00:00.000Z', 'offer', '2024-03-31T07:00:00.000Z'],
      ['ClientStageChanged', 5, '2024-03-31T07:00:00.000Z', 'offer', '2024-03-31T07:00:00.000Z'],
      ['ClientLoggedIn', 6, '2024-03-31T22:10:00.000Z', 'offer', '2024-03-31T07:00:00.000Z'],
    ]);
    const [updated, moved] = envelopes.filter((e) => e.occurred_at === '2024-03-31T07:00:00.000Z').map((e) => e.data as Record<string, any>);
    expect(updated!.changes).toEqual({ app: { from: 'installed', to: 'not_installed' } });
    expect(moved).toMatchObject({ from: 'contacted', to: 'offer', rollback: false, command_id: updated!.command_id });
    expect(envelopes.find((e) => e.occurred_at === '2024-03-31T06:00:00.000Z')!.data).toMatchObject({ rollback: true });
  });

  it('dates a late login by its arrival and keeps when it happened in the activity', () => {
    expect(of('c3')).toEqual([
      ['ClientCreated', 1, '2024-03-10T12:00:00.000Z', 'offer', '2024-03-10T12:00:00.000Z'],
      ['ClientStageChanged', 2, '2024-03-31T21:00:00.000Z', 'won', '2024-03-31T21:00:00.000Z'],
      ['ClientLoggedIn', 3, '2024-04-01T09:00:00.000Z', 'won', '2024-03-31T21:00:00.000Z'],
      ['ClientDeleted', 4, '2024-04-01T10:00:00.000Z', 'won', '2024-04-01T10:00:00.000Z'],
    ]);
    const late = envelopes.find((e) => e.type === 'ClientLoggedIn' && e.occurred_at === '2024-04-01T09:00:00.000Z')!.data as Record<string, any>;
    expect(late.activity).toMatchObject({ type: 'login', occurred_at: '2024-03-31T21:50:00.000Z' });
    expect(late.last_login).toBe('2024-03-31T21:50:00.000Z');
  });

  it('leaves last_updated where it was on activity', () => {
    expect(of('c5')).toEqual([
      ['ClientCreated', 1, '2024-01-15T09:00:00.000Z', 'lead', '2024-01-15T09:00:00.000Z'],
      ['ClientLoggedIn', 2, '2024-01-20T10:00:00.000Z', 'lead', '2024-01-15T09:00:00.000Z'],
      ['ClientAppStatusChanged', 3, '2024-03-20T10:00:00.000Z', 'lead', '2024-01-15T09:00:00.000Z'],
    ]);
  });
});

describe('the late-login rule', () => {
  // t1's February-29 login (00:30 on March 1 in Berlin) is applied after its May-10 login:
  // Berlin: March starts 70 days before May 10 → counted; UTC: February starts 99 days before → ignored.
  // t2 logs in at the same instant, applied first: counted in both zones.
  // t3's March-5 login is applied after its May-11 login: 71 days → ignored in both zones.
  const LATE = history([
    client('t1', { at: '2024-01-10T12:00:00Z', stage: 'lead', source: null, channel: null, is_active: true, app: 'not_installed', contracts: [] }, [], [
      login('2024-02-29T23:30:00Z', '2024-05-11T08:00:00Z'),
      login('2024-04-15T10:00:00Z', '2024-04-15T10:00:00.500Z'),
      login('2024-05-10T12:00:00Z', '2024-05-10T12:00:01Z'),
    ]),
    client('t2', { at: '2024-01-10T12:00:00Z', stage: 'lead', source: null, channel: null, is_active: true, app: 'not_installed', contracts: [] }, [], [
      login('2024-02-29T23:30:00Z', '2024-03-01T00:10:00Z'),
      login('2024-05-10T12:00:00Z', '2024-05-10T12:00:01Z'),
    ]),
    client('t3', { at: '2024-01-10T12:00:00Z', stage: 'lead', source: null, channel: null, is_active: true, app: 'not_installed', contracts: [] }, [], [
      login('2024-03-05T10:00:00Z', '2024-05-12T10:00:00Z'),
      login('2024-05-11T10:00:00Z', '2024-05-11T10:00:01Z'),
    ]),
  ]);
  const logins = (rows: ExpectedRow[]) => rows.filter((r) => ['dau', 'wau', 'mau', 'stickiness'].includes(r.type));

  it('ignores a login whose month starts more than 70 days before the latest login applied', () => {
    expectRows(logins(rowsFor(LATE, 'month', '2024-02-01', UTC)), [row('mau', 1), row('stickiness', 1 / 29 / 1)]);
    expectRows(logins(rowsFor(LATE, 'day', '2024-02-29', UTC)), [row('dau', 1)]);
    expectRows(logins(rowsFor(LATE, 'month', '2024-03-01', UTC)), [row('mau', 0)]);
    expectRows(logins(rowsFor(LATE, 'month', '2024-03-01', BERLIN)), [row('mau', 2), row('stickiness', 2 / 31 / 2)]);
    expectRows(logins(rowsFor(LATE, 'day', '2024-03-01', BERLIN)), [row('dau', 2)]);
    expectRows(logins(rowsFor(LATE, 'week', '2024-03-04', BERLIN)), [row('wau', 0)]);
  });
});

// ---- the generator -------------------------------------------------------------------------

const STAGES = loadStageProcess(fileURLToPath(new URL('../../../config/stages.yaml', import.meta.url)));
const END = new Date('2024-04-02T21:37:12.345Z'); // 60 days back crosses Berlin's DST change
const DAYS = 60;
const DAY = 86_400_000;

describe('generated histories', () => {
  const generated = generateHistory({ clients: 2000, days: DAYS, end: END, seed: 42, process: STAGES });
  const envelopes = toEnvelopes(generated);
  const byClient = new Map<string, GeneratedEnvelope[]>();
  for (const e of envelopes) {
    const id = (e.data as { client_id: string }).client_id;
    byClient.set(id, [...(byClient.get(id) ?? []), e]);
  }
  const ofType = (type: string) => envelopes.filter((e) => e.type === type);
  const data = (e: GeneratedEnvelope) => e.data as unknown as Record<string, any> & { client: Client; version: number };

  it('are the same for the same seed and differ for another', () => {
    const again = toEnvelopes(generateHistory({ clients: 2000, days: DAYS, end: END, seed: 42, process: STAGES }));
    expect(JSON.stringify(again)).toBe(JSON.stringify(envelopes));
    const other = toEnvelopes(generateHistory({ clients: 50, days: DAYS, end: END, seed: 43, process: STAGES }));
    expect(other[0]!.id).not.toBe(envelopes[0]!.id);
  });

  it('are histories trackme could have produced', () => {
    expect(() => assertValidHistory(generated)).not.toThrow();
    expect(generated.clients.length).toBe(2000);
  });

  it('produce envelopes whose data match the event schemas', () => {
    // compiled checks: 85,000 envelopes take seconds, not the minute the interpreting checker needs on a busy machine
    const envelope = Compile(EnvelopeSchema);
    const schemas = new Map(Object.entries({ ...CLIENT_EVENT_SCHEMAS, ...ACTIVITY_EVENT_SCHEMAS }).map(([type, schema]) => [type, Compile(schema as TSchema)]));
    const failures = envelopes.filter((e) => !envelope.Check(e) || !schemas.get(e.type)?.Check(e.data));
    expect(failures.slice(0, 3)).toEqual([]);
    expect(new Set(envelopes.map((e) => e.id)).size).toBe(envelopes.length);
  });

  it('cover every kind of fact the metrics read', () => {
    const stageChanges = ofType('ClientStageChanged').map(data);
    const created = ofType('ClientCreated').map(data);
    expect(created.length).toBeGreaterThanOrEqual(2000);
    expect(created.filter((d) => d.client.stage !== 'registration').length).toBeGreaterThan(50);
    expect(created.filter((d) => d.client.source === null).length).toBeGreaterThan(50);
    expect(created.filter((d) => d.client.channel === null).length).toBeGreaterThan(50);
    expect(ofType('ClientLoggedIn').length).toBeGreaterThan(10_000);
    expect(stageChanges.length).toBeGreaterThan(5_000);
    expect(stageChanges.filter((d) => d.rollback).length).toBeGreaterThan(500);
    expect(stageChanges.filter((d) => d.to === STAGES.conversionId).length).toBeGreaterThan(100);
    expect(ofType('ClientDeleted').length).toBeGreaterThan(50);
    expect(ofType('ClientUpdated').length).toBeGreaterThan(1_000);
    expect(ofType('ClientAppStatusChanged').length).toBeGreaterThan(500);
    expect(ofType('ClientAutopaymentChanged').length).toBeGreaterThan(500);

    let combined = 0;
    let late = 0;
    let severalADay = 0;
    for (const events of byClient.values()) {
      events.forEach((e, i) => {
        const next = events[i + 1];
        if (e.type === 'ClientUpdated' && next?.type === 'ClientStageChanged' && data(next).version === data(e).version) combined++;
      });
      const logins = events.filter((e) => e.type === 'ClientLoggedIn');
      // late: applied after an event of the client that happened later than the login
      late += logins.filter((e) => {
        const at = Date.parse(data(e).activity.occurred_at);
        return events.slice(0, events.indexOf(e)).some((before) => Date.parse(before.occurred_at) > at);
      }).length;
      const days = logins.map((e) => data(e).activity.occurred_at.slice(0, 10));
      if (new Set(days).size < days.length) severalADay++;
    }
    expect(combined).toBeGreaterThan(100);
    expect(late).toBeGreaterThan(10);
    expect(severalADay).toBeGreaterThan(100);
  });

  it('tell each client in order: versions, snapshots, dates within the window', () => {
    const start = END.getTime() - DAYS * DAY;
    const problems: string[] = [];
    for (const [id, events] of byClient) {
      const check = (ok: boolean, message: string) => {
        if (!ok) problems.push(`${id}: ${message}`);
      };
      check(events[0]!.type === 'ClientCreated', 'starts with its creation');
      let version = 0;
      let lastChange = -Infinity;
      let lastUpdated = '';
      let latestLogin = -Infinity;
      events.forEach((e, i) => {
        const d = data(e);
        const occurred = Date.parse(e.occurred_at);
        check(occurred > start && occurred <= END.getTime(), `${e.occurred_at} outside the window`);
        check(d.client.version === d.version, `event ${i}: snapshot version ${d.client.version} ≠ ${d.version}`);
        const sameCommand = e.type === 'ClientStageChanged' && events[i - 1]?.type === 'ClientUpdated' && data(events[i - 1]!).command_id === d.command_id;
        check(d.version === (sameCommand ? version : version + 1), `event ${i}: version ${d.version} after ${version}`);
        version = d.version;
        if (e.type === 'ClientLoggedIn') {
          const at = Date.parse(d.activity.occurred_at);
          check(occurred >= at && occurred - at <= 3 * DAY, `event ${i}: a login applied ${occurred - at} ms after it happened`);
          latestLogin = Math.max(latestLogin, at);
          check(Date.parse(d.last_login) === latestLogin && d.client.last_login === d.last_login, `event ${i}: last_login ${d.last_login}`);
        } else if (!sameCommand) {
          check(occurred > lastChange, `event ${i}: a change not after the previous one`);
          lastChange = occurred;
        }
        const moves = ['ClientCreated', 'ClientUpdated', 'ClientStageChanged', 'ClientDeleted'].includes(e.type);
        check(d.client.last_updated === (moves ? e.occurred_at : lastUpdated), `event ${i} (${e.type}): last_updated ${d.client.last_updated}`);
        lastUpdated = d.client.last_updated;
        check(e.type !== 'ClientDeleted' || i === events.length - 1, 'an event after the deletion');
      });
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('agree with the oracle on what the envelopes say directly', () => {
    // when each event counts (docs/metrics.md): a login when it happened, the rest when applied
    const times = new Map(envelopes.map((e) => [e, Date.parse(e.type === 'ClientLoggedIn' ? data(e).activity.occurred_at : e.occurred_at)]));
    const eventTime = (e: GeneratedEnvelope) => times.get(e)!;
    // an independent reading of the envelopes for the simple figures: the generator and the
    // oracle must tell the same story, or a mismatch with the service proves nothing
    for (const [interval, periodStart] of [['day', '2024-03-31'], ['week', '2024-03-25'], ['month', '2024-03-01'], ['day', '2024-02-10']] as const) {
      for (const tz of [UTC, BERLIN]) {
        const start = periodBegin(periodStart, interval, tz).getTime();
        const E = periodEnd(periodStart, interval, tz).getTime();
        const rows = expectedRows(generated, { interval, periodStart, end: new Date(E), now: END, tz, process: STAGES });
        const value = (type: string, labels: Record<string, string> = {}) => rows.find((r) => rowKey(r) === rowKey({ type, labels }))?.value;
        const inP = (e: GeneratedEnvelope) => eventTime(e) >= start && eventTime(e) < E;
        const context = `${interval} ${periodStart} ${tz}`;

        expect(value('new-clients'), context).toBe(ofType('ClientCreated').filter(inP).length);
        expect(value({ day: 'dau', week: 'wau', month: 'mau' }[interval]), context).toBe(
          new Set(ofType('ClientLoggedIn').filter(inP).map((e) => data(e).client_id)).size,
        );
        const moves = ofType('ClientStageChanged').filter(inP).map(data);
        expect(value('rollback-count'), context).toBe(moves.filter((d) => d.rollback).length);
        for (const d of moves.slice(0, 50)) {
          expect(value('transitions', { from: d.from, to: d.to }), context).toBe(moves.filter((m) => m.from === d.from && m.to === d.to).length);
        }
        expect(value('status-updates'), context).toBe(
          new Set(envelopes.filter((e) => ['ClientCreated', 'ClientUpdated', 'ClientStageChanged'].includes(e.type) && inP(e)).map((e) => data(e).client_id)).size,
        );
        // state at E from the latest snapshot of a change (not a login) before E
        const stages = new Map<string, number>();
        for (const events of byClient.values()) {
          const last = events.filter((e) => e.type !== 'ClientLoggedIn' && eventTime(e) < E).at(-1);
          if (last && last.type !== 'ClientDeleted') stages.set(data(last).client.stage, (stages.get(data(last).client.stage) ?? 0) + 1);
        }
        for (const stage of STAGES.stages) expect(value('clients-per-stage', { stage: stage.id }), `${context} ${stage.id}`).toBe(stages.get(stage.id) ?? 0);
      }
    }
  });

  it('give figures in range for every period of the history', () => {
    for (const tz of [UTC, BERLIN]) {
      for (const interval of ['day', 'week', 'month'] as const) {
        let periodStart = periodStartOf(new Date(generated.start + 1), interval, tz);
        while (periodBegin(periodStart, interval, tz).getTime() <= generated.end) {
          const naturalEnd = periodEnd(periodStart, interval, tz);
          const current = naturalEnd.getTime() > generated.end;
          const end = current ? new Date(generated.end) : naturalEnd;
          const rows = expectedRows(generated, { interval, periodStart, end, now: end, tz, process: STAGES });
          const stages = rows.filter((r) => r.type === 'clients-per-stage');
          expect(stages.length).toBe(STAGES.stages.length);
          const alive = generated.clients.filter((c) => {
            const deleted = c.changes.find((ch) => ch.kind === 'delete');
            return c.created.at < end.getTime() && !(deleted && deleted.at < end.getTime());
          }).length;
          expect(stages.reduce((sum, r) => sum + r.value, 0)).toBe(alive);
          for (const r of rows) {
            if (['stickiness', 'conversion', 'source-conversion', 'channel-conversion', 'funnel', 'app-install-rate', 'autopayment-rate'].includes(r.type)) {
              expect(r.value >= 0 && r.value <= 1, `${rowKey(r)} ${interval} ${periodStart} ${tz}`).toBe(true);
            }
            expect(r.labels.estimate).toBeUndefined();
          }
          periodStart = interval === 'day' ? addDays(periodStart, 1) : interval === 'week' ? addDays(periodStart, 7) : periodStartOf(naturalEnd, 'month', tz);
        }
      }
    }
  });
});
